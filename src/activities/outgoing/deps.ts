import type { Db } from '../../platform/db/pool';
import type { Logger } from '../../platform/logger';
import type { OutgoingSettings } from '../../outgoing/settings';
import type { SecretBox } from '../../platform/security/secret-box';

/** What the outgoing-webhook activities need; the worker passes real ones, tests their own. */
export interface OutgoingActivityDeps {
  db: Db;
  logger: Logger;
  secrets: SecretBox;
  settings: OutgoingSettings;
}
