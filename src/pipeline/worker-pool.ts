/**
 * Worker threads for the CPU-bound part of a request (OLP_WORKERS): decode, limits, chain,
 * route, split and encode run in N threads behind the one receiver port, each with its own
 * copy of the chain. Requests go to a thread as their raw protobuf bytes and come back as the
 * encoded batches, their ArrayBuffers transferred (no per-record serialisation, no copy back).
 * The event-loop thread keeps admission, queue room and delivery, so queues and receiver
 * answers stay in one place.
 *
 * Only stateless chains run in workers: a processor whose state must be one instance per
 * service (windows, buckets, persisted state) keeps the service on one thread.
 *
 * A thread that exits or fails is replaced (olp_worker_restarts_total); the requests it held
 * are answered UNAVAILABLE, which senders retry.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { ConfigError } from '../config/load';
import { splitInstance } from '../config/instances';
import type { ResolvedConfig } from '../config/resolve';
import type { OptionShape, OptionValues } from '../config/options';
import { PipelineError, type FailureKind } from '../errors';
import type { Metrics, MetricsSnapshot } from '../telemetry/metrics';
import type { ProcessorTemplates } from '../processors/contract';
import type { ChainStage } from './chain';
import type { TapOutput, TapSpec } from './tap';
import type { ProcessorFactory } from '../processors/contract';
import type { PreparedOutput, ReceiverTally, Rejection, RequestOutcome, RequestRunner } from './request-processor';

/** What the main thread sends a worker thread. */
export type ToWorker =
  | { readonly type: 'process'; readonly id: number; readonly bytes: Uint8Array; readonly transport: string }
  | { readonly type: 'metrics'; readonly id: number }
  | { readonly type: 'templates'; readonly id: number; readonly limit: number }
  /** The current taps (tap.ts), whenever they change and to a thread when it is ready. */
  | { readonly type: 'taps'; readonly taps: readonly TapSpec[] };

/** What a worker thread answers. */
export type FromWorker =
  | { readonly type: 'ready' }
  | { readonly type: 'fatal'; readonly message: string; readonly problems?: readonly string[] }
  | { readonly type: 'result'; readonly id: number; readonly received: number; readonly rejection: Rejection; readonly outputs: readonly PreparedOutput[]; readonly tally: ReceiverTally }
  | { readonly type: 'error'; readonly id: number; readonly error: { readonly kind: FailureKind; readonly message: string; readonly retryAfterMs?: number }; readonly tally: ReceiverTally }
  | { readonly type: 'metrics'; readonly id: number; readonly metrics: MetricsSnapshot }
  | { readonly type: 'templates'; readonly id: number; readonly templates: ProcessorTemplates[] }
  /** Lines and drop counts the thread's taps took since its last hand-over. */
  | { readonly type: 'tap'; readonly outputs: readonly TapOutput[] };

/** Start-up data of a worker thread. */
export interface WorkerInit {
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Thread number (0-based), in its log lines. */
  readonly index: number;
  readonly logLevel: string;
}

/** The tally of a request no thread processed: all its records refused under `reason`. */
const refusedAll = (reason: string, records: number): ReceiverTally => ({ accepted: 0, refused: { [reason]: records } });
/** How long a /metrics scrape waits for a worker's series before using its last ones. */
const METRICS_TIMEOUT_MS = 1000;
/** Replacing a thread that failed before it was ready waits this long, doubling up to the maximum. */
const RESTART_BACKOFF_MS = 500;
const RESTART_BACKOFF_MAX_MS = 30_000;

/** dist/src/pipeline/worker-thread.js; from the TypeScript sources (ts-jest), the compiled one (`npm run build` first). */
export function workerEntry(): string {
  if (__filename.endsWith('.ts')) return path.resolve(__dirname, '..', '..', 'dist', 'src', 'pipeline', 'worker-thread.js');
  return path.join(__dirname, 'worker-thread.js');
}

/**
 * Chain processors that must be one instance per service, with why: the factory says
 * `parallel: false` (or `parallel(options)` is false), or the processor keeps persisted state
 * or flushes windows on a timer.
 */
