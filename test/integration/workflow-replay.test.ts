import { Worker } from '@temporalio/worker';
import { harness } from '../harness/stack';
import { FAMILIES, loadHistories, patchIds } from './histories';

/**
 * Every workflow family's recorded histories (test/fixtures/histories/, recorded from real runs by
 * `npm run record-histories`) replay against the current workflow bundle. A workflow edit that
 * changes what an old history did without `patched()` fails here, before it reaches a running
 * workflow. The `mid-flight-` histories were taken from workflows still waiting on a timer: their
 * replay is what a running lane, mailbox or batch goes through on the first workflow task after
 * an upgrade.
 */
const histories = loadHistories();

test('every workflow family has recorded histories, including the three taken mid-flight', () => {
  expect(new Set(histories.map((h) => h.family))).toEqual(new Set(FAMILIES));
  expect(
    histories
      .filter((h) => h.file.startsWith('mid-flight-'))
      .map((h) => h.family)
      .sort(),
  ).toEqual(expect.arrayContaining(['inbound-batch', 'mailbox', 'webhook-lane']));
});

test('mailbox histories from both sides of the mailbox-live-settings patch are kept', () => {
  // One was recorded while the workflow still froze its settings into its input (before the
  // patch); replaying it proves the patched code takes the old path for runs already under way.
  const mailbox = histories.filter((h) => h.family === 'mailbox' && h.file.startsWith('mid-flight-'));
  const sides = mailbox.map((h) => [h.file, patchIds(h.history).includes('mailbox-live-settings')]);
  expect(sides).toEqual(
    expect.arrayContaining([
      ['mid-flight-waiting-on-renewal-settings-in-input.json', false],
      ['mid-flight-waiting-on-renewal.json', true],
    ]),
  );
});

test('recorded histories of every workflow family replay deterministically against the current code', async () => {
  const failures: string[] = [];
  const replayed: string[] = [];
  for await (const r of Worker.runReplayHistories(
    { workflowBundle: { codePath: harness().workflowBundlePath } },
    histories.map(({ workflowId, history }) => ({ workflowId, history })),
  )) {
    replayed.push(r.workflowId);
    if (r.error) failures.push(`${r.workflowId}: ${r.error.message}`);
  }
  expect(failures).toEqual([]);
  expect(replayed.sort()).toEqual(histories.map((h) => h.workflowId).sort());
});
