import type { Client } from '@temporalio/client';
import type { Queryable } from '../platform/db/pool';
import type { TicketRow } from './db/tickets';
import { emitEvent, findEventType } from '../outgoing';

/** What emitting into the outgoing webhook engine needs (from an activity: its client and task queue). */
export interface EmitContext {
  db: Queryable;
  temporal: Client;
  taskQueue: string;
}

/** The ticket as event payload fields; extra fields beyond the catalogue's are carried as-is. */
export function ticketFields(t: TicketRow): Record<string, string | number | null> {
  return {
    ticketNumber: Number(t.number),
    summary: t.summary,
    details: t.details,
    status: t.status,
    user: t.requester_address,
    userName: t.requester_name,
    mailboxId: t.mailbox_id,
    dateOccurred: t.created_at.toISOString(),
  };
}

/** Emits "New Ticket Logged" or "Ticket Changed" for a ticket an email created or updated. */
export async function emitTicketEvent(
  ctx: EmitContext,
  ticket: TicketRow,
  change: 'created' | 'updated',
  idempotencyKey: string,
): Promise<string> {
  const { id } = await emitEvent(ctx, {
    type: change === 'created' ? 'ticket.created' : 'ticket.changed',
    objectId: ticket.id,
    object: { fields: ticketFields(ticket) },
    idempotencyKey,
    source: 'microsoft365',
  });
  return id;
}

const MAILBOX_ERROR_TYPES = ['mailbox.error', 'Mailbox error'];

/** Emits the "Mailbox error" event for outgoing webhooks (null if the catalogue lacks it). */
export async function emitMailboxErrorEvent(
  ctx: EmitContext,
  e: { mailboxId: string; mailboxName: string; kind: string; message: string; notificationId: string },
): Promise<string | null> {
  const type = MAILBOX_ERROR_TYPES.map(findEventType).find((t) => t !== undefined);
  if (!type) return null;
  const { id } = await emitEvent(ctx, {
    type: type.key,
    objectId: e.mailboxId,
    object: { fields: { name: e.mailboxName, kind: e.kind, message: e.message } },
    idempotencyKey: `mailbox-error:${e.notificationId}`,
    source: 'microsoft365',
  });
  return id;
}
