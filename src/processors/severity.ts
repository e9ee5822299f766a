/**
 * `severity`: makes SeverityNumber and SeverityText agree. A number without text gets its
 * OTel short name; a text without number is mapped through an alias table; a record with
 * neither gets a severity inferred from its body, or `default_level`.
 *
 * Alias decisions. Where the OTel Logs Data Model Appendix B ("SeverityNumber example
 * mappings") names a level, it is followed:
 *   FINEST → TRACE; FINER → DEBUG; FINE → DEBUG2; CONFIG → DEBUG3; NOTICE (syslog 5) → INFO2;
 *   SEVERE → ERROR; CRITICAL/CRIT (syslog 2) and zap DPANIC → ERROR2;
 *   ALERT (syslog 1) and zap PANIC → ERROR3; EMERGENCY/EMERG (syslog 0) and FATAL → FATAL.
 *   Syslog numbers "0"–"7" follow the syslog column (0 FATAL, 1 ERROR3, 2 ERROR2, 3 ERROR,
 *   4 WARN, 5 INFO2, 6 INFO, 7 DEBUG).
 * Where the appendix disagrees with itself, the syslog row wins: .NET/ETW "Critical" is
 * FATAL there, but "critical" text is read as syslog's ERROR2 so that it stays below
 * "emergency". Both are in the error class either way.
 * One deliberate departure: VERBOSE (and V, VRB) → TRACE, not DEBUG as for WinEvtLog. Serilog,
 * logcat and glog place Verbose below Debug, so TRACE keeps their order; WinEvtLog has no Debug
 * level, so nothing of its order is lost.
 * Also read: 3-letter forms (zerolog/Serilog: TRC DBG INF WRN ERR FTL PNC), logrus' 4-letter
 * forms (TRAC DEBU ERRO FATA PANI), single letters of glog/klog/logcat (T D I W E F V), and the
 * OTel short names themselves (INFO3, ERROR2, …).
 */
import { opt } from '../config/options';
import { OptionError, defineProcessor } from '../pipeline/processor';
import type { AnyValue, KeyValue, LogRecord, LogsData } from '../otlp/model';
import { anyValueKind, asString, boolValue, stringValue, upsertAttribute } from '../otlp/values';

const TRACE = 1;
const DEBUG = 5;
const INFO = 9;
const WARN = 13;
const ERROR = 17;
const FATAL = 21;

/** OTel short names indexed by SeverityNumber; index 0 (UNSPECIFIED) has none. */
export const SEVERITY_SHORT_NAMES: readonly string[] = Object.freeze(
  ['', ...['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'].flatMap((b) => [b, b + '2', b + '3', b + '4'])],
);

/** Record attribute set to true when the severity was inferred or defaulted, not sent. */
export const INFERRED_ATTRIBUTE = 'log.severity.inferred';

const DEFAULT_LEVELS = { none: 0, trace: TRACE, debug: DEBUG, info: INFO, warn: WARN, error: ERROR, fatal: FATAL } as const;
type DefaultLevel = keyof typeof DEFAULT_LEVELS;

/** Level words that are safe to look for inside a message (no single letters, digits or CONFIG). */
const BODY_WORDS: Readonly<Record<string, number>> = {
  trace: TRACE, trc: TRACE, trac: TRACE, finest: TRACE, verbose: TRACE, vrb: TRACE,
  debug: DEBUG, dbg: DEBUG, debu: DEBUG, finer: DEBUG, fine: DEBUG + 1,
  info: INFO, inf: INFO, information: INFO, informational: INFO, notice: INFO + 1,
  warn: WARN, warning: WARN, wrn: WARN,
  error: ERROR, err: ERROR, eror: ERROR, erro: ERROR, severe: ERROR,
  critical: ERROR + 1, crit: ERROR + 1, dpanic: ERROR + 1,
  alert: ERROR + 2, panic: ERROR + 2, pani: ERROR + 2, pnc: ERROR + 2,
  fatal: FATAL, fata: FATAL, ftl: FATAL, emerg: FATAL, emergency: FATAL,
};

/** Severity text aliases, lower-case: the body words plus forms only a severity field uses. */
const TEXT_ALIASES: ReadonlyMap<string, number> = new Map<string, number>([
  ...Object.entries(BODY_WORDS),
  ['config', DEBUG + 2],
  ['t', TRACE], ['v', TRACE], ['d', DEBUG], ['i', INFO], ['w', WARN], ['e', ERROR], ['f', FATAL],
  ['0', FATAL], ['1', ERROR + 2], ['2', ERROR + 1], ['3', ERROR], ['4', WARN], ['5', INFO + 1], ['6', INFO], ['7', DEBUG],
  ...SEVERITY_SHORT_NAMES.slice(1).map((name, i) => [name.toLowerCase(), i + 1] as [string, number]),
]);

