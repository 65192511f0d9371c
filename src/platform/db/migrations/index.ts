import type { Migration } from './migration';
import { m0001 } from './0001-foundation';
import { m0002 } from './0002-outgoing-webhooks';
import { m0003 } from './0003-incoming-providers';
import { m0004 } from './0004-mailboxes';
import { m0005 } from './0005-intake-outbox';
import { m0006 } from './0006-delivery-lanes';
import { m0007 } from './0007-abuse-limits-per-source-address';
import { m0008 } from './0008-exactly-once-activities';
import { m0009 } from './0009-outbound-effect-ledger';
import { m0010 } from './0010-provider-connect';
import { m0011 } from './0011-email-attachments';
import { m0012 } from './0012-retention-and-mailbox-gaps';
import { m0013 } from './0013-overview-indexes';
import { m0014 } from './0014-lane-polling-marks';
import { m0015 } from './0015-lightweight-batch-items';
import { m0016 } from './0016-statement-abort';
import { m0017 } from './0017-api-client-scopes';
import { m0018 } from './0018-related-tickets';
import { m0019 } from './0019-event-trace-context';
import { m0020 } from './0020-trust-boundaries';

export type { Migration } from './migration';

/**
 * Every schema migration, in the order they are applied: entry N has id N and lives in
 * `NNNN-<what it does>.ts`. A shipped migration is never edited (databases have run its SQL as
 * written); a change to the schema is a new migration.
 *
 * To add one:
 *   1. Create `NNNN-<what-it-does>.ts` with the next number, exporting
 *      `export const mNNNN: Migration = { id: NNNN, name: '<what-it-does>', sql: `...` };`
 *      (no `legacyId`: that is only for the migrations that shipped under the old numbering).
 *   2. Append it to the list below. The runner refuses a list whose ids are not 1, 2, 3, … in
 *      order, or whose names repeat (`migrate.ts`).
 * A branch that still adds `{ id: 93, … }` to the old single `migrations.ts` converts the same way:
 * its id becomes the next file number; its old id is not kept (no database has recorded it).
 */
export const migrations: readonly Migration[] = [
  m0001,
  m0002,
  m0003,
  m0004,
  m0005,
  m0006,
  m0007,
  m0008,
  m0009,
  m0010,
  m0011,
  m0012,
  m0013,
  m0014,
  m0015,
  m0016,
  m0017,
  m0018,
  m0019,
  m0020,
];
