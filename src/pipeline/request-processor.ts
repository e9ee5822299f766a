/**
 * The CPU-bound part of handling a request, from bytes to encoded batches: decode, per-record
 * limits, the processing chain, route, split to batch size, encode. It holds no queues and
 * answers nobody: the Pipeline runs it on the event loop thread or hands it to a worker thread,
 * and delivers what it returns. Records accepted and refused are written to a tally, not to the
 * receiver metrics: the Pipeline counts them once it knows the request's fate.
 */
import type { Logger } from 'pino';
import { PipelineError, boundedText } from '../errors';
import { decodeLogsData, encodeLogsData } from '../otlp/codec';
import { countRecords, type LogsData } from '../otlp/model';
import type { ProcessingChain } from './chain';
import { rejectInvalidRecords, type RecordLimits, type Rejection } from './limits';
import { partitionByRoute } from './routes';
import { splitBatch } from './split';

export interface RequestSettings {
  readonly limits: RecordLimits;
  /** Records per request; more is refused whole. */
  readonly maxRecordsPerRequest: number;
  readonly batchMaxRecords: number;
  /** Number of exporters; outputs name them by index. */
  readonly exporterCount: number;
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
  readonly rejection: Rejection;
  readonly outputs: readonly PreparedOutput[];
}

export class RequestProcessor {
  private readonly allExporters: readonly number[];

  constructor(
    private readonly chain: ProcessingChain,
    private readonly settings: RequestSettings,
    private readonly logger: Logger,
  ) {
    this.allExporters = Array.from({ length: settings.exporterCount }, (_, i) => i);
  }

  /** Decodes a binary ExportLogsServiceRequest; refuses it whole when it cannot be decoded. */
  decode(bytes: Uint8Array, transport: string): LogsData {
    try {
      return decodeLogsData(bytes);
    } catch (e) {
      this.logger.warn({ transport, err: boundedText((e as Error).message), bytes: bytes.length }, 'undecodable export request refused');
      throw new PipelineError('invalid_input', `cannot decode ExportLogsServiceRequest: ${(e as Error).message}`);
    }
  }

  /** Records in the request; refuses it whole when over OLP_LIMITS_MAX_RECORDS. */
  count(data: LogsData, tally: ReceiverTally): number {
    const received = countRecords(data);
    if (received > this.settings.maxRecordsPerRequest) {
      tally.refused.too_many_records = (tally.refused.too_many_records ?? 0) + received;
      throw new PipelineError('too_large', `request has ${received} log records, over the limit of ${this.settings.maxRecordsPerRequest} (OLP_LIMITS_MAX_RECORDS); split it`);
    }
    return received;
  }

  /**
   * Limits, chain, route, split, encode. `bytes`, when given, is the request's binary encoding,
   * forwarded as is when nothing changes the records (no re-encode; unknown fields kept).
   */
  process(data: LogsData, received: number, transport: string, tally: ReceiverTally, bytes?: Uint8Array): PreparedRequest {
    const rejection = rejectInvalidRecords(data, this.settings.limits);
    if (rejection.rejected > 0) {
      for (const [reason, n] of Object.entries(rejection.reasons)) tally.refused[reason] = (tally.refused[reason] ?? 0) + n;
      this.logger.warn({ transport, rejected: rejection.rejected }, boundedText(rejection.message));
    }
    const accepted = received - rejection.rejected;
    tally.accepted += accepted;
    if (bytes && this.chain.length === 0 && rejection.rejected === 0 && received <= this.settings.batchMaxRecords) {
      return { rejection, outputs: [{ exporters: this.allExporters, batches: [{ bytes, records: received }] }] };
    }
    const processed = this.chain.length > 0 ? this.chain.run(data, accepted) : data;
    const out = this.chain.length > 0 ? countRecords(processed) : accepted;
    return { rejection, outputs: out > 0 ? this.encode(processed, out) : [] };
  }

  /**
   * Route, split, encode: one encoding per distinct set of records, shared by the exporters
   * that receive that set.
   */
  encode(data: LogsData, records: number): PreparedOutput[] {
    const parts = this.settings.exporterCount > 1 ? partitionByRoute(data, this.settings.exporterCount) : undefined;
    if (!parts) return [{ exporters: this.allExporters, batches: this.encodeSplit(data, records) }];
    const outputs: PreparedOutput[] = [];
    const shared: number[] = [];
    parts.forEach((part, i) => {
      if (part === data) shared.push(i);
      else if (part) outputs.push({ exporters: [i], batches: this.encodeSplit(part, countRecords(part)) });
    });
    if (shared.length > 0) outputs.push({ exporters: shared, batches: this.encodeSplit(data, records) });
    return outputs;
  }

  private encodeSplit(data: LogsData, records: number): { bytes: Uint8Array; records: number }[] {
    return splitBatch(data, records, this.settings.batchMaxRecords).map((piece, _, all) => ({
      bytes: encodeLogsData(piece),
      records: all.length === 1 ? records : countRecords(piece),
    }));
  }
}
