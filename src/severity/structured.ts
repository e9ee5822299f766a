/**
 * Named level fields, the most explicit place a line can put its level: JSON keys (MongoDB's
 * `"s"` too), logfmt keys, journald's PRIORITY, and a `Level:` line (Windows Event Log text). Each regex runs only
 * after an indexOf found its literal; bounded repetitions and literal anchors only, so none can
 * backtrack catastrophically.
 */
import { DEBUG, ERROR, FATAL, INFO, NUMERIC_LEVELS, TEXT_ALIASES, WARN, lookupText } from './levels';
import { RULE_IDS, pack } from './rules';

const LOGFMT_RE = /(?:^|[\s,;{(])(level|lvl|severity|loglevel|log_level|log\.level|at|priority)="?([a-z]+\d?(?:[+-]\d{1,2})?|[0-7](?![\w.]))/gi;
const JSON_RE = /"(level|lvl|severity|loglevel|log_level|log\.level|levelname|@l|priority|s)"\s{0,8}:\s{0,8}(?:"([^"\\]{1,32})"|(\d{1,2})(?![\d.]))/gi;
const MONGO_LEVELS: Readonly<Record<string, number>> = { F: FATAL, E: ERROR, W: WARN, I: INFO };
const LEVEL_LINE_RE = /(?:^|\n)[ \t]{0,16}Level:[ \t]{1,16}([A-Za-z]{3,13})\b/;

const R_JSON = RULE_IDS['json-field'];
const R_LOGFMT = RULE_IDS['logfmt-field'];
const R_PRIORITY = RULE_IDS['journald-priority'];
const R_LEVEL_LINE = RULE_IDS['level-line'];
const R_CLEF = RULE_IDS['clef-default'];
const R_K8S = RULE_IDS['k8s-json-error'];

/** Match position of the last hit, for `explain`. */
export const lastField = { start: 0, end: 0 };

function isPriority(key: string): boolean {
  return key.length === 8 && (key.charCodeAt(0) | 32) === 112;
}

/** A packed severity from a named level field in s, or 0. */
export function fieldSeverity(s: string): number {
  if (s.indexOf('=') >= 0) {
    LOGFMT_RE.lastIndex = 0;
    for (let m = LOGFMT_RE.exec(s); m !== null; m = LOGFMT_RE.exec(s)) {
      const key = m[1]!;
      const v = m[2]!;
      const digit = v.charCodeAt(0) < 58;
      // journald's PRIORITY takes syslog digits only; level keys take words only.
      if (digit !== isPriority(key)) continue;
      const n = lookupText(v);
      if (n !== 0) return hit(m.index + m[0].length - v.length, m.index + m[0].length, pack(n, digit ? R_PRIORITY : R_LOGFMT));
    }
  }
  if (s.indexOf('"') >= 0) {
    JSON_RE.lastIndex = 0;
    let any = false;
    for (let m = JSON_RE.exec(s); m !== null; m = JSON_RE.exec(s)) {
      any = true;
      const key = m[1]!;
      const priority = isPriority(key);
      let n: number;
      if (key.length === 1) {
        // MongoDB's "s": F E W I, D1–D5.
        const v = m[2];
        n = v === undefined ? 0 : v.length === 1 ? (MONGO_LEVELS[v] ?? 0) : v.length === 2 && v.charCodeAt(0) === 68 && v.charCodeAt(1) >= 49 && v.charCodeAt(1) <= 53 ? DEBUG : 0;
      } else if (m[2] !== undefined) {
        const v = m[2];
        n = priority ? (v.length === 1 ? (TEXT_ALIASES.get(v) ?? 0) : 0) : lookupText(v);
      } else {
        n = priority ? (m[3]!.length === 1 ? (TEXT_ALIASES.get(m[3]!) ?? 0) : 0) : (NUMERIC_LEVELS[Number(m[3])] ?? 0);
      }
      if (n !== 0) return hit(m.index, m.index + m[0].length, pack(n, priority ? R_PRIORITY : R_JSON));
    }
    if (!any && s.charCodeAt(0) === 123) {
      // Serilog CLEF leaves @l out for Information; Kubernetes' JSON format has no level key:
      // ErrorS writes `err` and no `v`, InfoS writes `v`.
      if (s.indexOf('"@t"') >= 0 && (s.indexOf('"@mt"') >= 0 || s.indexOf('"@m"') >= 0)) return hit(0, 0, pack(INFO, R_CLEF));
      if (s.indexOf('"err":') >= 0 && s.indexOf('"ts":') >= 0 && s.indexOf('"v":') < 0) return hit(0, 0, pack(ERROR, R_K8S));
    }
  }
  if (s.indexOf('Level:') >= 0) {
    const m = LEVEL_LINE_RE.exec(s);
    if (m) {
      const n = lookupText(m[1]!);
      if (n !== 0) return hit(m.index, m.index + m[0].length, pack(n, R_LEVEL_LINE));
    }
  }
  return 0;
}

function hit(start: number, end: number, code: number): number {
  lastField.start = start;
  lastField.end = end;
  return code;
}
