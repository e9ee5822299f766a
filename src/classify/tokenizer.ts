/**
 * Splits a log message into tokens for template mining and masks the variable ones.
 *
 * A token is a run of text between whitespace and common delimiters (`=`, `,`, `;`, brackets,
 * quotes, `|`, dot leaders, and `:` where it separates a key from a value); the text between
 * tokens is kept as separators, so the original line can be rebuilt from (separator, token,
 * separator, …). Each token gets a kind:
 *
 * - VAR: certainly a variable, masked as `<*>` from the first line on: numbers, hex, IPv4/IPv6
 *   (with port), UUIDs, URLs, paths, e-mail addresses, host:port, dates and times (including
 *   multi-word ones such as `Fri Jul  1 07:57:30 2005`), and identifiers dominated by digits
 *   (`blk_-69522958`, `node-246`, `appattempt_1445_0020_01`).
 * - WEAK: a word that contains a digit but could be a constant (`alt0`, `SOCKS5`, `utf8`):
 *   it does not steer the prefix tree and a different digit-word in its place is not evidence
 *   of a different template, but it stays literal in the template until another value is seen.
 * - WORD: anything else; a different word in its place counts against similarity.
 *
 * Masking runs on character classes first and reaches for a regular expression only when the
 * classes say a pattern is possible, so the common token costs one pass over its characters.
 */

export const WORD = 0;
export const WEAK = 1;
export const VAR = 2;
export type TokenKind = typeof WORD | typeof WEAK | typeof VAR;

/** Longest line whose code buffer a tokenizer keeps for the next line. */
const MAX_KEPT_CODES = 1 << 16;

/** Reusable output of `tokenize`: one instance per miner, overwritten by every call. */
export class TokenBuffer {
  line = '';
  count = 0;
  /** More tokens than the limit: the last one holds the rest of the line. */
  overflow = false;
  texts: string[] = [];
  kinds: Uint8Array;
  starts: Int32Array;
  ends: Int32Array;

  constructor(capacity: number) {
    this.kinds = new Uint8Array(capacity);
    this.starts = new Int32Array(capacity);
    this.ends = new Int32Array(capacity);
  }

  /** Separator before token i (i = count: after the last token). */
  separator(i: number): string {
    const from = i === 0 ? 0 : this.ends[i - 1]!;
    const to = i === this.count ? this.line.length : this.starts[i]!;
    return this.line.slice(from, to);
  }
}

// Character classes, indexed by char code (ASCII only; everything above 127 counts as a letter).
const C_SPACE = 1;
const C_DIGIT = 2;
const C_LETTER = 4;
const C_HEXLETTER = 8;
/** Always splits tokens: = , ; | " ` and brackets. */
const C_DELIM = 16;
/** Stripped from the start of a chunk. */
const C_OPEN = 32;
/** Stripped from the end of a chunk. */
const C_CLOSE = 64;

const CLASS = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  let k = 0;
  if (c <= 32 || c === 127) k |= C_SPACE;
  if (c >= 48 && c <= 57) k |= C_DIGIT;
  if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122)) k |= C_LETTER;
  if ((c >= 65 && c <= 70) || (c >= 97 && c <= 102)) k |= C_HEXLETTER;
  CLASS[c] = k;
}
for (const ch of '=,;|"`()[]{}') CLASS[ch.charCodeAt(0)]! |= C_DELIM;
for (const ch of '([{<"\'`#') CLASS[ch.charCodeAt(0)]! |= C_OPEN;
for (const ch of ')]}>"\'`,;:.!?') CLASS[ch.charCodeAt(0)]! |= C_CLOSE;

function cls(c: number): number {
  return c < 128 ? CLASS[c]! : C_LETTER;
}

const COLON = 58;
const DOT = 46;
const HASH = 35;
const SLASH = 47;
const AT = 64;
const BACKSLASH = 92;
const TILDE = 126;

