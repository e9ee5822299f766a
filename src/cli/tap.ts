/**
 * `tap`: prints records of a running service as they leave its chain (or one processor), read
 * from the admin API's live stream (GET /api/tap on the metrics port). The service decides what
 * is sent (condition, rate, limit) and drops what this client does not read in time; the counts
 * of what was not shown are printed to stderr at the end.
 */
import { parseArgs } from 'node:util';
import { SEVERITY_SHORT_NAMES } from '../severity/levels';
import { adminEndpoint } from './top';

export const TAP_HELP = `Usage: otlp-log-processor tap [--endpoint URL] [--token TOKEN] [--at PROCESSOR] [--where CEL]
                             [--limit N] [--rate N] [--format text|json]

Prints records of a running service as they leave its processing chain, or as they leave one
processor, read from the admin API on the metrics port (GET /api/tap). The service shows at most
--rate records per second; what it skips or what this client does not read in time is dropped
there (never slowing the pipeline) and counted: the counts are printed to stderr at the end.
Ctrl-C stops.

Options:
  --endpoint URL     The service's metrics port [default: http://<OLP_METRICS_ENDPOINT>,
                     0.0.0.0 read as 127.0.0.1, else http://127.0.0.1:8888]
  --token TOKEN      Bearer token, when the service sets OLP_AUTH_* [default: none]
  --at PROCESSOR     Records as they leave this processor (a name in OLP_PROCESSORS), or
                     start (as received, before the first one) [default: end of the chain]
  --where CEL        Only records matching this condition (variables as in OLP_<PROCESSOR>_WHERE:
                     body, severity_number, attributes, resource, …)
  --limit N          Stop after N records [default: until Ctrl-C]
  --rate N           At most N records per second, 1 to 10000 [default: 100]
  --format FORMAT    text: "time SEVERITY body key=value…" per record; json: the service's JSON
                     line per record (times in nanoseconds as strings, ids in hex) [default: text]
  -h, --help         Show this help
`;

export interface TapOptions {
  readonly endpoint: string;
  readonly token: string | undefined;
  readonly query: URLSearchParams;
  readonly format: 'text' | 'json';
}

export function parseTapArgs(argv: string[], env: NodeJS.ProcessEnv): TapOptions | 'help' | { error: string } {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: false,
      options: {
        endpoint: { type: 'string' },
        token: { type: 'string' },
        at: { type: 'string' },
        where: { type: 'string' },
        limit: { type: 'string', short: 'n' },
        rate: { type: 'string' },
        format: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    return { error: (e as Error).message };
  }
  const v = parsed.values;
  if (v.help) return 'help';
  const query = new URLSearchParams();
  if (v.at !== undefined) query.set('at', v.at);
  if (v.where !== undefined) query.set('where', v.where);
  for (const k of ['limit', 'rate'] as const) {
    const n = v[k];
    if (n === undefined) continue;
    if (!/^\d+$/.test(n) || Number(n) < 1) return { error: `--${k}: expected a positive integer, got "${n}"` };
    query.set(k, n);
  }
  const format = v.format ?? 'text';
  if (format !== 'text' && format !== 'json') return { error: `--format: expected text or json, got "${format}"` };
  const endpoint = adminEndpoint(v.endpoint, env);
  if (typeof endpoint !== 'string') return endpoint;
  return { endpoint, token: v.token, query, format };
}

/** A record line of the stream, as the service writes it (src/pipeline/tap.ts recordJson). */
export interface TapRecord {
  readonly time: string;
  readonly observedTime: string;
  readonly severityNumber: number;
  readonly severityText: string;
  readonly body: unknown;
  readonly attributes: Readonly<Record<string, unknown>>;
  readonly resource: Readonly<Record<string, unknown>>;
  readonly scope: string;
  readonly traceId: string;
  readonly spanId: string;
  readonly eventName: string;
}

interface Stats {
  readonly sent: number;
  readonly dropped: { readonly rate: number; readonly full: number; readonly slow_client: number };
  readonly end?: 'limit' | 'shutdown';
}

/** The record's time (or observed time) in ISO 8601 with nanoseconds cut to microseconds; "-" when neither is set. */
function isoTime(r: TapRecord): string {
  const ns = r.time !== '0' ? r.time : r.observedTime;
  if (!/^\d+$/.test(ns ?? '') || ns === '0') return '-';
  const n = BigInt(ns);
  const iso = new Date(Number(n / 1_000_000n)).toISOString();
  return `${iso.slice(0, -1)}${String((n / 1000n) % 1000n).padStart(3, '0')}Z`;
}

