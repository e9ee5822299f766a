/**
 * One reader of a binary ExportLogsServiceRequest for admission, walked once over the bytes
 * with no objects built: structure (varints, lengths, groups, field numbers, wire types), UTF-8
 * of every string field, and every per-record limit — on records and on the resource and scope
 * attributes their records share. It runs wherever the request is processed (event-loop or
 * worker thread); the event-loop thread only counts records (`countRequestRecords`).
 *
 * What it accepts is what a conforming proto3 decoder accepts, with two deliberate exceptions
 * where protobufjs (the decoder behind it) would misread rather than skip: a known field with a
 * wire type other than its declared one, and a field number 0 or above 2^29−1, are refused as
 * malformed. Invalid UTF-8 in a string field is refused as proto3 requires.
 *
 * A record over a limit is rejected alone; a resource or scope over a limit rejects every record
 * it carries and is removed with them. The bytes of a rejected part are not read further, so a
 * hostile resource costs no more than its first `max_attributes` entries.
 */
import { isUtf8 } from 'node:buffer';

export interface RecordLimits {
  readonly maxBodyBytes: number;
  readonly maxAttributes: number;
  readonly maxAttributeKeyBytes: number;
  readonly maxAttributeValueBytes: number;
  readonly maxDepth: number;
  readonly maxCollectionLength: number;
}

/** Why the request cannot be read at all (answered INVALID_ARGUMENT). */
export class MalformedRequest extends Error {
  constructor(
    /** truncated | varint | wire_type | field_number | group | utf8 */
    readonly kind: string,
    message: string,
  ) {
    super(message);
    this.name = 'MalformedRequest';
  }
}

/** A [start, end) byte range of the request. */
type Range = readonly [number, number];

/** What admission learnt from the request. */
export interface WireReport {
  /** Log records in the request, rejected ones included. */
  readonly records: number;
  readonly rejected: number;
  /** Rejected records by reason (metric label). */
  readonly reasons: Readonly<Record<string, number>>;
  /** Describes the first rejection, naming the field and the limit's variable; '' when none. */
  readonly message: string;
  /** Whole fields to remove (rejected records, resources, scopes), in order; empty when none. */
  readonly cuts: readonly Range[];
}

interface Violation {
  readonly reason: string;
  /** Path below the message checked, e.g. `.attributes[2].value`: prefixed on the way back up, so built only on failure. */
  at: string;
  readonly problem: string;
}

const WT_VARINT = 0;
const WT_I64 = 1;
const WT_LEN = 2;
const WT_SGROUP = 3;
const WT_EGROUP = 4;
const WT_I32 = 5;
/** protobuf's default recursion limit, for nested unknown groups. */
const MAX_GROUP_DEPTH = 100;

function truncated(): MalformedRequest {
  return new MalformedRequest('truncated', 'truncated message (a length or value runs past its end)');
}

/**
 * Walks the request. Positions are absolute offsets into `b`; every method that reads a field
 * stays within the `end` it is given.
 */
class Reader {
  pos = 0;
  records = 0;
  rejected = 0;
  readonly reasons: Record<string, number> = {};
  message = '';
  readonly cuts: Range[] = [];
  /** Where the reader is, for messages: resource, scope and record indexes. */
  private r = 0;
  private s = 0;
  private i = 0;

  constructor(
    private readonly b: Uint8Array,
    private readonly limits: RecordLimits,
  ) {}

  // ---- primitives ----

