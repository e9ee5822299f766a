/**
 * Throughput and added latency of the service, per processing configuration (`npm run bench`).
 *
 *   npm run build && node dist/bench/run.js [--configs a,b,c,d] [--duration 8s] [--rate-duration 5s] [--clients 4] [--json]
 *   node dist/bench/run.js --workers 0,1,2 [--configs b]     (scaling: saturation per OLP_WORKERS value)
 *
 * Per configuration: start the service (dist/src/main.js) as its own process pointed at a
 * counting sink in this process; load-generator children send pre-encoded requests flat out
 * (saturation: sink records/s, MiB/s, service CPU and RSS from /proc), then paced at half that
 * rate (latency: send → arrival at the sink). Added latency subtracts the passthrough
 * configuration's latency measured at the same rate. Every child is killed on exit.
 *
 * The normal run gives the service OLP_WORKERS from --service-workers (default auto: the
 * service decides; the table shows what it chose). A scaling run (--workers) measures only
 * saturation, for each configuration whose chain may run in worker threads, at each count.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { builtinProcessors } from '../src/processors/registry';
import { USAGE, parseBenchArgs, type BenchOptions } from './bench-args';
import { configSpec, singleInstanceIn, type ConfigSpec } from './bench-configs';
import { forkGenerator, installExitHandlers, killAll, startService, type ServiceProcess } from './bench-processes';
import { formatTable, type BenchResult, type ConfigResult, type PhaseResult, type ScalingResult } from './bench-report';
import { summarize } from './bench-stats';
import { startSink, type CountingSink } from './counting-sink';
import type { GeneratorCommand, GeneratorEvent, RunReport } from './load-generator';

/** Pre-built requests per generator: enough distinct bodies that no cache sees a loop. */
const PREBUILT_REQUESTS = 64;
const SATURATION_DRAIN_MS = 3000;
const RATE_DRAIN_MS = 2000;
const STOP_GRACE_MS = 3000;

// Resource attributes a Kubernetes deployment would give the `resource` processor, so it does work.
const SERVICE_ENV = { K8S_POD_NAME: 'olp-bench-0', K8S_NAMESPACE_NAME: 'bench', K8S_NODE_NAME: 'node-1', OLP_SHUTDOWN_TIMEOUT: '2s' };

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const log = (msg: string): void => void process.stderr.write(`bench: ${msg}\n`);

function ask(child: ChildProcess, cmd: GeneratorCommand): Promise<GeneratorEvent> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null): void => reject(new Error(`load generator exited (${code})`));
    child.once('exit', onExit);
    child.once('message', (e: GeneratorEvent) => {
      child.off('exit', onExit);
      if (e.type === 'error') reject(new Error(`load generator: ${e.message}`));
      else resolve(e);
    });
    child.send(cmd);
  });
}

function mergeReports(reports: RunReport[]): RunReport {
  const out: RunReport = { sent: 0, acked: 0, ackedRecords: 0, failed: 0, failures: {}, skipped: 0, cpuSeconds: 0 };
  for (const r of reports) {
    out.sent += r.sent;
    out.acked += r.acked;
    out.ackedRecords += r.ackedRecords;
    out.failed += r.failed;
    out.skipped += r.skipped;
    out.cpuSeconds += r.cpuSeconds;
    for (const [k, v] of Object.entries(r.failures)) out.failures[k] = (out.failures[k] ?? 0) + v;
  }
  return out;
}

interface Harness {
  opts: BenchOptions;
  sink: CountingSink;
  generators: ChildProcess[];
  bytesPerRecord: number;
  /** Records acknowledged to the generators since the sink was last reset. */
  ackedSinceReset: number;
}

async function waitForSink(h: Harness, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (h.sink.records() < h.ackedSinceReset) {
    if (Date.now() >= until) return false;
    await sleep(20);
  }
  return true;
}

