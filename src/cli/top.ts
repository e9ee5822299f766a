/**
 * `top`: a terminal dashboard of a running service, refreshed every second from its admin API
 * (/api/status, /api/templates on the metrics port). On a terminal it draws full screens on the
 * alternate screen and quits on q or Ctrl-C, restoring the terminal; otherwise (a pipe, a log)
 * it prints one plain line per refresh.
 */
import { parseArgs } from 'node:util';
import type { StatusReport } from '../telemetry/admin';
import type { TemplateSummary } from '../processors/contract';
import { wait } from './wait';

export const TOP_HELP = `Usage: otlp-log-processor top [--endpoint URL] [--token TOKEN] [--iterations N]

Shows a running service at work, refreshed every second: records/s in and out of each
receiver, processor and exporter, drops by reason, queue fill, failed (retried) export
requests, memory, the busiest templates of the classify processor (new ones marked) and
the error-spike state of the aggregate processor. Reads the admin API on the metrics port.

On a terminal: q or Ctrl-C quits. When stdout is not a terminal, prints one line per second.

Options:
  --endpoint URL     The service's metrics port [default: http://<OLP_METRICS_ENDPOINT>,
                     0.0.0.0 read as 127.0.0.1, else http://127.0.0.1:8888]
  --token TOKEN      Bearer token, when the service sets OLP_AUTH_* [default: none]
  --iterations N     Stop after N refreshes [default: until quit]
  -h, --help         Show this help
`;

/** A template first seen within this span is marked new. */
const NEW_TEMPLATE_MS = 60_000;
const REFRESH_MS = 1000;
const TOP_TEMPLATES = 10;

export interface TopOptions {
  readonly endpoint: string;
  readonly token: string | undefined;
  readonly iterations: number | undefined;
}

