/**
 * Timestamp extraction: turns a parsed time field into exact Unix nanoseconds (a bigint; never
 * through a float). Layouts:
 *
 * - `auto`: RFC 3339 / ISO 8601 (`2024-01-02T03:04:05.123456789+01:00`, `T` or space,
 *   `.` or `,` before a fraction of any length, `Z`/`±hh:mm`/`±hhmm`/`±hh`, optional seconds,
 *   date alone, `/` date separators, basic `20240102T030405Z`); epoch seconds, ms, µs or ns
 *   (a number, with an optional fraction; the unit follows from the integer digits: ≤ 11 s,
 *   12–14 ms, 15–17 µs, more ns); syslog `Mmm dd HH:mm:ss[.frac]`; CLF
 *   `dd/Mmm/yyyy:HH:mm:ss ±hhmm`; `yyMMdd HHmmss` (Loghub HDFS); klog `MMdd HH:mm:ss.uuuuuu`;
 *   a time of day `HH:mm:ss[.frac]`.
 * - `epoch`, `epoch_s`, `epoch_ms`, `epoch_us`, `epoch_ns`: a number in that unit (fraction allowed).
 * - an explicit layout: strftime (when it contains `%`) or Java-style letters; see compileLayout.
 *
 * A time without offset is read in the configured zone. A time without a year gets the year
 * that puts it at most 7 days after the reference time (the record's observed time, else now),
 * and so within the 358 days before it; a time of day without a date gets the date that puts
 * it at most 1 hour after the reference. Times before 1970 or past 2554 (the range of unsigned
 * 64-bit nanoseconds) are unparseable.
 */
import type { AnyValue } from '../records/types';
import { anyValueKind } from '../records/values';
import type { TimeZone } from './time-zone';

const NANOS_PER_SECOND = 1_000_000_000n;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** The latest instant unsigned 64-bit nanoseconds hold: 18446744073 s + 709551615 ns. */
const MAX_SECONDS = 18_446_744_073;
const MAX_SECONDS_NANOS = 709_551_615;
const MAX_U64 = '18446744073709551615';
/** How far after the reference a time without year / without date may lie. */
const YEAR_AHEAD_MS = 7 * DAY_MS;
const DATE_AHEAD_MS = HOUR_MS;

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const MONTH_NAMES = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
/** 10^n, for scaling fractions to nanoseconds. */
const POW10 = [1, 10, 100, 1000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000, 1_000_000_000];

// Step kinds of a compiled explicit layout.
const LIT = 0;
const SPACE = 1;
const YEAR4 = 2;
const YEAR2 = 3;
const MONTH = 4;
const MONTH_ABBR = 5;
const MONTH_NAME = 6;
const DAY = 7;
const HOUR = 8;
const HOUR12 = 9;
const MINUTE = 10;
const SECOND = 11;
const FRAC = 12;
const AMPM = 13;
const OFFSET = 14;
const ZONE_NAME = 15;
const WEEKDAY = 16;
/** Milliseconds as an integer (1–3 digits, unpadded): `%-L`. */
const MILLIS = 17;

interface Step {
  readonly kind: number;
  /** Fewest and most digits for numeric steps. */
  readonly min: number;
  readonly max: number;
  /** Text of a literal step. */
  readonly text: string;
}

/** Epoch units as the power of ten of nanoseconds per unit; AUTO picks one by magnitude. */
const EPOCH_AUTO = -1;
const EPOCH_LAYOUTS: Readonly<Record<string, number>> = { epoch: EPOCH_AUTO, epoch_s: 9, epoch_ms: 6, epoch_us: 3, epoch_ns: 0 };

/**
 * What a time without year or date is placed near: the record's observed time (zero when
 * unset). A record passes itself, so the field is only read for such times.
 */
export interface TimeReference {
  readonly observedTimeUnixNano: bigint;
}

/** The layout names the `time_layout` option accepts besides an explicit layout. */
export const NAMED_LAYOUTS: readonly string[] = ['auto', 'rfc3339', ...Object.keys(EPOCH_LAYOUTS)];

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isLetter(c: number): boolean {
  return (c | 32) >= 97 && (c | 32) <= 122;
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9;
}

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

