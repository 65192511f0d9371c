import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { MailboxActivities } from '../../activities/mail';
import {
  cancelSubscriptionUpdate,
  ensureSubscriptionUpdate,
  mailboxCatchUpSignal,
  mailboxLifecycleSignal,
  mailboxStateQuery,
  type CancelOutcome,
  type LifecycleSignal,
  type MailboxWorkflowInput,
  type MailboxWorkflowSettings,
  type MailboxWorkflowState,
  type SubscriptionOutcome,
} from '../../mail/workflow-contract';

const retry = {
  initialInterval: '1s',
  backoffCoefficient: 2,
  maximumInterval: '1m',
  maximumAttempts: 10,
  nonRetryableErrorTypes: ['MailboxMissingError'],
};
const graph = proxyActivities<MailboxActivities>({ startToCloseTimeout: '5m', heartbeatTimeout: '15s', retry });
// A first delta round pages through the whole inbox: long, so it heartbeats per page.
const sync = proxyActivities<MailboxActivities>({ startToCloseTimeout: '30m', heartbeatTimeout: '15s', retry });
// Reading the worker's settings takes no I/O: a local activity, one marker in the history.
const local = proxyLocalActivities<MailboxActivities>({ startToCloseTimeout: '10s', retry });

/**
 * Settings (MAILBOX_RENEW_BEFORE, MAILBOX_RETRY_DELAY, MAILBOX_SWEEP_INTERVAL,
 * MAILBOX_MAX_CYCLES_PER_RUN) are read from the worker when the workflow wakes, and the renewal time
 * comes with each subscription outcome, so a changed setting reaches a running mailbox. Histories
 * recorded before this change used the values frozen into their input, and replay that way.
 */
const LIVE_SETTINGS = 'mailbox-live-settings';

type Command =
  | { kind: 'ensure'; id?: number }
  | { kind: 'cancel'; id: number }
  | { kind: 'renew' }
  | { kind: 'lifecycle'; signal: LifecycleSignal }
  | { kind: 'catchUp'; reason: string }
  | { kind: 'sweep' };

const MAX_BACKOFF_MS = 60 * 60_000;
const RECENT_EVENTS = 20;

function initialState(mailboxId: string): MailboxWorkflowState {
  return {
    mailboxId,
    status: 'starting',
    subscriptionId: null,
    expiresAt: null,
    nextRenewalAt: null,
    nextSweepAt: null,
    nextRetryAt: null,
    lastRenewedAt: null,
    renewals: 0,
    recreations: 0,
    reauthorizations: 0,
    catchUps: 0,
    consecutiveFailures: 0,
    lastError: null,
    recentEvents: [],
    run: 1,
  };
}

const iso = (ms: number) => new Date(ms).toISOString();
const isMissing = (err: unknown) =>
  err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.type === 'MailboxMissingError';

/**
 * `mailbox:<id>` — owns a webhooks mailbox's Graph subscription for as long as it exists: creates
 * it, sleeps until it is within the renewal window, renews it, recreates it when Graph lost it,
 * answers lifecycle notifications, runs delta catch-ups after any gap and a periodic sweep that
 * retries failed emails. State is queryable (`state`); the history is kept short by continue-as-new.
 */