  /** A varint as a JS number: exact up to 2^53, which is all lengths and tags need. */
  varint(end: number): number {
    const b = this.b;
    let pos = this.pos;
    let value = 0;
    let scale = 1;
    for (let k = 0; k < 10; k++) {
      if (pos >= end) throw truncated();
      const byte = b[pos++]!;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) {
        // The tenth byte of a 64-bit varint carries one bit.
        if (k === 9 && byte > 1) throw new MalformedRequest('varint', 'varint longer than 64 bits');
        this.pos = pos;
        return value;
      }
      scale *= 128;
    }
    throw new MalformedRequest('varint', 'varint longer than 10 bytes');
  }

  /** Reads a tag; refuses field number 0 and numbers past 2^29−1. */
  tag(end: number): number {
    const t = this.varint(end);
    if (t > 0xffffffff) throw new MalformedRequest('field_number', 'tag longer than 32 bits');
    const field = Math.floor(t / 8);
    if (field === 0) throw new MalformedRequest('field_number', 'field number 0');
    if (field > 0x1fffffff) throw new MalformedRequest('field_number', `field number ${field} out of range`);
    return t;
  }

  /** Length of a LEN field whose content must end by `end`; leaves pos at the content's start. */
  length(end: number): number {
    const len = this.varint(end);
    if (len > end - this.pos) throw truncated();
    return len;
  }

  /** Skips the value of a field (an unknown one, or one whose content is not read). */
  skip(tag: number, end: number, depth = 0): void {
    switch (tag & 7) {
      case WT_VARINT:
        this.varint(end);
        return;
      case WT_I64:
        if (end - this.pos < 8) throw truncated();
        this.pos += 8;
        return;
      case WT_LEN:
        {
          const n = this.length(end);
          this.pos += n;
        }
        return;
      case WT_I32:
        if (end - this.pos < 4) throw truncated();
        this.pos += 4;
        return;
      case WT_SGROUP: {
        if (depth >= MAX_GROUP_DEPTH) throw new MalformedRequest('group', `groups nested deeper than ${MAX_GROUP_DEPTH}`);
        const field = Math.floor(tag / 8);
        for (;;) {
          if (this.pos >= end) throw new MalformedRequest('group', `group ${field} has no end`);
          const t = this.tag(end);
          if ((t & 7) === WT_EGROUP) {
            if (Math.floor(t / 8) !== field) throw new MalformedRequest('group', `group ${field} closed by end-group ${Math.floor(t / 8)}`);
            return;
          }
          this.skip(t, end, depth + 1);
        }
      }
      case WT_EGROUP:
        throw new MalformedRequest('group', `end-group ${Math.floor(tag / 8)} without a start`);
      default:
        throw new MalformedRequest('wire_type', `invalid wire type ${tag & 7}`);
    }
  }

  /** Checks the declared wire type of a known field. */
  expect(tag: number, wireType: number, name: string): void {
    if ((tag & 7) !== wireType) throw new MalformedRequest('wire_type', `field ${name} has wire type ${tag & 7}, declared ${wireType}`);
  }

  /** A string field: its UTF-8 checked; returns its byte length. */
  string(end: number, name: string): number {
    const len = this.length(end);
    const start = this.pos;
    const stop = start + len;
    const b = this.b;
    let k = start;
    // Short strings: a JS scan for non-ASCII beats the native call's overhead; long ones go native.
    if (len < 48) while (k < stop && b[k]! < 0x80) k++;
    if (k < stop && !isUtf8(b.subarray(k, stop))) throw new MalformedRequest('utf8', `field ${name} is not valid UTF-8`);
    this.pos = stop;
    return len;
  }

  // ---- messages ----

  /** ExportLogsServiceRequest. */
  request(): void {
    const end = this.b.length;
    this.r = 0;
    while (this.pos < end) {
      const start = this.pos;
      const tag = this.tag(end);
      if (tag >>> 3 === 1) {
        this.expect(tag, WT_LEN, 'resource_logs');
        const len = this.length(end);
        this.resourceLogs(start, this.pos + len);
        this.r++;
      } else {
        this.skip(tag, end);
      }
    }
  }

  /**
   * ResourceLogs. Its resource is judged first (it may come after its scopes on the wire, and
   * protobuf merges repeated occurrences): a resource over a limit rejects every record of it.
   */
  private resourceLogs(fieldStart: number, end: number): void {
    const contentStart = this.pos;
    const bad = this.container(end, 1, 'resource', (e, seen) => this.resource(e, seen));
    if (bad) {
      this.rejectAll(bad, `resource_logs[${this.r}].resource`, this.countRecordsIn(contentStart, end), fieldStart, end);
      return;
    }
    this.s = 0;
    while (this.pos < end) {
      const start = this.pos;
      const tag = this.tag(end);
      switch (tag >>> 3) {
        case 1:
          this.skip(tag, end);
          break;
        case 2: {
          this.expect(tag, WT_LEN, 'scope_logs');
          const len = this.length(end);
          this.scopeLogs(start, this.pos + len);
          this.s++;
          break;
        }
        case 3:
          this.expect(tag, WT_LEN, 'schema_url');
          this.string(end, 'schema_url');
          break;
        default:
          this.skip(tag, end);
      }
    }
  }

  /**
   * Reads every occurrence of the singular message field `field` (wire type checked) of the
   * message whose content runs from pos to `end`, sharing one attribute count; returns the first
   * violation. Leaves pos where it was.
   */
  private container(end: number, field: number, name: string, read: (end: number, seen: { attributes: number }) => Violation | undefined): Violation | undefined {
    const saved = this.pos;
    const seen = { attributes: 0 };
    let bad: Violation | undefined;
    while (this.pos < end && !bad) {
      const tag = this.tag(end);
      if (tag >>> 3 !== field) {
        this.skip(tag, end);
        continue;
      }
      this.expect(tag, WT_LEN, name);
      const len = this.length(end);
      const stop = this.pos + len;
      bad = read(stop, seen);
      this.pos = stop;
    }
    this.pos = saved;
    return bad;
  }

  /** Rejects `records` records with the container they are in, removing the field [fieldStart, end). */
  private rejectAll(v: Violation, where: string, records: number, fieldStart: number, end: number): void {
    this.records += records;
    this.rejected += records;
    this.reject(v, where, records);
    this.cuts.push([fieldStart, end]);
    this.pos = end;
  }

  /** Resource: returns the first violation of its attributes, leaving pos at `end`. */
  private resource(end: number, seen: { attributes: number }): Violation | undefined {
    while (this.pos < end) {
      const tag = this.tag(end);
      switch (tag >>> 3) {
        case 1: {
          const v = this.attribute(end, tag, 'resource.attributes', ++seen.attributes);
          if (v) return this.abandon(end, v);
          break;
        }
        case 2:
          this.expect(tag, WT_VARINT, 'resource.dropped_attributes_count');
          this.varint(end);
          break;
        case 3: {
          this.expect(tag, WT_LEN, 'resource.entity_refs');
          const len = this.length(end);
          this.entityRef(this.pos + len);
          break;
        }
        default:
          this.skip(tag, end);
      }
    }
    return undefined;
  }

  private entityRef(end: number): void {
    while (this.pos < end) {
      const tag = this.tag(end);
      const field = tag >>> 3;
      if (field >= 1 && field <= 4) {
        this.expect(tag, WT_LEN, 'entity_ref');
        this.string(end, 'entity_ref');
      } else {
        this.skip(tag, end);
      }
    }
  }

  private scopeLogs(fieldStart: number, end: number): void {
    const bad = this.container(end, 1, 'scope', (e, seen) => this.scope(e, seen));
    if (bad) {
      this.rejectAll(bad, `resource_logs[${this.r}].scope_logs[${this.s}].scope`, this.countScopeRecords(end), fieldStart, end);
      return;
    }
    this.i = 0;
    while (this.pos < end) {
      const start = this.pos;
      const tag = this.tag(end);
      switch (tag >>> 3) {
        case 2: {
          this.expect(tag, WT_LEN, 'log_records');
          const len = this.length(end);
          this.records++;
          this.logRecord(start, this.pos + len);
          this.i++;
          break;
        }
        case 3:
          this.expect(tag, WT_LEN, 'schema_url');
          this.string(end, 'schema_url');
          break;
        default:
          this.skip(tag, end);
      }
    }
  }

  /** InstrumentationScope: first violation, pos left at `end`. */
  private scope(end: number, seen: { attributes: number }): Violation | undefined {
    while (this.pos < end) {
      const tag = this.tag(end);
      switch (tag >>> 3) {
        case 1:
        case 2: {
          const name = tag >>> 3 === 1 ? 'name' : 'version';
          this.expect(tag, WT_LEN, `scope.${name}`);
          const v = this.stringViolation(this.string(end, name), name);
          if (v) return this.abandon(end, v);
          break;
        }
        case 3: {
          const v = this.attribute(end, tag, 'scope.attributes', ++seen.attributes);
          if (v) return this.abandon(end, v);
          break;
        }
        case 4:
          this.expect(tag, WT_VARINT, 'scope.dropped_attributes_count');
          this.varint(end);
          break;
        default:
          this.skip(tag, end);
      }
    }
    return undefined;
  }

  private logRecord(fieldStart: number, end: number): void {
    const v = this.recordViolation(end);
    if (!v) return;
    this.rejected++;
    this.reject(v, `resource_logs[${this.r}].scope_logs[${this.s}].log_records[${this.i}]`, 1);
    this.cuts.push([fieldStart, end]);
    this.pos = end;
  }

  private recordViolation(end: number): Violation | undefined {
    let attributes = 0;
    while (this.pos < end) {
      const tag = this.tag(end);
      switch (tag >>> 3) {
        case 1:
          this.expect(tag, WT_I64, 'time_unix_nano');
          this.skip(tag, end);
          break;
        case 11:
          this.expect(tag, WT_I64, 'observed_time_unix_nano');
          this.skip(tag, end);
          break;
        case 2:
          this.expect(tag, WT_VARINT, 'severity_number');
          this.varint(end);
          break;
        case 7:
          this.expect(tag, WT_VARINT, 'dropped_attributes_count');
          this.varint(end);
          break;
        case 8:
          this.expect(tag, WT_I32, 'flags');
          this.skip(tag, end);
          break;
        case 9:
        case 10:
          this.expect(tag, WT_LEN, tag >>> 3 === 9 ? 'trace_id' : 'span_id');
          this.skip(tag, end);
          break;
        case 3:
        case 12: {
          const name = tag >>> 3 === 3 ? 'severity_text' : 'event_name';
          this.expect(tag, WT_LEN, name);
          const v = this.stringViolation(this.string(end, name), name);
          if (v) return this.abandon(end, v);
          break;
        }
        case 5: {
          this.expect(tag, WT_LEN, 'body');
          const len = this.length(end);
          const v = this.anyValue(this.pos + len, 0, true);
          if (v) return this.abandon(end, under('.body', v));
          break;
        }
        case 6: {
          const v = this.attribute(end, tag, 'attributes', ++attributes);
          if (v) return this.abandon(end, v);
          break;
        }
        default:
          this.skip(tag, end);
      }
    }
    return undefined;
  }

  /** The `count`-th attribute (a KeyValue field) of a resource, scope or record, against the attribute limits. */
  private attribute(end: number, tag: number, name: string, count: number): Violation | undefined {
    this.expect(tag, WT_LEN, name);
    if (count > this.limits.maxAttributes) return tooManyAttributes(this.limits);
    const len = this.length(end);
    const v = this.keyValue(this.pos + len, 0);
    return v && under(`.attributes[${count - 1}]`, v);
  }

  /** KeyValue at nesting `depth`. */
  private keyValue(end: number, depth: number): Violation | undefined {
    while (this.pos < end) {
      const tag = this.tag(end);
      switch (tag >>> 3) {
        case 1: {
          this.expect(tag, WT_LEN, 'key');
          const n = this.string(end, 'key');
          if (n > this.limits.maxAttributeKeyBytes) {
            return this.abandon(end, { reason: 'key_too_long', at: '.key', problem: `is ${n} bytes, over ${this.limits.maxAttributeKeyBytes} (OLP_LIMITS_MAX_ATTRIBUTE_KEY_BYTES)` });
          }
          break;
        }
        case 2: {
          this.expect(tag, WT_LEN, 'value');
          const len = this.length(end);
          const v = this.anyValue(this.pos + len, depth, false);
          if (v) return this.abandon(end, under('.value', v));
          break;
        }
        default:
          this.skip(tag, end);
      }
    }
    return undefined;
  }

  /** AnyValue; `isBody` applies the body limit to a string or bytes value at the top. */
  private anyValue(end: number, depth: number, isBody: boolean): Violation | undefined {
    while (this.pos < end) {
      const tag = this.tag(end);
      switch (tag >>> 3) {
        case 1:
        case 7: {
          const isString = tag >>> 3 === 1;
          this.expect(tag, WT_LEN, isString ? 'string_value' : 'bytes_value');
          const n = isString ? this.string(end, 'string_value') : this.skipLen(end);
          const max = isBody ? this.limits.maxBodyBytes : this.limits.maxAttributeValueBytes;
          if (n > max) {
            return this.abandon(end, {
              reason: isBody ? 'body_too_large' : 'value_too_large',
              at: '',
              problem: `is ${n} bytes, over the ${max}-byte limit (${isBody ? 'OLP_LIMITS_MAX_BODY_BYTES' : 'OLP_LIMITS_MAX_ATTRIBUTE_VALUE_BYTES'})`,
            });
          }
          break;
        }
        case 2:
          this.expect(tag, WT_VARINT, 'bool_value');
          this.varint(end);
          break;
        case 3:
          this.expect(tag, WT_VARINT, 'int_value');
          this.varint(end);
          break;
        case 4:
          this.expect(tag, WT_I64, 'double_value');
          this.skip(tag, end);
          break;
        case 5:
        case 6: {
          const isArray = tag >>> 3 === 5;
          this.expect(tag, WT_LEN, isArray ? 'array_value' : 'kvlist_value');
          const len = this.length(end);
          if (depth >= this.limits.maxDepth) {
            return this.abandon(end, { reason: 'too_deep', at: '', problem: `nests deeper than ${this.limits.maxDepth} levels (OLP_LIMITS_MAX_DEPTH)` });
          }
          const v = this.list(this.pos + len, depth + 1, isArray);
          if (v) return this.abandon(end, v);
          break;
        }
        default:
          this.skip(tag, end);
      }
    }
    return undefined;
  }

  /** ArrayValue (AnyValue entries) or KeyValueList (KeyValue entries), both `repeated … values = 1`. */
  private list(end: number, depth: number, isArray: boolean): Violation | undefined {
    let n = 0;
    while (this.pos < end) {
      const tag = this.tag(end);
      if (tag >>> 3 !== 1) {
        this.skip(tag, end);
        continue;
      }
      this.expect(tag, WT_LEN, 'values');
      if (++n > this.limits.maxCollectionLength) {
        return this.abandon(end, { reason: 'collection_too_long', at: '', problem: `has more than ${this.limits.maxCollectionLength} entries (OLP_LIMITS_MAX_COLLECTION_LENGTH)` });
      }
      const len = this.length(end);
      const v = isArray ? this.anyValue(this.pos + len, depth, false) : this.keyValue(this.pos + len, depth);
      if (v) return this.abandon(end, under(`[${n - 1}]`, v));
    }
    return undefined;
  }

  private skipLen(end: number): number {
    const len = this.length(end);
    this.pos += len;
    return len;
  }

  /** Leaves the rest of a rejected message unread. */
  private abandon(end: number, v: Violation): Violation {
    this.pos = end;
    return v;
  }

  private stringViolation(n: number, name: string): Violation | undefined {
    if (n <= this.limits.maxAttributeValueBytes) return undefined;
    return { reason: 'value_too_large', at: `.${name}`, problem: `is ${n} bytes, over the ${this.limits.maxAttributeValueBytes}-byte limit (OLP_LIMITS_MAX_ATTRIBUTE_VALUE_BYTES)` };
  }


  private reject(v: Violation, where: string, records: number): void {
    // A part carrying no record rejects nothing: the message names the first rejection that counts.
    if (records === 0) return;
    if (!this.message) this.message = `${where}${v.at} ${v.problem}`;
    this.reasons[v.reason] = (this.reasons[v.reason] ?? 0) + records;
  }


  /** Records of the ResourceLogs whose content runs from `start` to `end`; pos is left unchanged. */
  countRecordsIn(start: number, end: number): number {
    const saved = this.pos;
    this.pos = start;
    let n = 0;
    while (this.pos < end) {
      const tag = this.tag(end);
      if (tag >>> 3 === 2 && (tag & 7) === WT_LEN) {
        const len = this.length(end);
        n += this.countScopeRecords(this.pos + len);
      } else {
        this.skip(tag, end);
      }
    }
    this.pos = saved;
    return n;
  }

  /** Records of the ScopeLogs whose content runs from pos to `end`; leaves pos at `end`. */
  private countScopeRecords(end: number): number {
    let n = 0;
    while (this.pos < end) {
      const t = this.tag(end);
      if (t >>> 3 === 2 && (t & 7) === WT_LEN) n++;
      this.skip(t, end);
    }
    return n;
  }
}

