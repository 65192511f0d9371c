import type { Db } from '../../platform/db/pool';
import type { NewIntakeJob } from '../../platform/intake/jobs';
import type { EventPlan } from '../plan';
import type { NewEvent } from './events';

/** One event to accept: its row, what it owes the webhooks, and the outbox rows waking their lanes. */
export interface EventIntake {
  event: NewEvent;
  plan: EventPlan;
  wakes: NewIntakeJob[];
}

/**
 * Events, their deliveries and batch items, and the wakes of their lanes, in one statement (one
 * round trip, one commit). An event whose idempotency key is taken (by an earlier event, or by
 * one before it in the same statement) is left out with everything it owes; rows follow the
 * input's order, so a lane's queue keeps the order events were accepted in. No NOTIFY: the
 * caller wakes the starters after the commit (`IntakeWake`).
 */
const EVENTS_INTAKE = `
WITH ev AS (
  INSERT INTO events (id, type, object_type, object_id, data, idempotency_key, source, occurred_at, trace_parent)
  SELECT id, type, object_type, object_id, data, idempotency_key, source, occurred_at, trace_parent
  FROM jsonb_to_recordset($1::jsonb) AS e(n int, id uuid, type text, object_type text, object_id text, data jsonb,
    idempotency_key text, source text, occurred_at timestamptz, trace_parent text)
  ORDER BY n
  ON CONFLICT (idempotency_key) DO NOTHING RETURNING id),
dl AS (
  INSERT INTO deliveries (id, webhook_id, event_id, event_type, object_id, item_count, workflow_id, status, lightweight,
    payload, next_attempt_at)
  SELECT id, webhook_id, event_id, event_type, object_id, 1, workflow_id, 'pending', lightweight, payload, now()
  FROM jsonb_to_recordset($2::jsonb) AS d(n int, id uuid, webhook_id uuid, event_id uuid, event_type text,
    object_id text, workflow_id text, lightweight boolean, payload text)
  WHERE event_id IN (SELECT id FROM ev)
  ORDER BY n
  ON CONFLICT DO NOTHING),
bi AS (
  INSERT INTO batch_items (id, webhook_id, event_id, group_key, event_type, item)
  SELECT id, webhook_id, event_id, group_key, event_type, item
  FROM jsonb_to_recordset($3::jsonb) AS b(n int, id uuid, webhook_id uuid, event_id uuid, group_key text,
    event_type text, item jsonb)
  WHERE event_id IN (SELECT id FROM ev)
  ORDER BY n
  ON CONFLICT (webhook_id, event_id) DO NOTHING),
jobs AS (
  INSERT INTO intake_jobs (kind, workflow_id, payload)
  SELECT kind, workflow_id, payload
  FROM jsonb_to_recordset($4::jsonb) AS j(n int, kind text, workflow_id text, payload jsonb, event_ids uuid[])
  WHERE event_ids && ARRAY(SELECT id FROM ev)
  ORDER BY n)
SELECT id FROM ev`;

/**
 * Accepts a batch of events (see EVENTS_INTAKE). Answers each: true when stored with all it
 * owes; undefined when its idempotency key was taken (the caller decides it another way).
 */
export async function insertEventsIntake(db: Db, items: EventIntake[]): Promise<Array<true | undefined>> {
  const events = items.map(({ event: e }, n) => ({ n, ...e }));
  const deliveries = items.flatMap(({ plan }) =>
    plan.deliveries.map((d) => ({
      id: d.id,
      webhook_id: d.webhook_id,
      event_id: d.event_id,
      event_type: d.event_type,
      object_id: d.object_id,
      workflow_id: d.workflow_id,
      lightweight: d.lightweight,
      payload: d.payload,
    })),
  );
  const batchItems = items.flatMap(({ plan }) => plan.batchItems);
  // One wake per lane, for whichever of its events were stored.
  const wakes = new Map<string, NewIntakeJob & { event_ids: string[] }>();
  for (const { event, wakes: jobs } of items) {
    for (const j of jobs) {
      const w = wakes.get(j.workflowId) ?? { ...j, event_ids: [] };
      w.event_ids.push(event.id);
      wakes.set(j.workflowId, w);
    }
  }
  const { rows } = await db.query<{ id: string }>({
    name: 'events-intake',
    text: EVENTS_INTAKE,
    values: [
      JSON.stringify(events),
      JSON.stringify(deliveries.map((d, n) => ({ n, ...d }))),
      JSON.stringify(batchItems.map((b, n) => ({ n, ...b }))),
      JSON.stringify(
        [...wakes.values()].map((j, n) => ({
          n,
          kind: j.kind,
          workflow_id: j.workflowId,
          payload: j.payload,
          event_ids: j.event_ids,
        })),
      ),
    ],
  });
  const stored = new Set(rows.map((r) => r.id));
  return items.map((i) => (stored.has(i.event.id) ? true : undefined));
}