function daysInMonth(y: number, m: number): number {
  return m === 2 && isLeap(y) ? 29 : DAYS_IN_MONTH[m - 1]!;
}

function step(kind: number, min = 0, max = 0, text = ''): Step {
  return { kind, min, max, text };
}

/**
 * Compiles an explicit layout. With a `%` it is strftime: %Y %y %m %d %e %H %k %I %l %M %S,
 * %f / %N (fraction, any digits), %L (3-digit fraction), %-L (milliseconds as an unpadded
 * integer, 1–3 digits: `:7` is 7 ms), %b %h (Jan), %B (January), %a %A
 * (weekday, skipped), %p (AM/PM), %z (Z, ±hh:mm, ±hhmm, ±hh), %Z (UTC/GMT/Z, other names
 * ignored), %T %F %D %R, %n %t, %%. Otherwise Java-style: yyyy (uuuu), yy, M/MM (1–2 / 2
 * digits), MMM (Jan), MMMM (January), d/dd, H/HH, h/hh (12-hour, with a), m/mm, s/ss,
 * S… (fraction of exactly that many digits, up to 9), a, E… (weekday), Z/X/XX/XXX/x (offset),
 * z (zone name), 'quoted literal'. A space matches one or more spaces or tabs; other
 * characters match themselves. Throws an Error naming the problem.
 */
export function compileLayout(layout: string): Step[] {
  const steps = layout.includes('%') ? compileStrftime(layout) : compileJava(layout);
  const kinds = new Set(steps.map((s) => s.kind));
  const has = (k: number): boolean => kinds.has(k);
  const hasMonth = has(MONTH) || has(MONTH_ABBR) || has(MONTH_NAME);
  if (!hasMonth && !has(HOUR) && !has(HOUR12)) throw new Error(`layout "${layout}" has neither a month nor an hour`);
  if (hasMonth !== has(DAY)) throw new Error(`layout "${layout}" needs both a month and a day`);
  if ((has(YEAR4) || has(YEAR2)) && !hasMonth) throw new Error(`layout "${layout}" has a year but no month and day`);
  if (has(HOUR12) && !has(AMPM)) throw new Error(`layout "${layout}" has a 12-hour field but no AM/PM field`);
  return steps;
}

function compileStrftime(layout: string): Step[] {
  const steps: Step[] = [];
  for (let i = 0; i < layout.length; i++) {
    const c = layout[i]!;
    if (c !== '%') {
      pushLiteral(steps, c);
      continue;
    }
    let d = layout[++i];
    // `%-X`: glibc's "no padding" flag. Numeric fields read 1–2 digits anyway; `%-L` is unpadded milliseconds.
    const unpadded = d === '-';
    if (unpadded) d = layout[++i];
    if (unpadded && d === 'L') {
      steps.push(step(MILLIS, 1, 3));
      continue;
    }
    switch (d) {
      case 'Y': steps.push(step(YEAR4, 4, 4)); break;
      case 'y': steps.push(step(YEAR2, 2, 2)); break;
      case 'm': steps.push(step(MONTH, 1, 2)); break;
      case 'd': case 'e': steps.push(step(DAY, 1, 2)); break;
      case 'H': case 'k': steps.push(step(HOUR, 1, 2)); break;
      case 'I': case 'l': steps.push(step(HOUR12, 1, 2)); break;
      case 'M': steps.push(step(MINUTE, 1, 2)); break;
      case 'S': steps.push(step(SECOND, 1, 2)); break;
      case 'f': case 'N': steps.push(step(FRAC, 1, 1000)); break;
      case 'L': steps.push(step(FRAC, 3, 3)); break;
      case 'b': case 'h': steps.push(step(MONTH_ABBR)); break;
      case 'B': steps.push(step(MONTH_NAME)); break;
      case 'a': case 'A': steps.push(step(WEEKDAY)); break;
      case 'p': steps.push(step(AMPM)); break;
      case 'z': steps.push(step(OFFSET)); break;
      case 'Z': steps.push(step(ZONE_NAME)); break;
      case 'T': steps.push(...compileStrftime('%H:%M:%S')); break;
      case 'F': steps.push(...compileStrftime('%Y-%m-%d')); break;
      case 'D': steps.push(...compileStrftime('%m/%d/%y')); break;
      case 'R': steps.push(...compileStrftime('%H:%M')); break;
      case 'n': case 't': pushLiteral(steps, ' '); break;
      case '%': pushLiteral(steps, '%'); break;
      default:
        throw new Error(d === undefined ? `layout "${layout}" ends with a lone %` : `unsupported strftime directive %${d} in layout "${layout}"`);
    }
  }
  return steps;
}

