/** Command-line options of `npm run bench` (bench/run.ts), parsed and bounded. */
import { parseArgs } from 'node:util';

export const CONFIG_IDS = ['a', 'b', 'c', 'd'] as const;
export type ConfigId = (typeof CONFIG_IDS)[number];

export interface BenchOptions {
  configs: ConfigId[];
  /** Measured part of each saturation phase. */
  durationMs: number;
  /** Measured part of each half-load phase. */
  rateDurationMs: number;
  /** Unmeasured lead-in of each phase (connections, JIT, queue fill). */
  warmupMs: number;
  clients: number;
  /** Requests in flight per client at saturation: bounds the load the service can be handed. */
  inflight: number;
  /** Load-generator child processes; clients are spread over them. */
  generators: number;
  /** Records per request. */
  batch: number;
  json: boolean;
  /** Loghub-2k directory; undefined: the default location, generated lines if absent. */
  datasets: string | undefined;
  /**
   * Scaling run (`--workers 0,1,2`): each configuration's saturation throughput at each
   * OLP_WORKERS value instead of the normal table. Undefined: the normal run.
   */
  workers: number[] | undefined;
  /** OLP_WORKERS of the service in the normal run (`auto`: the service decides). */
  serviceWorkers: string;
}

/** Configurations a scaling run measures when --configs is not given. */
export const SCALING_CONFIGS: readonly ConfigId[] = ['b', 'c'];
const MAX_WORKERS = 64;

export const USAGE = `usage: node dist/bench/run.js [--configs a,b,c,d] [--duration 8s] [--rate-duration 5s]
  [--warmup 1s] [--clients 4] [--inflight 4] [--generators 1] [--batch 500] [--datasets DIR] [--json]
  [--service-workers auto|N]   OLP_WORKERS of the service (normal run)
  [--workers 0,1,2]            scaling run: saturation at each OLP_WORKERS value (configs b,c unless --configs)`;

/** "8s", "500ms", "1m" or a bare number of seconds → milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!m) throw new Error(`invalid duration: ${JSON.stringify(text)} (e.g. 8s, 500ms)`);
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  return Math.round(unit === 'ms' ? n : unit === 'm' ? n * 60_000 : n * 1000);
}

function intIn(name: string, text: string | undefined, dflt: number, min: number, max: number): number {
  if (text === undefined) return dflt;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be an integer in [${min}, ${max}], got ${JSON.stringify(text)}`);
  return n;
}

function durationIn(name: string, text: string | undefined, dflt: number, min: number, max: number): number {
  if (text === undefined) return dflt;
  const ms = parseDuration(text);
  if (ms < min || ms > max) throw new Error(`--${name} must be between ${min}ms and ${max / 1000}s, got ${text}`);
  return ms;
}

export function parseConfigs(text: string): ConfigId[] {
  const ids = text.split(',').map((s) => s.trim().toLowerCase()).filter((s) => s !== '');
  if (ids.length === 0) throw new Error('--configs is empty');
  for (const id of ids) if (!(CONFIG_IDS as readonly string[]).includes(id)) throw new Error(`unknown config ${JSON.stringify(id)} (known: ${CONFIG_IDS.join(',')})`);
  // Keep a, b, c, d order and drop repeats: the table reads in that order.
  return CONFIG_IDS.filter((id) => ids.includes(id));
}

/** "0,1,2" → [0, 1, 2] (sorted, repeats dropped). */
export function parseWorkerList(text: string): number[] {
  const items = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (items.length === 0) throw new Error('--workers is empty');
  const counts = items.map((s) => {
    const n = Number(s);
    if (!/^\d+$/.test(s) || n > MAX_WORKERS) throw new Error(`--workers takes thread counts in [0, ${MAX_WORKERS}], got ${JSON.stringify(s)}`);
    return n;
  });
  return [...new Set(counts)].sort((a, b) => a - b);
}

function serviceWorkersIn(text: string | undefined): string {
  if (text === undefined) return 'auto';
  const t = text.trim().toLowerCase();
  if (t === 'auto' || (/^\d+$/.test(t) && Number(t) <= MAX_WORKERS)) return t;
  throw new Error(`--service-workers must be auto or a thread count in [0, ${MAX_WORKERS}], got ${JSON.stringify(text)}`);
}

export function parseBenchArgs(argv: readonly string[]): BenchOptions {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      configs: { type: 'string' },
      duration: { type: 'string' },
      'rate-duration': { type: 'string' },
      warmup: { type: 'string' },
      clients: { type: 'string' },
      inflight: { type: 'string' },
      generators: { type: 'string' },
      batch: { type: 'string' },
      datasets: { type: 'string' },
      json: { type: 'boolean' },
      workers: { type: 'string' },
      'service-workers': { type: 'string' },
    },
  });
  const workers = values.workers === undefined ? undefined : parseWorkerList(values.workers);
  // Upper bounds keep a single run bounded even with odd flags.
  return {
    configs: parseConfigs(values.configs ?? (workers ? SCALING_CONFIGS : CONFIG_IDS).join(',')),
    durationMs: durationIn('duration', values.duration, 8000, 500, 60_000),
    rateDurationMs: durationIn('rate-duration', values['rate-duration'], 5000, 500, 60_000),
    warmupMs: durationIn('warmup', values.warmup, 1000, 0, 10_000),
    clients: intIn('clients', values.clients, 4, 1, 64),
    inflight: intIn('inflight', values.inflight, 4, 1, 64),
    generators: intIn('generators', values.generators, 1, 1, 8),
    batch: intIn('batch', values.batch, 500, 1, 10_000),
    json: values.json ?? false,
    datasets: values.datasets,
    workers,
    serviceWorkers: serviceWorkersIn(values['service-workers']),
  };
}
