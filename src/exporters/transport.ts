/** The last stage of an exporter: delivers one encoded batch, or throws an ExportError. */

/** An ExportLogsServiceRequest, already encoded. Concatenating two encodings merges their resource_logs. */
export interface EncodedBatch {
  readonly bytes: Uint8Array;
  readonly records: number;
  /** When each request merged into this batch was received (epoch ms), for the end-to-end latency metric. */
  readonly receivedAt?: readonly number[];
  /** Incoming request metadata to send along (OLP_OTLP_FORWARD_METADATA); batches never mix different values. */
  readonly metadata?: Readonly<Record<string, string>>;
}

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
