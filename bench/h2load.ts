/**
 * One-core throughput with an external load generator (`npm run bench:h2load`): the service is
 * pinned to one core with taskset, h2load (Debian's nghttp2-client) replays one pre-encoded
 * 500-record gRPC request from the other core, and a counting sink in this process (also on
 * the other core) counts what the service exports. Configurations run one after another in the
 * same invocation, so they compare as ratios on a shared, noisy machine.
 *
 *   npm run build && node dist/bench/h2load.js [--configs a,b,c] [--duration 10] [--warmup 2]
 *     [--clients 4] [--streams 8] [--service-cpu 0] [--load-cpu 1] [--main path/to/dist/src/main.js]
 *     [--node-options "--max-semi-space-size=4"]   (V8 flags of the service, e.g. to compare memory settings)
 *
 * `--main` runs another build of the service (before/after). `--downstream debug` exports to
 * the service's own `debug` exporter (one line per batch, nothing sent) instead of the gRPC sink,
 * and counts from the service's metrics: the service's capacity, not that of the sink sharing the
 * load generator's core. Without h2load on PATH it says so and points at `npm run bench`, whose
 * built-in generator needs nothing installed.
 */
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { EXPORT_METHOD_PATH } from '../src/otlp/codec';
import { builtinProcessors } from '../src/processors/registry';
import { CONFIG_IDS, type ConfigId } from './bench-args';
import { configSpec } from './bench-configs';
import { installExitHandlers, killAll, startService, track } from './bench-processes';
import { buildRequests, generatedSample, loadSamples } from './bench-requests';
import { startSink } from './counting-sink';

/** The service's metrics port with `--downstream debug` (what it exported is read there). */
const METRICS_PORT = 18_889;

