/**
 * Full-size hostile-client runs against the built service as a real process (`npm run bench:attacks`).
 *
 *   npm run build && node dist/bench/attacks.js [--only a,b] [--scale 1] [--rss-cap-mib 3072] [--main path/to/main.js]
 *
 * Per attack: a fresh service (default settings, OLP_WORKERS=2, exporting to a counting sink on
 * loopback), an ordinary client sending one small request every 100 ms throughout, the attack,
 * then a 2 s look at what is left. Reported: peak and final RSS of the service (from /proc),
 * whether it survived, the ordinary client's failures and slowest answer, what the attacker
 * got, and the service's refusal counters. `--scale` shrinks every attack (counts and sizes);
 * `--main` runs another build (e.g. an older one, for before/after figures). A service above
 * `--rss-cap-mib` is killed so the run cannot take the machine down with it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as http2 from 'node:http2';
import * as net from 'node:net';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { EXPORT_METHOD_PATH, encodeLogsData } from '../src/otlp/codec';
import { newLogRecord, stringValue } from '../src/otlp/values';
import {
  RawHttp2,
  grpcMessage,
  grpcRequestHeaders,
  gzip,
  jsonEmptyRecords,
  jsonHugeTimestamp,
  jsonNumbersInUnknownField,
  partialHttpPost,
  rawGrpcCall,
  silentSockets,
} from './attack-clients';
import { installExitHandlers, procStats, track } from './bench-processes';
import { startSink, type CountingSink } from './counting-sink';

const MIB = 1024 * 1024;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const log = (msg: string): void => void process.stderr.write(`attacks: ${msg}\n`);

interface Options {
  only: string[] | undefined;
  scale: number;
  rssCapMib: number;
  main: string;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { only: undefined, scale: 1, rssCapMib: 3072, main: path.resolve(__dirname, '..', 'src', 'main.js') };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i + 1];
    if (argv[i] === '--only' && v) o.only = v.split(',');
    else if (argv[i] === '--scale' && v) o.scale = Number(v);
    else if (argv[i] === '--rss-cap-mib' && v) o.rssCapMib = Number(v);
    else if (argv[i] === '--main' && v) o.main = path.resolve(v);
    else continue;
    i++;
  }
  return o;
}

interface Service {
  child: ChildProcess;
  grpcPort: number;
  httpPort: number;
  metricsPort: number;
  alive(): boolean;
  stop(): Promise<void>;
}

function startService(main: string, sink: CountingSink): Promise<Service> {
  const child = track(
    spawn(process.execPath, [main, 'run'], {
      env: {
        PATH: process.env.PATH ?? '',
        OLP_GRPC_ENDPOINT: '127.0.0.1:0',
        OLP_HTTP_ENDPOINT: '127.0.0.1:0',
        OLP_METRICS_ENDPOINT: '127.0.0.1:0',
        OLP_WORKERS: '2',
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${sink.port}`,
        OLP_LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    }),
  );
  let tail = '';
  let exited = false;
  const gone = new Promise<void>((r) => child.once('exit', () => ((exited = true), r())));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`service did not start: ${tail}`)), 15_000);
    const poll = setInterval(() => {
      // Logging at warn keeps the start-up line out; the listening sockets name the ports.
      const ports = listeningPorts(child.pid!);
      if (ports.length < 3) return;
      clearInterval(poll);
      clearTimeout(timer);
      void identifyPorts(ports).then((p) =>
        resolve({
          child,
          ...p,
          alive: () => !exited,
          stop: async () => {
            if (exited) return;
            child.kill('SIGKILL');
            await gone;
          },
        }),
      );
    }, 100);
    child.stderr!.on('data', (d: Buffer) => (tail = (tail + d.toString()).slice(-4096)));
    child.once('exit', (code, signal) => {
      clearInterval(poll);
      clearTimeout(timer);
      reject(new Error(`service exited (${code ?? signal}) at start: ${tail}`));
    });
  });
}

/** TCP ports the process listens on (from /proc/net/tcp and its socket inodes). */
function listeningPorts(pid: number): number[] {
  let inodes: Set<string>;
  try {
    inodes = new Set(
      fs
        .readdirSync(`/proc/${pid}/fd`)
        .map((fd) => {
          try {
            return fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
          } catch {
            return '';
          }
        })
        .flatMap((l) => /^socket:\[(\d+)\]$/.exec(l)?.[1] ?? []),
    );
  } catch {
    return [];
  }
  const ports: number[] = [];
  for (const line of fs.readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[3] === '0A' && inodes.has(f[9]!)) ports.push(parseInt(f[1]!.split(':')[1]!, 16));
  }
  return ports;
}