/** `v` as seen from the message that contains it under `path`. */
function under(path: string, v: Violation): Violation {
  v.at = path + v.at;
  return v;
}

function tooManyAttributes(limits: RecordLimits): Violation {
  return { reason: 'too_many_attributes', at: '.attributes', problem: `has more than ${limits.maxAttributes} entries (OLP_LIMITS_MAX_ATTRIBUTES)` };
}

/** Reads the whole request against `limits`. Throws MalformedRequest when it cannot be read. */
export function readRequest(bytes: Uint8Array, limits: RecordLimits): WireReport {
  const reader = new Reader(bytes, limits);
  reader.request();
  const message = reader.rejected === 0 ? '' : `${reader.rejected} log record${reader.rejected > 1 ? 's' : ''} rejected; first: ${reader.message}`;
  return { records: reader.records, rejected: reader.rejected, reasons: reader.reasons, message, cuts: reader.cuts };
}

/**
 * Log records in the request, from its structure down to the records (their content, and
 * resources and scopes, are skipped by length): what the event-loop thread needs to admit a
 * request and reserve queue room before a thread reads it in full. Throws MalformedRequest for
 * bytes malformed at the levels walked.
 */
export function countRequestRecords(bytes: Uint8Array): number {
  const reader = new Reader(bytes, UNLIMITED);
  const end = bytes.length;
  let n = 0;
  while (reader.pos < end) {
    const tag = reader.tag(end);
    if (tag >>> 3 === 1 && (tag & 7) === WT_LEN) {
      const len = reader.length(end);
      n += reader.countRecordsIn(reader.pos, reader.pos + len);
      reader.pos += len;
    } else {
      reader.skip(tag, end);
    }
  }
  return n;
}