/** One load phase against a running service: warm-up, then a measured window. */
async function phase(h: Harness, svc: ServiceProcess, mode: 'saturate' | 'rate', recordsPerSecond: number, warmupMs: number, measureMs: number, drainMs: number): Promise<PhaseResult> {
  const gens = h.generators;
  const startNs = process.hrtime.bigint();
  h.sink.window(startNs + BigInt(warmupMs) * 1_000_000n, startNs + BigInt(warmupMs + measureMs) * 1_000_000n);
  const runs = gens.map((g, i) => {
    // Spread clients as evenly as the count allows; every generator gets at least one.
    const clients = Math.max(1, Math.floor(h.opts.clients / gens.length) + (i < h.opts.clients % gens.length ? 1 : 0));
    return ask(g, { type: 'run', port: svc.port, clients, inflight: h.opts.inflight, mode, recordsPerSecond: recordsPerSecond / gens.length, durationMs: warmupMs + measureMs });
  });
  await sleep(warmupMs);
  const r0 = h.sink.records();
  const e0 = h.sink.exports();
  const s0 = svc.stats();
  const own0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await sleep(measureMs);
  const r1 = h.sink.records();
  const e1 = h.sink.exports();
  const s1 = svc.stats();
  const own = process.cpuUsage(own0);
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const events = await Promise.all(runs);
  const report = mergeReports(events.map((e) => (e.type === 'done' ? e.report : { sent: 0, acked: 0, ackedRecords: 0, failed: 0, failures: {}, skipped: 0, cpuSeconds: 0 })));
  h.ackedSinceReset += report.ackedRecords;
  const drained = await waitForSink(h, drainMs);
  const recordsPerSec = (r1 - r0) / secs;
  const cpuCores = (s1.cpuSeconds - s0.cpuSeconds) / secs;
  return {
    recordsPerSecond: recordsPerSec,
    mibPerSecond: (recordsPerSec * h.bytesPerRecord) / (1024 * 1024),
    ackedRecordsPerSecond: report.ackedRecords / ((warmupMs + measureMs) / 1000),
    serviceCpuCores: cpuCores,
    recordsPerCpuSecond: cpuCores > 0 ? recordsPerSec / cpuCores : NaN,
    serviceRssMiB: s1.rssMiB,
    sinkCpuCores: (own.user + own.system) / 1e6 / secs,
    generatorCpuCores: report.cpuSeconds / ((warmupMs + measureMs) / 1000),
    recordsPerExport: e1 > e0 ? (r1 - r0) / (e1 - e0) : NaN,
    latency: summarize(h.sink.latenciesMs()),
    generator: report,
    drained,
  };
}