export function singleInstanceProcessors(config: ResolvedConfig, factories: readonly ProcessorFactory<OptionShape>[], stages: readonly ChainStage[]): { name: string; why: string }[] {
  const out: { name: string; why: string }[] = [];
  for (const stage of stages) {
    const factory = factories.find((f) => f.name === splitInstance(stage.name).type);
    let parallel = factory?.parallel ?? true;
    if (typeof parallel === 'function') {
      const { where: _where, ...options } = (config.processorOptions[stage.name] ?? {}) as Record<string, unknown>;
      parallel = parallel(options as OptionValues<OptionShape>);
    }
    if (!parallel) out.push({ name: stage.name, why: 'its state must be one instance per service' });
    else if (stage.processor.state) out.push({ name: stage.name, why: 'it keeps persisted state' });
    else if (stage.processor.flush) out.push({ name: stage.name, why: 'it flushes windows on a timer' });
  }
  return out;
}

/** The start-up problem of an explicit OLP_WORKERS > 0 with a single-instance processor, if any. */
export function workersConflict(config: ResolvedConfig, factories: readonly ProcessorFactory<OptionShape>[], stages: readonly ChainStage[]): string | undefined {
  const workers = config.service[''].workers;
  if (workers === 'auto' || workers === 0) return undefined;
  const single = singleInstanceProcessors(config, factories, stages);
  if (single.length === 0) return undefined;
  const list = single.map((s) => `${s.name} (${s.why})`).join(', ');
  return `OLP_WORKERS: ${workers} worker threads would each run their own copy of processor ${list}; set OLP_WORKERS=0 (or auto, which then runs on the event-loop thread)`;
}

export interface WorkerPlan {
  readonly count: number;
  /** Why `auto` chose 0 threads. */
  readonly reason?: string;
}

/**
 * Cores this process may use: the CPU affinity count, capped by a cgroup CPU limit (a container's
 * `resources.limits.cpu`), which os.availableParallelism() does not see — as the Go runtime's
 * automaxprocs does for the Collector.
 */
export function availableCores(readFile: (f: string) => string = (f) => fs.readFileSync(f, 'utf8')): number {
  const quota = cpuQuotaCores(readFile);
  return Math.max(1, Math.min(os.availableParallelism(), quota ?? Infinity));
}

/** The cgroup v2 (cpu.max) or v1 (cfs quota/period) CPU limit in whole cores, rounded up; undefined when unlimited or unknown. */
export function cpuQuotaCores(readFile: (f: string) => string): number | undefined {
  const read = (f: string): string | undefined => {
    try {
      return readFile(f).trim();
    } catch {
      return undefined;
    }
  };
  const v2 = read('/sys/fs/cgroup/cpu.max');
  if (v2 !== undefined) {
    const [quota, period] = v2.split(/\s+/);
    if (quota === 'max' || !quota || !period) return undefined;
    return Math.ceil(Number(quota) / Number(period)) || undefined;
  }
  const q = Number(read('/sys/fs/cgroup/cpu/cpu.cfs_quota_us'));
  const p = Number(read('/sys/fs/cgroup/cpu/cpu.cfs_period_us'));
  return q > 0 && p > 0 ? Math.ceil(q / p) : undefined;
}

/**
 * Threads to start. `auto`: one per available core, but none on one core, for an empty chain
 * or with a single-instance processor. (The explicit-number conflict is refused by createStages.)
 */
export function planWorkers(
  config: ResolvedConfig,
  factories: readonly ProcessorFactory<OptionShape>[],
  stages: readonly ChainStage[],
  cores = availableCores(),
): WorkerPlan {
  const workers = config.service[''].workers;
  if (workers !== 'auto') return { count: workers };
  if (cores <= 1) return { count: 0, reason: 'one core available' };
  if (stages.length === 0) return { count: 0, reason: 'the chain is empty (passthrough)' };
  const single = singleInstanceProcessors(config, factories, stages);
  if (single.length > 0) return { count: 0, reason: `processor ${single.map((s) => `${s.name} (${s.why})`).join(', ')} must be a single instance` };
  return { count: cores };
}

