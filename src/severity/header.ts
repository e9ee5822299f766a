/**
 * The level token of a line's header. One pass over the first tokens (160 characters, 10
 * tokens): the first level token found wins, so a level in the header (after the timestamp,
 * pid/tid, host, logger or thread fields) beats level-like words in the message, and a word in
 * the message counts only when the header has none.
 *
 * Anchored layouts are recognised on the way:
 * - syslog PRI `<N>` (RFC 3164 / 5424, .NET's systemd formatter): severity N mod 8;
 * - klog/glog `Lmmdd hh:mm:ss.uuuuuu`;
 * - Android logcat: `L/tag` or `L(pid)` as first token (brief, tag, process), `L/tag` after the
 *   time (time, long), or a lone letter after date, time, pid and tid followed by `tag:` (threadtime);
 * - Redis `pid:role date time MARK` / `[pid] date time MARK` with MARK `.` `-` `*` `#`;
 * - `LEVEL:logger:message` (Python logging's default, old env_logger) and `Level,date,…` (Event Log CSV).
 * Level tokens elsewhere: a decorated word (`[ERROR]`, `<warn>`, `WARN:`, `[core:error]`,
 * `WARN[0000]`, `[Note]`, PostgreSQL's `LOG:`), a bare upper-case word (`INFO`), or a
 * Capitalized word directly after timestamp fields (Windows CBS `2016-09-28 04:30:31, Info`).
 * Lower-case words count only when decorated (colon-terminated ones only as the first token or
 * right after a `tag:` token).
 */
import { BODY_WORDS_ANY_CASE, BODY_WORDS_UPPER, DECORATED_HEADER_WORDS, DEBUG, ERROR, FATAL, INFO, TRACE, WARN, isCloser, isOpener } from './levels';
import { RULE_IDS, pack } from './rules';

const HEADER_CHARS = 160;
const HEADER_TOKENS = 10;
const MAX_HEADER_TOKEN = 40;

const COLON = 58;
const COMMA = 44;
const LEFT_BRACKET = 91;
const RIGHT_BRACKET = 93;
const DOT = 46;
const SLASH = 47;
const LEFT_PAREN = 40;

const KLOG_RE = /^\s{0,8}([IWEF])\d{4} \d\d:\d\d:\d\d/;
const KLOG_LEVELS: Readonly<Record<string, number>> = { I: INFO, W: WARN, E: ERROR, F: FATAL };
/** Syslog severity (PRI mod 8) → SeverityNumber, as the syslog digits of the alias table. */
const SYSLOG_LEVELS = [FATAL, ERROR + 2, ERROR + 1, ERROR, WARN, INFO + 1, INFO, DEBUG];
/** Header words that are dates, not levels or message: they keep a following Capitalized word in the header. */
const DATE_WORDS: ReadonlySet<string> = new Set([
  'Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec',
  'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun', 'AM', 'PM', 'UTC', 'GMT', 'Z',
]);

const R_PRI = RULE_IDS['syslog-pri'];
const R_KLOG = RULE_IDS.klog;
const R_LOGCAT = RULE_IDS.logcat;
const R_REDIS = RULE_IDS['redis-marker'];
const R_PREFIX = RULE_IDS.prefix;
const R_HEADER = RULE_IDS['header-level'];
const R_MESSAGE = RULE_IDS['message-word'];

/** Position of the last level token found, for `explain`. */
export const lastToken = { start: 0, end: 0 };

function hit(start: number, end: number, code: number): number {
  lastToken.start = start;
  lastToken.end = end;
  return code;
}

function isUpperAscii(c: number): boolean {
  return c >= 65 && c <= 90;
}

function isLetter(c: number): boolean {
  return (c | 32) >= 97 && (c | 32) <= 122;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** logcat's V D I W E F A. */
function logcatLevel(c: number): number {
  switch (c) {
    case 86: return TRACE;
    case 68: return DEBUG;
    case 73: return INFO;
    case 87: return WARN;
    case 69: return ERROR;
    case 70: case 65: return FATAL;
    default: return 0;
  }
}

/** Skips blanks and ANSI colour sequences (`ESC[…m`) from i; returns the next token start. */
function skipBlanks(s: string, i: number, end: number): number {
  while (i < end) {
    const c = s.charCodeAt(i);
    if (c > 32) break;
    i++;
    if (c === 27 && s.charCodeAt(i) === LEFT_BRACKET) {
      i++;
      while (i < end && !isLetter(s.charCodeAt(i))) i++;
      i++;
    }
  }
  return i;
}

/** End of the token at i: at a blank, or between adjacent bracket groups (`[time][WARN][logger]`). */
function tokenEnd(s: string, i: number, end: number): number {
  for (; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c <= 32) break;
    if (c === RIGHT_BRACKET && s.charCodeAt(i + 1) === LEFT_BRACKET) return i + 1;
  }
  return i;
}

