/**
 * A byte-level pass over an OTLP/JSON request before JSON.parse: counts values, log records
 * (elements of `logRecords` / `log_records` arrays) and nesting depth, and stops at the first
 * limit passed. JSON.parse and the conversion after it materialise every value on the event-loop
 * thread, so a 16 MiB body of `{}` records or of numbers in an unknown field otherwise costs
 * seconds and gigabytes before any record limit is looked at. Malformed JSON is left to the
 * parser to explain; the scan only counts.
 */

export interface JsonShapeLimits {
  readonly maxRecords: number;
  readonly maxValues: number;
  readonly maxDepth: number;
}

export interface JsonShapeExcess {
  readonly reason: 'json_too_many_records' | 'json_too_many_values' | 'json_too_deep';
  readonly message: string;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

const enum Container {
  Object = 0,
  Array = 1,
  Records = 2,
}

const RECORDS_KEYS = ['logRecords', 'log_records'].map((k) => Buffer.from(k));

function isWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function isRecordsKey(bytes: Uint8Array, start: number, end: number): boolean {
  for (const key of RECORDS_KEYS) {
    if (end - start !== key.length) continue;
    let same = true;
    for (let k = 0; k < key.length && same; k++) same = bytes[start + k] === key[k];
    if (same) return true;
  }
  return false;
}

/** The first limit `bytes` passes, or undefined. */
export function scanJsonShape(bytes: Uint8Array, limits: JsonShapeLimits): JsonShapeExcess | undefined {
  const stack = new Uint8Array(limits.maxDepth + 1);
  let depth = 0;
  let values = 0;
  let records = 0;
  let expectKey = false;
  let lastKeyIsRecords = false;
  const n = bytes.length;
  // One value starts: counted, and as a record when it is an element of a records array.
  const value = (): JsonShapeExcess | undefined => {
    if (++values > limits.maxValues) {
      return { reason: 'json_too_many_values', message: `request has more than ${limits.maxValues} JSON values (OLP_LIMITS_MAX_JSON_VALUES)` };
    }
    if (depth > 0 && stack[depth - 1] === Container.Records && ++records > limits.maxRecords) {
      return { reason: 'json_too_many_records', message: `request has more than ${limits.maxRecords} log records (OLP_LIMITS_MAX_RECORDS); split it` };
    }
    return undefined;
  };
  const open = (kind: Container): JsonShapeExcess | undefined => {
    if (depth >= limits.maxDepth) return { reason: 'json_too_deep', message: `request nests JSON deeper than ${limits.maxDepth} levels` };
    stack[depth++] = kind;
    return undefined;
  };
  let i = 0;
  while (i < n) {
    const c = bytes[i]!;
    if (isWhitespace(c) || c === COLON) {
      i++;
      continue;
    }
    let excess: JsonShapeExcess | undefined;
    if (c === QUOTE) {
      let j = i + 1;
      while (j < n) {
        const d = bytes[j]!;
        if (d === BACKSLASH) j += 2;
        else if (d === QUOTE) break;
        else j++;
      }
      if (expectKey) {
        lastKeyIsRecords = isRecordsKey(bytes, i + 1, j);
        expectKey = false;
      } else {
        excess = value();
      }
      i = j + 1;
    } else if (c === OPEN_OBJECT) {
      excess = value() ?? open(Container.Object);
      expectKey = true;
      i++;
    } else if (c === OPEN_ARRAY) {
      const records = depth > 0 && stack[depth - 1] === Container.Object && lastKeyIsRecords;
      excess = value() ?? open(records ? Container.Records : Container.Array);
      expectKey = false;
      i++;
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      if (depth > 0) depth--;
      expectKey = false;
      i++;
    } else if (c === COMMA) {
      expectKey = depth > 0 && stack[depth - 1] === Container.Object;
      i++;
    } else {
      // A number, true, false or null: one value up to the next delimiter.
      excess = value();
      i++;
      while (i < n) {
        const d = bytes[i]!;
        if (d === COMMA || d === CLOSE_ARRAY || d === CLOSE_OBJECT || isWhitespace(d)) break;
        i++;
      }
    }
    if (excess) return excess;
  }
  return undefined;
}

/** Depth allowed for a request whose AnyValues may nest `maxValueDepth` deep: each level is four JSON levels, plus the envelope. */
export function jsonDepthFor(maxValueDepth: number): number {
  return 4 * maxValueDepth + 16;
}