// Multi-word dates and times; searched once per line that has a digit followed by `:`.
const MONTH = '(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]{0,6}';
const WEEKDAY = '(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]{0,6}';
const CLOCK = '\\d{1,2}:\\d{2}(?::\\d{2})?(?:[.,]\\d{1,9})?';
// Zones by name, not any upper-case word: `12:00:01 INFO …` is a clock and a level, not a zone.
const ZONE = '(?: ?(?:[AP]M|UTC|GMT|Z|[ECMP][SD]T|BST|IST|JST|KST|HKT|SGT|MSK|CES?T|CEDT|EES?T|EEDT|WES?T|AE[SD]T|NZ[SD]T|[+-]\\d{2}:?\\d{2})(?!\\w))?';
const DATE_SPAN_SOURCE = [
  // Fri Jul  1 07:57:30 2005 | Sun Dec 04 04:47:44 2005 | Jul 1, 2005 7:57:30 PM
  `(?:${WEEKDAY},? {1,3})?${MONTH}\\.? {1,3}\\d{1,2}(?:,? {1,3}\\d{4})?,? {1,3}${CLOCK}${ZONE}(?: {1,3}\\d{4}(?!\\d))?`,
  // 01 Jul 2005 07:57:30 | 1-Jul-2005 07:57:30
  `\\d{1,2}[ -]${MONTH}[ -]\\d{4},? {1,3}${CLOCK}${ZONE}`,
  // 2005-07-01 07:57:30,123 +0200 (ISO 8601 with a space)
  `\\d{4}[-/.]\\d{1,2}[-/.]\\d{1,2} {1,3}${CLOCK}${ZONE}`,
  // 17/06/09 20:10:40 | 07/01/2005 07:57:30
  `\\d{1,2}/\\d{1,2}/\\d{2,4} {1,3}${CLOCK}${ZONE}`,
].join('|');