export async function mailboxWorkflow(input: MailboxWorkflowInput): Promise<MailboxWorkflowState> {
  const { mailboxId } = input;
  // Runs recorded before LIVE_SETTINGS use their input's values throughout. Since then every wake
  // reads the worker's before anything uses them, and new runs carry none in their input.
  let settings = input.settings as MailboxWorkflowSettings;
  const readSettings = async () => {
    if (patched(LIVE_SETTINGS)) settings = await local.mailboxTimings();
  };
  const state: MailboxWorkflowState = input.carry
    ? { ...input.carry.state, run: input.carry.state.run + 1 }
    : initialState(mailboxId);
  const queue: Command[] = [
    ...(input.carry?.pending ?? []).map((signal): Command => ({ kind: 'lifecycle', signal })),
    ...(input.carry?.catchUpReasons ?? []).map((reason): Command => ({ kind: 'catchUp', reason })),
  ];
  const results = new Map<number, SubscriptionOutcome | CancelOutcome>();
  let nextId = 0;

  const note = (event: string) => {
    state.recentEvents = [...state.recentEvents, { at: iso(Date.now()), event }].slice(-RECENT_EVENTS);
    // Shown as "current details" in the Temporal UI, next to the full state the `state` query returns.
    setCurrentDetails(
      [
        `**${state.status}** subscription ${state.subscriptionId ?? '(none)'}, expires ${state.expiresAt ?? '-'}`,
        `next renewal ${state.nextRenewalAt ?? '-'}; renewals ${state.renewals}, recreations ${state.recreations}, reauthorizations ${state.reauthorizations}`,
        `last: ${event}`,
      ].join('\n\n'),
    );
  };
  // Updates queue their command like everything else, so subscription calls never overlap.
  const request = async <T extends SubscriptionOutcome | CancelOutcome>(cmd: Command & { id: number }) => {
    queue.push(cmd);
    await condition(() => results.has(cmd.id));
    const result = results.get(cmd.id) as T;
    results.delete(cmd.id);
    return result;
  };

  setHandler(ensureSubscriptionUpdate, () => request<SubscriptionOutcome>({ kind: 'ensure', id: ++nextId }), {
    validator: () => {
      if (state.status === 'cancelled') throw new Error('this mailbox workflow is shutting down; try again');
    },
  });
  setHandler(cancelSubscriptionUpdate, () => request<CancelOutcome>({ kind: 'cancel', id: ++nextId }));
  setHandler(mailboxLifecycleSignal, (signal) => void queue.push({ kind: 'lifecycle', signal }));
  setHandler(mailboxCatchUpSignal, ({ reason }) => void queue.push({ kind: 'catchUp', reason }));
  setHandler(mailboxStateQuery, () => state);

  /**
   * When to renew: the activity's answer (src/mail/subscription-renewal.ts). Histories recorded
   * before LIVE_SETTINGS, and results from a worker of that release, computed it here.
   */
  const scheduleRenewal = (outcome: Extract<SubscriptionOutcome, { ok: true }>) => {
    if (outcome.renewAt !== undefined && patched(LIVE_SETTINGS)) {
      state.nextRenewalAt = outcome.renewAt;
      return;
    }
    const now = Date.now();
    const expires = Date.parse(outcome.expiresAt);
    state.nextRenewalAt = iso(Math.max(expires - settings.renewBeforeMs, now + (expires - now) / 2));
  };

  const succeeded = (outcome: Extract<SubscriptionOutcome, { ok: true }>) => {
    state.status = 'active';
    state.subscriptionId = outcome.subscriptionId;
    state.expiresAt = outcome.expiresAt;
    state.consecutiveFailures = 0;
    state.nextRetryAt = null;
    state.lastError = null;
    scheduleRenewal(outcome);
    state.nextSweepAt ??= iso(Date.now() + settings.sweepIntervalMs);
  };

  const failed = async (what: string, kind: string, message: string) => {
    state.status = 'retrying';
    state.consecutiveFailures += 1;
    state.lastError = `${what}: ${message}`;
    const wait = Math.min(MAX_BACKOFF_MS, settings.retryDelayMs * 2 ** (state.consecutiveFailures - 1));
    state.nextRetryAt = iso(Date.now() + wait);
    note(`${what} failed (${kind}); retrying at ${state.nextRetryAt}`);
    log.warn('subscription operation failed', { what, kind, message });
    await graph.notifyMailbox(mailboxId, { kind: 'subscription_failed', detail: state.lastError });
    if (kind === 'credentials_rejected' || kind === 'reauthorization_required') {
      await graph.notifyMailbox(mailboxId, { kind, detail: message });
    }
  };

  const catchUp = async (reason: string) => {
    const outcome = await sync.catchUpMailbox(mailboxId, 'delta');
    state.catchUps += 1;
    note(
      outcome.ok
        ? `delta catch-up (${reason}): ${outcome.started} new of ${outcome.seen}`
        : `delta catch-up (${reason}) failed: ${outcome.message}`,
    );
    if (!outcome.ok && outcome.kind === 'credentials_rejected') {
      await graph.notifyMailbox(mailboxId, { kind: 'credentials_rejected', detail: outcome.message });
    }
  };

  /** Creates (or, with `replace`, replaces) the subscription; a creation after a gap is followed by a catch-up. */
  const ensure = async (replace: boolean, why: string): Promise<SubscriptionOutcome> => {
    const outcome = await graph.ensureMailboxSubscription(mailboxId, replace);
    if (!outcome.ok) {
      await failed(
        replace ? 'recreating the subscription' : 'creating the subscription',
        outcome.kind,
        outcome.message,
      );
      return outcome;
    }
    const hadOne = state.subscriptionId !== null || state.run > 1;
    succeeded(outcome);
    if (outcome.created) {
      note(`subscription ${outcome.subscriptionId} created (${why}), expires ${outcome.expiresAt}`);
      if (hadOne) state.recreations += 1;
      // The first catch-up establishes the delta baseline; later ones recover mail from the gap.
      await catchUp(hadOne ? `after ${why}` : 'baseline');
    }
    return outcome;
  };

  const renewOrRecover = async (action: 'renew' | 'reauthorize') => {
    const valid = state.subscriptionId !== null && state.expiresAt !== null && Date.parse(state.expiresAt) > Date.now();
    if (!valid) {
      await ensure(false, 'expired or missing subscription');
      return;
    }
    const outcome =
      action === 'renew'
        ? await graph.renewMailboxSubscription(mailboxId)
        : await graph.reauthorizeMailboxSubscription(mailboxId);
    if (outcome.ok) {
      succeeded(outcome);
      if (action === 'renew') {
        state.renewals += 1;
        state.lastRenewedAt = iso(Date.now());
      } else state.reauthorizations += 1;
      note(`subscription ${action === 'renew' ? 'renewed' : 'reauthorized'} until ${outcome.expiresAt}`);
    } else if (outcome.kind === 'not_found') {
      note(`subscription not found at Graph during ${action}: recreating`);
      await ensure(true, 'Graph answered 404');
    } else {
      await failed(
        action === 'renew' ? 'renewing the subscription' : 'reauthorizing the subscription',
        outcome.kind,
        outcome.message,
      );
    }
  };

  const onLifecycle = async ({ event, subscriptionId }: LifecycleSignal) => {
    note(`lifecycle ${event} for ${subscriptionId}`);
    const current = subscriptionId === state.subscriptionId;
    if (event === 'missed') return catchUp('missed notifications');
    // Events about a subscription we already replaced need no action.
    if (!current) return;
    if (event === 'reauthorizationRequired') return renewOrRecover('reauthorize');
    await ensure(true, 'subscriptionRemoved');
  };

  const handle = async (cmd: Command) => {
    switch (cmd.kind) {
      case 'ensure': {
        const outcome = await ensure(false, cmd.id === undefined ? 'retry' : 'requested');
        if (cmd.id !== undefined) results.set(cmd.id, outcome);
        return;
      }
      case 'cancel': {
        const outcome = await graph.deleteMailboxSubscription(mailboxId);
        state.status = 'cancelled';
        state.subscriptionId = null;
        state.expiresAt = null;
        state.nextRenewalAt = state.nextSweepAt = state.nextRetryAt = null;
        note(`cancelled: ${outcome.message}`);
        results.set(cmd.id, outcome);
        return;
      }
      case 'renew':
        return renewOrRecover('renew');
      case 'lifecycle':
        return onLifecycle(cmd.signal);
      case 'catchUp': {
        // One catch-up covers every request queued behind it.
        const reasons = [cmd.reason, ...queue.filter((c) => c.kind === 'catchUp').map((c) => c.reason)];
        queue.splice(0, queue.length, ...queue.filter((c) => c.kind !== 'catchUp'));
        return catchUp([...new Set(reasons)].join(', '));
      }
      case 'sweep': {
        state.nextSweepAt = iso(Date.now() + settings.sweepIntervalMs);
        await catchUp('scheduled sweep');
        const retried = await graph.retryDueMail(mailboxId);
        if (retried > 0) note(`sweep retried ${retried} failed email(s)`);
      }
    }
  };

  /** Turns whichever timer is due into a command. */
  const dueCommand = (): Command | null => {
    const now = Date.now();
    const due = (at: string | null) => at !== null && Date.parse(at) <= now;
    if (state.status === 'retrying' && due(state.nextRetryAt))
      return state.subscriptionId ? { kind: 'renew' } : { kind: 'ensure' };
    if (state.status === 'active' && due(state.nextRenewalAt)) return { kind: 'renew' };
    if (state.status !== 'starting' && due(state.nextSweepAt)) return { kind: 'sweep' };
    return null;
  };

  const nextWake = (): number | null => {
    const times = [state.status === 'retrying' ? state.nextRetryAt : state.nextRenewalAt, state.nextSweepAt]
      .filter((t): t is string => t !== null)
      .map((t) => Date.parse(t));
    return times.length ? Math.min(...times) : null;
  };

  // A function, so the compiler does not narrow away the change a handler makes mid-loop.
  const cancelled = () => state.status === 'cancelled';
  let cycles = 0;
  try {
    while (!cancelled()) {
      if (queue.length === 0) {
        const wake = nextWake();
        if (wake === null) await condition(() => queue.length > 0);
        else await condition(() => queue.length > 0, Math.max(1, wake - Date.now()));
        const due = queue.length === 0 ? dueCommand() : null;
        if (due) queue.push(due);
      }
      await readSettings();
      while (queue.length > 0 && !cancelled()) await handle(queue.shift()!);
      cycles += 1;
      if (
        (workflowInfo().continueAsNewSuggested || cycles >= settings.maxCyclesPerRun) &&
        queue.length === 0 &&
        allHandlersFinished()
      ) {
        await continueAsNew<typeof mailboxWorkflow>({ ...input, carry: { state, pending: [], catchUpReasons: [] } });
      }
    }
  } catch (err) {
    if (!isMissing(err)) throw err;
    state.status = 'cancelled';
    note('the mailbox was deleted');
  }
  // Anyone still waiting on an update gets an answer before the workflow ends.
  for (const cmd of queue) {
    if (cmd.kind === 'ensure' && cmd.id !== undefined)
      results.set(cmd.id, { ok: false, kind: 'mailbox_missing', message: 'the subscription was cancelled' });
    if (cmd.kind === 'cancel') results.set(cmd.id, { ok: true, deleted: false, message: 'already cancelled' });
  }
  await condition(allHandlersFinished);
  return state;
}
