/**
 * Severity numbers, the OTel short names and the level alias tables shared by the locator and
 * the `severity` processor. Plain strings and numbers only.
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
 * forms (TRAC DEBU ERRO FATA PANI), .NET's (trce dbug fail), single letters of glog/klog/logcat
 * (T D I W E F V, logcat's A = assert → FATAL), PostgreSQL's DEBUG1–5 and LOG (→ INFO), MySQL's
 * Note (→ INFO), Apache's trace1–8 (→ TRACE), and the OTel short names themselves (INFO3, …).
 */

export const TRACE = 1;
export const DEBUG = 5;
export const INFO = 9;
export const WARN = 13;
export const ERROR = 17;
export const FATAL = 21;

/** OTel short names indexed by SeverityNumber; index 0 (UNSPECIFIED) has none. */
export const SEVERITY_SHORT_NAMES: readonly string[] = Object.freeze(
  ['', ...['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'].flatMap((b) => [b, b + '2', b + '3', b + '4'])],
);

/** Level words that are safe to look for inside a message (no single letters, digits or CONFIG). */
export const BODY_WORDS: Readonly<Record<string, number>> = {
  trace: TRACE, trc: TRACE, trac: TRACE, finest: TRACE, verbose: TRACE, vrb: TRACE,
  debug: DEBUG, dbg: DEBUG, debu: DEBUG, finer: DEBUG, fine: DEBUG + 1,
  info: INFO, inf: INFO, information: INFO, informational: INFO, notice: INFO + 1,
  warn: WARN, warning: WARN, wrn: WARN,
  error: ERROR, err: ERROR, eror: ERROR, erro: ERROR, severe: ERROR,
  critical: ERROR + 1, crit: ERROR + 1, dpanic: ERROR + 1,
  alert: ERROR + 2, panic: ERROR + 2, pani: ERROR + 2, pnc: ERROR + 2,
  fatal: FATAL, fata: FATAL, ftl: FATAL, emerg: FATAL, emergency: FATAL,
};

/**
 * Level words read only where a format puts a level, never from free text: as a decorated
 * header token (`[Note]`, `LOG:`, `DEBUG2:`, `[core:trace3]`), a field value or a severity text.
 */
const FIELD_WORDS: Readonly<Record<string, number>> = {
  trce: TRACE, dbug: DEBUG, fail: ERROR, assert: FATAL,
  config: DEBUG + 2, note: INFO, log: INFO,
  debug1: DEBUG, debug5: DEBUG + 3,
  trace1: TRACE, trace5: TRACE + 3, trace6: TRACE + 3, trace7: TRACE + 3, trace8: TRACE + 3,
};

/** Severity text aliases, lower-case: the body and field words plus single letters and syslog digits. */
export const TEXT_ALIASES: ReadonlyMap<string, number> = new Map<string, number>([
  ...Object.entries(BODY_WORDS),
  ...Object.entries(FIELD_WORDS),
  ['t', TRACE], ['v', TRACE], ['d', DEBUG], ['i', INFO], ['w', WARN], ['e', ERROR], ['f', FATAL],
  ['0', FATAL], ['1', ERROR + 2], ['2', ERROR + 1], ['3', ERROR], ['4', WARN], ['5', INFO + 1], ['6', INFO], ['7', DEBUG],
  ...SEVERITY_SHORT_NAMES.slice(1).map((name, i) => [name.toLowerCase(), i + 1] as [string, number]),
]);

function caseVariants(words: Readonly<Record<string, number>>, upperOnly: boolean): Map<string, number> {
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
/** Bare upper-case level words: `INFO`, `WARN`. */
export const BODY_WORDS_UPPER: ReadonlyMap<string, number> = caseVariants(BODY_WORDS, true);
/** Level words in lower, Capitalized or upper case. */
export const BODY_WORDS_ANY_CASE: ReadonlyMap<string, number> = caseVariants(BODY_WORDS, false);

const HEADER_WORDS = ((): Map<string, number> => {
  const m = new Map(BODY_WORDS_ANY_CASE);
  for (const [w, n] of caseVariants(FIELD_WORDS, false)) m.set(w, n);
  // OTel-style numbered names (PostgreSQL's DEBUG2–4, Apache's trace2–4).
  for (let i = 1; i < SEVERITY_SHORT_NAMES.length; i++) {
    if (i % 4 === 1) continue;
    m.set(SEVERITY_SHORT_NAMES[i]!, i);
    m.set(SEVERITY_SHORT_NAMES[i]!.toLowerCase(), i);
  }
  // PostgreSQL lines that continue the message before them carry no level of their own.
  for (const w of ['DETAIL', 'HINT', 'CONTEXT', 'STATEMENT', 'QUERY', 'LOCATION']) m.set(w, INFO);
  // MySQL 8's [System] (exact case: a bracketed "system" elsewhere is a component name).
  m.set('System', INFO);
  return m;
})();
/** Words that are levels when a format marks them as its level token (bracketed or `WORD:`). */
export const DECORATED_HEADER_WORDS: ReadonlyMap<string, number> = HEADER_WORDS;

/** pino/bunyan numeric levels, the only numeric level values read from a body. */
export const NUMERIC_LEVELS: Readonly<Record<number, number>> = { 10: TRACE, 20: DEBUG, 30: INFO, 40: WARN, 50: ERROR, 60: FATAL };

/** Longest severity text worth normalising; longer texts are not levels and skip the work. */
const MAX_TEXT = 32;
const COLON = 58;

/** Whitespace, `[`, `<`, `(`. */
export function isOpener(c: number): boolean {
  return c <= 32 || c === 91 || c === 60 || c === 40;
}

/** Whitespace, `]`, `>`, `)`. */
export function isCloser(c: number): boolean {
  return c <= 32 || c === 93 || c === 62 || c === 41;
}

/**
 * slog-style offsets (`DEBUG-4`, `ERROR+2`): the base level plus the offset, as the OTel slog
 * bridge maps them (slog level + 9), kept within 1–24.
 */
const OFFSET_RE = /^([a-z]{3,5})([+-]\d{1,2})$/;

/** A SeverityNumber for a level text (case-insensitive, trimmed, brackets and colons ignored), 0 if none. */
export function lookupText(text: string): number {
  if (text.length > MAX_TEXT) return 0;
  let a = 0;
  let b = text.length;
  while (a < b && isOpener(text.charCodeAt(a))) a++;
  while (b > a && (isCloser(text.charCodeAt(b - 1)) || text.charCodeAt(b - 1) === COLON)) b--;
  const key = text.slice(a, b).toLowerCase();
  const n = TEXT_ALIASES.get(key);
  if (n !== undefined) return n;
  const m = OFFSET_RE.exec(key);
  if (m === null) return 0;
  const base = TEXT_ALIASES.get(m[1]!);
  if (base === undefined) return 0;
  const v = base + Number(m[2]);
  return v < 1 ? 1 : v > 24 ? 24 : v;
}

/** Maps a severity text to a SeverityNumber, or undefined. */
export function severityFromText(text: string): number | undefined {
  const n = lookupText(text);
  return n === 0 ? undefined : n;
}

/** error (≥ ERROR), warn (WARN) or info (anything else, unset included). */
export function severityClass(n: number): 'error' | 'warn' | 'info' {
  return n >= ERROR ? 'error' : n >= WARN ? 'warn' : 'info';
}