function compileJava(layout: string): Step[] {
  const steps: Step[] = [];
  let i = 0;
  while (i < layout.length) {
    const c = layout[i]!;
    if (c === "'") {
      // 'literal'; '' is a quote.
      const close = layout.indexOf("'", i + 1);
      if (close < 0) throw new Error(`layout "${layout}" has an unterminated quote`);
      pushLiteral(steps, close === i + 1 ? "'" : layout.slice(i + 1, close));
      i = close + 1;
      continue;
    }
    if (!isLetter(c.charCodeAt(0))) {
      pushLiteral(steps, c);
      i++;
      continue;
    }
    let n = 1;
    while (layout[i + n] === c) n++;
    i += n;
    switch (c) {
      case 'y': case 'u': steps.push(n === 2 ? step(YEAR2, 2, 2) : step(YEAR4, 4, 4)); break;
      case 'M': steps.push(n >= 4 ? step(MONTH_NAME) : n === 3 ? step(MONTH_ABBR) : step(MONTH, n, 2)); break;
      case 'd': steps.push(step(DAY, n, 2)); break;
      case 'H': steps.push(step(HOUR, n, 2)); break;
      case 'h': steps.push(step(HOUR12, n, 2)); break;
      case 'm': steps.push(step(MINUTE, n, 2)); break;
      case 's': steps.push(step(SECOND, n, 2)); break;
      case 'S':
        if (n > 9) throw new Error(`layout "${layout}": a fraction has at most 9 digits (S…S)`);
        steps.push(step(FRAC, n, n));
        break;
      case 'a': steps.push(step(AMPM)); break;
      case 'E': steps.push(step(WEEKDAY)); break;
      case 'Z': case 'X': case 'x': steps.push(step(OFFSET)); break;
      case 'z': steps.push(step(ZONE_NAME)); break;
      default:
        throw new Error(`unsupported layout letter "${c}" in "${layout}" (quote literal text: 'T')`);
    }
    if (n > 2 && 'dHhms'.includes(c)) throw new Error(`layout "${layout}": "${c.repeat(n)}" has too many letters`);
  }
  return steps;
}

function pushLiteral(steps: Step[], text: string): void {
  if (text === ' ') {
    if (steps.at(-1)?.kind !== SPACE) steps.push(step(SPACE));
    return;
  }
  const last = steps.at(-1);
  if (last?.kind === LIT) steps[steps.length - 1] = step(LIT, 0, 0, last.text + text);
  else steps.push(step(LIT, 0, 0, text));
}

/**
 * Parses timestamps with one layout and zone. Keeps scratch state: one instance per processor,
 * never shared between concurrent callers (a processor runs one batch at a time).
 */
export class TimestampParser {
  private readonly steps: readonly Step[] | undefined;
  private readonly epochUnit: number | undefined;
  // Scratch: the text and cursor, and the fields read so far.
  private s = '';
  private pos = 0;
  private year = 0;
  private hasYear = false;
  private month = 1;
  private day = 1;
  private hasDate = false;
  private hour = 0;
  private minute = 0;
  private second = 0;
  private nanos = 0;
  private offsetMs = 0;
  private hasOffset = false;
  /** -1: no AM/PM field; 0 AM; 1 PM. */
  private pm = -1;

