/**
 * OTLP/JSON encoding (OTLP spec, "JSON Protobuf Encoding"): the proto3 JSON mapping with
 * lowerCamelCase names, trace/span ids as hex instead of base64, 64-bit integers as decimal
 * strings, enums as integers. Input also takes the original snake_case names, 64-bit values as
 * numbers (exact beyond 2^53, read from the source text) and enum names, as protobuf JSON
 * parsers do; unknown fields are ignored. Also google.rpc.Status, the OTLP/HTTP error body, in
 * both encodings.
 */
import * as protobuf from 'protobufjs';
import Long from 'long';
import type {
  AnyValue,
  EntityRef,
  ExportLogsServiceResponse,
  InstrumentationScope,
  KeyValue,
  LogRecord,
  LogsData,
  Resource,
  ResourceLogs,
  ScopeLogs,
} from './model';
import { anyValueKind } from './values';

/** google.rpc.Status without details: what OTLP/HTTP servers put in an error response body. */
export interface RpcStatus {
  readonly code: number;
  readonly message: string;
}

// ---------------------------------------------------------------------------------------------
// Encoding

type Json = string | number | boolean | null | Json[] | { [key: string]: Json } | ReturnType<typeof rawJson>;

// JSON.rawJSON (Node >= 21) is the only way to make JSON.stringify write -0.
const rawJson = (JSON as unknown as { rawJSON(text: string): object }).rawJSON;

/** ExportLogsServiceRequest (or LogsData, same shape) as OTLP/JSON text. Proto3 defaults are omitted. */
export function encodeLogsDataJson(data: LogsData): string {
  return JSON.stringify({ resourceLogs: (data.resourceLogs ?? []).map(resourceLogsJson) });
}

function resourceLogsJson(rl: ResourceLogs): Json {
  const o: Record<string, Json> = {};
  if (rl.resource) o.resource = resourceJson(rl.resource);
  if (rl.scopeLogs?.length) o.scopeLogs = rl.scopeLogs.map(scopeLogsJson);
  if (rl.schemaUrl) o.schemaUrl = rl.schemaUrl;
  return o;
}

function resourceJson(r: Resource): Json {
  const o: Record<string, Json> = {};
  if (r.attributes?.length) o.attributes = r.attributes.map(keyValueJson);
  if (r.droppedAttributesCount) o.droppedAttributesCount = r.droppedAttributesCount;
  if (r.entityRefs?.length) o.entityRefs = r.entityRefs.map(entityRefJson);
  return o;
}

function entityRefJson(e: EntityRef): Json {
  const o: Record<string, Json> = {};
  if (e.schemaUrl) o.schemaUrl = e.schemaUrl;
  if (e.type) o.type = e.type;
  if (e.idKeys?.length) o.idKeys = [...e.idKeys];
  if (e.descriptionKeys?.length) o.descriptionKeys = [...e.descriptionKeys];
  return o;
}

function scopeLogsJson(sl: ScopeLogs): Json {
  const o: Record<string, Json> = {};
  if (sl.scope) o.scope = scopeJson(sl.scope);
  if (sl.logRecords?.length) o.logRecords = sl.logRecords.map(logRecordJson);
  if (sl.schemaUrl) o.schemaUrl = sl.schemaUrl;
  return o;
}

function scopeJson(s: InstrumentationScope): Json {
  const o: Record<string, Json> = {};
  if (s.name) o.name = s.name;
  if (s.version) o.version = s.version;
  if (s.attributes?.length) o.attributes = s.attributes.map(keyValueJson);
  if (s.droppedAttributesCount) o.droppedAttributesCount = s.droppedAttributesCount;
  return o;
}

function logRecordJson(r: LogRecord): Json {
  const o: Record<string, Json> = {};
  const time = uint64String(r.timeUnixNano);
  if (time !== '0') o.timeUnixNano = time;
  const observed = uint64String(r.observedTimeUnixNano);
  if (observed !== '0') o.observedTimeUnixNano = observed;
  if (r.severityNumber) o.severityNumber = r.severityNumber;
  if (r.severityText) o.severityText = r.severityText;
  if (r.body) o.body = anyValueJson(r.body);
  if (r.attributes?.length) o.attributes = r.attributes.map(keyValueJson);
  if (r.droppedAttributesCount) o.droppedAttributesCount = r.droppedAttributesCount;
  if (r.flags) o.flags = r.flags;
  if (r.traceId?.length) o.traceId = hex(r.traceId);
  if (r.spanId?.length) o.spanId = hex(r.spanId);
  if (r.eventName) o.eventName = r.eventName;
  return o;
}

