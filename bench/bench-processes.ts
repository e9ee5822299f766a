/**
 * Child processes of the bench: the service under test and the load generators. Every child
 * is tracked and SIGKILLed when the bench exits for any reason, so an error or Ctrl-C never
 * leaves a service holding a port or a generator spinning.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const children = new Set<ChildProcess>();

export function track<C extends ChildProcess>(child: C): C {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

export function killAll(): void {
  for (const child of children) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  children.clear();
}

let handlersInstalled = false;

/** Kill children on normal exit, uncaught errors and signals. */
export function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      killAll();
      process.exit(128 + (sig === 'SIGINT' ? 2 : sig === 'SIGTERM' ? 15 : 1));
    });
  }
}

export interface ProcStats {
  cpuSeconds: number;
  rssMiB: number;
  peakRssMiB: number;
}

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

export function procStats(pid: number): ProcStats {
  // Fields after "(comm) ": utime and stime are the 12th and 13th.
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (name: string): number => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { cpuSeconds: ticks / TICKS_PER_SECOND, rssMiB: kib('VmRSS') / 1024, peakRssMiB: kib('VmHWM') / 1024 };
}

export interface ServiceProcess {
  pid: number;
  port: number;
  /** Worker threads the service runs (OLP_WORKERS as it resolved it), from its start-up line. */
  workers: number | undefined;
  stats(): ProcStats;
  /** SIGTERM, then SIGKILL after graceMs. */
  stop(graceMs?: number): Promise<void>;
}

const root = path.resolve(__dirname, '..', '..');
export const SERVICE_MAIN = path.join(root, 'dist', 'src', 'main.js');

export interface StartOptions {
  /** The service's main.js (another build, for before/after runs); default this build's. */
  readonly main?: string;
  /** CPU list to pin the service to with taskset (e.g. "0"). */
  readonly cpus?: string;
}

/** Starts `main.js run` on an ephemeral port and resolves once its start-up line names the gRPC port. */
export function startService(env: Record<string, string>, timeoutMs = 15_000, options: StartOptions = {}): Promise<ServiceProcess> {
  const main = options.main ?? SERVICE_MAIN;
  const [command, args] = options.cpus ? ['taskset', ['-c', options.cpus, process.execPath, main, 'run']] : [process.execPath, [main, 'run']];
  const child = track(
    spawn(command, args, {
      // A clean environment: OLP_* settings of the caller must not leak into the measurement.
      env: { PATH: process.env.PATH ?? '', OLP_GRPC_ENDPOINT: '127.0.0.1:0', OLP_HTTP_ENDPOINT: '', OLP_METRICS_ENDPOINT: '', OLP_LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    }),
  );
  // Keep only a tail of stderr: enough for an error message, bounded over a long run.
  let tail = '';
  let port: number | undefined;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise<ServiceProcess>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`service did not report its gRPC port within ${timeoutMs}ms: ${tail}`));
    }, timeoutMs);
    child.stderr!.on('data', (d: Buffer) => {
      tail = (tail + d.toString()).slice(-4096);
      if (port !== undefined) return;
      const m = /"grpc":"[^"]*:(\d+)"/.exec(tail);
      if (!m) return;
      port = Number(m[1]);
      const workers = /"workers":(\d+)/.exec(tail);
      clearTimeout(timer);
      resolve({
        pid: child.pid!,
        port,
        workers: workers ? Number(workers[1]) : undefined,
        stats: () => procStats(child.pid!),
        stop: async (graceMs = 3000) => {
          if (child.exitCode !== null || child.signalCode !== null) return;
          child.kill('SIGTERM');
          const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
          await exited;
          clearTimeout(t);
        },
      });
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (port === undefined) reject(new Error(`service exited (${code ?? signal}) before start-up: ${tail}`));
    });
  });
}

/** Forks a load-generator child (bench/load-generator.ts) with an IPC channel. */
export function forkGenerator(): ChildProcess {
  return track(fork(path.join(__dirname, 'load-generator.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
}