async function exportedByService(): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${METRICS_PORT}/metrics`)).text();
  return Number(/^olp_exporter_sent_log_records_total\{exporter="debug"\} (\d+)/m.exec(text)?.[1] ?? 0);
}

const SERVICE_ENV = { K8S_POD_NAME: 'olp-bench-0', K8S_NAMESPACE_NAME: 'bench', K8S_NODE_NAME: 'node-1', OLP_SHUTDOWN_TIMEOUT: '2s', OLP_WORKERS: '0' };
const log = (msg: string): void => void process.stderr.write(`bench:h2load: ${msg}\n`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function hasH2load(): boolean {
  try {
    execFileSync('h2load', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** The request framed for gRPC: a 5-byte prefix (not compressed, length) and the message. */
function grpcFrame(message: Buffer): Buffer {
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(message.length, 1);
  return Buffer.concat([prefix, message]);
}

interface Row {
  config: string;
  recordsPerSecond: number;
  /** Records of the requests h2load completed (accepted or refused), per second. */
  offeredPerSecond: number;
  cpu: number;
  rssMiB: number;
  idleRssMiB: number;
  readyMs: number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      configs: { type: 'string', default: 'a,b,c' },
      duration: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '2' },
      clients: { type: 'string', default: '4' },
      streams: { type: 'string', default: '8' },
      'service-cpu': { type: 'string', default: '0' },
      'load-cpu': { type: 'string', default: '1' },
      main: { type: 'string' },
      'node-options': { type: 'string' },
      datasets: { type: 'string' },
      downstream: { type: 'string', default: 'sink' },
    },
  });
  if (values.downstream !== 'sink' && values.downstream !== 'debug') throw new Error(`--downstream takes sink or debug, got ${values.downstream}`);
  const toDebug = values.downstream === 'debug';
  if (!hasH2load()) {
    log('h2load is not installed (Debian: apt-get install nghttp2-client); `npm run bench` measures with its built-in generator instead');
    process.exitCode = 2;
    return;
  }
  const ids = values.configs.split(',').map((c) => c.trim()) as ConfigId[];
  for (const id of ids) if (!CONFIG_IDS.includes(id) || id === 'd') throw new Error(`--configs takes a, b and c, got ${id}`);
  const duration = Number(values.duration);
  const warmup = Number(values.warmup);
  installExitHandlers();
  // This process (the sink) shares the load generator's core, away from the service.
  execFileSync('taskset', ['-p', '-c', values['load-cpu'], String(process.pid)], { stdio: 'ignore' });

  let samples;
  try {
    samples = loadSamples(values.datasets);
  } catch {
    samples = [generatedSample(2000)];
  }
  const request = buildRequests(samples, 500, 1)[0]!;
  const dataFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'olp-h2load-')), 'request.bin');
  fs.writeFileSync(dataFile, grpcFrame(request.template));
  const sink = await startSink();
  const registered = new Set(builtinProcessors.map((f) => f.name));
  const rows: Row[] = [];
  for (const id of ids) {
    const spec = configSpec(id, registered);
    const started = Date.now();
    const service = await startService(
      {
        ...SERVICE_ENV,
        ...spec.env,
        OLP_PROCESSORS: spec.processors,
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${sink.port}`,
        ...(toDebug ? { OLP_EXPORTERS: 'debug', OLP_DEBUG_VERBOSITY: 'basic', OLP_METRICS_ENDPOINT: `127.0.0.1:${METRICS_PORT}` } : {}),
        ...(values['node-options'] ? { NODE_OPTIONS: values['node-options'] } : {}),
      },
      15_000,
      { main: values.main, cpus: values['service-cpu'] },
    );
    const readyMs = Date.now() - started;
    await sleep(500);
    const idleRssMiB = service.stats().rssMiB;
    const url = `http://127.0.0.1:${service.port}${EXPORT_METHOD_PATH}`;
    const h2 = track(
      spawn(
        'taskset',
        ['-c', values['load-cpu'], 'h2load', '-D', String(duration), '--warm-up-time', String(warmup), '-c', values.clients, '-m', values.streams, '-d', dataFile,
          '-H', 'content-type: application/grpc', '-H', 'te: trailers', url],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      ),
    );
    let out = '';
    h2.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    await sleep(warmup * 1000);
    sink.reset();
    const sentBefore = toDebug ? await exportedByService() : 0;
    const before = service.stats();
    const t0 = process.hrtime.bigint();
    await new Promise<void>((resolve) => h2.once('exit', () => resolve()));
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const after = service.stats();
    const records = toDebug ? (await exportedByService()) - sentBefore : sink.records();
    const status = /status codes: (.*)/.exec(out)?.[1] ?? '?';
    // gRPC refusals travel in trailers of HTTP 200 answers: h2load counts them as done, the sink never sees them.
    const done = Number(/requests: \d+ total, \d+ started, (\d+) done/.exec(out)?.[1] ?? 0);
    rows.push({
      config: `(${id}) ${spec.label}`,
      recordsPerSecond: records / seconds,
      offeredPerSecond: (done * request.records) / seconds,
      cpu: (after.cpuSeconds - before.cpuSeconds) / seconds,
      rssMiB: after.rssMiB,
      idleRssMiB,
      readyMs,
    });
    if (!status.startsWith(`${done} 2xx`)) log(`h2load status codes: ${status}`);
    log(`${spec.label}: ${Math.round(records / seconds)} records/s`);
    await service.stop();
  }
  sink.stop();
  const base = rows[0]!.recordsPerSecond;
  console.log('| Config | Records/s exported | × first | Offered records/s | Service CPU (cores) | RSS at load MiB | Idle RSS MiB | Ready ms |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows) {
    const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
    console.log(`| ${r.config} | ${fmt(r.recordsPerSecond)} | ${(r.recordsPerSecond / base).toFixed(2)} | ${fmt(r.offeredPerSecond)} | ${r.cpu.toFixed(2)} | ${r.rssMiB.toFixed(0)} | ${r.idleRssMiB.toFixed(0)} | ${r.readyMs} |`);
  }
  killAll();
}

main().catch((e: unknown) => {
  log((e as Error).message);
  killAll();
  process.exit(1);
});
