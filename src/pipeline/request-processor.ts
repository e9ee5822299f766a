/**
 * The CPU-bound part of handling a request, from bytes to encoded batches, the same code on the
 * event-loop thread and in a worker thread: read the request once against every limit (the wire
 * reader), remove rejected records as bytes, then — only when there is a chain or a split — index
 * the bytes as a record batch, run the processing chain, and write out per exporter what the
 * chain left (unchanged parts as their bytes). It holds no queues and answers
 * nobody: the Pipeline admits the request before and delivers what this returns. Records
 * accepted and refused are written to a tally: the Pipeline counts them once it knows the
 * request's fate.
 */
import type { Logger } from 'pino';
import { PipelineError, boundedText } from '../errors';
import { MalformedRequest, readRequest, removeFields, type RecordLimits, type WireReport } from '../otlp/wire-reader';
import { RecordBatch } from '../records/batch';
import { WireWriter } from '../records/wire';
import type { ProcessingChain } from './chain';

export interface RequestSettings {
  readonly limits: RecordLimits;
  /** Records per request; more is refused whole. */
  readonly maxRecordsPerRequest: number;
  readonly batchMaxRecords: number;
  /** Number of exporters; outputs name them by index. */
  readonly exporterCount: number;
}

/** Records rejected one by one (reported to the sender in partial_success). */
export interface Rejection {
  readonly rejected: number;
  /** Describes the first rejected record, naming the field and the limit's variable. */
  readonly message: string;
  /** Rejected records by reason (metric label). */
  readonly reasons: Readonly<Record<string, number>>;
}

/** Encoded records for some of the exporters. */
export interface PreparedOutput {
  /** Exporter indexes this output goes to. */
  readonly exporters: readonly number[];
  readonly batches: readonly { readonly bytes: Uint8Array; readonly records: number }[];
}

/** Records a request had accepted and refused (by reason), for the receiver metrics. */
export interface ReceiverTally {
  accepted: number;
  refused: Record<string, number>;
}

export function newTally(): ReceiverTally {
  return { accepted: 0, refused: {} };
}

export interface PreparedRequest {
  /** Records in the request, rejected ones included. */
  readonly received: number;
  readonly rejection: Rejection;
  readonly outputs: readonly PreparedOutput[];
}

/** A thread's arena for changed records is dropped after a request that grew it past this. */
const ARENA_KEEP_BYTES = 4 * 1024 * 1024;

export class RequestProcessor {
  private readonly allExporters: readonly number[];
  /** Where the record batches of this thread write changed records (one request at a time). */
  private arena = new WireWriter(64 * 1024);

  constructor(
    private readonly chain: ProcessingChain,
    private readonly settings: RequestSettings,
    private readonly logger: Logger,
  ) {
    this.allExporters = Array.from({ length: settings.exporterCount }, (_, i) => i);
  }

  get maxRecordsPerRequest(): number {
    return this.settings.maxRecordsPerRequest;
  }

  /**
   * Read → remove rejected records → (index → chain →) route → split → write. A request nothing
   * changes is forwarded as its own bytes; rejected records are cut out of the bytes, the rest
   * kept byte for byte. Throws PipelineError when the request is refused whole.
   */
  process(bytes: Uint8Array, transport: string, tally: ReceiverTally): PreparedRequest {
    const report = this.read(bytes, transport);
    const received = report.records;
    if (received > this.settings.maxRecordsPerRequest) {
      tally.refused.too_many_records = (tally.refused.too_many_records ?? 0) + received;
      throw tooManyRecords(received, this.settings.maxRecordsPerRequest);
    }
    const rejection: Rejection = { rejected: report.rejected, message: boundedText(report.message), reasons: report.reasons };
    if (report.rejected > 0) {
      for (const [reason, n] of Object.entries(report.reasons)) tally.refused[reason] = (tally.refused[reason] ?? 0) + n;
      this.logger.warn({ transport, rejected: report.rejected }, rejection.message);
    }
    const accepted = received - report.rejected;
    if (accepted === 0) return { received, rejection, outputs: [] };
    const kept = removeFields(bytes, report.cuts);
    let outputs: PreparedOutput[];
    const chained = this.chain.length > 0 || this.chain.tapped;
    if (!chained && accepted <= this.settings.batchMaxRecords) {
      outputs = [{ exporters: this.allExporters, batches: [{ bytes: kept, records: accepted }] }];
    } else {
      const batch = new RecordBatch(kept, this.arena);
      if (chained) this.chain.run(batch);
      outputs = this.encode(batch);
      if (this.arena.buf.length > ARENA_KEEP_BYTES) this.arena = new WireWriter(64 * 1024);
    }
    // Counted once nothing here can throw any more (a throw refuses the request whole).
    tally.accepted += accepted;
    return { received, rejection, outputs };
  }