interface Pending {
  /** Records of the request, counted as refused if its thread ends before answering. */
  readonly records: number;
  resolve(outcome: RequestOutcome): void;
}

interface Slot {
  readonly index: number;
  worker: Worker;
  ready: boolean;
  /** The thread ended and its replacement is not started yet (restart backoff). */
  exited: boolean;
  /** Replacements in a row that failed before they were ready. */
  failedStarts: number;
  readonly pending: Map<number, Pending>;
  readonly metricsWaiters: Map<number, (m: MetricsSnapshot | undefined) => void>;
  readonly templateWaiters: Map<number, (t: ProcessorTemplates[] | undefined) => void>;
  /** Series of the thread's last answer to a scrape (used when it does not answer in time). */
  lastMetrics?: MetricsSnapshot;
  lastError?: Error;
}

export interface WorkerPoolOptions {
  readonly size: number;
  /** Requests a thread holds (processing and waiting) before more are refused as overloaded. */
  readonly maxInFlightPerThread: number;
  /** RetryInfo delay suggested when every thread is at its bound. */
  readonly busyRetryAfterMs: number;
  /** The service's environment: each thread resolves its configuration from it (loading custom processors too). */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly logLevel: string;
  /** Thread entry script; default workerEntry(). */
  readonly entry?: string;
  /** Receives what the threads' taps took (tap.ts). */
  readonly onTap?: (outputs: readonly TapOutput[]) => void;
}

export class WorkerPool implements RequestRunner {
  private readonly slots: Slot[] = [];
  private nextId = 1;
  private turn = 0;
  private started = false;
  private closing = false;
  private closed = false;
  private readonly restartTimers = new Set<NodeJS.Timeout>();
  private taps: readonly TapSpec[] = [];

  constructor(
    private readonly options: WorkerPoolOptions,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
  ) {}

  get size(): number {
    return this.options.size;
  }

