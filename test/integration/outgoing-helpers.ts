import { randomUUID } from 'node:crypto';
import { Receiver } from '../harness/receiver';
import { eventually, startStack, type Stack } from '../harness/stack';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests inspect arbitrary JSON
type AnyJson = any;

export interface OutgoingStack {
  stack: Stack;
  /** Where the stack's webhooks are delivered. */
  receiver: Receiver;
  stop(): Promise<void>;
}

/** The product (`env` added to its settings) and a receiver for its webhooks, started side by side. */
export async function startOutgoingStack(env: Record<string, string>): Promise<OutgoingStack> {
  const [stack, receiver] = await Promise.all([startStack(env), Receiver.start()]);
  return {
    stack,
    receiver,
    stop: async () => {
      await stack.stop();
      await receiver.close();
    },
  };
}

/** Creates a webhook pointing at `receiver` + `path` and teaches the receiver its secret. */
export async function createWebhook(
  stack: Stack,
  receiver: Receiver,
  path: string,
  body: Record<string, unknown> = {},
): Promise<{ id: string; signingSecret: string; [k: string]: AnyJson }> {
  const res = await stack.request('POST', '/api/v1/webhooks', {
    name: `hook ${path}`,
    url: receiver.url(path),
    events: [{ type: 'Ticket Changed' }],
    ...body,
  });
  if (res.status !== 201) throw new Error(`webhook not created: ${res.status} ${res.text}`);
  receiver.setSecrets(path, [res.body.signingSecret]);
  return res.body;
}

/** The seeds' Site, User and Invoice events: each created, updated and deleted. */
export const ENTITY_EVENT_TYPES = ['Site', 'User', 'Invoice'].flatMap((entity) =>
  ['created', 'updated', 'deleted'].map((change) => `${entity} ${change}`),
);

/** A ticket event with sensible fields; `over` replaces any part of it. */
export function ticketEvent(over: Record<string, unknown> = {}) {
  return {
    type: 'Ticket Changed',
    objectId: `T-${randomUUID().slice(0, 8)}`,
    object: {
      fields: {
        summary: 'Printer on fire',
        status: { id: 3, display: 'In Progress' },
        priority: { id: 1, display: 'P1' },
        client: { id: 7, display: 'Acme' },
        details: 'Smoke everywhere',
      },
      linked: { client: { id: 7, name: 'Acme Ltd', phone: '555-0100' } },
    },
    ...over,
  };
}

/** Posts an event and expects the 202. */
export async function emit(stack: Stack, event: Record<string, unknown>): Promise<string> {
  const res = await stack.request('POST', '/api/v1/events', event);
  if (res.status !== 202) throw new Error(`event not accepted: ${res.status} ${res.text}`);
  return res.body.id as string;
}

/** All deliveries of a webhook (first page of up to 500). */
export async function deliveries(stack: Stack, webhookId: string, query = ''): Promise<AnyJson[]> {
  const res = await stack.request('GET', `/api/v1/webhooks/${webhookId}/deliveries?limit=500${query}`);
  if (res.status !== 200) throw new Error(`deliveries: ${res.status} ${res.text}`);
  return res.body.data;
}

/** Waits until the delivery reaches one of `statuses`; returns its detail with attempts. */
export async function deliveryIn(stack: Stack, id: string, statuses: string[], timeoutMs = 30_000) {
  return eventually(async () => {
    const res = await stack.request('GET', `/api/v1/deliveries/${id}`);
    return statuses.includes(res.body?.status) ? res.body : undefined;
  }, timeoutMs);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