function caseVariants(words: Readonly<Record<string, number>>, upperOnly: boolean): ReadonlyMap<string, number> {
  const m = new Map<string, number>();
  for (const [w, n] of Object.entries(words)) {
    m.set(w.toUpperCase(), n);
    if (upperOnly) continue;
    m.set(w, n);
    m.set(w[0]!.toUpperCase() + w.slice(1), n);
  }
  return m;
}

// Exact-case maps so that header scanning needs no toLowerCase per token.
const BODY_WORDS_UPPER = caseVariants(BODY_WORDS, true);
const BODY_WORDS_ANY_CASE = caseVariants(BODY_WORDS, false);

/** pino/bunyan numeric levels, the only numeric level values read from a body. */
const NUMERIC_LEVELS: Readonly<Record<number, number>> = { 10: TRACE, 20: DEBUG, 30: INFO, 40: WARN, 50: ERROR, 60: FATAL };

const KV_LEVEL_KEYS: ReadonlySet<string> = new Set(['level', 'lvl', 'severity', 'loglevel', 'log_level', 'log.level', 'levelname']);
const KV_MESSAGE_KEYS: ReadonlySet<string> = new Set(['msg', 'message', 'log']);
const MAX_KV_KEY = 9;

/** Longest severity text worth normalising; longer texts are not levels and skip the work. */
const MAX_TEXT = 32;
/** Header region: level tokens are looked for only among the first tokens of a line. */
const HEADER_CHARS = 160;
const HEADER_TOKENS = 10;
const MAX_HEADER_TOKEN = 40;
/** Key-value and stack-trace markers are looked for only in the first 4 KiB of a body. */
const SCAN_CHARS = 4096;

