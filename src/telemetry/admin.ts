/**
 * The admin API's data (GET /api/status, GET /api/templates on the metrics port): built on
 * request from the merged metrics and the processors' template summaries, so that nothing is
 * counted per record for it. Rates are deltas between the counters of two requests.
 */
import type { MetricsSnapshot } from './metrics';
import { SEVERITY_BUCKETS, type ProcessorTemplates, type SeverityMix, type TemplateSummary } from '../processors/contract';


/** The package's version (package.json sits three levels above dist/src/telemetry and two above src/telemetry). */
export function packageVersion(): string {
  for (const p of ['../../../package.json', '../../package.json']) {
    try {
      const pkg = require(p) as { name?: string; version: string };
      if (pkg.name === 'otlp-log-processor') return pkg.version;
    } catch {
      // try the next layout
    }
  }
  return 'unknown';
}

export const DEFAULT_TEMPLATE_LIMIT = 50;
export const MAX_TEMPLATE_LIMIT = 1000;

/**
 * Every thread's templates merged per processor and id (equal text gives an equal id on every
 * thread): counts and severities summed, first seen the earliest, last seen the latest; the
 * `limit` most frequent per processor.
 */
export function mergeTemplates(threads: readonly (readonly ProcessorTemplates[])[], limit: number): ProcessorTemplates[] {
  const byProcessor = new Map<string, Map<string, TemplateSummary>>();
  for (const thread of threads) {
    for (const { processor, templates } of thread) {
      let ids = byProcessor.get(processor);
      if (!ids) byProcessor.set(processor, (ids = new Map()));
      for (const t of templates) {
        const had = ids.get(t.id);
        ids.set(t.id, had ? mergeTwo(had, t) : t);
      }
    }
  }
  return [...byProcessor].map(([processor, ids]) => ({ processor, templates: [...ids.values()].sort((a, b) => b.count - a.count).slice(0, limit) }));
}

function mergeTwo(a: TemplateSummary, b: TemplateSummary): TemplateSummary {
  const first = a.firstSeen === 0 ? b.firstSeen : b.firstSeen === 0 ? a.firstSeen : Math.min(a.firstSeen, b.firstSeen);
  const severities = Object.fromEntries(SEVERITY_BUCKETS.map((k) => [k, a.severities[k] + b.severities[k]])) as unknown as SeverityMix;
  return { ...a, count: a.count + b.count, firstSeen: first, lastSeen: Math.max(a.lastSeen, b.lastSeen), severities, example: a.example || b.example };
}

/** `?limit=` of /api/templates: a positive integer, at most MAX_TEMPLATE_LIMIT; undefined when invalid. */
export function templateLimit(raw: string | null): number | undefined {
  if (raw === null) return DEFAULT_TEMPLATE_LIMIT;
  if (!/^\d{1,7}$/.test(raw)) return undefined;
  const n = Number(raw);
  return n >= 1 ? Math.min(n, MAX_TEMPLATE_LIMIT) : undefined;
}

/**
 * Counter values kept from earlier requests, so that each request reports rates over about
 * `windowMs` (shorter right after the start). Bounded: a sample is kept at most every
 * `minGapMs`, and only the latest one older than the window.
 */
export class RateWindow {
  private readonly samples: { readonly t: number; readonly values: ReadonlyMap<string, number> }[] = [];

  constructor(
    readonly windowMs = 10_000,
    private readonly minGapMs = 500,
  ) {}

  /** Per-second rates of `values` against the oldest kept sample within the window (empty at the first call), and that span in seconds. */
  sample(now: number, values: ReadonlyMap<string, number>): { rates: Map<string, number>; seconds: number } {
    const s = this.samples;
    while (s.length >= 2 && s[1]!.t <= now - this.windowMs) s.shift();
    const base = s[0];
    const rates = new Map<string, number>();
    const seconds = base ? (now - base.t) / 1000 : 0;
    if (base && seconds > 0) {
      // A counter that went down (a worker thread replaced) restarts from 0: no negative rate.
      for (const [k, v] of values) rates.set(k, Math.max(0, v - (base.values.get(k) ?? 0)) / seconds);
    }
    if (s.length === 0 || now - s[s.length - 1]!.t >= this.minGapMs) s.push({ t: now, values });
    return { rates, seconds };
  }
}

export interface ServiceSummary {
  readonly version: string;
  readonly startedAt: number;
  readonly receivers: readonly { readonly transport: string; readonly endpoint: string }[];
  readonly processors: readonly string[];
  readonly exporters: readonly string[];
  readonly workers: number;
}

interface Counted {
  readonly total: number;
  readonly perSecond: number;
}

export interface StatusReport {
  readonly now: number;
  readonly version: string;
  readonly uptimeSeconds: number;
  readonly config: Omit<ServiceSummary, 'version' | 'startedAt'>;
  /** Span the rates were measured over (0 on the first request). */
  readonly rateWindowSeconds: number;
  readonly receivers: readonly { readonly transport: string; readonly accepted: Counted; readonly refused: Counted }[];
  readonly processors: readonly { readonly name: string; readonly incoming: Counted; readonly outgoing: Counted; readonly errors: Counted; readonly events: Readonly<Record<string, Counted>> }[];
  readonly exporters: readonly {
    readonly name: string;
    readonly sent: Counted;
    readonly failedRequests: Counted;
    readonly queue: { readonly size: number; readonly capacity: number; readonly bytes: number };
  }[];
  readonly drops: readonly { readonly component: string; readonly reason: string; readonly count: Counted }[];
  readonly workers: { readonly threads: number; readonly restarts: number };
  /** Tap streams open (GET /api/tap). */
  readonly taps: number;
  readonly memory: { readonly rssBytes: number; readonly heapUsedBytes: number; readonly heapTotalBytes: number };
}

