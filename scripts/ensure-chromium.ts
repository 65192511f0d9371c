/**
 * The browser tests drive Debian's Chromium with playwright-core (no browser download).
 * `npm install` runs this (scripts/postinstall.ts): it installs the `chromium` package when it
 * is missing and we may (root with apt-get), and otherwise says what to install. Never fails
 * the install: without Chromium only the browser tests fail, and they say why.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';

const CHROMIUM = process.env['CHROMIUM_PATH'] || '/usr/bin/chromium';

const aptGet = (args: string[]) =>
  new Promise<number>((resolve) => {
    const child = spawn('apt-get', args, {
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.on('error', () => resolve(1));
    child.on('close', (code) => resolve(code ?? 1));
  });

export async function ensureChromium(say: (line: string) => void): Promise<void> {
  if (fs.existsSync(CHROMIUM)) return say(`using ${CHROMIUM}`);
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!root || spawnSync('apt-get', ['--version']).status !== 0) {
    return say(
      `${CHROMIUM} is missing; install Debian's chromium package (apt-get install chromium) for the browser tests`,
    );
  }
  say("installing Debian's chromium package for the browser tests (once)…");
  await aptGet(['update', '-qq']);
  const status = await aptGet(['install', '-y', '-qq', 'chromium']);
  if (status !== 0 || !fs.existsSync(CHROMIUM))
    return say('could not install chromium; the browser tests will fail and say so');
  say(`installed ${CHROMIUM}`);
}

if (require.main === module) void ensureChromium((line) => process.stdout.write(`[chromium] ${line}\n`));
