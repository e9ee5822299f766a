/**
 * `json`: a JSON object into fields, straight to AnyValues in one pass (no JSON.parse + walk:
 * a reviver with source text was 3× slower, and JSON.parse alone loses big integers and
 * `1.0` vs `1`). Integers (no fraction, no exponent) become intValue, exact to 64 bits;
 * larger integers and other numbers become doubleValue; null becomes an empty AnyValue;
 * objects become kvlists (duplicate keys: the last wins, as in JSON.parse) and arrays
 * arrayValues. RFC 8259 syntax, except that raw control characters inside strings are kept
 * as they are (JSON.parse rejects them; checking would cost a pass over every string):
 * anything else is `invalid_json`.
 */
import type { AnyValue, KeyValue } from '../records/types';
import { FieldWriter, type LineParser } from './types';

const MAX_DEPTH = 64;
const INT64_MAX = '9223372036854775807';
const INT64_MIN_ABS = '9223372036854775808';

const HEX4 = /^[0-9a-fA-F]{4}$/;
const QUOTE = 34;
const BACKSLASH = 92;

export class JsonParser implements LineParser {
  // Scratch state of the current parse: one instance per processor.
  private s = '';
  private i = 0;
  private depth = 0;
  private readonly writers: FieldWriter[] = [];
  /** Index of the next backslash at or after the current string (the text's length when there is none; -1: not looked for yet). */
  private backslash = -1;

  parse(text: string, out: KeyValue[]): string | undefined {
    this.s = text;
    this.i = 0;
    this.depth = 0;
    this.backslash = -1;
    this.ws();
    if (text.charCodeAt(this.i) !== 123) {
      // Tell a JSON scalar or array (valid, but no fields) from text that is not JSON.
      const v = this.value();
      this.ws();
      return v !== undefined && this.i === text.length ? 'json_not_object' : 'invalid_json';
    }
    if (!this.object(out)) return this.depth > MAX_DEPTH ? 'json_too_deep' : 'invalid_json';
    this.ws();
    return this.i === text.length ? undefined : 'invalid_json';
  }

  private ws(): void {
    const s = this.s;
    let i = this.i;
    for (;;) {
      const c = s.charCodeAt(i);
      if (c === 32 || c === 10 || c === 13 || c === 9) i++;
      else break;
    }
    this.i = i;
  }

  /** At `{`: reads members into `fields`. */
  private object(fields: KeyValue[]): boolean {
    if (++this.depth > MAX_DEPTH) return false;
    this.i++;
    this.ws();
    const s = this.s;
    if (s.charCodeAt(this.i) === 125) {
      this.i++;
      this.depth--;
      return true;
    }
    // One writer per nesting level, made once per parser and reused.
    const writer = this.writers[this.depth] ?? (this.writers[this.depth] = new FieldWriter());
    writer.reset(fields);
    for (;;) {
      if (s.charCodeAt(this.i) !== QUOTE) return false;
      const key = this.string();
      if (key === undefined) return false;
      this.ws();
      if (s.charCodeAt(this.i) !== 58) return false;
      this.i++;
      this.ws();
      const v = this.value();
      if (v === undefined) return false;
      writer.set(key, v);
      this.ws();
      const c = s.charCodeAt(this.i++);
      if (c === 125) break;
      if (c !== 44) return false;
      this.ws();
    }
    this.depth--;
    return true;
  }

  private value(): AnyValue | undefined {
    const s = this.s;
    const c = s.charCodeAt(this.i);
    switch (c) {
      case QUOTE: {
        const str = this.string();
        return str === undefined ? undefined : { stringValue: str };
      }
      case 123: {
        const values: KeyValue[] = [];
        return this.object(values) ? { kvlistValue: { values } } : undefined;
      }
      case 91:
        return this.array();
      case 116:
        return this.literal('true') ? { boolValue: true } : undefined;
      case 102:
        return this.literal('false') ? { boolValue: false } : undefined;
      case 110:
        return this.literal('null') ? {} : undefined;
      default:
        return c === 45 || (c >= 48 && c <= 57) ? this.number() : undefined;
    }
  }

  private literal(word: string): boolean {
    if (!this.s.startsWith(word, this.i)) return false;
    this.i += word.length;
    return true;
  }

