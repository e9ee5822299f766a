/**
 * The in-memory shape of OTLP logs as protobufjs decodes them (camelCase field names), for what
 * works on decoded requests: OTLP/JSON, the CLI (`send`, `explain`), the debug exporter and tests.
 * Processors do not see it: they work on the record model (src/records/). 64-bit integers are
 * `Long` values so that timestamps and int attributes survive exactly. Messages built here should
 * start from `newLogRecord` (values.ts) so that every field has a value.
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

export interface LogRecord {
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
