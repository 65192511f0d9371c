/** How log lines are written: `auto` is `pretty` on a terminal and JSON anywhere else. */
export type LogFormat = 'auto' | 'pretty' | 'json';

/** `auto` resolved against the stream the lines go to. */
export function resolveLogFormat(format: LogFormat, stream: { isTTY?: boolean } = process.stdout): 'pretty' | 'json' {
  if (format !== 'auto') return format;
  return stream.isTTY ? 'pretty' : 'json';
}

const LEVELS: Record<number, { name: string; colour: string }> = {
  10: { name: 'TRACE', colour: '90' },
  20: { name: 'DEBUG', colour: '36' },
  30: { name: 'INFO ', colour: '32' },
  40: { name: 'WARN ', colour: '33' },
  50: { name: 'ERROR', colour: '31' },
  60: { name: 'FATAL', colour: '35' },
};

/** Fields the line already shows in its own place, or that only a machine reads. */
const SHOWN = new Set(['level', 'time', 'msg', 'service', 'role', 'component']);

function formatValue(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  return JSON.stringify(v) ?? String(v);
}

/**
 * One pino JSON line as a person reads it: `12:03:04.567 INFO  worker  message key=value …`,
 * with colour when `colour` is set. A line that is not pino's JSON passes through unchanged.
 */
export function formatLogLine(line: string, colour: boolean): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.endsWith('\n') ? line : `${line}\n`;
  }
  const paint = (code: string, s: string) => (colour ? `\u001b[${code}m${s}\u001b[0m` : s);
  const level = LEVELS[Number(entry['level'])] ?? { name: String(entry['level']).padEnd(5), colour: '0' };
  const time = typeof entry['time'] === 'string' ? entry['time'].slice(11, 23) : new Date().toISOString().slice(11, 23);
  const who = [entry['role'], entry['component']].filter((p) => typeof p === 'string' && p).join('/');
  const fields = Object.entries(entry)
    .filter(([k, v]) => !SHOWN.has(k) && v !== undefined)
    .map(([k, v]) => `${paint('2', `${k}=`)}${formatValue(v)}`);
  const parts = [
    paint('2', time),
    paint(level.colour, level.name),
    ...(who ? [paint('1', who)] : []),
    String(entry['msg'] ?? ''),
    ...fields,
  ];
  return `${parts.join(' ')}\n`;
}

/** A pino destination that writes human-readable lines to `out` (a terminal, as a rule). */
export function prettyDestination(out: NodeJS.WritableStream & { isTTY?: boolean } = process.stdout): {
  write(chunk: string): void;
} {
  const colour = Boolean(out.isTTY);
  return {
    write(chunk: string) {
      out.write(formatLogLine(chunk.trimEnd(), colour));
    },
  };
}