// Bounded repetitions and literal anchors only: none of these can backtrack catastrophically.
const LOGFMT_RE = /(?:^|[\s,;{(])(?:level|lvl|severity|loglevel|log_level|log\.level)="?([a-z]+[234]?)/gi;
const JSON_RE = /"(?:level|lvl|severity|loglevel|log_level|log\.level|levelname)"\s{0,8}:\s{0,8}(?:"([^"\\]{1,32})"|(\d{2})(?![\d.]))/gi;
const KLOG_RE = /^\s{0,8}([IWEF])\d{4} \d\d:\d\d:\d\d/;
const FRAME_RE = /^(?:\t| {2,8})at [^\n(]{1,256}\(/m;
const PANIC_RE = /^panic: /m;
const GOROUTINE_RE = /goroutine \d{1,12} \[running\]/;
const EXCEPTION_TOKEN_RE = /(?:^|[\s(["'])[\w.$]{0,200}(?:Exception|Error):(?=\s|$)/m;
const KLOG_LEVELS: Readonly<Record<string, number>> = { I: INFO, W: WARN, E: ERROR, F: FATAL };

const COLON = 58;
const LEFT_BRACKET = 91;

const TEXT_CACHE_MAX = 512;

/** Maps a severity text (case-insensitive, trimmed, brackets and colons ignored) to a SeverityNumber. */
export function severityFromText(text: string): number | undefined {
  const n = lookupText(text);
  return n === 0 ? undefined : n;
}

/**
 * Senders use a handful of distinct texts: caching skips the trim/lower-case allocations.
 * Cleared when full, so arbitrary texts can neither grow it nor keep the common ones out.
 * Unknown texts are cached as 0. One per processor instance.
 */
class TextCache {
  private readonly map = new Map<string, number>();
  lookup(text: string): number {
    let n = this.map.get(text);
    if (n === undefined) {
      n = lookupText(text);
      if (this.map.size >= TEXT_CACHE_MAX) this.map.clear();
      this.map.set(text, n);
    }
    return n;
  }
}

function lookupText(text: string): number {
  if (text.length > MAX_TEXT) return 0;
  let a = 0;
  let b = text.length;
  while (a < b && isOpener(text.charCodeAt(a))) a++;
  while (b > a && (isCloser(text.charCodeAt(b - 1)) || text.charCodeAt(b - 1) === COLON)) b--;
  return TEXT_ALIASES.get(text.slice(a, b).toLowerCase()) ?? 0;
}

/** Whitespace, `[`, `<`, `(`. */
function isOpener(c: number): boolean {
  return c <= 32 || c === 91 || c === 60 || c === 40;
}

/** Whitespace, `]`, `>`, `)`. */
function isCloser(c: number): boolean {
  return c <= 32 || c === 93 || c === 62 || c === 41;
}

function isUpperAscii(c: number): boolean {
  return c >= 65 && c <= 90;
}

function isLetter(c: number): boolean {
  return (c | 32) >= 97 && (c | 32) <= 122;
}

/** Infers a SeverityNumber from a log line, or undefined when it carries no recognisable level. */
export function inferSeverity(body: string): number | undefined {
  const n = inferFromString(body);
  return n === 0 ? undefined : n;
}

function inferFromString(s: string): number {
  if (s.length === 0) return 0;
  const region = s.length > SCAN_CHARS ? s.slice(0, SCAN_CHARS) : s;
  let n = keyValueSeverity(region);
  if (n !== 0) return n;
  // A klog header is anchored and unambiguous, so it outranks level words in the message.
  const c = s.charCodeAt(0);
  if (c === 73 || c === 87 || c === 69 || c === 70 || c <= 32) {
    const m = KLOG_RE.exec(s);
    if (m) return KLOG_LEVELS[m[1]!]!;
  }
  n = headerSeverity(s);
  if (n !== 0) return n;
  return hasStackMarker(region) ? ERROR : 0;
}

/**
 * Exception and stack-trace markers. Each regex runs only after indexOf found its literal:
 * most lines have none, and one alternation over the whole region cost more than all the rest.
 */
function hasStackMarker(s: string): boolean {
  if (s.indexOf('Traceback (most recent call last)') >= 0 || s.indexOf('Exception in thread "') >= 0) return true;
  if ((s.indexOf('\tat ') >= 0 || s.indexOf('  at ') >= 0) && FRAME_RE.test(s)) return true;
  if (s.indexOf('panic: ') >= 0 && PANIC_RE.test(s)) return true;
  if (s.indexOf('goroutine ') >= 0 && GOROUTINE_RE.test(s)) return true;
  return (s.indexOf('Exception:') >= 0 || s.indexOf('Error:') >= 0) && EXCEPTION_TOKEN_RE.test(s);
}

/** `level=warn` (logfmt) and `"level":"warn"` / `"level":40` (JSON). */
function keyValueSeverity(s: string): number {
  if (s.indexOf('=') >= 0) {
    LOGFMT_RE.lastIndex = 0;
    for (let m = LOGFMT_RE.exec(s); m !== null; m = LOGFMT_RE.exec(s)) {
      const n = TEXT_ALIASES.get(m[1]!.toLowerCase());
      if (n !== undefined) return n;
    }
  }
  if (s.indexOf('"') >= 0) {
    JSON_RE.lastIndex = 0;
    for (let m = JSON_RE.exec(s); m !== null; m = JSON_RE.exec(s)) {
      const n = m[1] !== undefined ? severityFromText(m[1]) : NUMERIC_LEVELS[Number(m[2])];
      if (n !== undefined) return n;
    }
  }
  return 0;
}

/**
 * Level words among the first tokens: decorated ones (`[ERROR]`, `<warn>`, `WARN:`, Apache's
 * `[core:error]`, Serilog's `[12:00:00 INF]`, logrus' `WARN[0000]`) win over a bare upper-case
 * word (`081109 203615 148 INFO dfs.DataNode…`). Lower-case words count only when decorated:
 * bracketed anywhere, colon-terminated only as the first token (`warning: unused variable`).
 */
function headerSeverity(s: string): number {
  const end = s.length < HEADER_CHARS ? s.length : HEADER_CHARS;
  let bare = 0;
  let i = 0;
  for (let t = 0; t < HEADER_TOKENS; t++) {
    while (i < end && s.charCodeAt(i) <= 32) i++;
    if (i >= end) break;
    let a = i;
    while (i < end && s.charCodeAt(i) > 32) i++;
    let b = i;
    // A token cut by the region end could read as a shorter word ("ERRORS" → "ERROR").
    if (b === end && end < s.length) break;
    if (b - a > MAX_HEADER_TOKEN) continue;
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
    const len = b - a;
    if (len < 3 || len > 13) continue;
    const first = s.charCodeAt(a);
    if (!isLetter(first)) continue;
    if (bracketed || colon) {
      if (!bracketed && t > 0 && !isUpperAscii(first)) continue;
      const n = BODY_WORDS_ANY_CASE.get(s.slice(a, b));
      if (n !== undefined) return n;
    } else if (bare === 0 && isUpperAscii(first)) {
      bare = BODY_WORDS_UPPER.get(s.slice(a, b)) ?? 0;
    }
  }
  return bare;
}

/** A level value from a structured body: a level text, or a pino/bunyan number. */
function levelValueSeverity(v: AnyValue | null | undefined): number {
  switch (anyValueKind(v)) {
    case 'stringValue':
      return severityFromText(v!.stringValue as string) ?? 0;
    case 'intValue':
      return NUMERIC_LEVELS[v!.intValue!.toNumber()] ?? 0;
    case 'doubleValue':
      return NUMERIC_LEVELS[v!.doubleValue as number] ?? 0;
    default:
      return 0;
  }
}

/** Level keys first; otherwise the message string is read like a text body. */
function kvlistSeverity(values: readonly KeyValue[]): number {
  let message: string | undefined;
  for (let i = 0; i < values.length; i++) {
    const kv = values[i]!;
    if (kv.key.length > MAX_KV_KEY) continue;
    const key = kv.key.toLowerCase();
    if (KV_LEVEL_KEYS.has(key)) {
      const n = levelValueSeverity(kv.value);
      if (n !== 0) return n;
    } else if (message === undefined && KV_MESSAGE_KEYS.has(key)) {
      message = asString(kv.value);
    }
  }
  return message === undefined ? 0 : inferFromString(message);
}

function bodySeverity(body: AnyValue | null | undefined): number {
  switch (anyValueKind(body)) {
    case 'stringValue':
      return inferFromString(body!.stringValue as string);
    case 'kvlistValue':
      return kvlistSeverity(body!.kvlistValue!.values);
    default:
      return 0;
  }
}

interface Settings {
  readonly infer: boolean;
  readonly defaultLevel: number;
  readonly rewriteText: boolean;
  readonly classAttribute: string;
  readonly texts: TextCache;
}

function normalizeRecord(rec: LogRecord, s: Settings): void {
  const num = rec.severityNumber || 0;
  const text = rec.severityText;
  if (num === 0) {
    if (text) {
      // The sender named a level: map it, but never second-guess it from the body.
      const n = s.texts.lookup(text);
      if (n !== 0) {
        rec.severityNumber = n;
        if (s.rewriteText) rec.severityText = SEVERITY_SHORT_NAMES[n]!;
      }
    } else {
      let n = s.infer ? bodySeverity(rec.body) : 0;
      if (n === 0) n = s.defaultLevel;
      if (n !== 0) {
        rec.severityNumber = n;
        rec.severityText = SEVERITY_SHORT_NAMES[n]!;
        upsertAttribute(rec.attributes, INFERRED_ATTRIBUTE, boolValue(true));
      }
    }
  } else if (!text && num >= TRACE && num <= FATAL + 3) {
    rec.severityText = SEVERITY_SHORT_NAMES[num]!;
  }
  if (s.classAttribute !== '') {
    const n = rec.severityNumber || 0;
    upsertAttribute(rec.attributes, s.classAttribute, stringValue(n >= ERROR ? 'error' : n >= WARN ? 'warn' : 'info'));
  }
}

export const severityProcessor = defineProcessor({
  name: 'severity',
  summary: 'Fills SeverityNumber and SeverityText from each other, maps level aliases, and infers a severity from the body when neither is set.',
  options: {
    infer: opt.bool(true, 'Infer the severity from the body (logfmt/JSON level keys, level words, klog headers, stack traces) when number and text are both unset.'),
    default_level: opt.enum(
      Object.keys(DEFAULT_LEVELS) as DefaultLevel[],
      'info',
      'Severity for records with neither number nor text that inference did not place (all of them when `infer` is off), marked `log.severity.inferred`; `none` leaves them unset.',
    ),
    rewrite_text: opt.bool(true, 'Replace a mapped severity text by its OTel short name (`warning` → `WARN`). Off: keep the sender\'s text.'),
    class_attribute: opt.string('', 'Record attribute to write `error` (≥ ERROR), `warn` (WARN) or `info` (anything else) to; empty: off.'),
  },
  create(o) {
    const classAttribute = o.class_attribute.trim();
    if (classAttribute === INFERRED_ATTRIBUTE) throw new OptionError('class_attribute', `must not be ${INFERRED_ATTRIBUTE}, which this processor sets itself`);
    const settings: Settings = {
      infer: o.infer,
      defaultLevel: DEFAULT_LEVELS[o.default_level],
      rewriteText: o.rewrite_text,
      classAttribute,
      texts: new TextCache(),
    };
    return {
      process(batch: LogsData): LogsData {
        const rls = batch.resourceLogs;
        for (let i = 0; i < rls.length; i++) {
          const sls = rls[i]!.scopeLogs;
          for (let j = 0; j < sls.length; j++) {
            const recs = sls[j]!.logRecords;
            for (let k = 0; k < recs.length; k++) normalizeRecord(recs[k]!, settings);
          }
        }
        return batch;
      },
    };
  },
});
