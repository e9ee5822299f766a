/**
 * `header`: the "timestamp level [thread] logger: message" line that log4j, logback, Spring
 * Boot, Python logging and many others write by default:
 *
 *   2015-10-18 18:01:47,978 INFO [main] org.apache.hadoop.Foo: message          (log4j)
 *   2024-01-01T10:00:00.123Z WARN  [pool-1-thread-2] c.e.Svc - message         (logback)
 *   10:00:00.123 [main] INFO  c.e.Svc - message                                (logback default)
 *   2024-01-01T10:00:00.123+01:00  INFO 4242 --- [app] [  main] c.e.Svc  : message  (Spring Boot)
 *   081109 203615 148 INFO dfs.DataNode: message                              (HDFS: pid before level)
 *   2024-01-01 10:00:00,123 - name - ERROR - message                          (Python)
 *   [2024-01-01 10:00:00,123] ERROR in app: message                           (Flask)
 *   WARNING:root:message                                                      (Python basicConfig)
 *   2009/11/10 23:00:00 message                                               (Go log: no level)
 *
 * The timestamp is whatever the configured time layout (default auto) recognises at the start
 * of the line, optionally in brackets. Then, in order and all optional except as noted: up to
 * three `[thread]` / pid tokens, the level (a known level word, bare, bracketed or with a
 * colon), `[thread]` / pid / `---` tokens, the logger (a token ending in `:`, or followed by
 * ` - ` or ` : `), and the message. Without a level word among those tokens the rest of the
 * line after the timestamp is the message. A line starting with a level word needs no
 * timestamp.
 *
 * Fields: timestamp, level, thread, pid (int), logger, message.
 *
 * Ambiguity: a message whose first word ends in a colon ("Starting: x") after a level with no
 * logger reads that word as the logger.
 */
import type { KeyValue } from '../records/types';
import type { TimestampParser } from './timestamp';
import { setField, trimmedEnd, type LineParser, type WellKnownFields } from './types';

const WORDS = [
  'trace', 'debug', 'info', 'notice', 'warn', 'warning', 'error', 'err', 'critical', 'crit', 'fatal', 'severe',
  'fine', 'finer', 'finest', 'config', 'alert', 'emerg', 'emergency', 'panic', 'dpanic', 'verbose',
  'trc', 'dbg', 'inf', 'wrn', 'eror', 'erro', 'ftl',
];
/** Exact-case variants (upper, lower, capitalised): one Set lookup per token, no case folding. */
const LEVEL_WORDS: ReadonlySet<string> = new Set(WORDS.flatMap((w) => [w, w.toUpperCase(), w[0]!.toUpperCase() + w.slice(1)]));

const MAX_PRE_TOKENS = 3;
const MAX_POST_TOKENS = 4;
const MAX_BRACKET = 256;
const NO_MATCH = 'no_match';

export const HEADER_FIELDS: WellKnownFields = { time: ['timestamp'], level: ['level'], message: ['message'] };

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9;
}

export class HeaderParser implements LineParser {
  // Scratch for the current line.
  private s = '';
  private n = 0;
  private thread: string | undefined;
  private pid: string | undefined;

  constructor(private readonly time: TimestampParser) {}

  parse(s: string, out: KeyValue[]): string | undefined {
    this.s = s;
    this.n = trimmedEnd(s);
    this.thread = undefined;
    this.pid = undefined;
    const bracketed = s.charCodeAt(0) === 91;
    const tsStart = bracketed ? 1 : 0;
    const tsEnd = this.time.scan(s, tsStart);
    if (tsEnd <= tsStart || tsEnd > this.n) return this.levelFirst(out);
    let i = tsEnd;
    if (bracketed) {
      if (s.charCodeAt(i) !== 93) return NO_MATCH;
      i++;
    }
    if (i < this.n && !isSpace(s.charCodeAt(i))) return NO_MATCH;
    setField(out, 'timestamp', { stringValue: s.slice(tsStart, tsEnd) });
    i = this.spaces(i);
    if (s.charCodeAt(i) === 45 && isSpace(s.charCodeAt(i + 1))) return this.python(i + 2, out);
    const afterTs = i;
    // Thread / pid tokens before the level (logback's default pattern, HDFS).
    for (let t = 0; t < MAX_PRE_TOKENS && i < this.n; t++) {
      const next = this.threadOrPid(i);
      if (next < 0) break;
      i = next;
    }
    const levelEnd = this.level(i, out);
    if (levelEnd < 0) {
      this.thread = undefined;
      this.pid = undefined;
      setField(out, 'message', { stringValue: s.slice(afterTs, this.n) });
      return undefined;
    }
    return this.afterLevel(levelEnd, out);
  }