const UNLIMITED: RecordLimits = {
  maxBodyBytes: Infinity,
  maxAttributes: Infinity,
  maxAttributeKeyBytes: Infinity,
  maxAttributeValueBytes: Infinity,
  maxDepth: Infinity,
  maxCollectionLength: Infinity,
};

/**
 * The request without the fields in `cuts` (whole, non-overlapping, sorted fields at any level):
 * every enclosing length prefix is rewritten; all other bytes, unknown fields included, are
 * copied as they are.
 */
export function removeFields(bytes: Uint8Array, cuts: readonly Range[]): Uint8Array {
  if (cuts.length === 0) return bytes;
  const out = new Uint8Array(bytes.length);
  const written = new Cutter(bytes, cuts, out).message(0, bytes.length);
  // A small remainder of a large request gets a buffer of its own: a view would keep the whole request alive in a queue.
  return written < bytes.length / 2 ? out.slice(0, written) : out.subarray(0, written);
}

/**
 * Copies a message, descending into the length-delimited fields that contain a cut (only those
 * are rewritten, so only the levels above a cut are parsed).
 */
class Cutter {
  private w = 0;

  constructor(
    private readonly b: Uint8Array,
    private readonly cuts: readonly Range[],
    private readonly out: Uint8Array,
    /** The next cut to apply: cuts are shared by every level, never copied (linear in their number). */
    private k = 0,
  ) {}

