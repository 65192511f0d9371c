import { authorityMetadataFor } from '../test/emulators/microsoft';
import type { EmbeddedStack } from './lib';
import type { EmulatorProcess } from './microsoft-emulator-process';

export const BENCH_TENANT = 'bench-tenant';
export const BENCH_MAILBOX = 'support@bench.test';

/** The stack's settings for talking to the emulator: its CA, and localhost allowed by the outbound guard. */
export const emulatorEnv = (emulator: EmulatorProcess): Record<string, string> => ({
  NODE_EXTRA_CA_CERTS: emulator.caPath,
  // The emulated Microsoft identity and Graph listen on localhost, which the outbound guard refuses by default.
  OUTBOUND_ALLOWED_HOSTS: 'localhost,127.0.0.1',
  PROVIDER_CUSTOM_HOSTS: 'localhost,127.0.0.1',
});

/** Registers an app and a user in the emulator and connects them as a webhooks mailbox; returns its id. */
export async function connectEmulatedMailbox(emulator: EmulatorProcess, call: EmbeddedStack['call']): Promise<string> {
  const app = await emulator.registerApp({ tenantId: BENCH_TENANT, permissions: ['Mail.ReadWrite', 'Mail.Send'] });
  await emulator.addUser(BENCH_TENANT, { mail: BENCH_MAILBOX });
  const mailbox = (await call('POST', '/api/v1/mailboxes', {
    name: 'Bench',
    tenantId: BENCH_TENANT,
    clientId: app.clientId,
    clientSecret: app.clientSecret,
    authority: {
      kind: 'custom',
      loginUrl: emulator.url,
      graphUrl: emulator.url,
      authorityMetadata: JSON.parse(authorityMetadataFor(emulator.url, BENCH_TENANT)),
    },
    method: 'webhooks',
    emailAddress: BENCH_MAILBOX,
  })) as { id: string };
  await call('POST', `/api/v1/mailboxes/${mailbox.id}/subscription`);
  return mailbox.id;
}