  /** Lines without timestamp: `LEVEL:logger:message` (Python basicConfig) or a level word first. */
  private levelFirst(out: KeyValue[]): string | undefined {
    const s = this.s;
    const colon = s.indexOf(':');
    if (colon > 0 && colon < 16 && LEVEL_WORDS.has(s.slice(0, colon)) && s.charCodeAt(colon + 1) !== 32) {
      setField(out, 'level', { stringValue: s.slice(0, colon) });
      const second = s.indexOf(':', colon + 1);
      if (second > colon + 1 && s.lastIndexOf(' ', second) < colon) {
        setField(out, 'logger', { stringValue: s.slice(colon + 1, second) });
        setField(out, 'message', { stringValue: s.slice(second + 1, this.n) });
      } else {
        setField(out, 'message', { stringValue: s.slice(colon + 1, this.n) });
      }
      return undefined;
    }
    const end = this.level(0, out);
    return end < 0 ? NO_MATCH : this.afterLevel(end, out);
  }

  /** `name - LEVEL - message` or `LEVEL - message`, after the timestamp's ` - `. */
  private python(i: number, out: KeyValue[]): string | undefined {
    const s = this.s;
    const a = s.indexOf(' - ', i);
    if (a < 0 || a >= this.n) return NO_MATCH;
    const first = s.slice(i, a).trim();
    if (LEVEL_WORDS.has(first)) {
      setField(out, 'level', { stringValue: first });
      setField(out, 'message', { stringValue: s.slice(a + 3, this.n) });
      return undefined;
    }
    const b = s.indexOf(' - ', a + 3);
    const second = b < 0 ? '' : s.slice(a + 3, b).trim();
    if (!LEVEL_WORDS.has(second)) return NO_MATCH;
    setField(out, 'level', { stringValue: second });
    setField(out, 'logger', { stringValue: first });
    setField(out, 'message', { stringValue: s.slice(b + 3, this.n) });
    return undefined;
  }

  /** A level word at i (bare, `[LEVEL]` or `LEVEL:`): sets the field and returns the index after it and its spaces, else -1. */
  private level(i: number, out: KeyValue[]): number {
    const s = this.s;
    let a = i;
    let end = i;
    while (end < this.n && !isSpace(s.charCodeAt(end))) end++;
    let b = end;
    if (s.charCodeAt(a) === 91 && s.charCodeAt(b - 1) === 93) {
      a++;
      b--;
    } else if (s.charCodeAt(b - 1) === 58) {
      b--;
    }
    if (b - a < 3 || b - a > 9) return -1;
    const word = s.slice(a, b);
    if (!LEVEL_WORDS.has(word)) return -1;
    setField(out, 'level', { stringValue: word });
    return this.spaces(end);
  }

  private afterLevel(i: number, out: KeyValue[]): string | undefined {
    const s = this.s;
    const n = this.n;
    for (let t = 0; t < MAX_POST_TOKENS && i < n; t++) {
      if (s.startsWith('--- ', i)) {
        i = this.spaces(i + 4);
        continue;
      }
      const next = this.threadOrPid(i);
      if (next < 0) break;
      i = next;
    }
    if (this.thread !== undefined) setField(out, 'thread', { stringValue: this.thread });
    if (this.pid !== undefined) setField(out, 'pid', { intValue: BigInt(this.pid) });
    // Logger: `name:` or `name - ` / `name : ` (padded, as Spring Boot writes it).
    let end = i;
    while (end < n && !isSpace(s.charCodeAt(end))) end++;
    let messageStart = i;
    if (end - i > 1 && s.charCodeAt(end - 1) === 58 && !isDigit(s.charCodeAt(i))) {
      setField(out, 'logger', { stringValue: s.slice(i, end - 1) });
      messageStart = this.spaces(end);
    } else if (end > i && end < n) {
      const sep = this.spaces(end);
      const c = s.charCodeAt(sep);
      if ((c === 45 || c === 58) && (sep + 1 >= n || isSpace(s.charCodeAt(sep + 1))) && !isDigit(s.charCodeAt(i))) {
        setField(out, 'logger', { stringValue: s.slice(i, end) });
        messageStart = this.spaces(sep + 1);
      }
    }
    setField(out, 'message', { stringValue: s.slice(messageStart, n) });
    return undefined;
  }

  /** A `[thread]` group or a pid (digits) followed by whitespace: records it, returns the index after its spaces, else -1. */
  private threadOrPid(i: number): number {
    const s = this.s;
    const c = s.charCodeAt(i);
    if (c === 91) {
      // Nested brackets are part of the thread name (`[Thread-1 [x]]`).
      let depth = 0;
      const limit = Math.min(this.n, i + MAX_BRACKET);
      for (let j = i; j < limit; j++) {
        const d = s.charCodeAt(j);
        if (d === 91) depth++;
        else if (d === 93 && --depth === 0) {
          const name = s.slice(i + 1, j).trim();
          if (LEVEL_WORDS.has(name)) return -1;
          if (j + 1 < this.n && !isSpace(s.charCodeAt(j + 1))) return -1;
          this.thread = name;
          return this.spaces(j + 1);
        }
      }
      return -1;
    }
    if (!isDigit(c)) return -1;
    let j = i;
    while (j < this.n && isDigit(s.charCodeAt(j))) j++;
    if (j - i > 18 || j >= this.n || !isSpace(s.charCodeAt(j))) return -1;
    this.pid = s.slice(i, j);
    return this.spaces(j);
  }

  private spaces(i: number): number {
    while (i < this.n && isSpace(this.s.charCodeAt(i))) i++;
    return i;
  }
}