  private array(): AnyValue | undefined {
    if (++this.depth > MAX_DEPTH) return undefined;
    const s = this.s;
    this.i++;
    this.ws();
    const values: AnyValue[] = [];
    if (s.charCodeAt(this.i) === 93) {
      this.i++;
    } else {
      for (;;) {
        const v = this.value();
        if (v === undefined) return undefined;
        values.push(v);
        this.ws();
        const c = s.charCodeAt(this.i++);
        if (c === 93) break;
        if (c !== 44) return undefined;
        this.ws();
      }
    }
    this.depth--;
    return { arrayValue: { values } };
  }

  /** At `"`: the unescaped string, or undefined. */
  private string(): string | undefined {
    const s = this.s;
    const start = this.i + 1;
    const close = s.indexOf('"', start);
    if (close < 0) return undefined;
    // Fast path: no backslash before the closing quote, one slice. The next backslash is found
    // once per line, not once per string.
    if (this.backslash < start) {
      const b = s.indexOf('\\', start);
      this.backslash = b < 0 ? s.length : b;
    }
    if (this.backslash > close) {
      this.i = close + 1;
      return s.slice(start, close);
    }
    const n = s.length;
    let i = this.backslash;
    let out = s.slice(start, i);
    let run = i;
    for (;;) {
      if (i >= n) return undefined;
      const c = s.charCodeAt(i);
      if (c === QUOTE) {
        this.i = i + 1;
        return out + s.slice(run, i);
      }
      if (c !== BACKSLASH) {
        i++;
        continue;
      }
      out += s.slice(run, i);
      const e = s.charCodeAt(i + 1);
      switch (e) {
        case QUOTE: out += '"'; break;
        case BACKSLASH: out += '\\'; break;
        case 47: out += '/'; break;
        case 98: out += '\b'; break;
        case 102: out += '\f'; break;
        case 110: out += '\n'; break;
        case 114: out += '\r'; break;
        case 116: out += '\t'; break;
        case 117: {
          const hex = s.slice(i + 2, i + 6);
          if (!HEX4.test(hex)) return undefined;
          // Lone surrogates stay as they are, as JSON.parse leaves them.
          out += String.fromCharCode(parseInt(hex, 16));
          i += 4;
          break;
        }
        default:
          return undefined;
      }
      i += 2;
      run = i;
    }
  }

  private number(): AnyValue | undefined {
    const s = this.s;
    const start = this.i;
    let i = start;
    let negative = false;
    if (s.charCodeAt(i) === 45) {
      negative = true;
      i++;
    }
    const intStart = i;
    // The integer part's value, exact while it has at most 15 digits (< 2^53).
    let v = 0;
    let c = s.charCodeAt(i);
    if (c === 48) {
      i++;
    } else if (c >= 49 && c <= 57) {
      while ((c = s.charCodeAt(i)) >= 48 && c <= 57) {
        v = v * 10 + (c - 48);
        i++;
      }
    } else {
      return undefined;
    }
    const intEnd = i;
    let integer = true;
    if (s.charCodeAt(i) === 46) {
      integer = false;
      i++;
      const f = i;
      while ((c = s.charCodeAt(i)) >= 48 && c <= 57) i++;
      if (i === f) return undefined;
    }
    c = s.charCodeAt(i);
    if (c === 101 || c === 69) {
      integer = false;
      i++;
      c = s.charCodeAt(i);
      if (c === 43 || c === 45) i++;
      const e = i;
      while ((c = s.charCodeAt(i)) >= 48 && c <= 57) i++;
      if (i === e) return undefined;
    }
    this.i = i;
    if (!integer) return { doubleValue: Number(s.slice(start, i)) };
    const digits = intEnd - intStart;
    if (digits <= 15) return { intValue: BigInt(negative ? -v : v) };
    // Beyond 2^53 the digits themselves are the value: exact when it fits int64, a double otherwise.
    const text = s.slice(start, i);
    if (digits < 19 || (digits === 19 && s.slice(intStart, intEnd) <= (negative ? INT64_MIN_ABS : INT64_MAX))) {
      return { intValue: BigInt(text) };
    }
    return { doubleValue: Number(text) };
  }
}
