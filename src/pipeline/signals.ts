/**
 * Traces and metrics pass through untouched: the request's bytes are admitted (structure read
 * down to the items, memory limiter, room on the signal's own queues) and offered to each
 * exporter's queue for that signal, which sends them to the same downstream as the logs. No
 * processor sees them. Refusals are those of logs requests: malformed → INVALID_ARGUMENT, no
 * room or memory → RESOURCE_EXHAUSTED with RetryInfo.
 */
import type { Logger } from 'pino';
import { PipelineError, type FailureKind } from '../errors';
import type { QueuedExporter } from '../exporters/queued-exporter';
import { PASSTHROUGH_SIGNALS, type PassthroughSignal } from '../otlp/signals';
import { MalformedRequest, countRequestRecords } from '../otlp/wire-reader';
import type { Metrics } from '../telemetry/metrics';
import type { MemoryLimiter } from './memory-limiter';

export interface SignalForwarderSettings {
  readonly queueFullRetryAfterMs: number;
  readonly queueFullKind?: FailureKind;
  readonly memoryLimiter?: MemoryLimiter;
}

/** What the receivers hand traces and metrics to (the SignalForwarder, or a stand-in in tests). */
export interface SignalConsumer {
  handles(signal: PassthroughSignal): boolean;
  forward(signal: PassthroughSignal, bytes: Uint8Array, transport: string, metadata?: Readonly<Record<string, string>>): Promise<void>;
}

export class SignalForwarder implements SignalConsumer {
  constructor(
    /** Per signal, one queue per exporter; a signal without queues is not forwarded (refused as unimplemented by the receivers). */
    private readonly exporters: Readonly<Partial<Record<PassthroughSignal, readonly QueuedExporter[]>>>,
    private readonly settings: SignalForwarderSettings,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
  ) {}

  /** Whether the signal is forwarded. */
  handles(signal: PassthroughSignal): boolean {
    return (this.exporters[signal]?.length ?? 0) > 0;
  }

  /** Resolves once every exporter holds the request; throws PipelineError when it is refused whole. */
  async forward(signal: PassthroughSignal, bytes: Uint8Array, transport: string, metadata?: Readonly<Record<string, string>>): Promise<void> {
    const spec = PASSTHROUGH_SIGNALS[signal];
    let items: number;
    try {
      items = countRequestRecords(bytes);
    } catch (e) {
      if (!(e instanceof MalformedRequest)) throw e;
      this.logger.warn({ transport, signal, err: e.message, bytes: bytes.length }, 'undecodable export request refused');
      throw new PipelineError('invalid_input', `cannot read the ${signal} export request: ${e.message}`);
    }
    if (items === 0) return;
    const refuse = (reason: string, err: PipelineError): never => {
      this.metrics.receiverRefusedItems.inc({ signal, transport, reason }, items);
      throw err;
    };
    const memory = this.settings.memoryLimiter?.refusal();
    if (memory) refuse('memory_limit', memory);
    const queues = this.exporters[signal] ?? [];
    const full = queues.find((q) => !q.hasRoomFor(items, bytes.length));
    if (full) {
      refuse(
        'queue_full',
        new PipelineError(this.settings.queueFullKind ?? 'overloaded', `exporter "${full.name}" queue is full (${full.size} ${spec.items}); retry later`, this.settings.queueFullRetryAfterMs),
      );
    }
    // Room was checked for all in this same synchronous step: no other request can take it before the offers.
    const receivedAt = Date.now();
    await Promise.all(queues.map((q) => q.offer({ bytes, records: items, receivedAt: [receivedAt], metadata })));
    this.metrics.receiverForwardedItems.inc({ signal, transport }, items);
  }
}