  /** Writes the content of [start, end) with the cuts inside it removed; returns the write position. */
  message(start: number, end: number): number {
    const r = new Reader(this.b, UNLIMITED);
    r.pos = start;
    while (r.pos < end) {
      const fieldStart = r.pos;
      const cut = this.cuts[this.k];
      if (cut && cut[0] === fieldStart) {
        this.k++;
        r.pos = cut[1];
        continue;
      }
      const tag = r.tag(end);
      const tagEnd = r.pos;
      if ((tag & 7) === WT_LEN) {
        const len = r.length(end);
        const contentStart = r.pos;
        const contentEnd = contentStart + len;
        if (cut && cut[0] < contentEnd) {
          // A cut lies inside: the content is written to scratch first, its new length before it.
          const inner = new Cutter(this.b, this.cuts, new Uint8Array(len), this.k);
          const innerLen = inner.message(contentStart, contentEnd);
          this.k = inner.k;
          this.copy(fieldStart, tagEnd);
          this.writeVarint(innerLen);
          this.out.set(inner.out.subarray(0, innerLen), this.w);
          this.w += innerLen;
          r.pos = contentEnd;
          continue;
        }
        r.pos = contentEnd;
      } else {
        r.skip(tag, end);
      }
      this.copy(fieldStart, r.pos);
    }
    return this.w;
  }

  private copy(from: number, to: number): void {
    this.out.set(this.b.subarray(from, to), this.w);
    this.w += to - from;
  }

  private writeVarint(n: number): void {
    while (n >= 0x80) {
      this.out[this.w++] = (n & 0x7f) | 0x80;
      n = Math.floor(n / 128);
    }
    this.out[this.w++] = n;
  }
}
