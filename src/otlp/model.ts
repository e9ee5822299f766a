/**
 * The in-memory shape of OTLP logs as protobufjs decodes them (camelCase field names).
 * 64-bit integers are `Long` values so that timestamps and int attributes survive exactly.
 * Decoded messages carry proto3 defaults; messages built by processors should start from
 * the constructors in `builders.ts` so that every field has a value.
 */
import type Long from 'long';

export type { Long };

export interface AnyValue {
  stringValue?: string | null;
  boolValue?: boolean | null;
  intValue?: Long | null;
  doubleValue?: number | null;
  arrayValue?: ArrayValue | null;
  kvlistValue?: KeyValueList | null;
  bytesValue?: Uint8Array | null;
}

export interface ArrayValue {
  values: AnyValue[];
}

export interface KeyValueList {
  values: KeyValue[];
}

export interface KeyValue {
  key: string;
  value?: AnyValue | null;
}

export interface InstrumentationScope {
  name: string;
  version: string;
  attributes: KeyValue[];
  droppedAttributesCount: number;
}

export interface EntityRef {
  schemaUrl: string;
  type: string;
  idKeys: string[];
  descriptionKeys: string[];
}

export interface Resource {
  attributes: KeyValue[];
  droppedAttributesCount: number;
  entityRefs: EntityRef[];
}

/**
 * Exporters a record goes to, as a bit mask over the configured exporters (set by `route`).
 * A symbol key: never encoded, invisible to conditions and attribute code.
 */
export const routeMark: unique symbol = Symbol('olp.route');

export interface LogRecord {
  [routeMark]?: number;
  timeUnixNano: Long;
  observedTimeUnixNano: Long;
  severityNumber: number;
  severityText: string;
  body?: AnyValue | null;
  attributes: KeyValue[];
  droppedAttributesCount: number;
  flags: number;
  traceId: Uint8Array;
  spanId: Uint8Array;
  eventName: string;
}

export interface ScopeLogs {
  scope?: InstrumentationScope | null;
  logRecords: LogRecord[];
  schemaUrl: string;
}

export interface ResourceLogs {
  resource?: Resource | null;
  scopeLogs: ScopeLogs[];
  schemaUrl: string;
}

/** ExportLogsServiceRequest: the unit that flows through the pipeline. */
export interface LogsData {
  resourceLogs: ResourceLogs[];
}

export interface ExportLogsPartialSuccess {
  rejectedLogRecords: Long | number;
  errorMessage: string;
}

export interface ExportLogsServiceResponse {
  partialSuccess?: ExportLogsPartialSuccess | null;
}

export function countRecords(data: LogsData): number {
  let n = 0;
  for (const rl of data.resourceLogs) for (const sl of rl.scopeLogs) n += sl.logRecords.length;
  return n;
}

/**
 * Keeps, in order, the records for which `keep` returns true (it may change them) and removes
 * the scopes and resources that leaves empty. Returns how many records were removed. A scope's
 * record list is copied only once a record in it is removed.
 */
export function retainRecords(data: LogsData, keep: (record: LogRecord, rl: ResourceLogs, sl: ScopeLogs) => boolean): number {
  let removed = 0;
  const emptied: ScopeLogs[] = [];
  for (const rl of data.resourceLogs) {
    for (const sl of rl.scopeLogs) {
      const records = sl.logRecords;
      let kept: LogRecord[] | undefined;
      for (let i = 0; i < records.length; i++) {
        const rec = records[i]!;
        if (keep(rec, rl, sl)) {
          kept?.push(rec);
        } else {
          kept ??= records.slice(0, i);
          removed++;
        }
      }
      if (kept) {
        sl.logRecords = kept;
        if (kept.length === 0) emptied.push(sl);
      }
    }
  }
  pruneEmptied(data, emptied);
  return removed;
}

/**
 * After a processor removed records: drops the scopes it emptied (`emptied`) and the resources
 * left with no scope by that. Containers that arrived empty are not the processor's business.
 */
export function pruneEmptied(data: LogsData, emptied: readonly ScopeLogs[]): void {
  if (emptied.length === 0) return;
  const gone = new Set(emptied);
  let rw = 0;
  for (const rl of data.resourceLogs) {
    const before = rl.scopeLogs.length;
    rl.scopeLogs = rl.scopeLogs.filter((sl) => !gone.has(sl));
    if (rl.scopeLogs.length > 0 || before === 0) data.resourceLogs[rw++] = rl;
  }
  data.resourceLogs.length = rw;
}
