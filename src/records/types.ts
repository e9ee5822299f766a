/**
 * The record API: the stable contract between the service and every processor, built-in or
 * custom. A batch is a view over the received request bytes; a field is decoded the first time
 * something reads it, and what nobody changed is written out as its original bytes. Nothing here
 * exposes the wire codec: 64-bit values are bigint, bytes are Uint8Array, values are plain data.
 */

/**
 * An OTLP AnyValue: exactly one member set, or none (an empty value). Integers are bigint
 * (int64, exact); doubles are numbers.
 */
export interface AnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: bigint;
  doubleValue?: number;
  arrayValue?: ArrayValue;
  kvlistValue?: KeyValueList;
  bytesValue?: Uint8Array;
}

export interface ArrayValue {
  values: AnyValue[];
}

export interface KeyValueList {
  values: KeyValue[];
}

export interface KeyValue {
  key: string;
  value: AnyValue;
}

/** What `Attributes.set` accepts: an AnyValue, or a string, boolean, bigint (int) or number (double). */
export type ValueInput = AnyValue | string | boolean | bigint | number;

/**
 * An attribute map (record, resource or scope attributes). Keys are unique as OTLP requires;
 * a received list with a repeated key answers `get` with its first entry. Iteration is in wire
 * order, entries set later after them.
 */
export interface Attributes extends Iterable<[string, AnyValue]> {
  readonly size: number;
  get(key: string): AnyValue | undefined;
  /** The value when it is a string, else undefined. */
  getString(key: string): string | undefined;
  has(key: string): boolean;
  /** Sets `key`, replacing its value in place when present, appending it when not. */
  set(key: string, value: ValueInput): void;
  /** Removes every entry with `key`; returns whether there was one. */
  delete(key: string): boolean;
  keys(): IterableIterator<string>;
  clear(): void;
}

/** The resource of a group of records: one object, shared by those records. */
export interface Resource {
  readonly attributes: Attributes;
  droppedAttributesCount: number;
  /** ResourceLogs.schema_url. */
  readonly schemaUrl: string;
}

/** The instrumentation scope of a group of records: one object, shared by those records. */
export interface Scope {
  name: string;
  version: string;
  readonly attributes: Attributes;
  droppedAttributesCount: number;
  /** ScopeLogs.schema_url. */
  readonly schemaUrl: string;
}

/** One log record. Reading a field decodes it (once); writing it marks the record changed. */
export interface LogRecord {
  timeUnixNano: bigint;
  observedTimeUnixNano: bigint;
  severityNumber: number;
  severityText: string;
  /** undefined: no body. */
  body: AnyValue | undefined;
  /** The body when it is a string, else undefined (no allocation of a value object). */
  readonly bodyString: string | undefined;
  readonly attributes: Attributes;
  droppedAttributesCount: number;
  flags: number;
  /** 16 bytes, or empty when unset. */
  traceId: Uint8Array;
  /** 8 bytes, or empty when unset. */
  spanId: Uint8Array;
  eventName: string;
  readonly resource: Resource;
  readonly scope: Scope;
  /** Removes the record from the batch; the runner counts it under `reason` (a metric label). */
  drop(reason: string): void;
  readonly dropped: boolean;
}

/** Fields of a record a processor creates; unset ones take their proto3 defaults. */
export interface NewRecord {
  timeUnixNano?: bigint;
  observedTimeUnixNano?: bigint;
  severityNumber?: number;
  severityText?: string;
  body?: AnyValue | string;
  attributes?: Iterable<readonly [string, ValueInput]> | Readonly<Record<string, ValueInput>>;
  droppedAttributesCount?: number;
  flags?: number;
  traceId?: Uint8Array;
  spanId?: Uint8Array;
  eventName?: string;
}

/** Resource and scope of records created outside any received group (e.g. window summaries). */
export interface NewOrigin {
  resource?: Iterable<readonly [string, ValueInput]> | Readonly<Record<string, ValueInput>>;
  scope?: { name?: string; version?: string; attributes?: Iterable<readonly [string, ValueInput]> | Readonly<Record<string, ValueInput>> };
}

/**
 * The records a processor transforms. Iteration yields the records that are not dropped, in
 * order; records added during a pass are not visited by that pass.
 */
export interface LogBatch extends Iterable<LogRecord> {
  /** Records not dropped. */
  readonly size: number;
  /**
   * Adds a record: into the resource and scope of `origin` when it is a record (after that
   * scope's records), else under a resource and scope of its own, shared by the records added
   * with the same `origin` object. Returns the record, which can still be changed.
   */
  add(init: NewRecord, origin?: LogRecord | NewOrigin): LogRecord;
}
