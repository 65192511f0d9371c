/** Stops what global-setup started (both run in the same Jest context). */
export default async function globalTeardown(): Promise<void> {
  const g = globalThis as { __switchyardHarness?: { stop: () => Promise<void> } };
  await g.__switchyardHarness?.stop();
}