function keyValueJson(kv: KeyValue): Json {
  // `key` is written even when empty: an attribute without one would read as a bug.
  return kv.value ? { key: kv.key ?? '', value: anyValueJson(kv.value) } : { key: kv.key ?? '' };
}

function anyValueJson(v: AnyValue): Json {
  // A oneof member is written even at its default value: {"intValue":"0"} differs from {}.
  switch (anyValueKind(v)) {
    case 'stringValue':
      return { stringValue: v.stringValue! };
    case 'boolValue':
      return { boolValue: v.boolValue! };
    case 'intValue':
      return { intValue: Long.fromValue(v.intValue!).toSigned().toString() };
    case 'doubleValue':
      return { doubleValue: doubleJson(v.doubleValue!) };
    case 'bytesValue':
      return { bytesValue: Buffer.from(v.bytesValue!.buffer, v.bytesValue!.byteOffset, v.bytesValue!.byteLength).toString('base64') };
    case 'arrayValue':
      return { arrayValue: v.arrayValue!.values?.length ? { values: v.arrayValue!.values.map(anyValueJson) } : {} };
    case 'kvlistValue':
      return { kvlistValue: v.kvlistValue!.values?.length ? { values: v.kvlistValue!.values.map(keyValueJson) } : {} };
    default:
      return {};
  }
}

function doubleJson(d: number): Json {
  if (Number.isNaN(d)) return 'NaN';
  if (d === Infinity) return 'Infinity';
  if (d === -Infinity) return '-Infinity';
  return Object.is(d, -0) ? rawJson('-0') : d;
}

function uint64String(v: Long | number | string | null | undefined): string {
  return v === null || v === undefined ? '0' : Long.fromValue(v).toUnsigned().toString();
}

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

/** ExportLogsServiceResponse as OTLP/JSON: `{}`, or `{"partialSuccess":{...}}`. */
export function encodeExportResponseJson(res: ExportLogsServiceResponse): string {
  const ps = res.partialSuccess;
  if (!ps) return '{}';
  const o: Record<string, Json> = {};
  const rejected = Long.fromValue(ps.rejectedLogRecords ?? 0).toSigned().toString();
  if (rejected !== '0') o.rejectedLogRecords = rejected;
  if (ps.errorMessage) o.errorMessage = ps.errorMessage;
  return JSON.stringify({ partialSuccess: o });
}

export function encodeStatusJson(status: RpcStatus): string {
  return JSON.stringify({ code: status.code, message: status.message });
}

// ---------------------------------------------------------------------------------------------
// Decoding

type JsonObject = Record<string, unknown>;

class JsonError extends Error {
  constructor(path: string, message: string) {
    super(path ? `${path}: ${message}` : message);
    this.name = 'JsonError';
  }
}

// 64-bit integers have at most 20 digits; longer ones are refused without building a bigint of them.
const INTEGER = /^-?\d{1,20}$/;

/**
 * JSON.parse, except that integer literals beyond 2^53 become exact bigints (from the source
 * text, which Node >= 21 hands to the reviver; callers convert them per field type), and strings
 * with lone surrogates are made well-formed. Without
 * source access such a number stays an unsafe JS number and is refused by the int64 readers.
 */
function parseJson(input: string | Uint8Array): unknown {
  let text: string;
  try {
    text = typeof input === 'string' ? input : new TextDecoder('utf-8', { fatal: true }).decode(input);
  } catch {
    throw new JsonError('', 'invalid JSON: not valid UTF-8');
  }
  try {
    return JSON.parse(text, (_key: string, value: unknown, context?: { source?: string }) => {
      if (typeof value === 'number') {
        return !Number.isSafeInteger(value) && context?.source !== undefined && INTEGER.test(context.source) ? BigInt(context.source) : value;
      }
      // A lone surrogate escape ("\ud800") is valid JSON but no UTF-8: replaced by U+FFFD, as Go's decoder does.
      return typeof value === 'string' && !value.isWellFormed() ? value.toWellFormed() : value;
    });
  } catch (e) {
    throw new JsonError('', `invalid JSON: ${(e as Error).message}`);
  }
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

/** The field under its lowerCamelCase or original snake_case name, with the name found (for paths). */
function field(o: JsonObject, camel: string, snake: string): [unknown, string] {
  const v = o[camel];
  if (v !== undefined && v !== null) return [v, camel];
  if (snake !== camel) {
    const s = o[snake];
    if (s !== undefined && s !== null) return [s, snake];
  }
  return [undefined, camel];
}

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function object(v: unknown, path: string): JsonObject {
  if (!isObject(v)) throw new JsonError(path, `expected an object, got ${describe(v)}`);
  return v;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'bigint') return `number ${v}`;
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}

