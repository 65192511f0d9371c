/**
 * The browser tests drive Debian's Chromium with playwright-core (no browser download).
 * `npm test` runs this first: it installs the `chromium` package when it is missing and we
 * may (root with apt-get), and otherwise says what to install.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

const CHROMIUM = process.env['CHROMIUM_PATH'] || '/usr/bin/chromium';
const say = (line: string) => process.stdout.write(`[chromium] ${line}\n`);

function main(): number {
  if (fs.existsSync(CHROMIUM)) return 0;
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!root || spawnSync('apt-get', ['--version']).status !== 0) {
    say(`${CHROMIUM} is missing; install Debian's chromium package (apt-get install chromium) for the browser tests`);
    return 0;
  }
  say("installing Debian's chromium package for the browser tests (once)…");
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  const install = spawnSync('apt-get', ['install', '-y', '-qq', 'chromium'], { stdio: 'inherit', env });
  if (install.status !== 0 || !fs.existsSync(CHROMIUM)) {
    say('could not install chromium; the browser tests will fail and say so');
    return 0;
  }
  say(`installed ${CHROMIUM}`);
  return 0;
}

process.exit(main());