  /**
   * Route, split, write: one encoding per distinct set of records, shared by the exporters
   * that receive that set.
   */
  encode(batch: RecordBatch): PreparedOutput[] {
    const max = this.settings.batchMaxRecords;
    if (batch.size === 0) return [];
    if (!batch.routed || this.settings.exporterCount <= 1) return [{ exporters: this.allExporters, batches: batch.encode(max) }];
    const outputs: PreparedOutput[] = [];
    const shared: number[] = [];
    for (let i = 0; i < this.settings.exporterCount; i++) {
      const n = batch.countFor(i);
      if (n === batch.size) shared.push(i);
      else if (n > 0) outputs.push({ exporters: [i], batches: batch.encode(max, i) });
    }
    if (shared.length > 0) outputs.push({ exporters: shared, batches: batch.encode(max) });
    return outputs;
  }

  /**
   * Reads the request against every limit; a malformed one is refused whole (INVALID_ARGUMENT).
   * The Pipeline calls it directly for a request that carries no record (nothing to forward).
   */
  read(bytes: Uint8Array, transport: string): WireReport {
    try {
      return readRequest(bytes, this.settings.limits);
    } catch (e) {
      if (!(e instanceof MalformedRequest)) throw e;
      throw this.malformed(e, transport, bytes.length);
    }
  }

  /** The refusal of a request the wire reader could not read, logged once. */
  malformed(e: MalformedRequest, transport: string, bytes: number): PipelineError {
    this.logger.warn({ transport, err: boundedText(e.message), bytes }, 'undecodable export request refused');
    return new PipelineError('invalid_input', `cannot decode ExportLogsServiceRequest: ${boundedText(e.message)}`);
  }
}

/** OLP_LIMITS_MAX_RECORDS exceeded: permanent (RESOURCE_EXHAUSTED without RetryInfo, HTTP 413). */
export function tooManyRecords(received: number, max: number): PipelineError {
  return new PipelineError('too_large', `request has ${received} log records, over the limit of ${max} (OLP_LIMITS_MAX_RECORDS); split it`);
}

/** A request's processing, prepared outputs or the PipelineError that refused it whole, with its tally either way. */
export type RequestOutcome =
  | ({ readonly ok: true; readonly tally: ReceiverTally } & PreparedRequest)
  | { readonly ok: false; readonly error: PipelineError; readonly tally: ReceiverTally };

/** Where the Pipeline hands a request it admitted: this thread (InlineRunner) or the worker pool. Never rejects. */
export interface RequestRunner {
  /** `records`: the request's record count, for the refusal counts of a runner that turns it away. */
  process(bytes: Uint8Array, transport: string, records: number): Promise<RequestOutcome>;
}

/** Runs a request through `processor`, turning a refusal into an outcome (on either thread). */
export function runRequest(processor: RequestProcessor, bytes: Uint8Array, transport: string): RequestOutcome {
  const tally = newTally();
  try {
    return { ok: true, tally, ...processor.process(bytes, transport, tally) };
  } catch (e) {
    const error = e instanceof PipelineError ? e : new PipelineError('internal', (e as Error).message);
    return { ok: false, error, tally };
  }
}

/** The request processor on the event-loop thread (OLP_WORKERS=0): one request at a time, synchronously. */
export class InlineRunner implements RequestRunner {
  constructor(readonly processor: RequestProcessor) {}

  process(bytes: Uint8Array, transport: string): Promise<RequestOutcome> {
    return Promise.resolve(runRequest(this.processor, bytes, transport));
  }
}