/** logcat threadtime: the letter is followed by `tag:` or `tag :`. */
function tagFollows(s: string, i: number, end: number): boolean {
  const a = skipBlanks(s, i, end);
  const b = tokenEnd(s, a, end);
  if (b <= a || b >= end) return false;
  if (s.charCodeAt(b - 1) === COLON) return true;
  const c = skipBlanks(s, b, end);
  return c < end && s.charCodeAt(c) === COLON;
}

/** `<N>` at the start: N mod 8 as a SeverityNumber, or 0. */
function priSeverity(s: string): number {
  let pri = 0;
  let k = 1;
  for (; k <= 4 && k < s.length; k++) {
    const c = s.charCodeAt(k);
    if (c === 62) break;
    if (!isDigit(c)) return 0;
    pri = pri * 10 + c - 48;
  }
  if (k === 1 || k > 4 || s.charCodeAt(k) !== 62 || pri > 191) return 0;
  return hit(0, k + 1, pack(SYSLOG_LEVELS[pri & 7]!, R_PRI));
}

/** Redis' role token `pid:X` (X in C S M X) or `[pid]`. */
function isRedisRole(s: string, a: number, b: number): boolean {
  const first = s.charCodeAt(a);
  if (first === LEFT_BRACKET) {
    if (b - a < 3 || s.charCodeAt(b - 1) !== 93) return false;
    for (let k = a + 1; k < b - 1; k++) if (!isDigit(s.charCodeAt(k))) return false;
    return true;
  }
  if (b - a < 3 || s.charCodeAt(b - 2) !== COLON) return false;
  const role = s.charCodeAt(b - 1);
  if (role !== 67 && role !== 83 && role !== 77 && role !== 88) return false;
  for (let k = a; k < b - 2; k++) if (!isDigit(s.charCodeAt(k))) return false;
  return true;
}

/** `LEVEL:logger:…` / `Level,3/17/2024…` as the first token; packed severity or 0. */
function prefixSeverity(s: string, a: number, b: number): number {
  for (let k = a + 3; k < b - 1 && k <= a + 13; k++) {
    const c = s.charCodeAt(k);
    if (c === COLON) {
      const n = BODY_WORDS_UPPER.get(s.slice(a, k));
      return n === undefined ? 0 : hit(a, k, pack(n, R_PREFIX));
    }
    if (c === COMMA) {
      if (!isDigit(s.charCodeAt(k + 1))) return 0;
      const n = BODY_WORDS_ANY_CASE.get(s.slice(a, k));
      return n === undefined ? 0 : hit(a, k, pack(n, R_PREFIX));
    }
    if (!isLetter(c)) return 0;
  }
  return 0;
}

