/** `npm run bench -- <name> [--requests N] [--connections N]` */
import { benchIngest } from './ingest';

const args = process.argv.slice(2);
const name = args[0];
const flag = (key: string, fallback: number) => {
  const i = args.indexOf(`--${key}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};

const benches: Record<string, () => Promise<void>> = {
  ingest: () => benchIngest({ requests: flag('requests', 5000), connections: flag('connections', 20) }),
};

const run = name ? benches[name] : undefined;
if (!run) {
  process.stderr.write(`usage: npm run bench -- <${Object.keys(benches).join('|')}> [options]\n`);
  process.exit(2);
}
run().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
