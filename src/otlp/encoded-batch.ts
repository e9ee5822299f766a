/**
 * An OTLP export request, already encoded, as it moves from the pipeline through an exporter's
 * batching, queue (memory or persistent) and transport. Concatenating two encodings merges
 * their resource entries (resource_logs, resource_spans, resource_metrics: repeated field 1).
 */
export interface EncodedBatch {
  readonly bytes: Uint8Array;
  /** Log records (or spans, metrics for a forwarded signal) in `bytes`. */
  readonly records: number;
  /** When each request merged into this batch was received (epoch ms), for the end-to-end latency metric. */
  readonly receivedAt?: readonly number[];
  /** Incoming request metadata to send along (OLP_OTLP_FORWARD_METADATA); batches never mix different values. */
  readonly metadata?: Readonly<Record<string, string>>;
}