  /** Throws an Error for an invalid layout. */
  constructor(
    layout: string,
    private readonly zone: TimeZone,
  ) {
    const name = layout.trim();
    const lower = name.toLowerCase();
    if (lower === 'auto' || lower === 'rfc3339' || lower === '') {
      this.steps = undefined;
      this.epochUnit = undefined;
    } else if (lower in EPOCH_LAYOUTS) {
      this.steps = undefined;
      this.epochUnit = EPOCH_LAYOUTS[lower];
    } else {
      this.steps = compileLayout(name);
      this.epochUnit = undefined;
    }
  }

  /**
   * Parses a whole field value (surrounding whitespace ignored). `ref` (its observed time, when
   * not zero) and else `nowMs` are read only for times without year or date.
   */
  parse(text: string, ref: TimeReference, nowMs: number): bigint | undefined {
    let a = 0;
    let b = text.length;
    while (a < b && text.charCodeAt(a) <= 32) a++;
    while (b > a && text.charCodeAt(b - 1) <= 32) b--;
    if (a === b) return undefined;
    if (this.epochUnit !== undefined) return epochNanos(text, a, b, this.epochUnit);
    if (this.steps === undefined && isNumeric(text, a, b)) return epochNanos(text, a, b, EPOCH_AUTO);
    if (this.scanAt(text, a) !== b) return undefined;
    return this.toNanos(ref, nowMs);
  }

  /** A numeric field is an epoch time (by magnitude unless the layout names the unit); a string is parsed. */
  parseValue(v: AnyValue | undefined, ref: TimeReference, nowMs: number): bigint | undefined {
    switch (anyValueKind(v)) {
      case 'stringValue':
        return this.parse(v!.stringValue!, ref, nowMs);
      case 'intValue': {
        if (this.steps !== undefined) return undefined;
        const n = v!.intValue!;
        if (n < 0n) return undefined;
        const digits = n.toString();
        return epochNanos(digits, 0, digits.length, this.epochUnit ?? EPOCH_AUTO);
      }
      case 'doubleValue': {
        const d = v!.doubleValue!;
        if (this.steps !== undefined || !(d >= 0) || !Number.isFinite(d)) return undefined;
        // The shortest decimal that round-trips: exact for what the sender's double could hold.
        const digits = String(d);
        return epochNanos(digits, 0, digits.length, this.epochUnit ?? EPOCH_AUTO);
      }
      default:
        return undefined;
    }
  }

  /** End of a timestamp in the layout that starts at `pos`, or -1 (used by the header preset). */
  scan(text: string, pos: number): number {
    if (this.epochUnit !== undefined) {
      let i = pos;
      while (i < text.length && isDigit(text.charCodeAt(i))) i++;
      if (i === pos) return -1;
      if (text.charCodeAt(i) === 46 && isDigit(text.charCodeAt(i + 1))) {
        i++;
        while (i < text.length && isDigit(text.charCodeAt(i))) i++;
      }
      return i;
    }
    return this.scanAt(text, pos);
  }

  /** Resets the scratch fields and reads one timestamp at `pos`: its end, or -1. */
  private scanAt(text: string, pos: number): number {
    this.s = text;
    this.pos = pos;
    this.hasYear = false;
    this.hasDate = false;
    this.hasOffset = false;
    this.year = 0;
    this.month = 1;
    this.day = 1;
    this.hour = 0;
    this.minute = 0;
    this.second = 0;
    this.nanos = 0;
    this.pm = -1;
    const ok = this.steps === undefined ? this.scanAuto() : this.scanSteps(this.steps);
    return ok ? this.pos : -1;
  }

  // ---- reading primitives (advance `pos` on success) ----

  /** Reads min..max digits; -1 (pos unchanged) when fewer than min. */
  private digits(min: number, max: number): number {
    const s = this.s;
    let i = this.pos;
    let v = 0;
    const end = Math.min(s.length, i + max);
    while (i < end) {
      const c = s.charCodeAt(i);
      if (c < 48 || c > 57) break;
      v = v * 10 + (c - 48);
      i++;
    }
    if (i - this.pos < min) return -1;
    this.pos = i;
    return v;
  }

  private char(c: number): boolean {
    if (this.s.charCodeAt(this.pos) !== c) return false;
    this.pos++;
    return true;
  }

