// Creates (or reuses) the emulator CA and prints its path, so a shell can export it before Node starts:
//   export NODE_EXTRA_CA_CERTS="$(node --import tsx test/emulators/microsoft/ca-cli.ts [dir])"
// Needed whenever the code under test runs inside the test process itself (e.g. `jest --runInBand`).
import { ensureEmulatorCa } from './ca';

void ensureEmulatorCa(process.argv[2]).then(
  (ca) => process.stdout.write(`${ca.caPath}\n`),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