// Units of measure written after a number (abbreviations only: `12 bytes` keeps its word).
const UNIT_RE = /^(?:[KMGTPE]i?B|kB|B|[nuµm]?s|secs?|mins?|hrs?)$/;
// A number with its unit attached: 1.2KB, 250ms.
const NUMBER_UNIT_RE = /^[-+]?\d+(?:[.,]\d+)?(?:[KMGTPE]i?B|kB|B|[nuµm]?s|secs?|mins?|hrs?)$/;
const UUID_RE = /^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/;
const URL_RE = /^[A-Za-z][A-Za-z0-9+.-]{1,15}:\/\/\S/;
const EMAIL_RE = /^[^@\s]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+$/;
// host:port or ip:port, the host a dotted name, a hyphenated name with a digit (`db-07`), an IP or localhost.
// A Java-style `name/ip:port` counts too.
const HOST_PORT_RE = /^(?:[A-Za-z0-9_.-]+\/)?(?:[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)+|[A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)*-[A-Za-z]*\d[A-Za-z0-9]*|localhost|\[[0-9A-Fa-f:.]+\]):\d{1,5}$/;
const LEADING_IPV4_PORT_RE = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}:\d{1,5}(?=:)/;
const IPV4_PORT_RE = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}:\d{1,5}$/;
// Byte strings written as hex pairs: MAC addresses, serial numbers (FF:F2:9F:16:E5:86:00:0D).
const HEX_PAIRS_RE = /^(?:[0-9A-Fa-f]{2}[:-]){3,}[0-9A-Fa-f]{2}$/;
const IPV6_RE = /^(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?:%\w+)?$/;
const DOTTED_QUAD_RE = /(?:^|[^\d.])\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}(?![\d])/;
// ISO-like dates and timestamps written as one chunk: 2005-06-03-15.42.50.675872, 2017-12-23T22:15:29Z, 20171223-22:15:29:606.
const DATETIME_RE = /^\d{4}[-/.]?\d{2}[-/.]?\d{2}(?:[T_ -]?\d{2}[:.]?\d{2}(?:[:.]?\d{2})?(?:[.,:]\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?$/;

/** Digits, letters, hex letters and other characters of text[a, b). */
interface Profile {
  digits: number;
  letters: number;
  hexLetters: number;
  longestDigitRun: number;
  colons: number;
  dots: number;
  slashes: number;
  ats: number;
  /** Delimiter characters (C_DELIM). */
  delims: number;
  /** 1 when two dots or two hashes follow each other (such a run splits pieces). */
  dotRun: number;
}

/**
 * Tokenizer with its scratch state. One per miner: not re-entrant, allocation-light (token
 * texts are the only allocations).
 */
export class Tokenizer {
  // Global regexes carry lastIndex: one per tokenizer, not per module.
  private readonly dateSpan = new RegExp(DATE_SPAN_SOURCE, 'g');
  private readonly spanStarts: number[] = [];
  private readonly spanEnds: number[] = [];
  /** Spans of the current line in spanStarts/spanEnds (the arrays are reused, not truncated). */
  private spanCount = 0;
  private readonly p: Profile = { digits: 0, letters: 0, hexLetters: 0, longestDigitRun: 0, colons: 0, dots: 0, slashes: 0, ats: 0, delims: 0, dotRun: 0 };
  /** The range of the current line `p` describes (a piece equal to its chunk is not profiled twice). */
  private profA = -1;
  private profB = -1;
  private readonly encoder = new TextEncoder();
  /** Scratch for `load`, kept up to MAX_KEPT_CODES bytes. */
  private codes = new Uint8Array(256);
  /** The codes of the line being tokenized. */
  private current: Uint8Array = this.codes;

  constructor(private readonly maxTokens: number) {}

  /**
   * Fills `out` with the tokens of `line`. Tokens past `maxTokens - 1` are folded into one
   * final VAR token holding the rest of the line, so a long line costs at most maxTokens.
   */
  tokenize(line: string, out: TokenBuffer): void {
    out.line = line;
    out.count = 0;
    out.overflow = false;
    this.profA = this.profB = -1;
    const codes = this.load(line);
    this.findDateSpans(line);
    const n = line.length;
    let span = 0;
    let i = 0;
    while (i < n) {
      while (i < n && isSpace(codes[i]!)) i++;
      if (i >= n) break;
      if (out.overflow) break;
      while (span < this.spanCount && this.spanStarts[span]! < i) span++;
      if (span < this.spanCount) {
        // A date may follow brackets: `[Sun Dec 04 04:47:44 2005]`.
        let k = i;
        while (k < n && (cls(codes[k]!) & C_OPEN) !== 0) k++;
        if (this.spanStarts[span] === k) {
          push(out, line, k, this.spanEnds[span]!, VAR, this.maxTokens);
          i = this.spanEnds[span]!;
          span++;
          continue;
        }
      }
      let j = i;
      while (j < n && !isSpace(codes[j]!)) j++;
      const before = out.count;
      this.chunk(line, i, j, out);
      i = j;
      // A quantity and its unit are one value (`1.2 KB`, `<1 sec`).
      if (j + 1 < n && codes[j]! === 32 && out.count === before + 1 && out.kinds[before] === VAR && out.ends[before] === j) i = this.unit(line, before, j, out);
    }
    if (out.overflow) {
      // The last token takes the rest of the line (trailing whitespace excluded) as one variable.
      let end = n;
      while (end > 0 && isSpace(codes[end - 1]!)) end--;
      const last = out.count - 1;
      out.ends[last] = end;
      out.kinds[last] = VAR;
      out.texts[last] = line.slice(out.starts[last]!, end);
    }
  }

  /**
   * When token t is a number ending at `end` and the next word is a unit, extends t over it and
   * returns the position after the unit; else `end`.
   */
  private unit(line: string, t: number, end: number, out: TokenBuffer): number {
    const codes = this.current;
    const n = line.length;
    if (!isDigitCode(codes[end - 1]!)) return end;
    let e = end + 1;
    while (e < n && (cls(codes[e]!) & C_LETTER) !== 0) e++;
    if (e === end + 1 || (e < n && !isSpace(codes[e]!) && (cls(codes[e]!) & C_CLOSE) === 0)) return end;
    if (!UNIT_RE.test(line.slice(end + 1, e))) return end;
    for (let k = out.starts[t]!; k < end; k++) if ((cls(codes[k]!) & C_LETTER) !== 0) return end;
    out.ends[t] = e;
    out.texts[t] = line.slice(out.starts[t]!, e);
    return e;
  }

  private findDateSpans(line: string): void {
    this.spanCount = 0;
    // Every pattern has a clock ` d:dd` / ` dd:dd` whose colon is at most CLOCK_REACH characters
    // after the match start, and nothing looks behind the start: so the search can begin that
    // far before the next such clock, skipping text no match can start in (lines without one
    // skip the regex).
    let clock = nextClock(line, 1);
    if (clock < 0) return;
    const re = this.dateSpan;
    re.lastIndex = clock > CLOCK_REACH ? clock - CLOCK_REACH : 0;
    for (let m = re.exec(line); m !== null; m = re.exec(line)) {
      const s = m.index;
      const e = s + m[0].length;
      // Only whole chunks: a span inside a token (`x2005-01-01 …`) is left to the token rules.
      if ((s === 0 || isSpace(line.charCodeAt(s - 1)) || (cls(line.charCodeAt(s - 1)) & C_OPEN) !== 0) && (e === line.length || isSpace(line.charCodeAt(e)) || (cls(line.charCodeAt(e)) & C_CLOSE) !== 0)) {
        this.spanStarts[this.spanCount] = s;
        this.spanEnds[this.spanCount] = e;
        this.spanCount++;
      }
      // The next match starts at e or later, so its clock's colon is after e.
      clock = nextClock(line, e + 1);
      if (clock < 0) break;
      if (clock - CLOCK_REACH > e) re.lastIndex = clock - CLOCK_REACH;
    }
    re.lastIndex = 0;
  }

  /**
   * The line's characters as bytes in `codes` (one native call for ASCII, the usual case),
   * so the scans below index an array instead of calling charCodeAt. Beyond ASCII: U+00A0
   * stays (a space here), anything else becomes 0x80 (a letter here, like every code ≥ 128).
   */
  private load(line: string): Uint8Array {
    const n = line.length;
    let codes = this.codes;
    if (codes.length < n) {
      codes = new Uint8Array(Math.max(n, codes.length * 2));
      // A rare huge line does not keep its buffer.
      if (codes.length <= MAX_KEPT_CODES) this.codes = codes;
    }
    this.current = codes;
    if (n === 0) return codes;
    const r = this.encoder.encodeInto(line, codes);
    if (r.read === n && r.written === n) return codes;
    for (let i = 0; i < n; i++) {
      const c = line.charCodeAt(i);
      codes[i] = c < 128 ? c : c === 0xa0 ? 0xa0 : 0x80;
    }
    return codes;
  }

  /** One whitespace-delimited chunk: a whole-chunk variable, or split at delimiters. */
  private chunk(line: string, a: number, b: number, out: TokenBuffer): void {
    const codes = this.current;
    a = skipOpeners(codes, a, b);
    while (b > a && (cls(codes[b - 1]!) & C_CLOSE) !== 0) b--;
    if (a >= b) return; // punctuation only: a separator
    const p = this.profile(a, b);
    if (p.digits === 0 && p.colons === 0 && p.slashes === 0 && p.ats === 0 && p.delims === 0 && p.dotRun === 0) {
      // A plain word, the common chunk: none of the rules below applies, and `pieces` would
      // find one piece, [a, b) less trailing openers, a WORD.
      while (b > a && (cls(codes[b - 1]!) & (C_CLOSE | C_OPEN)) !== 0) b--;
      if (a < b) push(out, line, a, b, wordKind(codes, a, b), this.maxTokens);
      return;
    }
    // Paths and URLs keep their inner delimiters; so do addresses and other digit compounds.
    if (isPathStart(codes, a, b) || (p.slashes > 0 && p.colons > 0 && URL_RE.test(line.slice(a, b)))) {
      push(out, line, a, b, VAR, this.maxTokens);
      return;
    }
    // host:port is one value, as a URL is.
    if (p.colons === 1 && p.digits > 0 && this.address(line, a, b, p.letters === 0 ? IPV4_PORT_RE : HOST_PORT_RE, out)) return;
    if (p.digits > 0 && p.letters === 0 && p.delims === 0 && p.dotRun === 0) {
      push(out, line, a, b, VAR, this.maxTokens);
      return;
    }
    // 2024-05-01T10:20:30.123Z and similar, before `:` splits them.
    if (p.digits >= 6 && p.colons > 0 && DATETIME_RE.test(line.slice(a, b))) {
      push(out, line, a, b, VAR, this.maxTokens);
      return;
    }
    if (p.ats > 0 && EMAIL_RE.test(line.slice(a, b))) {
      push(out, line, a, b, VAR, this.maxTokens);
      return;
    }
    this.pieces(line, a, b, out, true);
  }

  /** Splits text[a, b) at delimiters (and at `:` below the top level), classifying each piece. */
  private pieces(line: string, a: number, b: number, out: TokenBuffer, top: boolean): void {
    const codes = this.current;
    let s = a;
    for (let i = a; i <= b; i++) {
      const c = i < b ? codes[i]! : 32;
      const k = cls(c);
      // Runs of dots or hashes (`processor.........0`, `12##40##7`) separate too.
      const dotRun = (c === DOT || c === HASH) && i + 1 < b && codes[i + 1]! === c;
      if (i === b || (k & C_DELIM) !== 0 || dotRun || (c === COLON && !top)) {
        if (i > s) this.piece(line, s, i, out, top);
        if (dotRun) while (i + 1 < b && codes[i + 1]! === c) i++;
        s = i + 1;
      }
    }
  }

  private piece(line: string, a: number, b: number, out: TokenBuffer, top: boolean): void {
    const codes = this.current;
    a = skipOpeners(codes, a, b);
    // `"status":200`: the colon after the quoted key separates (but `::1` is an address).
    if (a + 1 < b && codes[a]! === COLON && codes[a + 1]! !== COLON) a++;
    while (b > a && (cls(codes[b - 1]!) & (C_CLOSE | C_OPEN)) !== 0) b--;
    if (a >= b) return;
    if (isPathStart(codes, a, b)) return push(out, line, a, b, VAR, this.maxTokens);
    // A piece that is its whole chunk was profiled by `chunk`.
    const p = a === this.profA && b === this.profB ? this.p : this.profile(a, b);
    if (p.digits === 0) {
      if (p.colons > 0 && top) return this.pieces(line, a, b, out, false);
      return push(out, line, a, b, wordKind(codes, a, b), this.maxTokens);
    }
    if (p.colons === 1 && top && this.address(line, a, b, p.letters === 0 ? IPV4_PORT_RE : HOST_PORT_RE, out)) return;
    if (p.letters === 0) return push(out, line, a, b, VAR, this.maxTokens); // numbers, times, versions, IPs
    if (p.colons > 0 && top) {
      // IPv6/MAC addresses and timestamps stay whole; `onExtend:1514038530000` is a key and a value.
      const text = line.slice(a, b);
      if (IPV6_RE.test(text) || HEX_PAIRS_RE.test(text) || (p.digits >= 6 && DATETIME_RE.test(text))) return push(out, line, a, b, VAR, this.maxTokens);
      // `10.0.0.1:50010:Got …`: an address with its port, then the rest.
      const lead = isDigitCode(codes[a]!) ? LEADING_IPV4_PORT_RE.exec(text) : null;
      if (lead) {
        push(out, line, a, a + lead[0].length, VAR, this.maxTokens);
        return this.pieces(line, a + lead[0].length + 1, b, out, false);
      }
      return this.pieces(line, a, b, out, false);
    }
    // `core.33706`, `worker.3`: a word, a dot and a number are a constant name and its number.
    if (p.dots === 1 && p.digits === p.longestDigitRun && this.numbered(line, a, b, out)) return;
    push(out, line, a, b, isVariable(line, codes, a, b, p) ? VAR : WEAK, this.maxTokens);
  }

  /** Pushes `name.123` as the word and the number; false when text[a, b) is not letters, a dot, digits. */
  private numbered(line: string, a: number, b: number, out: TokenBuffer): boolean {
    const codes = this.current;
    let k = a;
    while (k < b && (cls(codes[k]!) & C_LETTER) !== 0) k++;
    if (k === a || k + 1 >= b || codes[k]! !== DOT) return false;
    for (let d = k + 1; d < b; d++) if (!isDigitCode(codes[d]!)) return false;
    push(out, line, a, k, WORD, this.maxTokens);
    push(out, line, k + 1, b, VAR, this.maxTokens);
    return true;
  }

  /** Pushes text[a, b) as one variable when it is an address with a port. */
  private address(line: string, a: number, b: number, re: RegExp, out: TokenBuffer): boolean {
    // A port, 1 to 5 digits after the colon, before the pattern is tried.
    const codes = this.current;
    let k = b;
    while (k > a && isDigitCode(codes[k - 1]!)) k--;
    if (k === b || b - k > 5 || k - 1 <= a || codes[k - 1]! !== COLON) return false;
    if (!re.test(line.slice(a, b))) return false;
    push(out, line, a, b, VAR, this.maxTokens);
    return true;
  }

  private profile(a: number, b: number): Profile {
    const codes = this.current;
    const p = this.p;
    p.digits = p.letters = p.hexLetters = p.longestDigitRun = p.colons = p.dots = p.slashes = p.ats = p.delims = p.dotRun = 0;
    this.profA = a;
    this.profB = b;
    let run = 0;
    for (let i = a; i < b; i++) {
      const c = codes[i]!;
      const k = cls(c);
      if ((k & C_DIGIT) !== 0) {
        p.digits++;
        if (++run > p.longestDigitRun) p.longestDigitRun = run;
        continue;
      }
      run = 0;
      if ((k & C_LETTER) !== 0) {
        p.letters++;
        if ((k & C_HEXLETTER) !== 0) p.hexLetters++;
      } else if (c === COLON) p.colons++;
      else if (c === DOT) {
        p.dots++;
        if (i > a && codes[i - 1]! === DOT) p.dotRun = 1;
      } else if (c === HASH && i > a && codes[i - 1]! === HASH) p.dotRun = 1;
      else if (c === SLASH || c === BACKSLASH) p.slashes++;
      else if (c === AT) p.ats++;
      else if ((k & C_DELIM) !== 0) p.delims++;
    }
    return p;
  }
}

/** Whether a piece that contains digits is a variable rather than a digit-word. */
function isVariable(line: string, codes: Uint8Array, a: number, b: number, p: Profile): boolean {
  const len = b - a;
  // 0x1f, 0XFF
  if (len > 2 && codes[a]! === 48 && (codes[a + 1]! | 32) === 120) return true;
  // Hex strings and hashes: only hex letters, long enough not to be a word such as "ee0".
  if (p.hexLetters === p.letters && len >= 8) return true;
  // Identifiers dominated by digits: blk_-6952295868487656571, node-246, core.33706, 10.1.2.3.example.net.
  if (p.longestDigitRun >= 3 || p.digits * 2 >= len) return true;
  const text = line.slice(a, b);
  if (NUMBER_UNIT_RE.test(text)) return true;
  if (len >= 32 && UUID_RE.test(text)) return true;
  if (p.dots >= 3 && DOTTED_QUAD_RE.test(text)) return true;
  return DATETIME_RE.test(text);
}

/** A word without digits: WORD, or VAR for a literal value of JSON and most languages (`true`, `False`, `null`, `None`). */
function wordKind(codes: Uint8Array, a: number, b: number): TokenKind {
  const len = b - a;
  if (len === 4) return lowerIs(codes, a, 'true') || lowerIs(codes, a, 'null') || lowerIs(codes, a, 'none') ? VAR : WORD;
  return len === 5 && lowerIs(codes, a, 'false') ? VAR : WORD;
}

/** Whether codes from `a` spell `word` (lower case ASCII letters) in any case. */
function lowerIs(codes: Uint8Array, a: number, word: string): boolean {
  for (let k = 0; k < word.length; k++) if ((codes[a + k]! | 32) !== word.charCodeAt(k)) return false;
  return true;
}

function push(out: TokenBuffer, line: string, a: number, b: number, kind: TokenKind, max: number): void {
  const i = out.count;
  if (i >= max) {
    out.overflow = true;
    return;
  }
  if (i >= out.kinds.length) grow(out, max);
  out.texts[i] = line.slice(a, b);
  out.kinds[i] = kind;
  out.starts[i] = a;
  out.ends[i] = b;
  out.count = i + 1;
}

function grow(out: TokenBuffer, max: number): void {
  const size = Math.min(max, out.kinds.length * 2);
  const kinds = new Uint8Array(size);
  kinds.set(out.kinds);
  const starts = new Int32Array(size);
  starts.set(out.starts);
  const ends = new Int32Array(size);
  ends.set(out.ends);
  out.kinds = kinds;
  out.starts = starts;
  out.ends = ends;
}

/** Skips leading brackets and quotes; `<` or `>` before a digit stays (`<1 sec`, `>100`). */
function skipOpeners(codes: Uint8Array, a: number, b: number): number {
  while (a < b && (cls(codes[a]!) & C_OPEN) !== 0) {
    const c = codes[a]!;
    if ((c === 60 || c === 62) && a + 1 < b && (cls(codes[a + 1]!) & C_DIGIT) !== 0) break;
    a++;
  }
  return a;
}

function isSpace(c: number): boolean {
  return c <= 32 || c === 127 || c === 0xa0;
}

/** `/x`, `~/x`, `./x`, `../x`, `C:\x`: a file system path. */
function isPathStart(codes: Uint8Array, a: number, b: number): boolean {
  if (b - a < 2) return false;
  const c0 = codes[a]!;
  const c1 = codes[a + 1]!;
  if (c0 === SLASH) return c1 !== SLASH || b - a > 2;
  if (c0 === TILDE || c0 === DOT) {
    let i = a + 1;
    if (c0 === DOT && c1 === DOT) i++;
    return i < b && codes[i]! === SLASH && b - i > 1;
  }
  return b - a > 3 && (cls(c0) & C_LETTER) !== 0 && c1 === COLON && codes[a + 2]! === BACKSLASH;
}

/**
 * Farthest a date span's clock colon can be from the span's start: 42 characters, for
 * `Wednesday, September 10, 2005 07:…` at its widest repetitions (see DATE_SPAN_SOURCE); with slack.
 */
const CLOCK_REACH = 48;

function isDigitCode(c: number): boolean {
  return c >= 48 && c <= 57;
}

/**
 * Index of the first `:` at or after `from` (≥ 1) of a clock as DATE_SPAN_SOURCE has it:
 * a space, one or two digits, the colon, two digits (` 7:57`, ` 07:57`); or -1.
 */
function nextClock(line: string, from: number): number {
  for (let i = line.indexOf(':', from); i > 0 && i < line.length - 2; i = line.indexOf(':', i + 1)) {
    if (!isDigitCode(line.charCodeAt(i - 1)) || !isDigitCode(line.charCodeAt(i + 1)) || !isDigitCode(line.charCodeAt(i + 2))) continue;
    const c = line.charCodeAt(i - 2);
    if (c === 32 || (isDigitCode(c) && line.charCodeAt(i - 3) === 32)) return i;
  }
  return -1;
}