const plainValue = (v: unknown): string => (typeof v === 'string' && /^[^\s"=]*$/.test(v) && v !== '' ? v : JSON.stringify(v));

/** One record as `time SEVERITY body key=value…` on one line. */
export function renderTapRecord(r: TapRecord): string {
  const severity = r.severityText || SEVERITY_SHORT_NAMES[r.severityNumber] || '-';
  const body = typeof r.body === 'string' ? r.body.replace(/\r?\n/g, '\\n') : r.body === null || r.body === undefined ? '' : JSON.stringify(r.body);
  const attrs = Object.entries(r.attributes ?? {}).map(([k, v]) => `${k}=${plainValue(v)}`);
  return [isoTime(r), severity, body, ...attrs].join(' ');
}

export interface TapIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

/** Why a request failed, in words (the service's own error text when it gave one). */
async function refusal(res: Response, url: string): Promise<string> {
  if (res.status === 401) return `${url}: 401, the service wants a bearer token (--token)`;
  let detail = '';
  try {
    const body = (await res.json()) as { error?: string };
    if (body.error) detail = `: ${body.error}`;
  } catch {
    // no JSON error
  }
  return `${url}: HTTP ${res.status}${detail}`;
}

export async function tapCommand(argv: string[], env: NodeJS.ProcessEnv, io: TapIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const o = parseTapArgs(argv, env);
  if (o === 'help') {
    io.stdout.write(TAP_HELP);
    return 0;
  }
  if ('error' in o) {
    io.stderr.write(`otlp-log-processor tap: ${o.error}\n\n${TAP_HELP}`);
    return 2;
  }
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  // A closed pipe (tap | head) ends the tap like Ctrl-C.
  const onStdoutError = (): void => stop.abort();
  io.stdout.on('error', onStdoutError);
  const qs = o.query.toString();
  const url = `${o.endpoint}/api/tap${qs ? `?${qs}` : ''}`;
  const fail = (msg: string): number => {
    io.stderr.write(`otlp-log-processor tap: ${msg}\n`);
    return 1;
  };
  let shown = 0;
  let stats: Stats | undefined;
  try {
    let res: Response;
    try {
      res = await fetch(url, { headers: o.token ? { authorization: `Bearer ${o.token}` } : {}, signal: stop.signal });
    } catch (e) {
      if (stop.signal.aborted) return 0;
      const cause = (e as { cause?: Error }).cause;
      return fail(`cannot reach ${url}: ${cause?.message ?? (e as Error).message}`);
    }
    if (!res.ok || !res.body) return fail(await refusal(res, url));
    let rest = '';
    const decoder = new TextDecoder();
    const handle = async (line: string): Promise<void> => {
      if (line === '') return;
      const obj = JSON.parse(line) as Record<string, unknown>;
      if ('tap' in obj) {
        const t = obj.tap as { at: string; where: string; limit: number; rate: number };
        const where = t.where ? ` where ${t.where}` : '';
        const limit = t.limit ? `, stops after ${t.limit}` : '';
        io.stderr.write(`tap: records at ${t.at === 'end' ? 'the end of the chain' : t.at === 'start' ? 'the start of the chain' : `the output of ${t.at}`}${where}, at most ${t.rate}/s${limit}; Ctrl-C stops\n`);
        return;
      }
      if ('stats' in obj) {
        stats = obj.stats as Stats;
        return;
      }
      shown++;
      const text = o.format === 'json' ? line : renderTapRecord(obj as unknown as TapRecord);
      // Wait while stdout is full: the service then drops (and counts) what this client cannot take.
      if (!io.stdout.write(`${text}\n`)) await drained(io.stdout, stop.signal);
    };
    try {
      for await (const chunk of res.body) {
        rest += decoder.decode(chunk, { stream: true });
        let nl: number;
        while ((nl = rest.indexOf('\n')) >= 0) {
          const line = rest.slice(0, nl);
          rest = rest.slice(nl + 1);
          await handle(line);
          if (stop.signal.aborted) break;
        }
        if (stop.signal.aborted) break;
      }
    } catch (e) {
      if (!stop.signal.aborted) return fail(`the stream from ${url} broke off: ${(e as Error).message}`);
    }
    if (!stop.signal.aborted && stats?.end === undefined) return fail(`the service closed the stream (${url})`);
    if (stats?.end === 'shutdown') return fail('the service is shutting down');
    return 0;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    io.stdout.removeListener('error', onStdoutError);
    const d = stats?.dropped ?? { rate: 0, full: 0, slow_client: 0 };
    const total = d.rate + d.full + d.slow_client;
    if (stats || shown > 0) {
      io.stderr.write(`tap: ${shown} record${shown === 1 ? '' : 's'} shown; not shown: ${total} (${d.rate} over the rate, ${d.full} queue full, ${d.slow_client} while this client was not reading)${stats?.end ? '' : ' as last reported'}\n`);
    }
  }
}

function drained(out: NodeJS.WritableStream, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      out.removeListener('drain', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    out.once('drain', done);
    signal.addEventListener('abort', done);
  });
}
