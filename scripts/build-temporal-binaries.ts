/**
 * Builds the pinned Temporal binaries with ONE `go install`: the CLI (the embedded dev server)
 * and temporal-server + temporal-sql-tool (the cluster profile). They are built inside a
 * throwaway Go module that requires both the CLI and the server, because the CLI's module
 * already requires go.temporal.io/server at TEMPORAL_SERVER_VERSION: one build list, so each
 * shared package (the server, the API protos, gRPC…) is compiled once. Built separately with
 * `go install …@version` they resolve slightly different dependency versions (x/net, x/sys,
 * genproto, OpenTelemetry) and share almost nothing in Go's build cache.
 *
 * temporal-server therefore links the dependency versions the CLI's dev server runs the same
 * server code with. Binaries are built into a private directory and renamed into the per-user
 * caches, so a half-built cache is never used.
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  TEMPORAL_CLI_MODULE,
  TEMPORAL_CLI_PACKAGE,
  TEMPORAL_CLI_VERSION,
  temporalCliCacheDir,
} from '../src/embedded/temporal-cli';
import {
  TEMPORAL_SERVER_BINARIES,
  TEMPORAL_SERVER_MODULE,
  TEMPORAL_SERVER_VERSION,
  temporalServerCacheDir,
} from '../src/embedded/temporal-server';
import { goCommand } from './go-command';

export type TemporalBinarySet = 'cli' | 'server';

/** The `go` line of both modules' go.mod (a newer Go toolchain builds them too). */
const GO_VERSION = '1.25.0';

const goMod = [
  'module switchyard.local/temporal-binaries',
  '',
  `go ${GO_VERSION}`,
  '',
  'require (',
  `\t${TEMPORAL_CLI_MODULE} ${TEMPORAL_CLI_VERSION}`,
  `\t${TEMPORAL_SERVER_MODULE} ${TEMPORAL_SERVER_VERSION}`,
  ')',
  '',
].join('\n');

/** Package to install, the file `go install` writes, and where it goes. */
function targets(sets: TemporalBinarySet[]) {
  const out: Array<{ pkg: string; built: string; dest: string }> = [];
  if (sets.includes('cli'))
    out.push({
      pkg: `${TEMPORAL_CLI_MODULE}/${TEMPORAL_CLI_PACKAGE}`,
      built: path.basename(TEMPORAL_CLI_PACKAGE),
      dest: path.join(temporalCliCacheDir(), 'temporal'),
    });
  if (sets.includes('server'))
    for (const b of TEMPORAL_SERVER_BINARIES)
      out.push({
        pkg: `${TEMPORAL_SERVER_MODULE}/${b.pkg}`,
        built: b.built,
        dest: path.join(temporalServerCacheDir(), b.name),
      });
  return out;
}

const tail = (output: string) => output.split('\n').slice(-30).join('\n');

export async function buildTemporalBinaries(sets: TemporalBinarySet[], say: (line: string) => void): Promise<void> {
  const wanted = targets(sets);
  // Beside the caches (same file system), so the finished binaries are renamed into place.
  const base = path.dirname(path.dirname(temporalCliCacheDir()));
  fs.mkdirSync(base, { recursive: true });
  const work = fs.mkdtempSync(path.join(base, '.build-'));
  try {
    const gobin = path.join(work, 'bin');
    fs.writeFileSync(path.join(work, 'go.mod'), goMod);
    const env = { GOBIN: gobin };

    // The server the CLI pins must be the one we name, or the build list would quietly move it.
    const listed = await goCommand(['list', '-m', TEMPORAL_SERVER_MODULE], work, env, say);
    if (listed.code !== 0) throw new Error(`go list failed (exit ${listed.code}):\n${tail(listed.output)}`);
    const resolved = listed.output.trim().split('\n').pop()?.split(' ')[1];
    if (resolved !== TEMPORAL_SERVER_VERSION)
      throw new Error(
        `${TEMPORAL_CLI_MODULE}@${TEMPORAL_CLI_VERSION} builds with ${TEMPORAL_SERVER_MODULE}@${resolved}, ` +
          `not ${TEMPORAL_SERVER_VERSION}: change TEMPORAL_SERVER_VERSION (src/embedded/temporal-server.ts) to match`,
      );

    say(`building ${wanted.map((t) => t.pkg).join(', ')} in one go install (${TEMPORAL_CLI_VERSION} / ${resolved})`);
    say('a first build takes several minutes of CPU; Go caches make later ones fast');
    const started = Date.now();
    const result = await goCommand(['install', '-v', ...wanted.map((t) => t.pkg)], work, env, say);
    if (result.code !== 0) throw new Error(`go install failed (exit ${result.code}):\n${tail(result.output)}`);
    for (const t of wanted) {
      fs.mkdirSync(path.dirname(t.dest), { recursive: true });
      fs.renameSync(path.join(gobin, t.built), t.dest);
    }
    say(`built ${wanted.map((t) => t.dest).join(', ')} in ${Math.round((Date.now() - started) / 1000)} s`);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