function message<T>(o: JsonObject, camel: string, snake: string, path: string, read: (v: JsonObject, path: string) => T): T | null {
  const [v, k] = field(o, camel, snake);
  if (v === undefined) return null;
  const p = join(path, k);
  return read(object(v, p), p);
}

function repeated<T>(o: JsonObject, camel: string, snake: string, path: string, read: (v: unknown, path: string) => T): T[] {
  const [v, k] = field(o, camel, snake);
  if (v === undefined) return [];
  const p = join(path, k);
  if (!Array.isArray(v)) throw new JsonError(p, `expected an array, got ${describe(v)}`);
  return v.map((item, i) => read(item, `${p}[${i}]`));
}

function str(o: JsonObject, camel: string, snake: string, path: string): string {
  const [v, k] = field(o, camel, snake);
  if (v === undefined) return '';
  if (typeof v !== 'string') throw new JsonError(join(path, k), `expected a string, got ${describe(v)}`);
  return v;
}

function stringItem(v: unknown, path: string): string {
  if (typeof v !== 'string') throw new JsonError(path, `expected a string, got ${describe(v)}`);
  return v;
}

/** An integer from a JSON number, exact bigint, or decimal string; undefined when it is none of these. */
function integer(v: unknown): bigint | undefined {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return Number.isSafeInteger(v) ? BigInt(v) : undefined;
  if (typeof v === 'string' && INTEGER.test(v)) return BigInt(v);
  return undefined;
}

function boundedInteger(v: unknown, path: string, min: bigint, max: bigint, what: string): bigint {
  const n = integer(v);
  if (n === undefined) {
    throw new JsonError(path, `expected ${what} as an integer number or decimal string, got ${describe(v)}`);
  }
  if (n < min || n > max) throw new JsonError(path, `${n} is out of range for ${what}`);
  return n;
}

const UINT32_MAX = 0xffffffffn;
const INT32_MIN = -(1n << 31n);
const INT32_MAX = (1n << 31n) - 1n;
const UINT64_MAX = (1n << 64n) - 1n;
const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

function uint32(o: JsonObject, camel: string, snake: string, path: string): number {
  const [v, k] = field(o, camel, snake);
  return v === undefined ? 0 : Number(boundedInteger(v, join(path, k), 0n, UINT32_MAX, 'uint32'));
}

/** fixed64 → unsigned Long, int64 → signed Long, as the protobuf decoder produces them. */
function toLong(n: bigint, unsigned: boolean): Long {
  return Long.fromString(n.toString(), unsigned);
}

function uint64(o: JsonObject, camel: string, snake: string, path: string): Long {
  const [v, k] = field(o, camel, snake);
  return v === undefined ? Long.UZERO : toLong(boundedInteger(v, join(path, k), 0n, UINT64_MAX, 'uint64'), true);
}

function int64Value(v: unknown, path: string): Long {
  return toLong(boundedInteger(v, path, INT64_MIN, INT64_MAX, 'int64'), false);
}

const SEVERITY_NAMES: readonly string[] = [
  'SEVERITY_NUMBER_UNSPECIFIED',
  ...['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'].flatMap((l) => ['', '2', '3', '4'].map((n) => `SEVERITY_NUMBER_${l}${n}`)),
];

function severityNumber(o: JsonObject, path: string): number {
  const [v, k] = field(o, 'severityNumber', 'severity_number');
  if (v === undefined) return 0;
  if (typeof v === 'string' && !INTEGER.test(v)) {
    const n = SEVERITY_NAMES.indexOf(v);
    if (n < 0) throw new JsonError(join(path, k), `unknown SeverityNumber ${JSON.stringify(v)}`);
    return n;
  }
  // Open enum (proto3): any int32 is kept, known name or not.
  return Number(boundedInteger(v, join(path, k), INT32_MIN, INT32_MAX, 'SeverityNumber'));
}

function bool(v: unknown, path: string): boolean {
  if (typeof v !== 'boolean') throw new JsonError(path, `expected true or false, got ${describe(v)}`);
  return v;
}