export function parseTopArgs(argv: string[], env: NodeJS.ProcessEnv): TopOptions | 'help' | { error: string } {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: false,
      options: { endpoint: { type: 'string' }, token: { type: 'string' }, iterations: { type: 'string', short: 'n' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (e) {
    return { error: (e as Error).message };
  }
  const v = parsed.values;
  if (v.help) return 'help';
  let iterations: number | undefined;
  if (v.iterations !== undefined) {
    iterations = Number(v.iterations);
    if (!/^\d+$/.test(v.iterations) || iterations < 1) return { error: `--iterations: expected a positive integer, got "${v.iterations}"` };
  }
  const endpoint = adminEndpoint(v.endpoint, env);
  if (typeof endpoint !== 'string') return endpoint;
  return { endpoint, token: v.token, iterations };
}

/** The admin API's URL: --endpoint, else http:// + OLP_METRICS_ENDPOINT (0.0.0.0 and [::] read as 127.0.0.1), else http://127.0.0.1:8888. */
export function adminEndpoint(given: string | undefined, env: NodeJS.ProcessEnv): string | { error: string } {
  const fromEnv = env.OLP_METRICS_ENDPOINT ? `http://${env.OLP_METRICS_ENDPOINT.replace(/^0\.0\.0\.0:/, '127.0.0.1:').replace(/^\[::\]:/, '127.0.0.1:')}` : 'http://127.0.0.1:8888';
  const endpoint = (given ?? fromEnv).replace(/\/+$/, '');
  if (!/^https?:\/\//.test(endpoint)) return { error: `--endpoint: expected an http:// or https:// URL, got "${endpoint}"` };
  return endpoint;
}

/** What one refresh shows: the two answers, and the previous templates answer for template rates. */
export interface TopView {
  readonly status: StatusReport;
  readonly templates: { readonly now: number; readonly processors: readonly { readonly processor: string; readonly templates: readonly TemplateSummary[] }[] };
  readonly previous?: TopView['templates'];
}

interface TemplateRow {
  readonly t: TemplateSummary;
  readonly perSecond: number;
  readonly isNew: boolean;
}

/** Templates of every classify stage with their rate since the previous refresh, busiest first. */
function templateRows(view: TopView): TemplateRow[] {
  const prev = new Map<string, number>();
  for (const p of view.previous?.processors ?? []) for (const t of p.templates) prev.set(`${p.processor}|${t.id}`, t.count);
  const seconds = view.previous ? (view.templates.now - view.previous.now) / 1000 : 0;
  const rows: TemplateRow[] = [];
  for (const p of view.templates.processors) {
    for (const t of p.templates) {
      const before = prev.get(`${p.processor}|${t.id}`);
      const perSecond = seconds > 0 ? Math.max(0, t.count - (before ?? 0)) / seconds : 0;
      rows.push({ t, perSecond, isNew: t.firstSeen > 0 && view.templates.now - t.firstSeen < NEW_TEMPLATE_MS });
    }
  }
  return rows.sort((a, b) => b.perSecond - a.perSecond || b.t.count - a.t.count);
}

/** 'ERROR SPIKE' while an aggregate processor flagged one within the rate window, 'no spike' when one runs, else undefined. */
function spikeState(s: StatusReport): string | undefined {
  const counting = s.processors.filter((p) => p.events.error_spikes !== undefined || p.name === 'aggregate' || p.name.startsWith('aggregate/'));
  if (counting.length === 0) return undefined;
  return counting.some((p) => (p.events.error_spikes?.perSecond ?? 0) > 0) ? 'ERROR SPIKE' : 'no error spike';
}

const num = (n: number): string => (n >= 1e7 ? `${(n / 1e6).toFixed(1)}M` : n >= 1e5 ? `${(n / 1e3).toFixed(1)}k` : Number.isInteger(n) ? String(n) : n.toFixed(1));
const mib = (bytes: number): string => `${Math.round(bytes / 1048576)} MiB`;
/** `s` left-aligned in n columns; a longer name is kept whole (the row shifts rather than hide it). */
const pad = (s: string, n: number): string => (s.length >= n ? `${s} ` : s + ' '.repeat(n - s.length));
const rpad = (s: string, n: number): string => (s.length >= n ? s : ' '.repeat(n - s.length) + s);

function uptime(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${String(seconds % 60).padStart(2, '0')}s`;
}

const SEVERITY_LETTERS: readonly [keyof TemplateSummary['severities'], string][] = [
  ['fatal', 'F'],
  ['error', 'E'],
  ['warn', 'W'],
  ['info', 'I'],
  ['debug', 'D'],
  ['trace', 'T'],
  ['unspecified', '-'],
];

/** The template's most frequent severity as one letter. */
function severityLetter(t: TemplateSummary): string {
  let best = SEVERITY_LETTERS[SEVERITY_LETTERS.length - 1]!;
  for (const e of SEVERITY_LETTERS) if (t.severities[e[0]] > t.severities[best[0]]) best = e;
  return best[1];
}

/** The dashboard's lines, each cut to `width` columns. */
export function renderDashboard(view: TopView, width: number): string[] {
  const s = view.status;
  const spike = spikeState(s);
  const lines = [
    `otlp-log-processor ${s.version} — up ${uptime(s.uptimeSeconds)} — ${s.workers.threads} worker threads (${s.workers.restarts} restarts) — RSS ${mib(s.memory.rssBytes)}, heap ${mib(s.memory.heapUsedBytes)}/${mib(s.memory.heapTotalBytes)}`,
    `rates over the last ${s.rateWindowSeconds} s${spike ? ` — ${spike}` : ''}`,
    '',
    `${pad('RECEIVERS', 24)}${rpad('in/s', 10)}${rpad('refused/s', 11)}${rpad('total in', 12)}`,
    ...s.receivers.map((r) => `  ${pad(r.transport, 22)}${rpad(num(r.accepted.perSecond), 10)}${rpad(num(r.refused.perSecond), 11)}${rpad(num(r.accepted.total), 12)}`),
    `${pad('PROCESSORS', 24)}${rpad('in/s', 10)}${rpad('out/s', 11)}${rpad('errors', 12)}`,
    ...s.processors.map((p) => `  ${pad(p.name, 22)}${rpad(num(p.incoming.perSecond), 10)}${rpad(num(p.outgoing.perSecond), 11)}${rpad(num(p.errors.total), 12)}`),
    `${pad('EXPORTERS', 24)}${rpad('sent/s', 10)}${rpad('failed/s', 11)}${rpad('queue', 12)}  fill`,
    ...s.exporters.map((e) => {
      const fill = e.queue.capacity > 0 ? e.queue.size / e.queue.capacity : 0;
      return `  ${pad(e.name, 22)}${rpad(num(e.sent.perSecond), 10)}${rpad(num(e.failedRequests.perSecond), 11)}${rpad(`${num(e.queue.size)}/${num(e.queue.capacity)}`, 12)}  ${bar(fill, 10)} ${Math.round(fill * 100)}%`;
    }),
    `${pad('DROPS', 24)}${rpad('/s', 10)}${rpad('total', 11)}`,
    ...(s.drops.length === 0 ? ['  none'] : s.drops.map((d) => `  ${pad(`${d.component} ${d.reason}`, 22)}${rpad(num(d.count.perSecond), 10)}${rpad(num(d.count.total), 11)}`)),
    '',
  ];
  const rows = templateRows(view);
  if (view.templates.processors.length === 0) {
    lines.push('TEMPLATES: no classify processor in the chain');
  } else {
    lines.push(`TEMPLATES (${rows.length} shown, busiest first)      /s     count  sev  template`);
    for (const r of rows.slice(0, TOP_TEMPLATES)) {
      lines.push(`  ${r.isNew ? 'NEW' : '   '} ${rpad(num(r.perSecond), 28)}${rpad(num(r.t.count), 10)}  ${severityLetter(r.t)}    ${r.t.text.replace(/\s+/g, ' ')}`);
    }
  }
  return lines.map((l) => (l.length > width ? l.slice(0, width) : l));
}

function bar(fill: number, cells: number): string {
  const n = Math.round(Math.min(1, Math.max(0, fill)) * cells);
  return `[${'#'.repeat(n)}${'.'.repeat(cells - n)}]`;
}

/** One plain line per refresh, for a pipe or a log file. */
export function renderLine(view: TopView): string {
  const s = view.status;
  const sum = (xs: readonly { perSecond: number }[]): string => num(xs.reduce((a, x) => a + x.perSecond, 0));
  const rows = templateRows(view);
  const spike = spikeState(s);
  return [
    new Date(s.now).toISOString(),
    `in ${sum(s.receivers.map((r) => r.accepted))}/s (${s.receivers.map((r) => `${r.transport} ${num(r.accepted.perSecond)}`).join(', ')})`,
    `out ${sum(s.exporters.map((e) => e.sent))}/s (${s.exporters.map((e) => `${e.name} ${num(e.sent.perSecond)}`).join(', ')})`,
    `dropped ${sum(s.drops.map((d) => d.count))}/s`,
    `failed ${sum(s.exporters.map((e) => e.failedRequests))} req/s`,
    `queue ${s.exporters.map((e) => `${e.name} ${num(e.queue.size)}/${num(e.queue.capacity)}`).join(', ')}`,
    `rss ${mib(s.memory.rssBytes)}`,
    `templates ${rows.length} (${rows.filter((r) => r.isNew).length} new)`,
    ...(spike ? [spike] : []),
  ].join(' | ');
}

export interface TopIo {
  readonly stdout: NodeJS.WriteStream | (NodeJS.WritableStream & { isTTY?: boolean; columns?: number });
  readonly stdin: NodeJS.ReadStream | (NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown });
  readonly stderr: NodeJS.WritableStream;
}

async function fetchJson(url: string, token: string | undefined, signal: AbortSignal): Promise<any> {
  const res = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {}, signal: AbortSignal.any([signal, AbortSignal.timeout(5000)]) });
  if (res.status === 401) throw new Error(`${url}: 401, the service wants a bearer token (--token)`);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res.json();
}

export async function topCommand(argv: string[], env: NodeJS.ProcessEnv, io: TopIo = { stdout: process.stdout, stdin: process.stdin, stderr: process.stderr }): Promise<number> {
  const o = parseTopArgs(argv, env);
  if (o === 'help') {
    io.stdout.write(TOP_HELP);
    return 0;
  }
  if ('error' in o) {
    io.stderr.write(`otlp-log-processor top: ${o.error}\n\n${TOP_HELP}`);
    return 2;
  }
  const tty = io.stdout.isTTY === true;
  const quit = new AbortController();
  const onKey = (data: Buffer | string): void => {
    const key = data.toString();
    if (key === 'q' || key === 'Q' || key === '\u0003') quit.abort();
  };
  const onSignal = (): void => quit.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const raw = tty && io.stdin.isTTY === true && typeof io.stdin.setRawMode === 'function';
  if (tty) io.stdout.write('\x1b[?1049h\x1b[?25l');
  if (raw) {
    io.stdin.setRawMode!(true);
    io.stdin.on('data', onKey);
    io.stdin.resume();
  }
  let previous: TopView['templates'] | undefined;
  let ok = true;
  try {
    for (let i = 0; !quit.signal.aborted && (o.iterations === undefined || i < o.iterations); i++) {
      if (i > 0) await wait(REFRESH_MS, quit.signal);
      if (quit.signal.aborted) break;
      try {
        const [status, templates] = await Promise.all([fetchJson(`${o.endpoint}/api/status`, o.token, quit.signal), fetchJson(`${o.endpoint}/api/templates?limit=100`, o.token, quit.signal)]);
        const view: TopView = { status, templates, previous };
        previous = templates;
        ok = true;
        if (tty) {
          const width = (io.stdout as { columns?: number }).columns ?? 120;
          io.stdout.write(`\x1b[H${[...renderDashboard(view, width), '', 'q: quit'].join('\x1b[K\r\n')}\x1b[K\x1b[J`);
        } else {
          io.stdout.write(`${renderLine(view)}\n`);
        }
      } catch (e) {
        if (quit.signal.aborted) break;
        ok = false;
        const msg = `cannot read ${o.endpoint}: ${(e as Error).message}`;
        io.stdout.write(tty ? `\x1b[H${msg}\x1b[K\r\n\x1b[J` : `${new Date().toISOString()} ${msg}\n`);
      }
    }
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    if (raw) {
      io.stdin.removeListener('data', onKey);
      io.stdin.setRawMode!(false);
      io.stdin.pause();
    }
    if (tty) io.stdout.write('\x1b[?25h\x1b[?1049l');
  }
  return ok ? 0 : 1;
}

