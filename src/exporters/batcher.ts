/**
 * The batching stage in front of an exporter's queue: merges encoded requests until a batch
 * holds `maxRecords` or its oldest record waited `maxDelayMs`. Requests with different
 * forwarded metadata go to different batches (like the Collector's batch processor
 * `metadata_keys`), so each export carries one sender's metadata.
 */
import type { EncodedBatch } from '../otlp/encoded-batch';

/** A batch plus the persistent-queue entries it holds, marked done once it is delivered or dropped. */
export interface TrackedBatch extends EncodedBatch {
  readonly walIds?: readonly number[];
}

interface Partition {
  readonly key: string;
  readonly metadata: Readonly<Record<string, string>> | undefined;
  batches: TrackedBatch[];
  records: number;
  timer: NodeJS.Timeout | undefined;
}

export function metadataKey(metadata: Readonly<Record<string, string>> | undefined): string {
  if (!metadata) return '';
  return JSON.stringify(Object.entries(metadata).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export class Batcher {
  private readonly partitions = new Map<string, Partition>();
  private records = 0;
  private byteCount = 0;

  constructor(
    private readonly maxRecords: number,
    private readonly maxDelayMs: number,
    private readonly emit: (batch: TrackedBatch) => void,
  ) {}

  /** Records waiting in partial batches. */
  get size(): number {
    return this.records;
  }

  /** Encoded bytes waiting in partial batches. */
  get bytes(): number {
    return this.byteCount;
  }

  add(batch: TrackedBatch): void {
    if (batch.records === 0) return;
    const key = metadataKey(batch.metadata);
    let p = this.partitions.get(key);
    if (p && p.records + batch.records > this.maxRecords) {
      this.flush(p);
      p = undefined;
    }
    if (!p) {
      p = { key, metadata: batch.metadata, batches: [], records: 0, timer: undefined };
      this.partitions.set(key, p);
    }
    p.batches.push(batch);
    p.records += batch.records;
    this.records += batch.records;
    this.byteCount += batch.bytes.length;
    if (p.records >= this.maxRecords) this.flush(p);
    else if (!p.timer) {
      const partition = p;
      p.timer = setTimeout(() => this.flush(partition), this.maxDelayMs);
    }
  }

  flushAll(): void {
    for (const p of [...this.partitions.values()]) this.flush(p);
  }

  private flush(p: Partition): void {
    if (p.timer) clearTimeout(p.timer);
    if (this.partitions.get(p.key) === p) this.partitions.delete(p.key);
    if (p.batches.length === 0) return;
    this.records -= p.records;
    for (const b of p.batches) this.byteCount -= b.bytes.length;
    // Concatenated ExportLogsServiceRequest encodings are one request with all their resource_logs.
    const merged: TrackedBatch =
      p.batches.length === 1
        ? p.batches[0]!
        : {
            bytes: Buffer.concat(p.batches.map((b) => b.bytes)),
            records: p.records,
            receivedAt: p.batches.flatMap((b) => b.receivedAt ?? []),
            metadata: p.metadata,
            walIds: p.batches.some((b) => b.walIds) ? p.batches.flatMap((b) => b.walIds ?? []) : undefined,
          };
    p.batches = [];
    p.records = 0;
    this.emit(merged);
  }
}
