/**
 * Memory limiter, like the Collector's memory_limiter processor: measures the resident set
 * size (RSS — what a container's OOM killer counts) on a timer rather than per request.
 * Above the soft limit (limit − spike) new requests are refused with a retryable status so
 * senders back off while queues drain; above the hard limit a full GC is also forced (when
 * V8 lets us expose it), at most once per check interval.
 */
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import type { Logger } from 'pino';
import { PipelineError, type FailureKind } from '../errors';
import type { Metrics } from '../telemetry/metrics';

const MIB = 1024 * 1024;

export interface MemoryLimiterSettings {
  /** Hard limit in MiB (> 0). */
  readonly limitMib: number;
  /** Soft limit = limit − spike; 0 means 20% of the limit. */
  readonly spikeMib: number;
  readonly checkIntervalMs?: number;
  /** RetryInfo delay suggested to refused senders. */
  readonly retryAfterMs: number;
  /** 'overloaded' (RESOURCE_EXHAUSTED, default) or 'unavailable'. */
  readonly refuseKind?: FailureKind;
}

export interface MemoryLimiterDeps {
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** Bytes in use; RSS by default (tests inject their own). */
  readonly measure?: () => number;
  /** Forces a GC; found via --expose-gc by default, undefined when unavailable. */
  readonly gc?: (() => void) | null;
}

/** `gc()` without starting node with --expose-gc: enabling the flag at runtime exposes it to new contexts. */
export function findGc(): (() => void) | undefined {
  const existing = (globalThis as { gc?: () => void }).gc;
  if (typeof existing === 'function') return existing;
  try {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as unknown;
    return typeof gc === 'function' ? (gc as () => void) : undefined;
  } catch {
    return undefined;
  }
}

export class MemoryLimiter {
  readonly softBytes: number;
  readonly hardBytes: number;
  private usage = 0;
  private refusing = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly measure: () => number;
  private readonly gc: (() => void) | undefined;

  constructor(
    private readonly settings: MemoryLimiterSettings,
    private readonly deps: MemoryLimiterDeps,
  ) {
    this.hardBytes = settings.limitMib * MIB;
    const spike = settings.spikeMib > 0 ? settings.spikeMib : settings.limitMib * 0.2;
    this.softBytes = Math.max(0, settings.limitMib - spike) * MIB;
    this.measure = deps.measure ?? (() => process.memoryUsage.rss());
    this.gc = deps.gc === null ? undefined : (deps.gc ?? findGc());
  }

  start(): void {
    this.check();
    this.timer = setInterval(() => this.check(), this.settings.checkIntervalMs ?? 100);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Last measured usage in bytes. */
  get usedBytes(): number {
    return this.usage;
  }

  /** The error to refuse a request with, or undefined when below the soft limit. */
  refusal(): PipelineError | undefined {
    if (!this.refusing) return undefined;
    return new PipelineError(
      this.settings.refuseKind ?? 'overloaded',
      `memory usage ${Math.round(this.usage / MIB)} MiB is above the soft limit of ${Math.round(this.softBytes / MIB)} MiB (OLP_MEMORY_LIMIT_MIB); retry later`,
      this.settings.retryAfterMs,
    );
  }

  /** Measures, forces a GC above the hard limit, and updates the refusing state. */
  check(): void {
    this.usage = this.measure();
    if (this.usage > this.hardBytes && this.gc) {
      this.gc();
      this.deps.metrics.memoryGcs.inc();
      this.usage = this.measure();
    }
    const refusing = this.usage > this.softBytes;
    if (refusing !== this.refusing) {
      this.refusing = refusing;
      const fields = { usedMib: Math.round(this.usage / MIB), softMib: Math.round(this.softBytes / MIB), hardMib: this.settings.limitMib };
      if (refusing) this.deps.logger.warn(fields, 'memory above the soft limit: refusing new data');
      else this.deps.logger.info(fields, 'memory back under the soft limit: accepting data');
    }
    this.deps.metrics.memoryUsage.set(this.usage);
    this.deps.metrics.memoryRefusing.set(refusing ? 1 : 0);
  }
}