type Sample = MetricsSnapshot[number]['values'][number];

/** The status report from the merged metrics (`registry.getMetricsAsJSON()`), rates from `window`. */
export function statusReport(
  metrics: MetricsSnapshot,
  summary: ServiceSummary,
  window: RateWindow,
  now: number,
  memory: { rss: number; heapUsed: number; heapTotal: number },
): StatusReport {
  const byName = new Map(metrics.map((m) => [m.name, m.values as readonly Sample[]]));
  const values = (name: string): readonly Sample[] => byName.get(name) ?? [];
  // Counter totals by "metric|label values", the keys rates are kept under.
  const totals = new Map<string, number>();
  const add = (key: string, v: number): void => void totals.set(key, (totals.get(key) ?? 0) + v);
  const label = (s: Sample, k: string): string => String(s.labels[k] ?? '');
  for (const s of values('olp_receiver_accepted_log_records_total')) add(`rx.accepted|${label(s, 'transport')}`, s.value);
  for (const s of values('olp_receiver_refused_log_records_total')) add(`rx.refused|${label(s, 'transport')}`, s.value);
  for (const s of values('olp_processor_incoming_log_records_total')) add(`proc.in|${label(s, 'processor')}`, s.value);
  for (const s of values('olp_processor_outgoing_log_records_total')) add(`proc.out|${label(s, 'processor')}`, s.value);
  for (const s of values('olp_processor_errors_total')) add(`proc.errors|${label(s, 'processor')}`, s.value);
  for (const s of values('olp_processor_events_total')) add(`proc.event|${label(s, 'processor')}|${label(s, 'event')}`, s.value);
  for (const s of values('olp_exporter_sent_log_records_total')) add(`exp.sent|${label(s, 'exporter')}`, s.value);
  for (const s of values('olp_exporter_send_failed_requests_total')) add(`exp.failed|${label(s, 'exporter')}`, s.value);
  for (const s of values('olp_dropped_log_records_total')) add(`drop|${label(s, 'component')}|${label(s, 'reason')}`, s.value);
  const { rates, seconds } = window.sample(now, totals);
  const counted = (key: string): Counted => ({ total: totals.get(key) ?? 0, perSecond: round(rates.get(key) ?? 0) });
  const gauge = (name: string, labels: Record<string, string>): number => {
    let sum = 0;
    for (const s of values(name)) if (Object.entries(labels).every(([k, v]) => label(s, k) === v)) sum += s.value;
    return sum;
  };

  const transports = [...new Set([...summary.receivers.map((r) => r.transport), ...keysOf(totals, 'rx.accepted'), ...keysOf(totals, 'rx.refused')])];
  const exporters = [...new Set([...summary.exporters, ...keysOf(totals, 'exp.sent')])];
  return {
    now,
    version: summary.version,
    uptimeSeconds: Math.round((now - summary.startedAt) / 1000),
    config: { receivers: summary.receivers, processors: summary.processors, exporters: summary.exporters, workers: summary.workers },
    rateWindowSeconds: round(seconds),
    receivers: transports.map((transport) => ({ transport, accepted: counted(`rx.accepted|${transport}`), refused: counted(`rx.refused|${transport}`) })),
    processors: summary.processors.map((name) => ({
      name,
      incoming: counted(`proc.in|${name}`),
      outgoing: counted(`proc.out|${name}`),
      errors: counted(`proc.errors|${name}`),
      events: Object.fromEntries(keysOf(totals, `proc.event|${name}`).map((event) => [event, counted(`proc.event|${name}|${event}`)])),
    })),
    exporters: exporters.map((name) => ({
      name,
      sent: counted(`exp.sent|${name}`),
      failedRequests: counted(`exp.failed|${name}`),
      queue: {
        size: gauge('olp_exporter_queue_size', { exporter: name }),
        capacity: gauge('olp_exporter_queue_capacity', { exporter: name }),
        bytes: gauge('olp_exporter_queue_bytes', { exporter: name }),
      },
    })),
    drops: [...totals.keys()]
      .filter((k) => k.startsWith('drop|'))
      .map((k) => {
        const [, component, reason] = k.split('|');
        return { component: component!, reason: reason!, count: counted(k) };
      }),
    workers: { threads: summary.workers, restarts: gauge('olp_worker_restarts_total', {}) },
    taps: gauge('olp_taps', {}),
    memory: { rssBytes: memory.rss, heapUsedBytes: memory.heapUsed, heapTotalBytes: memory.heapTotal },
  };
}

/** The label values after `prefix|` in the keys of `totals` (first label only). */
function keysOf(totals: ReadonlyMap<string, number>, prefix: string): string[] {
  const out = new Set<string>();
  for (const k of totals.keys()) if (k.startsWith(`${prefix}|`)) out.add(k.slice(prefix.length + 1).split('|')[0]!);
  return [...out];
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
