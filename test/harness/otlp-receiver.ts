import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One span as the product exported it over OTLP/HTTP (JSON). */
export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  startNs: bigint;
  endNs: bigint;
  /** `service.name` / `switchyard.role` of the process that exported it. */
  role: string;
  attributes: Record<string, unknown>;
  links: Array<{ traceId: string; spanId: string }>;
}

/** OTLP JSON ids are hex; a base64 one (the protobuf JSON mapping) is turned into hex too. */
const hexId = (id: unknown): string => {
  if (typeof id !== 'string' || id === '') return '';
  return /^[0-9a-f]+$/i.test(id) ? id.toLowerCase() : Buffer.from(id, 'base64').toString('hex');
};

type AnyValue = { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number };
const attrs = (list: Array<{ key: string; value: AnyValue }> | undefined) =>
  Object.fromEntries(
    (list ?? []).map(({ key, value }) => [
      key,
      value.stringValue ?? value.intValue ?? value.boolValue ?? value.doubleValue ?? null,
    ]),
  );

/**
 * An OTLP/HTTP trace receiver on a loopback port, in the test's own process: what a collector
 * would get from the api and worker processes, decoded from the JSON export.
 */
export class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  private readonly server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url !== '/v1/traces' || !String(req.headers['content-type']).includes('json')) {
        res.writeHead(415).end();
        return;
      }
      this.add(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });

  static async start(): Promise<OtlpReceiver> {
    const r = new OtlpReceiver();
    await new Promise<void>((resolve) => r.server.listen(0, '127.0.0.1', resolve));
    return r;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the OTLP JSON export as sent
  private add(body: any): void {
    for (const rs of body.resourceSpans ?? []) {
      const resource = attrs(rs.resource?.attributes);
      for (const ss of rs.scopeSpans ?? []) {
        for (const s of ss.spans ?? []) {
          this.spans.push({
            traceId: hexId(s.traceId),
            spanId: hexId(s.spanId),
            parentSpanId: hexId(s.parentSpanId),
            name: s.name,
            kind: s.kind,
            startNs: BigInt(s.startTimeUnixNano),
            endNs: BigInt(s.endTimeUnixNano),
            role: String(resource['switchyard.role'] ?? resource['service.name']),
            attributes: attrs(s.attributes),
            links: (s.links ?? []).map((l: { traceId: string; spanId: string }) => ({
              traceId: hexId(l.traceId),
              spanId: hexId(l.spanId),
            })),
          });
        }
      }
    }
  }

  trace(traceId: string): ReceivedSpan[] {
    return this.spans.filter((s) => s.traceId === traceId);
  }

  /** The trace as an indented tree: name, process and duration per span. */
  dump(traceId: string): string {
    const spans = this.trace(traceId).sort((a, b) => (a.startNs < b.startNs ? -1 : 1));
    const ids = new Set(spans.map((s) => s.spanId));
    const lines: string[] = [];
    const walk = (parent: string, depth: number) => {
      for (const s of spans.filter((x) => (parent === '' ? !ids.has(x.parentSpanId) : x.parentSpanId === parent))) {
        const ms = Number(s.endNs - s.startNs) / 1e6;
        lines.push(`${'  '.repeat(depth)}${s.name}  [${s.role}]  ${ms.toFixed(1)} ms`);
        walk(s.spanId, depth + 1);
      }
    };
    walk('', 0);
    return lines.join('\n');
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
