/** The last stage of an exporter: delivers one encoded batch, or throws an ExportError. */
import type { EncodedBatch } from '../otlp/encoded-batch';

export interface SendResult {
  /** Records the downstream reported as rejected (partial_success); they are not retried. */
  readonly rejected: number;
  readonly message: string;
}

export interface Transport {
  /** Sends within `timeoutMs`; throws ExportError (retryable or not) on failure. */
  send(batch: EncodedBatch, timeoutMs: number): Promise<SendResult>;
  close(): Promise<void>;
}