/** Which port is which: /metrics answers on one, gRPC speaks HTTP/2, the rest is OTLP/HTTP. */
async function identifyPorts(ports: number[]): Promise<{ grpcPort: number; httpPort: number; metricsPort: number }> {
  let metricsPort = 0;
  let httpPort = 0;
  let grpcPort = 0;
  for (const port of ports) {
    const status = await new Promise<number>((resolve) => {
      const req = http.get({ host: '127.0.0.1', port, path: '/metrics', timeout: 2000 }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', () => resolve(-1));
      req.on('timeout', () => req.destroy());
    });
    if (status === 200) metricsPort = port;
    else if (status === 404) httpPort = port;
    else grpcPort = port;
  }
  return { grpcPort, httpPort, metricsPort };
}

/** Counters worth reporting from /metrics: refusals, by reason. */
async function refusalCounters(port: number): Promise<string[]> {
  const text = await new Promise<string>((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/metrics', timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve(body));
    });
    req.on('error', () => resolve(''));
    req.on('timeout', () => req.destroy());
  });
  return text
    .split('\n')
    .filter((l) => /^olp_receiver_(refused_requests|refused_connections|failed_requests|refused_log_records)_total\{/.test(l) && !/ 0$/.test(l))
    .map((l) => l.replace(/^olp_receiver_/, '').replace(/_total/, ''));
}

/** The ordinary client: one small export every 100 ms on its own connection. */
class Probe {
  failures = 0;
  sent = 0;
  slowestMs = 0;
  private stopped = false;
  private readonly client: grpc.Client;
  private readonly done: Promise<void>;
  /** Resolves after the first successful export: the probe is connected before the attack starts. */
  readonly ready: Promise<void>;

  constructor(port: number) {
    this.client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    const body = Buffer.from(encodeLogsData({ resourceLogs: [{ resource: null, schemaUrl: '', scopeLogs: [{ scope: null, schemaUrl: '', logRecords: [newLogRecord({ body: stringValue('ordinary client') })] }] }] }));
    const id = (b: Buffer): Buffer => b;
    let connected!: () => void;
    this.ready = new Promise((r) => (connected = r));
    this.done = (async () => {
      while (!this.stopped) {
        const started = Date.now();
        const ok = await new Promise<boolean>((resolve) =>
          this.client.makeUnaryRequest(EXPORT_METHOD_PATH, id, id, body, new grpc.Metadata(), { deadline: Date.now() + 10_000 }, (err) => resolve(!err)),
        );
        if (ok) connected();
        this.sent++;
        if (!ok) this.failures++;
        this.slowestMs = Math.max(this.slowestMs, Date.now() - started);
        await sleep(100);
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
    this.client.close();
  }
}

interface AttackContext {
  readonly svc: Service;
  readonly scale: number;
}

type Attack = (ctx: AttackContext) => Promise<string>;

const n = (base: number, scale: number): number => Math.max(1, Math.round(base * scale));

function postJson(port: number, body: Buffer, headers: Record<string, string> = {}): Promise<{ status: number; bytes: number; ms: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/v1/logs', method: 'POST', headers: { 'content-type': 'application/json', 'content-length': body.length, ...headers }, agent: false }, (res) => {
      let bytes = 0;
      res.on('data', (d: Buffer) => (bytes += d.length));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes, ms: Date.now() - started }));
    });
    req.on('error', () => resolve({ status: -1, bytes: 0, ms: Date.now() - started }));
    req.end(body);
  });
}