  /** Fraction digits (min..max of them; only the first 9 count) into `nanos`. */
  private fraction(min: number, max: number): boolean {
    const s = this.s;
    const start = this.pos;
    let i = start;
    let v = 0;
    const end = Math.min(s.length, start + max);
    while (i < end && isDigit(s.charCodeAt(i))) {
      if (i - start < 9) v = v * 10 + (s.charCodeAt(i) - 48);
      i++;
    }
    const n = i - start;
    if (n < min || n === 0) return false;
    this.nanos = v * POW10[9 - Math.min(n, 9)]!;
    this.pos = i;
    return true;
  }

  /** `Z`, `±hh:mm`, `±hhmm` or `±hh` into offsetMs. */
  private offset(): boolean {
    const s = this.s;
    const c = s.charCodeAt(this.pos);
    if (c === 90 || c === 122) {
      this.pos++;
      this.offsetMs = 0;
      this.hasOffset = true;
      return true;
    }
    if (c !== 43 && c !== 45) return false;
    const start = this.pos;
    this.pos++;
    const h = this.digits(2, 2);
    if (h < 0) {
      this.pos = start;
      return false;
    }
    let m = 0;
    const colon = this.char(58);
    const mm = this.digits(2, 2);
    if (mm >= 0) m = mm;
    else if (colon) {
      this.pos = start;
      return false;
    }
    if (h > 18 || m > 59) {
      this.pos = start;
      return false;
    }
    this.offsetMs = (c === 45 ? -1 : 1) * (h * 60 + m) * 60_000;
    this.hasOffset = true;
    return true;
  }

  /** A month name: 3-letter abbreviation, or (when `full`) the full name or the abbreviation. */
  private monthName(full: boolean): boolean {
    const s = this.s;
    const p = this.pos;
    if (p + 3 > s.length) return false;
    const abbr = s.slice(p, p + 3).toLowerCase();
    const m = MONTHS.indexOf(abbr);
    if (m < 0) return false;
    this.month = m + 1;
    this.pos = p + 3;
    if (full) {
      const name = MONTH_NAMES[m]!;
      if (s.slice(p, p + name.length).toLowerCase() === name) this.pos = p + name.length;
    }
    return true;
  }

  private letters(): number {
    const start = this.pos;
    while (this.pos < this.s.length && isLetter(this.s.charCodeAt(this.pos))) this.pos++;
    return this.pos - start;
  }

  /** `HH:mm[:ss[(.|,)frac]]`; seconds are required when `needSeconds`. */
  private clock(needSeconds: boolean): boolean {
    const h = this.digits(2, 2);
    if (h < 0 || !this.char(58)) return false;
    const m = this.digits(2, 2);
    if (m < 0) return false;
    this.hour = h;
    this.minute = m;
    const save = this.pos;
    if (this.char(58)) {
      const sec = this.digits(2, 2);
      if (sec < 0) {
        this.pos = save;
        return !needSeconds;
      }
      this.second = sec;
      const c = this.s.charCodeAt(this.pos);
      if ((c === 46 || c === 44) && isDigit(this.s.charCodeAt(this.pos + 1))) {
        this.pos++;
        this.fraction(1, 1000);
      }
      return true;
    }
    return !needSeconds;
  }

  // ---- auto ----

  private scanAuto(): boolean {
    const s = this.s;
    const p = this.pos;
    const c = s.charCodeAt(p);
    if (isLetter(c)) return this.syslogTime();
    if (!isDigit(c)) return false;
    let n = 1;
    while (isDigit(s.charCodeAt(p + n))) n++;
    const next = s.charCodeAt(p + n);
    if (n === 4 && (next === 45 || next === 47)) return this.isoTime(next);
    if (n === 8 && (next === 84 || next === 116)) return this.isoBasic();
    if (n === 6 && next === 32) return this.compactTime();
    if (n === 2 && next === 47) return this.clfTime();
    if (n === 4 && next === 32) return this.klogTime();
    if (n === 2 && next === 58) {
      // A time of day alone.
      return this.clock(true);
    }
    return false;
  }

