/** Result shapes of `npm run bench` and their human-readable table. */
import type { LatencySummary } from './bench-stats';
import type { RunReport } from './load-generator';

export interface PhaseResult {
  /** Records/s arriving at the sink during the measured window. */
  recordsPerSecond: number;
  /** Encoded OTLP bytes/s into the service, from the sink rate and the mean request bytes per record. */
  mibPerSecond: number;
  /** Records/s the service acknowledged to the generators over the whole phase. */
  ackedRecordsPerSecond: number;
  /** Service CPU time / wall time in the window: 1.0 = one core busy. */
  serviceCpuCores: number;
  /** Records/s per core the service used: its own cost, less sensitive than records/s to other load on the machine. */
  recordsPerCpuSecond: number;
  serviceRssMiB: number;
  /** This process (the sink) and the generators, in cores over the window / phase: if either nears 1.0, it is the limit. */
  sinkCpuCores: number;
  generatorCpuCores: number;
  /** Mean records per export request the sink received in the window. */
  recordsPerExport: number;
  latency: LatencySummary;
  generator: RunReport;
  /** Whether the sink had received every acknowledged record before the next phase. */
  drained: boolean;
}

export interface ConfigResult {
  id: string;
  label: string;
  processors: string;
  /** Worker threads the service ran (OLP_WORKERS as resolved). */
  workers?: number;
  note?: string;
  saturation: PhaseResult;
  halfLoad?: PhaseResult & { targetRecordsPerSecond: number };
  /** Passthrough latency at this configuration's half-load rate. */
  baseline?: LatencySummary;
  addedP50Ms?: number;
  addedP99Ms?: number;
  servicePeakRssMiB: number;
}

export interface BenchResult {
  machine: { cores: number; cpuModel: string; node: string; platform: string };
  options: Record<string, unknown>;
  input: { datasets: string[]; recordsPerRequest: number; bytesPerRecord: number };
  configs: ConfigResult[];
  /** Scaling run (--workers): saturation per configuration and OLP_WORKERS value. */
  scaling?: ScalingResult[];
  /** Configurations left out of the scaling run, with why. */
  notes?: string[];
  elapsedSeconds: number;
}

export interface ScalingResult {
  id: string;
  label: string;
  processors: string;
  /** OLP_WORKERS given to the service. */
  workers: number;
  saturation: PhaseResult;
  servicePeakRssMiB: number;
}

const int = (n: number | undefined): string => (n === undefined || !Number.isFinite(n) ? '–' : Math.round(n).toLocaleString('en-US'));
const fix = (n: number | undefined, d = 1): string => (n === undefined || !Number.isFinite(n) ? '–' : n.toFixed(d));
const signed = (n: number | undefined): string => (n === undefined || !Number.isFinite(n) ? '–' : (n >= 0 ? '+' : '') + n.toFixed(1));

/** Scaling run: one row per configuration and thread count, with the speed-up over the first count measured. */
export function formatScalingTable(result: BenchResult): string {
  const rows = result.scaling ?? [];
  const head = ['Config', 'OLP_WORKERS', 'Sat. records/s', 'Speed-up', 'Service CPU (cores)', 'Records per service CPU-s', 'Sat. RSS MiB', 'Peak RSS MiB', 'Generator CPU', 'Sink CPU', 'Refused/failed requests'];
  const lines = [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`];
  for (const r of rows) {
    const base = rows.find((b) => b.id === r.id);
    const speedup = base && base.saturation.recordsPerSecond > 0 ? r.saturation.recordsPerSecond / base.saturation.recordsPerSecond : NaN;
    const failures = Object.entries(r.saturation.generator.failures).map(([k, v]) => `${k} ${v}`).join(', ') || '0';
    lines.push(
      `| ${[
        `(${r.id}) ${r.label}`,
        String(r.workers),
        int(r.saturation.recordsPerSecond),
        Number.isFinite(speedup) ? `${speedup.toFixed(2)}×` : '–',
        fix(r.saturation.serviceCpuCores, 2),
        int(r.saturation.recordsPerCpuSecond),
        int(r.saturation.serviceRssMiB),
        int(r.servicePeakRssMiB),
        fix(r.saturation.generatorCpuCores, 2),
        fix(r.saturation.sinkCpuCores, 2),
        failures,
      ].join(' | ')} |`,
    );
  }
  const m = result.machine;
  return [
    ...lines,
    '',
    `${m.cores} cores (${m.cpuModel}), Node ${m.node}; input ${result.input.datasets.join(', ')}; ${result.input.recordsPerRequest} records/request, ${fix(result.input.bytesPerRecord, 0)} bytes/record encoded; run took ${fix(result.elapsedSeconds, 0)} s.`,
    'Service CPU and RSS are the whole process (event-loop thread plus worker threads); the load generator and the sink run on the same machine.',
    ...(result.notes ?? []),
  ].join('\n');
}

export function formatTable(result: BenchResult): string {
  if (result.scaling) return formatScalingTable(result);
  const head = ['Config', 'Processors', 'Workers', 'Sat. records/s', 'Sat. MiB/s', 'Sat. CPU (cores)', 'Records per service CPU-s', 'Sat. RSS MiB', 'Peak RSS MiB', 'Half-load records/s', 'p50 ms', 'p99 ms', 'Added p50 ms', 'Added p99 ms'];
  const rows = result.configs.map((c) => [
    `(${c.id}) ${c.label}`,
    c.processors || '(none)',
    c.workers === undefined ? '–' : String(c.workers),
    int(c.saturation.recordsPerSecond),
    fix(c.saturation.mibPerSecond),
    fix(c.saturation.serviceCpuCores, 2),
    int(c.saturation.recordsPerCpuSecond),
    int(c.saturation.serviceRssMiB),
    int(c.servicePeakRssMiB),
    int(c.halfLoad?.recordsPerSecond),
    fix(c.halfLoad?.latency.p50Ms),
    fix(c.halfLoad?.latency.p99Ms),
    signed(c.addedP50Ms),
    signed(c.addedP99Ms),
  ]);
  const lines = [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)];
  const m = result.machine;
  const notes = result.configs.filter((c) => c.note).map((c) => `(${c.id}): ${c.note}`);
  const failures = result.configs
    .map((c) => {
      const f = { ...c.saturation.generator.failures };
      for (const [k, v] of Object.entries(c.halfLoad?.generator.failures ?? {})) f[k] = (f[k] ?? 0) + v;
      const skipped = c.halfLoad?.generator.skipped ?? 0;
      const parts = Object.entries(f).map(([k, v]) => `${k} ${v}`);
      if (skipped) parts.push(`${skipped} half-load sends skipped (in-flight cap)`);
      return parts.length ? `(${c.id}) refused/failed requests: ${parts.join(', ')}` : '';
    })
    .filter((s) => s);
  return [
    ...lines,
    '',
    `${m.cores} cores (${m.cpuModel}), Node ${m.node}; input ${result.input.datasets.join(', ')}; ${result.input.recordsPerRequest} records/request, ${fix(result.input.bytesPerRecord, 0)} bytes/record encoded; run took ${fix(result.elapsedSeconds, 0)} s.`,
    ...notes,
    ...result.configs.map((c) => `(${c.id}) at saturation: generators ${fix(c.saturation.generatorCpuCores, 2)} cores, sink ${fix(c.saturation.sinkCpuCores, 2)} cores, ${int(c.saturation.recordsPerExport)} records per export; acknowledged ${int(c.saturation.ackedRecordsPerSecond)} records/s.`),
    ...failures,
  ].join('\n');
}
