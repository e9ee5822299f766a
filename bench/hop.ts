/**
 * First end-to-end measurement: `send` → service → counting OTLP sink, all on loopback, each
 * a separate process except the sink (this process). Reports records/s for the whole hop, the
 * service's CPU time while the records flowed (so records per CPU-second of the service alone,
 * whatever the sender's speed), and its peak RSS.
 *
 *   npm run build && node dist/bench/hop.js [--records 200000] [--processors severity,resource] [--input FILE]
 *
 * Input: the Loghub-2k HDFS sample from ../shared/datasets when present, generated lines otherwise.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { EXPORT_METHOD_PATH, decodeLogsData, encodeExportResponse } from '../src/otlp/codec';
import { countRecords } from '../src/otlp/model';

const root = path.resolve(__dirname, '..', '..');
const cli = path.join(root, 'dist', 'src', 'main.js');

function inputFile(given: string | undefined): { file: string; lines: number; label: string } {
  const loghub = path.join(root, '..', 'shared', 'datasets', 'loghub-2k', 'HDFS', 'HDFS_2k.log');
  const file = given ?? (fs.existsSync(loghub) ? loghub : undefined);
  if (file) {
    const lines = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '').length;
    return { file, lines, label: path.basename(file) };
  }
  const tmp = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'olp-bench-')), 'generated.log');
  const levels = ['INFO', 'INFO', 'INFO', 'WARN', 'ERROR', 'DEBUG'];
  const text = Array.from({ length: 2000 }, (_, i) => `2024-05-0${1 + (i % 9)} 10:${String(i % 60).padStart(2, '0')}:00,${String(i % 1000).padStart(3, '0')} ${levels[i % levels.length]} [worker-${i % 8}] com.example.Service: request ${i} for user u${i * 7} took ${i % 500} ms`).join('\n');
  fs.writeFileSync(tmp, text + '\n');
  return { file: tmp, lines: 2000, label: 'generated (2000 lines)' };
}

function startSink(): Promise<{ port: number; count: () => number; whenCount: (n: number) => Promise<number>; stop: () => void }> {
  let count = 0;
  let waiter: { n: number; resolve: (t: number) => void } | undefined;
  const server = new grpc.Server({ 'grpc.max_receive_message_length': 64 * 1024 * 1024 });
  const id = (b: Buffer): Buffer => b;
  const ok = Buffer.from(encodeExportResponse({}));
  server.addService(
    { Export: { path: EXPORT_METHOD_PATH, requestStream: false, responseStream: false, requestSerialize: id, requestDeserialize: id, responseSerialize: id, responseDeserialize: id } },
    {
      Export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
        count += countRecords(decodeLogsData(call.request));
        cb(null, ok);
        if (waiter && count >= waiter.n) {
          waiter.resolve(Date.now());
          waiter = undefined;
        }
      },
    },
  );
  return new Promise((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => {
      if (err) return reject(err);
      resolve({
        port,
        count: () => count,
        whenCount: (n) => (count >= n ? Promise.resolve(Date.now()) : new Promise((r) => (waiter = { n, resolve: r }))),
        stop: () => server.forceShutdown(),
      });
    }),
  );
}

function procStats(pid: number): { cpuSeconds: number; rssMiB: number } {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const ticks = Number(stat[11]) + Number(stat[12]);
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const hwm = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return { cpuSeconds: ticks / 100, rssMiB: hwm / 1024 };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { records: { type: 'string' }, processors: { type: 'string' }, input: { type: 'string' } } });
  const target = Number(values.records ?? 200_000);
  const processors = values.processors ?? 'severity,resource';
  const input = inputFile(values.input);
  const repeat = Math.ceil(target / input.lines);
  const total = repeat * input.lines;

  const sink = await startSink();
  const service = spawn(process.execPath, [cli, 'run'], {
    env: { PATH: process.env.PATH, OLP_GRPC_ENDPOINT: '127.0.0.1:0', OLP_HTTP_ENDPOINT: '', OLP_METRICS_ENDPOINT: '', OLP_PROCESSORS: processors, OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${sink.port}`, OLP_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'inherit', 'pipe'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let err = '';
    service.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /"grpc":"[^"]*:(\d+)"/.exec(err);
      if (m) resolve(Number(m[1]));
    });
    service.on('exit', (code) => reject(new Error(`service exited ${code}: ${err}`)));
  });

  const cpuBefore = procStats(service.pid!).cpuSeconds;
  const started = Date.now();
  const sender = spawn(process.execPath, [cli, 'send', '--endpoint', `http://127.0.0.1:${port}`, '--repeat', String(repeat), '--batch', '500', '--concurrency', '8', '--quiet', input.file], { stdio: 'inherit' });
  const senderExited = new Promise((r) => sender.on('exit', r));
  const done = await sink.whenCount(total);
  const secs = (done - started) / 1000;
  const stats = procStats(service.pid!);
  const cpu = stats.cpuSeconds - cpuBefore;
  await senderExited;
  const serviceExited = new Promise((r) => service.on('exit', r));
  service.kill('SIGTERM');
  await serviceExited;
  sink.stop();

  const result = {
    input: input.label,
    processors: processors || '(none)',
    records: total,
    seconds: Number(secs.toFixed(2)),
    recordsPerSecond: Math.round(total / secs),
    serviceCpuSeconds: Number(cpu.toFixed(2)),
    serviceRecordsPerCpuSecond: Math.round(total / cpu),
    servicePeakRssMiB: Math.round(stats.rssMiB),
    cores: os.cpus().length,
    node: process.version,
  };
  console.log(JSON.stringify(result, null, 2));
}

main().catch((e: Error) => {
  console.error(e.stack);
  process.exit(1);
});