  /** yyyy-MM-dd[(T| )HH:mm[:ss[.frac]]][zone], or with `/` separators. */
  private isoTime(sep: number): boolean {
    this.year = this.digits(4, 4);
    this.pos++;
    const mo = this.digits(2, 2);
    if (mo < 0 || !this.char(sep)) return false;
    const d = this.digits(2, 2);
    if (d < 0) return false;
    this.month = mo;
    this.day = d;
    this.hasYear = true;
    this.hasDate = true;
    const s = this.s;
    const t = s.charCodeAt(this.pos);
    if ((t === 84 || t === 116 || t === 32) && isDigit(s.charCodeAt(this.pos + 1)) && isDigit(s.charCodeAt(this.pos + 2)) && s.charCodeAt(this.pos + 3) === 58) {
      this.pos++;
      if (!this.clock(false)) return false;
      this.zoneSuffix();
    }
    return true;
  }

  /** yyyyMMddTHHmmss[.frac][zone]. */
  private isoBasic(): boolean {
    this.year = this.digits(4, 4);
    this.month = this.digits(2, 2);
    this.day = this.digits(2, 2);
    this.pos++;
    const h = this.digits(2, 2);
    const m = this.digits(2, 2);
    const sec = this.digits(2, 2);
    if (h < 0 || m < 0 || sec < 0) return false;
    this.hour = h;
    this.minute = m;
    this.second = sec;
    this.hasYear = true;
    this.hasDate = true;
    const c = this.s.charCodeAt(this.pos);
    if ((c === 46 || c === 44) && isDigit(this.s.charCodeAt(this.pos + 1))) {
      this.pos++;
      this.fraction(1, 1000);
    }
    this.zoneSuffix();
    return true;
  }

  /** An optional offset right after a time, or after one space (`+hhmm`, `+hh:mm`, `UTC`, `GMT`). */
  private zoneSuffix(): void {
    if (this.offset()) return;
    const s = this.s;
    const p = this.pos;
    if (s.charCodeAt(p) !== 32) return;
    const c = s.charCodeAt(p + 1);
    if ((c === 43 || c === 45) && isDigit(s.charCodeAt(p + 2)) && isDigit(s.charCodeAt(p + 3))) {
      this.pos = p + 1;
      if (!this.offset()) this.pos = p;
      return;
    }
    const word = s.slice(p + 1, p + 4);
    if ((word === 'UTC' || word === 'GMT') && !isLetter(s.charCodeAt(p + 4))) {
      this.pos = p + 4;
      this.offsetMs = 0;
      this.hasOffset = true;
    }
  }

  /** yyMMdd HHmmss. */
  private compactTime(): boolean {
    const y = this.digits(2, 2);
    this.month = this.digits(2, 2);
    this.day = this.digits(2, 2);
    this.pos++;
    const h = this.digits(2, 2);
    const m = this.digits(2, 2);
    const sec = this.digits(2, 2);
    if (h < 0 || m < 0 || sec < 0 || isDigit(this.s.charCodeAt(this.pos))) return false;
    this.year = twoDigitYear(y);
    this.hasYear = true;
    this.hasDate = true;
    this.hour = h;
    this.minute = m;
    this.second = sec;
    return true;
  }

  /** dd/Mmm/yyyy:HH:mm:ss[ ±hhmm]. */
  private clfTime(): boolean {
    this.day = this.digits(2, 2);
    this.pos++;
    if (!this.monthName(false) || !this.char(47)) return false;
    const y = this.digits(4, 4);
    if (y < 0 || !this.char(58) || !this.clock(true)) return false;
    this.year = y;
    this.hasYear = true;
    this.hasDate = true;
    this.zoneSuffix();
    return true;
  }

  /** klog's MMdd HH:mm:ss.uuuuuu (no year). */
  private klogTime(): boolean {
    this.month = this.digits(2, 2);
    this.day = this.digits(2, 2);
    this.pos++;
    this.hasDate = true;
    return this.clock(true);
  }