function double(v: unknown, path: string): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v); // an integer literal beyond 2^53: the nearest double, as JSON.parse would give
  if (typeof v === 'string') {
    if (v === 'NaN') return NaN;
    if (v === 'Infinity') return Infinity;
    if (v === '-Infinity') return -Infinity;
    if (/^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/.test(v)) return Number(v);
  }
  throw new JsonError(path, `expected a number (or "NaN", "Infinity", "-Infinity"), got ${describe(v)}`);
}

const BASE64 = /^(?:[A-Za-z0-9+/]*|[A-Za-z0-9\-_]*)={0,2}$/;

/** Standard or URL-safe base64, padded or not (as protobuf JSON parsers accept). */
function base64(v: unknown, path: string): Buffer {
  if (typeof v !== 'string' || !BASE64.test(v) || v.replace(/=+$/, '').length % 4 === 1) {
    throw new JsonError(path, `expected base64 bytes, got ${describe(v)}`);
  }
  return Buffer.from(v, v.includes('-') || v.includes('_') ? 'base64url' : 'base64');
}

const HEX = /^[0-9a-fA-F]*$/;

/** trace_id / span_id: hex (OTLP/JSON differs from proto3 JSON here); empty means unset. */
function hexId(o: JsonObject, camel: string, snake: string, path: string, bytes: number): Buffer {
  const [v, k] = field(o, camel, snake);
  if (v === undefined) return Buffer.alloc(0);
  if (typeof v !== 'string' || !HEX.test(v) || (v.length !== 0 && v.length !== bytes * 2)) {
    throw new JsonError(join(path, k), `expected ${bytes * 2} hex characters, got ${describe(v)}`);
  }
  return Buffer.from(v, 'hex');
}

/** OTLP/JSON ExportLogsServiceRequest → LogsData with every field set. Throws an Error naming the JSON path of the first problem. */
export function decodeLogsDataJson(input: string | Uint8Array): LogsData {
  const root = parseJson(input);
  if (!isObject(root)) throw new JsonError('', `expected a JSON object (ExportLogsServiceRequest), got ${describe(root)}`);
  return { resourceLogs: repeated(root, 'resourceLogs', 'resource_logs', '', (v, p) => readResourceLogs(object(v, p), p)) };
}

function readResourceLogs(o: JsonObject, path: string): ResourceLogs {
  return {
    resource: message(o, 'resource', 'resource', path, readResource),
    scopeLogs: repeated(o, 'scopeLogs', 'scope_logs', path, (v, p) => readScopeLogs(object(v, p), p)),
    schemaUrl: str(o, 'schemaUrl', 'schema_url', path),
  };
}

function readResource(o: JsonObject, path: string): Resource {
  return {
    attributes: repeated(o, 'attributes', 'attributes', path, readKeyValue),
    droppedAttributesCount: uint32(o, 'droppedAttributesCount', 'dropped_attributes_count', path),
    entityRefs: repeated(o, 'entityRefs', 'entity_refs', path, (v, p) => readEntityRef(object(v, p), p)),
  };
}

function readEntityRef(o: JsonObject, path: string): EntityRef {
  return {
    schemaUrl: str(o, 'schemaUrl', 'schema_url', path),
    type: str(o, 'type', 'type', path),
    idKeys: repeated(o, 'idKeys', 'id_keys', path, stringItem),
    descriptionKeys: repeated(o, 'descriptionKeys', 'description_keys', path, stringItem),
  };
}

function readScopeLogs(o: JsonObject, path: string): ScopeLogs {
  return {
    scope: message(o, 'scope', 'scope', path, readScope),
    logRecords: repeated(o, 'logRecords', 'log_records', path, (v, p) => readLogRecord(object(v, p), p)),
    schemaUrl: str(o, 'schemaUrl', 'schema_url', path),
  };
}

function readScope(o: JsonObject, path: string): InstrumentationScope {
  return {
    name: str(o, 'name', 'name', path),
    version: str(o, 'version', 'version', path),
    attributes: repeated(o, 'attributes', 'attributes', path, readKeyValue),
    droppedAttributesCount: uint32(o, 'droppedAttributesCount', 'dropped_attributes_count', path),
  };
}

