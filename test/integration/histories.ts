import fs from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { ROOT } from '../harness/paths';

/**
 * Recorded workflow histories, one folder per workflow family, replayed against the current
 * workflow code by workflow-replay.test.ts. `npm run record-histories` records them again
 * (record-histories.test.ts); a file whose name starts with `mid-flight-` was taken from a
 * workflow still running, waiting on a timer, as one would be during an upgrade. A history taken
 * before a `patched()` change keeps its own name and is not recorded again (the recorder runs the
 * current code): `mailbox/mid-flight-waiting-on-renewal-settings-in-input.json` predates
 * `mailbox-live-settings`.
 *
 * Stored as protobufjs's JSON form of the History message (enums by name, 64-bit numbers as
 * strings, bytes in base64): the SDK's historyToJSON fails on this install (its protobufjs 8
 * protojson does not accept @temporalio/proto's protobufjs 7 types).
 */
const History = temporal.api.history.v1.History;
const JSON_FORM = { longs: String, enums: String, bytes: String } as const;
export const HISTORIES_DIR = path.join(ROOT, 'test', 'fixtures', 'histories');

export const FAMILIES = [
  'incoming-webhook',
  'inbound-batch',
  'mailbox',
  'email-to-ticket',
  'retention',
  'webhook-lane',
] as const;
export type Family = (typeof FAMILIES)[number];

export interface RecordedHistory {
  family: Family;
  file: string;
  workflowId: string;
  history: temporal.api.history.v1.IHistory;
}

/** Writes the workflow's history so far (it may still be running) as `<family>/<name>.json`. */
export async function recordHistory(
  client: Client,
  family: Family,
  name: string,
  workflowId: string,
  runId?: string,
): Promise<void> {
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  const dir = path.join(HISTORIES_DIR, family);
  fs.mkdirSync(dir, { recursive: true });
  const json = History.toObject(History.fromObject(history), JSON_FORM);
  fs.writeFileSync(path.join(dir, `${name}.json`), `${JSON.stringify(json, null, 1)}\n`);
}

export function loadHistories(): RecordedHistory[] {
  return FAMILIES.flatMap((family) => {
    const dir = path.join(HISTORIES_DIR, family);
    if (!fs.existsSync(dir)) return [];
    return fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .sort()
      .map((file) => ({
        family,
        file,
        workflowId: `${family}/${file}`,
        history: History.fromObject(JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as object),
      }));
  });
}

/** The `patched()` ids a history recorded (its core_patch markers): which side of each patch it was taken on. */
export function patchIds(history: temporal.api.history.v1.IHistory): string[] {
  return (history.events ?? []).flatMap((e) => {
    const marker = e.markerRecordedEventAttributes;
    const data = marker?.markerName === 'core_patch' ? marker.details?.['patch-data']?.payloads?.[0]?.data : undefined;
    if (!data) return [];
    return [(JSON.parse(Buffer.from(data).toString('utf8')) as { id: string }).id];
  });
}
