/**
 * One budget of bytes shared by every receiver: what requests being received and decoded hold
 * (body bytes as they arrive, inflated bodies, and a fixed overhead per open request, which
 * covers the headers and call state a body-less flood would otherwise pile up). Without it,
 * many slow or unfinished requests together hold gigabytes although each is under its size limit.
 */
import { PipelineError } from '../errors';
import type { Metrics } from '../telemetry/metrics';

const MIB = 1024 * 1024;

/** Charged per open request on top of its bytes: about what a call's headers and state take on the heap. */
export const REQUEST_OVERHEAD_BYTES = 16 * 1024;

/** Retry delay suggested to senders refused for lack of budget: requests in flight finish within it. */
export const BUDGET_RETRY_AFTER_MS = 1000;

/** OLP_MEMORY_RECEIVE_BUDGET_MIB as configured (0 = derived from the memory limit, at least `minMib`), in bytes. */
export function receiveBudgetBytes(budgetMib: number, memoryLimitMib: number, minMib: number): number {
  if (budgetMib > 0) return budgetMib * MIB;
  return Math.max(minMib, memoryLimitMib > 0 ? Math.floor(memoryLimitMib / 4) : 256) * MIB;
}

/** Fewest gRPC connections the derived cap allows, however small the budget. */
const MIN_GRPC_CONNECTIONS = 16;

/**
 * OLP_GRPC_MAX_CONNECTIONS as configured, or (0) as many connections as the budget can charge
 * with every stream of each open: streams are opened before anything is charged, so the product
 * of connections and streams is what bounds the memory a stream flood can take.
 */
export function grpcMaxConnections(configured: number, budgetBytes: number, maxConcurrentStreams: number): number {
  if (configured > 0) return configured;
  return Math.max(MIN_GRPC_CONNECTIONS, Math.floor(budgetBytes / (maxConcurrentStreams * REQUEST_OVERHEAD_BYTES)));
}

/**
 * Inflations run at once across the receivers; more wait their turn. zlib works on libuv's
 * 4 threads anyway, and each refused bomb leaves up to the size limit of garbage behind, so
 * running them all at once only multiplies the garbage between collections.
 */
export const MAX_CONCURRENT_INFLATIONS = 4;

export class ReceiveBudget {
  private used = 0;
  private inflating = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    readonly limitBytes: number,
    private readonly metrics: Metrics,
  ) {
    metrics.receiveBudgetLimit.set(limitBytes);
  }

  get inUse(): number {
    return this.used;
  }

  /** Takes `bytes` if they fit; false (nothing taken) when the budget is spent. */
  tryTake(bytes: number): boolean {
    if (this.used + bytes > this.limitBytes) return false;
    this.used += bytes;
    this.metrics.receiveBudgetInUse.set(this.used);
    return true;
  }

  give(bytes: number): void {
    this.used = Math.max(0, this.used - bytes);
    this.metrics.receiveBudgetInUse.set(this.used);
  }

  /** Runs `inflate` when fewer than MAX_CONCURRENT_INFLATIONS are running. */
  async inflation<T>(inflate: () => Promise<T>): Promise<T> {
    if (this.inflating >= MAX_CONCURRENT_INFLATIONS) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.inflating++;
    try {
      return await inflate();
    } finally {
      this.inflating--;
      this.waiting.shift()?.();
    }
  }

  /** The retryable refusal answered when the budget is spent. */
  refusal(): PipelineError {
    return new PipelineError(
      'overloaded',
      `receive budget of ${Math.round(this.limitBytes / MIB)} MiB is in use by other requests (OLP_MEMORY_RECEIVE_BUDGET_MIB); retry later`,
      BUDGET_RETRY_AFTER_MS,
    );
  }
}

/** One request's share of the budget: grows as its bytes arrive, handed back once when the request ends. */
export class BudgetLease {
  private held = 0;
  private released = false;

  constructor(private readonly budget: ReceiveBudget) {}

  /** Adds `bytes` to the lease; false when the budget cannot cover them (the lease keeps what it had). */
  grow(bytes: number): boolean {
    if (this.released) return false;
    if (!this.budget.tryTake(bytes)) return false;
    this.held += bytes;
    return true;
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.budget.give(this.held);
    this.held = 0;
  }
}