  /** Starts every thread; rejects (with the thread's ConfigError, if that is what failed) when one cannot start. */
  async start(): Promise<void> {
    const starts: Promise<void>[] = [];
    for (let index = 0; index < this.options.size; index++) {
      const slot = { index, ready: false, exited: false, failedStarts: 0, pending: new Map(), metricsWaiters: new Map(), templateWaiters: new Map() } as unknown as Slot;
      this.slots.push(slot);
      starts.push(this.spawn(slot));
    }
    const results = await Promise.allSettled(starts);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      await this.terminate();
      throw failed.reason;
    }
    this.started = true;
  }

  /**
   * Sends the request to the thread with the fewest outstanding requests (ready threads first);
   * refuses it as overloaded (retryable) when that thread already holds its maximum.
   */
  process(bytes: Uint8Array, transport: string, records: number): Promise<RequestOutcome> {
    if (this.closed) return Promise.resolve({ ok: false, error: new PipelineError('unavailable', 'server is shutting down'), tally: refusedAll('shutting_down', records) });
    const slot = this.pick();
    if (slot.exited) return Promise.resolve({ ok: false, error: new PipelineError('unavailable', 'no worker thread is running (restarting); retry'), tally: refusedAll('worker_unavailable', records) });
    if (slot.pending.size >= this.options.maxInFlightPerThread) {
      const error = new PipelineError(
        'overloaded',
        `every worker thread holds ${this.options.maxInFlightPerThread} requests (OLP_WORKERS_MAX_IN_FLIGHT); retry later`,
        this.options.busyRetryAfterMs,
      );
      return Promise.resolve({ ok: false, error, tally: refusedAll('workers_busy', records) });
    }
    const id = this.nextId++;
    // A copy that owns its whole ArrayBuffer, so it can be transferred: the receiver's buffer
    // may be a slice of a larger one (a shared pool or a network chunk) that must not move.
    const own = new Uint8Array(bytes);
    return new Promise((resolve) => {
      slot.pending.set(id, { records, resolve });
      slot.worker.postMessage({ type: 'process', id, bytes: own, transport } satisfies ToWorker, [own.buffer]);
    });
  }

  /** Tells every thread the current taps (a thread started later is told when it is ready). */
  setTaps(taps: readonly TapSpec[]): void {
    this.taps = taps;
    for (const slot of this.slots) if (slot.ready) slot.worker.postMessage({ type: 'taps', taps } satisfies ToWorker);
  }

  /** Every thread's series (for /metrics): live answers within a short timeout, else the last ones. */
  async snapshots(timeoutMs = METRICS_TIMEOUT_MS): Promise<MetricsSnapshot[]> {
    const all = await Promise.all(this.slots.map((slot) => (this.closed || !slot.ready ? Promise.resolve(slot.lastMetrics) : this.askMetrics(slot, timeoutMs))));
    return all.filter((m): m is MetricsSnapshot => m !== undefined);
  }

  /** Every ready thread's templates (for /api/templates); a thread that does not answer in time is left out. */
  async templates(limit: number, timeoutMs = METRICS_TIMEOUT_MS): Promise<ProcessorTemplates[][]> {
    const all = await Promise.all(this.slots.map((slot) => (this.closed || !slot.ready ? Promise.resolve(undefined) : this.askTemplates(slot, limit, timeoutMs))));
    return all.filter((t): t is ProcessorTemplates[] => t !== undefined);
  }

  /**
   * Shutdown: waits (until the deadline) for the requests in the threads, keeps their final
   * series for /metrics and the shutdown summary, then ends the threads. Requests still held
   * at the deadline are answered UNAVAILABLE.
   */
  async close(deadline: number): Promise<void> {
    if (this.closed) return;
    this.closing = true;
    for (const t of this.restartTimers) clearTimeout(t);
    this.restartTimers.clear();
    while (this.slots.some((s) => s.pending.size > 0) && Date.now() < deadline) await sleep(5);
    await Promise.all(this.slots.filter((s) => s.ready).map((s) => this.askMetrics(s, Math.max(50, Math.min(METRICS_TIMEOUT_MS, deadline - Date.now())))));
    await this.terminate();
  }

  private async terminate(): Promise<void> {
    this.closing = true;
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.worker?.terminate()));
    // Exit events may come after terminate() resolves: answer whatever is left now.
    for (const s of this.slots) this.failPending(s, 'the worker pool was stopped');
  }

  private pick(): Slot {
    const n = this.slots.length;
    // Ready threads first; else one still starting (messages wait for it); else an ended one (refused).
    const rank = (s: Slot): number => (s.ready ? 0 : s.exited ? 2 : 1);
    let best: Slot | undefined;
    for (let k = 0; k < n; k++) {
      const s = this.slots[(this.turn + k) % n]!;
      if (!best || rank(s) < rank(best) || (rank(s) === rank(best) && s.pending.size < best.pending.size)) best = s;
    }
    this.turn = (this.turn + 1) % n;
    return best!;
  }

  private askMetrics(slot: Slot, timeoutMs: number): Promise<MetricsSnapshot | undefined> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        slot.metricsWaiters.delete(id);
        resolve(slot.lastMetrics);
      }, timeoutMs);
      slot.metricsWaiters.set(id, (m) => {
        clearTimeout(timer);
        if (m) slot.lastMetrics = m;
        resolve(slot.lastMetrics);
      });
      slot.worker.postMessage({ type: 'metrics', id } satisfies ToWorker);
    });
  }

  private askTemplates(slot: Slot, limit: number, timeoutMs: number): Promise<ProcessorTemplates[] | undefined> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        slot.templateWaiters.delete(id);
        resolve(undefined);
      }, timeoutMs);
      slot.templateWaiters.set(id, (t) => {
        clearTimeout(timer);
        resolve(t);
      });
      slot.worker.postMessage({ type: 'templates', id, limit } satisfies ToWorker);
    });
  }

  /** Starts the slot's thread; resolves when it is ready, rejects when it fails first. */
  private spawn(slot: Slot): Promise<void> {
    const init: WorkerInit = { env: { ...this.options.env }, index: slot.index, logLevel: this.options.logLevel };
    const worker = new Worker(this.options.entry ?? workerEntry(), { workerData: init });
    worker.unref();
    slot.worker = worker;
    slot.ready = false;
    slot.exited = false;
    slot.lastError = undefined;
    return new Promise<void>((resolve, reject) => {
      worker.on('message', (m: FromWorker) => {
        switch (m.type) {
          case 'ready':
            slot.ready = true;
            slot.failedStarts = 0;
            if (this.taps.length > 0) worker.postMessage({ type: 'taps', taps: this.taps } satisfies ToWorker);
            resolve();
            return;
          case 'fatal':
            slot.lastError = m.problems ? new ConfigError(m.problems) : new Error(m.message);
            reject(slot.lastError);
            return;
          case 'result':
          case 'error':
            this.settle(slot, m);
            return;
          case 'metrics':
            slot.metricsWaiters.get(m.id)?.(m.metrics);
            slot.metricsWaiters.delete(m.id);
            return;
          case 'templates':
            slot.templateWaiters.get(m.id)?.(m.templates);
            slot.templateWaiters.delete(m.id);
            return;
          case 'tap':
            this.options.onTap?.(m.outputs);
            return;
        }
      });
      worker.on('error', (err) => {
        slot.lastError = err;
      });
      worker.on('exit', (code) => {
        const wasReady = slot.ready;
        reject(slot.lastError ?? new Error(`worker thread ${slot.index} exited (code ${code}) before it was ready`));
        if (slot.worker !== worker) return;
        slot.ready = false;
        slot.exited = true;
        this.failPending(slot, `worker thread ${slot.index} exited (code ${code}) while processing the request`);
        if (this.closing || !this.started) return;
        this.metrics.workerRestarts.inc();
        if (!wasReady) slot.failedStarts++;
        const delay = slot.failedStarts === 0 ? 0 : Math.min(RESTART_BACKOFF_MAX_MS, RESTART_BACKOFF_MS * 2 ** (slot.failedStarts - 1));
        this.logger.error({ worker: slot.index, code, err: slot.lastError?.message, restartInMs: delay }, 'worker thread exited; its requests were answered UNAVAILABLE; replacing it');
        const timer = setTimeout(() => {
          this.restartTimers.delete(timer);
          if (this.closing) return;
          this.spawn(slot).then(
            () => this.logger.info({ worker: slot.index }, 'worker thread replaced'),
            () => undefined, // its exit is handled (and logged) like any other
          );
        }, delay);
        this.restartTimers.add(timer);
      });
    });
  }

  private settle(slot: Slot, m: Extract<FromWorker, { type: 'result' | 'error' }>): void {
    const p = slot.pending.get(m.id);
    if (!p) return;
    slot.pending.delete(m.id);
    if (m.type === 'error') {
      p.resolve({ ok: false, error: new PipelineError(m.error.kind, m.error.message, m.error.retryAfterMs), tally: m.tally });
      return;
    }
    // Transferred buffers arrive as plain Uint8Arrays; Buffer views (no copy) behave like the event-loop path's.
    const outputs = m.outputs.map((o) => ({
      exporters: o.exporters,
      batches: o.batches.map((b) => ({ bytes: Buffer.from(b.bytes.buffer, b.bytes.byteOffset, b.bytes.byteLength), records: b.records })),
    }));
    p.resolve({ ok: true, received: m.received, rejection: m.rejection, outputs, tally: m.tally });
  }

  private failPending(slot: Slot, why: string): void {
    for (const [id, p] of slot.pending) {
      slot.pending.delete(id);
      p.resolve({ ok: false, error: new PipelineError('unavailable', `${why}; retry`), tally: refusedAll('worker_unavailable', p.records) });
    }
    for (const [id, w] of slot.metricsWaiters) {
      slot.metricsWaiters.delete(id);
      w(undefined);
    }
    for (const [id, w] of slot.templateWaiters) {
      slot.templateWaiters.delete(id);
      w(undefined);
    }
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