/** A packed severity from the header / first tokens of s, or 0. */
export function headerSeverity(s: string): number {
  const len = s.length;
  const c0 = s.charCodeAt(0);
  if (c0 === 60) {
    const n = priSeverity(s);
    if (n !== 0) return n;
  }
  // A klog header is anchored and unambiguous.
  if (c0 === 73 || c0 === 87 || c0 === 69 || c0 === 70 || c0 <= 32) {
    const m = KLOG_RE.exec(s);
    if (m) return hit(m.index, m.index + m[0].length, pack(KLOG_LEVELS[m[1]!]!, R_KLOG));
  }
  const end = len < HEADER_CHARS ? len : HEADER_CHARS;
  // Every token so far is a header field (numbers, times, dates, brackets, separators).
  let headerPos = true;
  // Every token so far starts with a digit (date, time, pid, tid) or is a lone `[`.
  let numericOnly = true;
  let clockSeen = false;
  let prevClock = false;
  let redis = false;
  // A non-level `tag:` / `logger:` token was seen: what follows is the message.
  let inMessage = false;
  // The previous token ended with `:`.
  let prevTag = false;
  let i = 0;
  for (let t = 0; t < HEADER_TOKENS; t++) {
    i = skipBlanks(s, i, end);
    if (i >= end) break;
    const a0 = i;
    i = tokenEnd(s, i, end);
    const b0 = i;
    // A token cut by the region end could read as a shorter word ("ERRORS" → "ERROR").
    if (b0 === end && end < len) break;
    if (b0 - a0 > MAX_HEADER_TOKEN) {
      headerPos = numericOnly = prevClock = prevTag = false;
      continue;
    }
    const first = s.charCodeAt(a0);
    if (t === 0) {
      if (b0 - a0 >= 2) {
        const c1 = s.charCodeAt(a0 + 1);
        if ((c1 === SLASH || c1 === LEFT_PAREN) && logcatLevel(first) !== 0) return hit(a0, a0 + 1, pack(logcatLevel(first), R_LOGCAT));
      }
      if (isUpperAscii(first)) {
        const n = prefixSeverity(s, a0, b0);
        if (n !== 0) return n;
      } else redis = isRedisRole(s, a0, b0);
    }
    if (b0 - a0 === 1 && redis && prevClock) {
      const n = first === 35 ? WARN : first === 42 ? INFO + 1 : first === 46 ? DEBUG : first === 45 ? TRACE : 0;
      if (n !== 0) return hit(a0, b0, pack(n, R_REDIS));
    }
    let a = a0;
    let b = b0;
    let bracketed = false;
    let colon = false;
    while (a < b && isOpener(s.charCodeAt(a))) {
      a++;
      bracketed = true;
    }
    for (let c = s.charCodeAt(b - 1); b > a; c = s.charCodeAt(b - 1)) {
      if (c === COLON) colon = true;
      else if (isCloser(c)) bracketed = true;
      else break;
      b--;
    }
    if (colon && !bracketed && t > 0) {
      // Monolog's `channel.LEVEL:` (`local.ERROR:`).
      for (let k = b - 1; k > a; k--) {
        if (s.charCodeAt(k) === DOT) {
          if (isUpperAscii(s.charCodeAt(k + 1))) a = k + 1;
          break;
        }
      }
    }
    if (bracketed) {
      // `[core:error]` → error; `WARN[0000` (its `]` already stripped) → WARN.
      for (let k = b - 1; k > a; k--) {
        if (s.charCodeAt(k) === COLON) {
          a = k + 1;
          break;
        }
      }
      for (let k = a + 1; k < b; k++) {
        if (s.charCodeAt(k) === LEFT_BRACKET) {
          b = k;
          break;
        }
      }
    }
    if (bracketed && b - a > 4) {
      // `[INFO/MainProcess]` (Celery), `[Server thread/INFO]` (Minecraft-style): the level on either side of a `/`.
      for (let k = a + 3; k < b - 1; k++) {
        if (s.charCodeAt(k) === SLASH) {
          if (BODY_WORDS_ANY_CASE.has(s.slice(a, k))) b = k;
          else a = k + 1;
          break;
        }
      }
    }
    const wl = b - a;
    const w0 = s.charCodeAt(a);
    if (numericOnly && clockSeen && wl >= 1) {
      // logcat after date, time, pid and tid: `D Tag: …` (threadtime), `D/Tag( pid)` (time, long).
      const n = logcatLevel(w0);
      if (n !== 0 && ((wl === 1 && !bracketed && !colon && tagFollows(s, b0, end)) || (wl >= 3 && s.charCodeAt(a + 1) === SLASH))) {
        return hit(a, a + 1, pack(n, R_LOGCAT));
      }
    }
    let word: string | undefined;
    if (wl >= 3 && wl <= 13 && isLetter(w0)) {
      word = s.slice(a, b);
      let n: number | undefined;
      if (bracketed || colon) {
        // A lower-case `error:` counts first in the line or first after a `tag:` (sshd's `error: …`, gcc's `f.c:3:5: error: …`).
        if (bracketed || t === 0 || isUpperAscii(w0) || prevTag) {
          n = BODY_WORDS_ANY_CASE.get(word);
          // Field-only words (LOG:, DETAIL:, dbug:, [Note], [core:trace3]): bracketed, first, or all upper-case.
          if (n === undefined && (bracketed || t === 0 || isUpperAscii(s.charCodeAt(a + 1)))) n = DECORATED_HEADER_WORDS.get(word);
        }
      } else if (isUpperAscii(w0)) {
        n = BODY_WORDS_UPPER.get(word);
        // `2016-09-28 04:30:31, Info  CBS …`: a Capitalized level right after the timestamp fields.
        if (n === undefined && headerPos && t > 0) n = BODY_WORDS_ANY_CASE.get(word);
      }
      if (n !== undefined) return hit(a, b, pack(n, inMessage ? R_MESSAGE : R_HEADER));
    }
    // What this token tells about the next ones.
    const digit = isDigit(w0);
    let clock = false;
    if (digit && (numericOnly || redis)) {
      for (let k = a + 1; k < b - 1; k++) {
        if (s.charCodeAt(k) === COLON && isDigit(s.charCodeAt(k + 1))) {
          clock = true;
          break;
        }
      }
    }
    prevClock = clock;
    if (clock) clockSeen = true;
    if (numericOnly && !digit && !(b0 - a0 === 1 && first === LEFT_BRACKET)) numericOnly = false;
    if (headerPos && !digit && wl > 0) {
      // Bracketed fields, separators and date words keep the header going; any other word ends it.
      let keep = (bracketed && !colon) || (!isLetter(w0) && wl <= 3);
      if (!keep && wl <= 4) keep = DATE_WORDS.has(s.charCodeAt(b - 1) === COMMA ? s.slice(a, b - 1) : (word ?? s.slice(a, b)));
      headerPos = keep;
    }
    if (colon && !digit && !inMessage) inMessage = true;
    prevTag = b0 - a0 > 1 && s.charCodeAt(b0 - 1) === COLON;
  }
  return 0;
}
