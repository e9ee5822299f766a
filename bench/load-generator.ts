/**
 * Load-generator child of `npm run bench` (forked by bench/run.ts; not run by hand). A separate
 * process so that sending never shares an event loop with the bench's counting sink. It builds
 * the requests once, then per `run` message opens N gRPC clients (one connection each) and
 * either sends flat out with a bounded number in flight per client (`saturate`) or paces
 * requests to a record rate (`rate`), stamping each copy with its send time.
 */
import * as grpc from '@grpc/grpc-js';
import { EXPORT_METHOD_PATH } from '../src/otlp/codec';
import { buildRequests, bytesPerRecord, loadSamples, stampRequest, type BenchRequest } from './bench-requests';

export type GeneratorCommand =
  | { type: 'init'; datasets: string | undefined; batch: number; requests: number }
  | { type: 'run'; port: number; clients: number; inflight: number; mode: 'saturate' | 'rate'; recordsPerSecond: number; durationMs: number };

export interface RunReport {
  sent: number;
  acked: number;
  ackedRecords: number;
  failed: number;
  /** Failures by gRPC status name (RESOURCE_EXHAUSTED when the service's queue is full, …). */
  failures: Record<string, number>;
  /** Rate mode: sends skipped because the in-flight cap was reached (the service fell behind). */
  skipped: number;
  /** CPU seconds this generator used during the run (to tell whether it, not the service, was the limit). */
  cpuSeconds: number;
}

export type GeneratorEvent =
  | { type: 'ready'; requests: number; recordsPerRequest: number; bytesPerRecord: number; datasets: string[] }
  | { type: 'done'; report: RunReport }
  | { type: 'error'; message: string };

const CALL_DEADLINE_MS = 10_000;
/** Rate mode: more in flight than this means the service is not keeping up; skip rather than pile up. */
const RATE_INFLIGHT_CAP = 256;
const BACKOFF_MS = 10;

const identity = (b: Buffer): Buffer => b;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function run(requests: readonly BenchRequest[], cmd: Extract<GeneratorCommand, { type: 'run' }>): Promise<RunReport> {
  const report: RunReport = { sent: 0, acked: 0, ackedRecords: 0, failed: 0, failures: {}, skipped: 0, cpuSeconds: 0 };
  const cpu0 = process.cpuUsage();
  // A local subchannel pool per client gives each its own HTTP/2 connection, as separate senders would have.
  const clients = Array.from(
    { length: cmd.clients },
    () => new grpc.Client(`127.0.0.1:${cmd.port}`, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1, 'grpc.max_send_message_length': 64 * 1024 * 1024 }),
  );
  let next = 0;
  let inflight = 0;
  let stopped = false;
  let settled: (() => void) | undefined;

  const send = (client: grpc.Client): Promise<boolean> => {
    const req = requests[next++ % requests.length]!;
    const body = stampRequest(req, process.hrtime.bigint());
    report.sent++;
    inflight++;
    return new Promise((resolve) => {
      client.makeUnaryRequest(EXPORT_METHOD_PATH, identity, identity, body, { deadline: Date.now() + CALL_DEADLINE_MS }, (err) => {
        inflight--;
        if (err) {
          report.failed++;
          const name = grpc.status[err.code] ?? String(err.code);
          report.failures[name] = (report.failures[name] ?? 0) + 1;
        } else {
          report.acked++;
          report.ackedRecords += req.records;
        }
        if (inflight === 0) settled?.();
        resolve(!err);
      });
    });
  };

  const started = Date.now();
  const stopTimer = setTimeout(() => (stopped = true), cmd.durationMs);
  if (cmd.mode === 'saturate') {
    const slot = async (client: grpc.Client): Promise<void> => {
      while (!stopped) if (!(await send(client))) await sleep(BACKOFF_MS);
    };
    await Promise.all(clients.flatMap((c) => Array.from({ length: cmd.inflight }, () => slot(c))));
  } else {
    // Open loop: requests are due at fixed intervals whatever the answers, like independent senders.
    const perRequest = requests.reduce((s, r) => s + r.records, 0) / requests.length;
    const intervalMs = (1000 * perRequest) / Math.max(cmd.recordsPerSecond, 1);
    let due = 0;
    let k = 0;
    await new Promise<void>((resolve) => {
      const tick = setInterval(() => {
        const elapsed = Date.now() - started;
        if (stopped) {
          clearInterval(tick);
          resolve();
          return;
        }
        while (due <= elapsed) {
          due += intervalMs;
          if (inflight >= RATE_INFLIGHT_CAP) report.skipped++;
          else void send(clients[k++ % clients.length]!);
        }
      }, 1);
    });
  }
  clearTimeout(stopTimer);
  // Let the last answers arrive (bounded by the call deadline), then drop the connections.
  if (inflight > 0) await Promise.race([new Promise<void>((r) => (settled = r)), sleep(CALL_DEADLINE_MS)]);
  for (const c of clients) c.close();
  const cpu = process.cpuUsage(cpu0);
  report.cpuSeconds = (cpu.user + cpu.system) / 1e6;
  return report;
}

function main(): void {
  let requests: BenchRequest[] = [];
  const reply = (e: GeneratorEvent): void => void process.send!(e);
  // Orphaned (the bench died): leave at once.
  process.on('disconnect', () => process.exit(0));
  process.on('message', (cmd: GeneratorCommand) => {
    if (cmd.type === 'init') {
      const samples = loadSamples(cmd.datasets);
      requests = buildRequests(samples, cmd.batch, cmd.requests);
      reply({ type: 'ready', requests: requests.length, recordsPerRequest: cmd.batch, bytesPerRecord: bytesPerRecord(requests), datasets: samples.map((s) => s.dataset) });
    } else {
      run(requests, cmd).then(
        (report) => reply({ type: 'done', report }),
        (e: Error) => reply({ type: 'error', message: e.stack ?? String(e) }),
      );
    }
  });
}

if (require.main === module) main();
