import {
  deleteMailbox,
  getMailbox,
  listMailboxes,
  insertMailbox,
  setOutgoingDefault,
  updateMailbox,
  type MailboxRow,
  type MailboxSettings,
} from './db/mailboxes';
import { withTransaction, type Db } from '../platform/db/pool';
import {
  cancelSubscription,
  catchUpAfterEnable,
  deleteScanSchedule,
  terminateMailboxWorkflow,
  upsertScanSchedule,
  type MailboxControlDeps,
} from './mailbox-starter';

/**
 * Storing Microsoft 365 mailboxes, then bringing their workflows in line: the scan schedule of
 * a connected scan mailbox, a catch-up when one is enabled again, and teardown before a delete.
 * Settings arrive already checked and with the client secret encrypted.
 */

export interface MailboxStoreDeps extends MailboxControlDeps {
  db: Db;
}

export type MailboxPatch = { [K in keyof MailboxSettings]?: MailboxSettings[K] | undefined };

// jsonb reorders keys: compare authorities with sorted keys.
const sorted = (v: unknown): unknown =>
  v && typeof v === 'object' && !Array.isArray(v)
    ? Object.fromEntries(
        Object.entries(v)
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([k, x]) => [k, sorted(x)]),
      )
    : v;

/** Stores a new mailbox; as the outgoing default it becomes the only one replies are sent from. */
export async function createMailbox(db: Db, id: string, settings: MailboxSettings): Promise<MailboxRow> {
  return withTransaction(db, async (tx) => {
    await insertMailbox(tx, id, { ...settings, outgoing_default: false });
    if (settings.outgoing_default) await setOutgoingDefault(tx, id);
    return (await getMailbox(tx, id))!;
  });
}

/**
 * Saves changed settings (`outgoing_default: true` takes the role from any other mailbox), then
 * re-applies the scan schedule of a connected scan mailbox and catches up one just enabled.
 */
export async function updateMailboxSettings(
  deps: MailboxStoreDeps,
  existing: MailboxRow,
  patch: MailboxPatch,
): Promise<MailboxRow> {
  // Tokens obtained from the old authority are not sent to a new one.
  const authorityMoved =
    patch.authority !== undefined &&
    JSON.stringify(sorted(patch.authority)) !== JSON.stringify(sorted(existing.authority));
  const row = await withTransaction(deps.db, async (tx) => {
    await updateMailbox(tx, existing.id, {
      ...patch,
      outgoing_default: undefined,
      ...(authorityMoved ? { token_cache_enc: null } : {}),
    });
    if (patch.outgoing_default === true) await setOutgoingDefault(tx, existing.id);
    if (patch.outgoing_default === false) await updateMailbox(tx, existing.id, { outgoing_default: false });
    return (await getMailbox(tx, existing.id))!;
  });
  if (row.method === 'scan' && row.connected_home_account_id) await upsertScanSchedule(deps, row);
  if (row.enabled && !existing.enabled) await catchUpAfterEnable(deps, row);
  return row;
}

/**
 * Re-applies every connected scan mailbox's schedule, run at API start-up like the retention
 * schedule: a changed MAILBOX_SCAN_INTERVAL_SECONDS or MAILBOX_SCAN_MIN_INTERVAL_SECONDS reaches
 * existing schedules when the API restarts. Returns how many it re-applied.
 */
export async function refreshScanSchedules(deps: MailboxStoreDeps): Promise<number> {
  const scanned = (await listMailboxes(deps.db)).filter((m) => m.method === 'scan' && m.connected_home_account_id);
  for (const mailbox of scanned) await upsertScanSchedule(deps, mailbox);
  return scanned.length;
}

/** Stops the mailbox's workflows and scan schedule, then deletes it. */
export async function removeMailbox(deps: MailboxStoreDeps, mailbox: MailboxRow): Promise<void> {
  // Best effort: a subscription left behind lapses at its expiry and its notifications are refused.
  if (mailbox.subscription_id) await cancelSubscription(deps, mailbox.id).catch(() => null);
  await terminateMailboxWorkflow(deps, mailbox.id);
  await deleteScanSchedule(deps, mailbox.id);
  await deleteMailbox(deps.db, mailbox.id);
}

/** Forgets the delegated sign-in (tokens, account, delta position) after stopping the scans. */
export async function disconnectMailbox(deps: MailboxStoreDeps, mailboxId: string): Promise<MailboxRow> {
  await deleteScanSchedule(deps, mailboxId);
  return (await updateMailbox(deps.db, mailboxId, {
    token_cache_enc: null,
    connected_account: null,
    connected_home_account_id: null,
    connected_at: null,
    delta_link: null,
  }))!;
}