  /** Mmm dd HH:mm:ss[.frac] (day space-padded or not; no year). */
  private syslogTime(): boolean {
    if (!this.monthName(false) || !this.char(32)) return false;
    this.char(32);
    const d = this.digits(1, 2);
    if (d < 0 || !this.char(32)) return false;
    this.day = d;
    this.hasDate = true;
    return this.clock(true);
  }

  // ---- explicit layouts ----

  private scanSteps(steps: readonly Step[]): boolean {
    const s = this.s;
    for (let k = 0; k < steps.length; k++) {
      const st = steps[k]!;
      let v: number;
      switch (st.kind) {
        case LIT:
          if (!s.startsWith(st.text, this.pos)) return false;
          this.pos += st.text.length;
          break;
        case SPACE:
          if (!isSpace(s.charCodeAt(this.pos))) return false;
          while (isSpace(s.charCodeAt(this.pos))) this.pos++;
          break;
        case YEAR4:
          if ((v = this.digits(4, 4)) < 0) return false;
          this.year = v;
          this.hasYear = true;
          break;
        case YEAR2:
          if ((v = this.digits(2, 2)) < 0) return false;
          this.year = twoDigitYear(v);
          this.hasYear = true;
          break;
        case MONTH:
          if ((v = this.digits(st.min, st.max)) < 0) return false;
          this.month = v;
          this.hasDate = true;
          break;
        case MONTH_ABBR:
        case MONTH_NAME:
          if (!this.monthName(st.kind === MONTH_NAME)) return false;
          this.hasDate = true;
          break;
        case DAY:
          if ((v = this.digits(st.min, st.max)) < 0) return false;
          this.day = v;
          break;
        case HOUR:
        case HOUR12:
          if ((v = this.digits(st.min, st.max)) < 0) return false;
          this.hour = v;
          break;
        case MINUTE:
          if ((v = this.digits(st.min, st.max)) < 0) return false;
          this.minute = v;
          break;
        case SECOND:
          if ((v = this.digits(st.min, st.max)) < 0) return false;
          this.second = v;
          break;
        case FRAC:
          if (!this.fraction(st.min, st.max)) return false;
          break;
        case MILLIS:
          if ((v = this.digits(st.min, st.max)) < 0) return false;
          this.nanos = v * 1_000_000;
          break;
        case AMPM: {
          const w = s.slice(this.pos, this.pos + 2).toLowerCase();
          if (w !== 'am' && w !== 'pm') return false;
          this.pm = w === 'pm' ? 1 : 0;
          this.pos += 2;
          break;
        }
        case OFFSET:
          if (!this.offset()) return false;
          break;
        case ZONE_NAME: {
          const start = this.pos;
          if (this.letters() === 0) return false;
          const name = s.slice(start, this.pos).toUpperCase();
          // Abbreviations like EST are ambiguous: only the UTC names are read, others leave the configured zone.
          if (name === 'UTC' || name === 'GMT' || name === 'Z' || name === 'UT') {
            this.offsetMs = 0;
            this.hasOffset = true;
          }
          break;
        }
        case WEEKDAY:
          if (this.letters() < 2) return false;
          break;
      }
    }
    if (this.pm >= 0) {
      if (this.hour < 1 || this.hour > 12) return false;
      this.hour = (this.hour % 12) + (this.pm === 1 ? 12 : 0);
    }
    return true;
  }

  // ---- conversion ----