function readLogRecord(o: JsonObject, path: string): LogRecord {
  return {
    timeUnixNano: uint64(o, 'timeUnixNano', 'time_unix_nano', path),
    observedTimeUnixNano: uint64(o, 'observedTimeUnixNano', 'observed_time_unix_nano', path),
    severityNumber: severityNumber(o, path),
    severityText: str(o, 'severityText', 'severity_text', path),
    body: message(o, 'body', 'body', path, readAnyValue),
    attributes: repeated(o, 'attributes', 'attributes', path, readKeyValue),
    droppedAttributesCount: uint32(o, 'droppedAttributesCount', 'dropped_attributes_count', path),
    flags: uint32(o, 'flags', 'flags', path),
    traceId: hexId(o, 'traceId', 'trace_id', path, 16),
    spanId: hexId(o, 'spanId', 'span_id', path, 8),
    eventName: str(o, 'eventName', 'event_name', path),
  };
}

function readKeyValue(v: unknown, path: string): KeyValue {
  const o = object(v, path);
  return { key: str(o, 'key', 'key', path), value: message(o, 'value', 'value', path, readAnyValue) };
}

const ANY_VALUE_MEMBERS: readonly [keyof AnyValue, string][] = [
  ['stringValue', 'string_value'],
  ['boolValue', 'bool_value'],
  ['intValue', 'int_value'],
  ['doubleValue', 'double_value'],
  ['arrayValue', 'array_value'],
  ['kvlistValue', 'kvlist_value'],
  ['bytesValue', 'bytes_value'],
];

function readAnyValue(o: JsonObject, path: string): AnyValue {
  let found: [keyof AnyValue, unknown, string] | undefined;
  for (const [camel, snake] of ANY_VALUE_MEMBERS) {
    const [v, k] = field(o, camel, snake);
    if (v === undefined) continue;
    if (found) throw new JsonError(path, `more than one value set (${found[2]} and ${k})`);
    found = [camel, v, k];
  }
  if (!found) return {};
  const [member, v, k] = found;
  const p = join(path, k);
  switch (member) {
    case 'stringValue':
      return { stringValue: stringItem(v, p) };
    case 'boolValue':
      return { boolValue: bool(v, p) };
    case 'intValue':
      return { intValue: int64Value(v, p) };
    case 'doubleValue':
      return { doubleValue: double(v, p) };
    case 'bytesValue':
      return { bytesValue: base64(v, p) };
    case 'arrayValue':
      return { arrayValue: { values: repeated(object(v, p), 'values', 'values', p, (item, ip) => readAnyValue(object(item, ip), ip)) } };
    case 'kvlistValue':
      return { kvlistValue: { values: repeated(object(v, p), 'values', 'values', p, readKeyValue) } };
  }
}

/** OTLP/JSON ExportLogsServiceResponse (an empty body counts as `{}`). */
export function decodeExportResponseJson(input: string | Uint8Array): ExportLogsServiceResponse {
  if (input.length === 0) return {};
  const root = parseJson(input);
  if (!isObject(root)) throw new JsonError('', `expected a JSON object (ExportLogsServiceResponse), got ${describe(root)}`);
  const partialSuccess = message(root, 'partialSuccess', 'partial_success', '', (o, p) => {
    const [v, k] = field(o, 'rejectedLogRecords', 'rejected_log_records');
    return {
      rejectedLogRecords: v === undefined ? Long.ZERO : int64Value(v, join(p, k)),
      errorMessage: str(o, 'errorMessage', 'error_message', p),
    };
  });
  return partialSuccess ? { partialSuccess } : {};
}

/** google.rpc.Status from JSON (details ignored). */
export function decodeStatusJson(input: string | Uint8Array): RpcStatus {
  const root = parseJson(input);
  if (!isObject(root)) throw new JsonError('', `expected a JSON object (google.rpc.Status), got ${describe(root)}`);
  const [code, k] = field(root, 'code', 'code');
  return {
    code: code === undefined ? 0 : Number(boundedInteger(code, k, INT32_MIN, INT32_MAX, 'int32')),
    message: str(root, 'message', 'message', ''),
  };
}

// ---------------------------------------------------------------------------------------------
// google.rpc.Status, binary

// The two fields OTLP/HTTP needs, by reflection; `details` (field 3) is skipped on decode.
const StatusType = new protobuf.Type('Status').add(new protobuf.Field('code', 1, 'int32')).add(new protobuf.Field('message', 2, 'string'));

export function encodeStatus(status: RpcStatus): Uint8Array {
  return StatusType.encode(StatusType.fromObject({ code: status.code, message: status.message })).finish();
}

/** Throws on malformed protobuf. */
export function decodeStatus(bytes: Uint8Array): RpcStatus {
  const s = StatusType.decode(bytes) as unknown as { code?: number; message?: string };
  return { code: s.code ?? 0, message: s.message ?? '' };
}