async function withService<T>(h: Harness, spec: ConfigSpec, workers: string, body: (svc: ServiceProcess) => Promise<T>): Promise<T> {
  const queueDir = spec.persistentQueue ? fs.mkdtempSync(path.join(os.tmpdir(), 'olp-bench-queue-')) : undefined;
  const env: Record<string, string> = {
    ...SERVICE_ENV,
    ...spec.env,
    OLP_PROCESSORS: spec.processors,
    OLP_WORKERS: workers,
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${h.sink.port}`,
  };
  if (queueDir) env.OLP_QUEUE_DIR = queueDir;
  h.sink.reset();
  h.ackedSinceReset = 0;
  const svc = await startService(env);
  try {
    return await body(svc);
  } finally {
    await svc.stop(STOP_GRACE_MS);
    if (queueDir) fs.rmSync(queueDir, { recursive: true, force: true });
  }
}

async function measureConfig(h: Harness, spec: ConfigSpec): Promise<ConfigResult> {
  return withService(h, spec, h.opts.serviceWorkers, async (svc) => {
    log(`(${spec.id}) ${spec.label}: saturation ${h.opts.durationMs} ms`);
    const saturation = await phase(h, svc, 'saturate', 0, h.opts.warmupMs, h.opts.durationMs, SATURATION_DRAIN_MS);
    let halfLoad: ConfigResult['halfLoad'];
    if (saturation.recordsPerSecond > 0) {
      const target = saturation.recordsPerSecond / 2;
      log(`(${spec.id}) half load ${Math.round(target)} records/s for ${h.opts.rateDurationMs} ms`);
      halfLoad = { targetRecordsPerSecond: target, ...(await phase(h, svc, 'rate', target, Math.round(h.opts.warmupMs / 2), h.opts.rateDurationMs, RATE_DRAIN_MS)) };
    }
    const result: ConfigResult = { id: spec.id, label: spec.label, processors: spec.processors, saturation, servicePeakRssMiB: svc.stats().peakRssMiB };
    if (svc.workers !== undefined) result.workers = svc.workers;
    if (halfLoad) result.halfLoad = halfLoad;
    if (spec.note) result.note = spec.note;
    return result;
  });
}

/** Passthrough latency at each other configuration's half-load rate (for a, its own run is the baseline). */
async function measureBaselines(h: Harness, results: ConfigResult[], registered: ReadonlySet<string>): Promise<void> {
  for (const r of results) {
    if (r.id === 'a' && r.halfLoad) {
      r.baseline = r.halfLoad.latency;
    }
  }
  const pending = results.filter((r) => r.halfLoad && !r.baseline);
  if (pending.length === 0) return;
  await withService(h, configSpec('a', registered), h.opts.serviceWorkers, async (svc) => {
    for (const r of pending) {
      const rate = r.halfLoad!.targetRecordsPerSecond;
      log(`passthrough baseline at ${Math.round(rate)} records/s (for ${r.id})`);
      r.baseline = (await phase(h, svc, 'rate', rate, Math.round(h.opts.warmupMs / 2), h.opts.rateDurationMs, RATE_DRAIN_MS)).latency;
    }
  });
  for (const r of results) {
    if (!r.halfLoad || !r.baseline) continue;
    r.addedP50Ms = r.halfLoad.latency.p50Ms - r.baseline.p50Ms;
    r.addedP99Ms = r.halfLoad.latency.p99Ms - r.baseline.p99Ms;
  }
}

/** Saturation of one configuration at one OLP_WORKERS value (scaling run). */
async function measureScaling(h: Harness, spec: ConfigSpec, workers: number): Promise<ScalingResult> {
  return withService(h, spec, String(workers), async (svc) => {
    log(`(${spec.id}) ${spec.label}, OLP_WORKERS=${workers}: saturation ${h.opts.durationMs} ms`);
    const saturation = await phase(h, svc, 'saturate', 0, h.opts.warmupMs, h.opts.durationMs, SATURATION_DRAIN_MS);
    return { id: spec.id, label: spec.label, processors: spec.processors, workers, saturation, servicePeakRssMiB: svc.stats().peakRssMiB };
  });
}

/** Upper bound of the run from the options, for the watchdog. */
export function budgetMs(opts: BenchOptions): number {
  const perService = 2000 + STOP_GRACE_MS;
  const sat = opts.warmupMs + opts.durationMs + SATURATION_DRAIN_MS;
  if (opts.workers) return 5000 + opts.configs.length * opts.workers.length * (perService + sat);
  const half = opts.warmupMs / 2 + opts.rateDurationMs + RATE_DRAIN_MS;
  const n = opts.configs.length;
  return 5000 + n * (perService + sat + half) + perService + n * half;
}

async function main(): Promise<void> {
  let opts: BenchOptions;
  try {
    opts = parseBenchArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`${(e as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  installExitHandlers();
  const started = Date.now();
  // Hard stop: whatever hangs, the run ends and takes its children with it.
  const budget = budgetMs(opts) + 15_000;
  setTimeout(() => {
    log(`exceeded the time budget (${Math.round(budget / 1000)} s); killing children`);
    killAll();
    process.exit(3);
  }, budget).unref();

  const registered = new Set(builtinProcessors.map((p) => p.name));
  const specs = opts.configs.map((id) => configSpec(id, registered));
  for (const s of specs) if (s.note) log(`(${s.id}) ${s.note}`);

  const sink = await startSink();
  const generators: ChildProcess[] = [];
  try {
    for (let i = 0; i < opts.generators; i++) generators.push(forkGenerator());
    const ready = await Promise.all(generators.map((g) => ask(g, { type: 'init', datasets: opts.datasets, batch: opts.batch, requests: PREBUILT_REQUESTS })));
    const info = ready[0]!;
    if (info.type !== 'ready') throw new Error('load generator did not start');
    const h: Harness = { opts, sink, generators, bytesPerRecord: info.bytesPerRecord, ackedSinceReset: 0 };

    const results: ConfigResult[] = [];
    let scaling: ScalingResult[] | undefined;
    const notes: string[] = [];
    if (opts.workers) {
      scaling = [];
      for (const spec of specs) {
        const single = opts.workers.some((w) => w > 0) ? singleInstanceIn(spec) : [];
        if (single.length > 0) {
          notes.push(`(${spec.id}) left out: ${single.join(', ')} must be a single instance, so it cannot run in worker threads`);
          log(notes[notes.length - 1]!);
          continue;
        }
        for (const w of opts.workers) scaling.push(await measureScaling(h, spec, w));
      }
    } else {
      for (const spec of specs) results.push(await measureConfig(h, spec));
      await measureBaselines(h, results, registered);
    }
    if (sink.malformed() > 0) log(`sink could not scan ${sink.malformed()} requests`);

    const cpus = os.cpus();
    const result: BenchResult = {
      machine: { cores: cpus.length, cpuModel: cpus[0]?.model.trim() ?? 'unknown', node: process.version, platform: `${os.platform()} ${os.release()}` },
      options: { ...opts },
      input: { datasets: info.datasets, recordsPerRequest: info.recordsPerRequest, bytesPerRecord: info.bytesPerRecord },
      configs: results,
      ...(scaling ? { scaling, notes } : {}),
      elapsedSeconds: (Date.now() - started) / 1000,
    };
    console.log(opts.json ? JSON.stringify(result, null, 2) : formatTable(result));
  } finally {
    for (const g of generators) g.kill('SIGKILL');
    sink.stop();
    killAll();
  }
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (e: Error) => {
      console.error(e.stack ?? String(e));
      killAll();
      process.exit(1);
    },
  );
}
