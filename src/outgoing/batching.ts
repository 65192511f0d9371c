import type { DomainEvent } from './event';
import type { BatchMode } from './webhook-config';

/**
 * The batch an event joins. "Same event" groups by event (Ticket Changed), "same event type"
 * by the kind of object the events are about (every ticket event), "any event" puts all of a
 * webhook's events together.
 */
export function batchGroupKey(mode: Exclude<BatchMode, 'none'>, ev: Pick<DomainEvent, 'type' | 'objectType'>): string {
  switch (mode) {
    case 'same_event':
      return `event:${ev.type}`;
    case 'same_event_type':
      return `type:${ev.objectType}`;
    case 'any_event':
      return 'all';
  }
}

/** The event type a group's workflow is tagged with in Temporal, when the group has exactly one. */
export const groupEventType = (groupKey: string): string | undefined =>
  groupKey.startsWith('event:') ? groupKey.slice('event:'.length) : undefined;
