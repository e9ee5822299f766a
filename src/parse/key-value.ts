/**
 * `logfmt` and `keyvalue`: `key=value` pairs into string fields.
 *
 * logfmt (as go-logfmt / Go slog's text handler write it): pairs separated by whitespace;
 * a value is bare (up to the next whitespace) or double-quoted with Go escapes (\" \\ \n \r
 * \t \a \b \f \v \uXXXX; others are kept as written); a key without `=` is a flag and
 * becomes `true`. A line without any `key=value` pair, or with a stray quote or an
 * unterminated quoted value, is not logfmt.
 *
 * keyvalue: pairs found in free text, with a configurable pair delimiter (default: any run of
 * whitespace) and key/value delimiter (default `=`); values may be quoted with `"` or `'`
 * (backslash escapes the quote); tokens without the key/value delimiter are skipped. A line
 * without any pair is an error.
 */
import type { KeyValue } from '../records/types';
import { FieldWriter, trimmedEnd, type LineParser } from './types';

const QUOTE = 34;
const APOSTROPHE = 39;
const BACKSLASH = 92;
const EQUALS = 61;
const HEX4 = /^[0-9a-fA-F]{4}$/;

/**
 * Reads a quoted value starting after the opening quote at `start`; returns the value and
 * sets `end` past the closing quote, or returns undefined when it is not closed before `n`.
 * Go-style escapes when `goEscapes`, else a backslash only escapes the quote and itself.
 */
export class QuotedReader {
  end = 0;

  read(s: string, start: number, n: number, quote: number, goEscapes: boolean): string | undefined {
    let i = start;
    for (;;) {
      if (i >= n) return undefined;
      const c = s.charCodeAt(i);
      if (c === quote) {
        this.end = i + 1;
        return s.slice(start, i);
      }
      if (c === BACKSLASH) break;
      i++;
    }
    let out = s.slice(start, i);
    let run = i;
    for (;;) {
      if (i >= n) return undefined;
      const c = s.charCodeAt(i);
      if (c === quote) {
        this.end = i + 1;
        return out + s.slice(run, i);
      }
      if (c !== BACKSLASH || i + 1 >= n) {
        i++;
        continue;
      }
      out += s.slice(run, i);
      const e = s.charCodeAt(i + 1);
      let skip = 2;
      if (e === quote || e === BACKSLASH) out += s[i + 1];
      else if (!goEscapes) out += s.slice(i, i + 2);
      else if (e === 110) out += '\n';
      else if (e === 114) out += '\r';
      else if (e === 116) out += '\t';
      else if (e === 97) out += '\x07';
      else if (e === 98) out += '\b';
      else if (e === 102) out += '\f';
      else if (e === 118) out += '\v';
      else if (e === 117 && HEX4.test(s.slice(i + 2, i + 6))) {
        out += String.fromCharCode(parseInt(s.slice(i + 2, i + 6), 16));
        skip = 6;
      } else out += s.slice(i, i + 2);
      i += skip;
      run = i;
    }
  }
}

export class LogfmtParser implements LineParser {
  private readonly quoted = new QuotedReader();
  private readonly writer = new FieldWriter();

  parse(s: string, out: KeyValue[]): string | undefined {
    this.writer.reset(out);
    const n = trimmedEnd(s);
    let i = 0;
    let pairs = 0;
    for (;;) {
      while (i < n && s.charCodeAt(i) <= 32) i++;
      if (i >= n) break;
      const keyStart = i;
      let c = 0;
      while (i < n && (c = s.charCodeAt(i)) > 32 && c !== EQUALS && c !== QUOTE) i++;
      if (i === keyStart) return 'invalid_logfmt';
      const key = s.slice(keyStart, i);
      if (i < n && c === EQUALS) {
        i++;
        let value: string;
        if (s.charCodeAt(i) === QUOTE) {
          const v = this.quoted.read(s, i + 1, n, QUOTE, true);
          if (v === undefined) return 'unterminated_quote';
          value = v;
          i = this.quoted.end;
          if (i < n && s.charCodeAt(i) > 32) return 'invalid_logfmt';
        } else {
          const valueStart = i;
          while (i < n && s.charCodeAt(i) > 32) i++;
          value = s.slice(valueStart, i);
        }
        this.writer.set(key, { stringValue: value });
        pairs++;
      } else if (i < n && c === QUOTE) {
        return 'invalid_logfmt';
      } else {
        this.writer.set(key, { boolValue: true });
      }
    }
    return pairs === 0 ? 'no_pairs' : undefined;
  }
}

export class KeyValueParser implements LineParser {
  private readonly quoted = new QuotedReader();
  private readonly writer = new FieldWriter();
  /** Pairs split at runs of whitespace (the pair delimiter is blank). */
  private readonly whitespace: boolean;
  /** The pair delimiter's code when it is one character, else -1. */
  private readonly pairCode: number;
  private readonly kvCode: number;

  /** `kvDelimiter` must be non-blank; a blank `pairDelimiter` means whitespace. */
  constructor(
    private readonly pairDelimiter: string,
    private readonly kvDelimiter: string,
  ) {
    this.whitespace = pairDelimiter.trim() === '';
    this.pairCode = pairDelimiter.length === 1 ? pairDelimiter.charCodeAt(0) : -1;
    this.kvCode = kvDelimiter.length === 1 ? kvDelimiter.charCodeAt(0) : -1;
  }

  private atPair(s: string, i: number): boolean {
    if (this.whitespace) return s.charCodeAt(i) <= 32;
    return this.pairCode >= 0 ? s.charCodeAt(i) === this.pairCode : s.startsWith(this.pairDelimiter, i);
  }

  private atKv(s: string, i: number): boolean {
    return this.kvCode >= 0 ? s.charCodeAt(i) === this.kvCode : s.startsWith(this.kvDelimiter, i);
  }

  parse(s: string, out: KeyValue[]): string | undefined {
    this.writer.reset(out);
    const n = trimmedEnd(s);
    const pairLen = this.whitespace ? 1 : this.pairDelimiter.length;
    const kvLen = this.kvDelimiter.length;
    let i = 0;
    let pairs = 0;
    while (i < n) {
      for (;;) {
        if (i < n && this.atPair(s, i)) i += pairLen;
        else if (i < n && s.charCodeAt(i) <= 32) i++;
        else break;
      }
      if (i >= n) break;
      const keyStart = i;
      while (i < n && !this.atKv(s, i) && !this.atPair(s, i)) i++;
      if (i >= n || !this.atKv(s, i)) continue; // a token without a pair: free text
      const key = s.slice(keyStart, i).trim();
      i += kvLen;
      if (!this.whitespace) while (i < n && s.charCodeAt(i) <= 32 && !this.atPair(s, i)) i++;
      let value: string;
      const q = s.charCodeAt(i);
      const v = i < n && (q === QUOTE || q === APOSTROPHE) ? this.quoted.read(s, i + 1, n, q, false) : undefined;
      if (v !== undefined) {
        value = v;
        i = this.quoted.end;
        // Anything between the closing quote and the next delimiter is not part of a pair.
        while (i < n && !this.atPair(s, i)) i++;
      } else {
        const valueStart = i;
        while (i < n && !this.atPair(s, i)) i++;
        value = this.whitespace ? s.slice(valueStart, i) : s.slice(valueStart, i).trim();
      }
      if (key === '') continue;
      this.writer.set(key, { stringValue: value });
      pairs++;
    }
    return pairs === 0 ? 'no_pairs' : undefined;
  }
}