const ATTACKS: Record<string, Attack> = {
  'stream-flood': async ({ svc, scale }) => {
    const count = n(200_000, scale);
    const raw = await RawHttp2.connect(svc.grpcPort);
    for (let i = 0; i < count && !raw.closed; i++) {
      raw.openStream(grpcRequestHeaders());
      if (i % 1000 === 999) await raw.flushed();
    }
    await sleep(3000);
    const out = `${count} HEADERS-only streams on 1 connection (advertised limit ${raw.maxConcurrentStreams ?? 'none'}): ${raw.rstStreams} reset, connection ${raw.closed ? 'closed' : 'open'}${raw.goaway ? ' (GOAWAY)' : ''}`;
    raw.close();
    return out;
  },
  'stream-flood-many': async ({ svc, scale }) => {
    const conns = n(1000, scale);
    const raws: RawHttp2[] = [];
    for (let c = 0; c < conns; c++) {
      const raw = await RawHttp2.connect(svc.grpcPort).catch(() => undefined);
      if (!raw) continue;
      raws.push(raw);
      for (let i = 0; i < 100; i++) raw.openStream(grpcRequestHeaders());
    }
    await sleep(3000);
    const open = raws.filter((r) => !r.closed).length;
    const answered = raws.reduce((s, r) => s + r.responseHeaders, 0);
    const reset = raws.reduce((s, r) => s + r.rstStreams, 0);
    for (const r of raws) r.close();
    return `${conns} connections × 100 HEADERS-only streams: ${raws.length} connected, ${open} still open, ${answered} streams answered before the read timeout (${reset} then reset)`;
  },
  'json-empty-records': async ({ svc }) => {
    const body = gzip(jsonEmptyRecords(16_500_000));
    const r = await postJson(svc.httpPort, body, { 'content-encoding': 'gzip' });
    return `${Math.round(body.length / 1024)} KiB gzip → 16.5 MB of {} records: ${r.status} in ${r.ms} ms`;
  },
  'json-empty-records-x3': async ({ svc }) => {
    const body = gzip(jsonEmptyRecords(16_500_000));
    const rs = await Promise.all([0, 1, 2].map(() => postJson(svc.httpPort, body, { 'content-encoding': 'gzip' })));
    return `3 at once: ${rs.map((r) => `${r.status} in ${r.ms} ms`).join(', ')}`;
  },
  'json-numbers': async ({ svc, scale }) => {
    const count = n(8_000_000, scale);
    const body = gzip(jsonNumbersInUnknownField(count));
    const r = await postJson(svc.httpPort, body, { 'content-encoding': 'gzip' });
    return `${count} numbers in an unknown field (${Math.round(body.length / 1024)} KiB gzip): ${r.status} in ${r.ms} ms`;
  },
  'json-digits': async ({ svc, scale }) => {
    const digits = n(16_000_000, scale);
    const r = await postJson(svc.httpPort, jsonHugeTimestamp(digits));
    return `timeUnixNano of ${digits} digits: ${r.status} in ${r.ms} ms, answer ${r.bytes} bytes`;
  },
  'http-partial-bodies': async ({ svc, scale }) => {
    const count = n(200, scale);
    const posts = await Promise.all(Array.from({ length: count }, () => partialHttpPost(svc.httpPort, 16 * MIB).catch(() => undefined)));
    await sleep(3000);
    for (const p of posts) p?.socket.destroy();
    return `${count} connections declaring 16 MiB, all but 1 byte sent, held 3 s`;
  },
  'grpc-partial-streams': async ({ svc, scale }) => {
    const count = n(150, scale);
    const session = http2.connect(`http://127.0.0.1:${svc.grpcPort}`);
    session.on('error', () => undefined);
    const piece = Buffer.alloc(16 * MIB - 1, 1);
    const calls = Array.from({ length: count }, () => rawGrpcCall(session, grpcMessage(piece, 0, 16 * MIB), { end: false, timeoutMs: 8000 }));
    const answers = await Promise.all(calls);
    session.destroy();
    const codes = new Map<string, number>();
    for (const a of answers) {
      const k = a === undefined ? 'held past 8 s' : a.grpcStatus !== undefined ? grpc.status[a.grpcStatus]! : `reset ${a.rstCode}`;
      codes.set(k, (codes.get(k) ?? 0) + 1);
    }
    return `${count} streams on 1 connection, 16 MiB messages missing their last byte: ${[...codes].map(([k, v]) => `${v} ${k}`).join(', ')}`;
  },
  'gzip-bombs': async ({ svc, scale }) => {
    const count = n(100, scale);
    // 64 MiB of zeros: a few KiB on the wire, four times the size limit once inflated.
    const bomb = gzip(Buffer.alloc(64 * MIB));
    const session = http2.connect(`http://127.0.0.1:${svc.grpcPort}`);
    session.on('error', () => undefined);
    const [grpcAnswers, httpAnswers] = await Promise.all([
      Promise.all(Array.from({ length: count }, () => rawGrpcCall(session, grpcMessage(bomb, 1), { headers: { 'grpc-encoding': 'gzip' }, timeoutMs: 30_000 }))),
      Promise.all(Array.from({ length: count }, () => postJson(svc.httpPort, bomb, { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' }))),
    ]);
    session.destroy();
    const tally = (codes: string[]): string => [...new Set(codes)].map((c) => `${codes.filter((x) => x === c).length} ${c}`).join(', ');
    return `${count} gRPC + ${count} HTTP bombs at once (${Math.round(bomb.length / 1024)} KiB → 64 MiB): gRPC ${tally(grpcAnswers.map((a) => (a?.grpcStatus !== undefined ? grpc.status[a.grpcStatus]! : 'no answer')))}; HTTP ${tally(httpAnswers.map((r) => String(r.status)))}`;
  },
  'idle-connections': async ({ svc, scale }) => {
    const count = n(3000, scale);
    const grpcSockets = await silentSockets(svc.grpcPort, count);
    const httpSockets = await silentSockets(svc.httpPort, count);
    await sleep(2000);
    const open = (ss: net.Socket[]): number => ss.filter((s) => !s.destroyed && !s.readableEnded).length;
    const fresh = await postJson(svc.httpPort, Buffer.from('{}'));
    const out = `${count} silent connections per port: ${open(grpcSockets)} gRPC and ${open(httpSockets)} HTTP still open after 2 s; a new HTTP client got ${fresh.status}`;
    for (const s of [...grpcSockets, ...httpSockets]) s.destroy();
    return out;
  },
};

async function main(): Promise<void> {
  installExitHandlers();
  const o = parseArgs(process.argv.slice(2));
  const names = o.only ?? Object.keys(ATTACKS);
  const sink = await startSink();
  const rows: string[] = [];
  for (const name of names) {
    const attack = ATTACKS[name];
    if (!attack) throw new Error(`unknown attack ${name}; known: ${Object.keys(ATTACKS).join(', ')}`);
    log(`${name}…`);
    const svc = await startService(o.main, sink);
    let peak = 0;
    let capped = false;
    const sampler = setInterval(() => {
      if (!svc.alive()) return;
      try {
        const rss = procStats(svc.child.pid!).rssMiB;
        peak = Math.max(peak, rss);
        if (rss > o.rssCapMib) {
          capped = true;
          svc.child.kill('SIGKILL');
        }
      } catch {
        // gone between the check and the read
      }
    }, 50);
    const probe = new Probe(svc.grpcPort);
    await probe.ready;
    const started = Date.now();
    let result: string;
    try {
      result = await attack({ svc, scale: o.scale });
    } catch (e) {
      result = `attack failed: ${(e as Error).message}`;
    }
    const attackMs = Date.now() - started;
    await sleep(2000);
    await probe.stop();
    clearInterval(sampler);
    const alive = svc.alive();
    const after = alive ? procStats(svc.child.pid!).rssMiB : 0;
    const counters = alive ? await refusalCounters(svc.metricsPort) : [];
    await svc.stop();
    const fate = capped ? `killed by the bench above ${o.rssCapMib} MiB` : alive ? 'alive' : `died (${svc.child.exitCode ?? svc.child.signalCode})`;
    rows.push(
      `| ${name} | ${result} | ${Math.round(peak)} MiB | ${alive ? `${Math.round(after)} MiB` : '–'} | ${fate} | ${probe.failures}/${probe.sent} failed, slowest ${probe.slowestMs} ms | ${counters.join('<br>') || '–'} |`,
    );
    log(`${name}: ${result}; peak ${Math.round(peak)} MiB, ${fate}, ${attackMs} ms`);
  }
  sink.stop();
  process.stdout.write(
    [
      `Attacks (scale ${o.scale}, service ${path.relative(process.cwd(), o.main)}):`,
      '',
      '| attack | what the attacker got | peak RSS | RSS after | service | ordinary client (every 100 ms) | refusals counted |',
      '|---|---|---|---|---|---|---|',
      ...rows,
      '',
    ].join('\n'),
  );
  process.exit(0);
}

void main();
