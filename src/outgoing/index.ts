/**
 * What the other capabilities may use of outgoing: emitting a domain event (stored, planned and
 * queued for every matching webhook in one transaction) and the event catalogue.
 */
export { emitEvent, type EmitDeps, type EmitResult } from './emit';
export { findEventType } from './catalogue';
export type { EventInput } from './event';