  private toNanos(ref: TimeReference, nowMs: number): bigint | undefined {
    if (this.hour > 23 || this.minute > 59 || this.second > 60) return undefined;
    let ms: number;
    if (!this.hasDate) {
      const refMs = referenceMs(ref, nowMs);
      const local = new Date(refMs + this.zone.offsetForWall(refMs));
      ms = this.instant(local.getUTCFullYear(), local.getUTCMonth() + 1, local.getUTCDate());
      if (Number.isNaN(ms)) return undefined;
      // Pick the day that puts the time at most an hour after the reference.
      if (ms > refMs + DATE_AHEAD_MS) ms = this.shiftDays(ms, -1);
      else if (ms <= refMs + DATE_AHEAD_MS - DAY_MS) ms = this.shiftDays(ms, 1);
    } else if (!this.hasYear) {
      const refMs = referenceMs(ref, nowMs);
      const y = new Date(refMs).getUTCFullYear();
      ms = this.instant(y, this.month, this.day);
      if (!Number.isNaN(ms)) {
        if (ms > refMs + YEAR_AHEAD_MS) ms = this.instant(y - 1, this.month, this.day);
        else if (ms <= refMs + YEAR_AHEAD_MS - 365 * DAY_MS) ms = this.instant(y + 1, this.month, this.day);
      } else {
        // Feb 29 in a common year: the nearest leap year not after the reference year.
        let yy = y - 1;
        while (!isLeap(yy)) yy--;
        ms = this.instant(yy, this.month, this.day);
      }
    } else {
      ms = this.instant(this.year, this.month, this.day);
    }
    if (Number.isNaN(ms) || ms < 0) return undefined;
    const seconds = ms / 1000;
    if (seconds > MAX_SECONDS || (seconds === MAX_SECONDS && this.nanos > MAX_SECONDS_NANOS)) return undefined;
    // Whole seconds, unless a historical zone offset had a fraction of one: truncated.
    return BigInt(Math.floor(seconds)) * NANOS_PER_SECOND + BigInt(this.nanos);
  }

  /** UTC ms (whole seconds) of the parsed wall time on this date, or NaN for an invalid date. */
  private instant(y: number, m: number, d: number): number {
    if (m < 1 || m > 12 || d < 1 || d > daysInMonth(y, m) || y < 1) return NaN;
    const wall = Date.UTC(y, m - 1, d, this.hour, this.minute, this.second);
    return wall - (this.hasOffset ? this.offsetMs : this.zone.offsetForWall(wall));
  }

  private shiftDays(ms: number, days: number): number {
    const date = new Date(ms + days * DAY_MS + (this.hasOffset ? this.offsetMs : this.zone.offsetForWall(ms)));
    return this.instant(date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate());
  }
}

/** POSIX's pivot: 69–99 → 19xx, 00–68 → 20xx. */
function twoDigitYear(y: number): number {
  return y < 69 ? 2000 + y : 1900 + y;
}

function referenceMs(ref: TimeReference, nowMs: number): number {
  const observed = ref.observedTimeUnixNano;
  // Float precision (~µs) is plenty for choosing a year or a day.
  return observed === 0n ? nowMs : Number(observed) / 1e6;
}

/** Digits with at most one `.` between digits. */
function isNumeric(s: string, a: number, b: number): boolean {
  let dot = false;
  for (let i = a; i < b; i++) {
    const c = s.charCodeAt(i);
    if (c === 46 && !dot && i > a && i < b - 1) dot = true;
    else if (c < 48 || c > 57) return false;
  }
  return true;
}

/**
 * Exact nanoseconds from a decimal epoch text `s[a, b)` in a unit (power of ten of ns per
 * unit; EPOCH_AUTO picks it from the integer digits). Fraction digits beyond ns are dropped.
 */
export function epochNanos(s: string, a: number, b: number, unit: number): bigint | undefined {
  if (!isNumeric(s, a, b)) return undefined;
  let dot = s.indexOf('.', a);
  if (dot < 0 || dot >= b) dot = b;
  let intStart = a;
  while (intStart < dot - 1 && s.charCodeAt(intStart) === 48) intStart++;
  const intDigits = dot - intStart;
  const exp = unit !== EPOCH_AUTO ? unit : intDigits <= 11 ? 9 : intDigits <= 14 ? 6 : intDigits <= 17 ? 3 : 0;
  let frac = dot < b ? s.slice(dot + 1, b) : '';
  frac = frac.length >= exp ? frac.slice(0, exp) : frac + '0'.repeat(exp - frac.length);
  let digits = s.slice(intStart, dot) + frac;
  let z = 0;
  while (z < digits.length - 1 && digits.charCodeAt(z) === 48) z++;
  if (z > 0) digits = digits.slice(z);
  if (digits.length > 20 || (digits.length === 20 && digits > MAX_U64)) return undefined;
  return BigInt(digits);
}
