/**
 * Where a log line keeps its level, in precedence order:
 * 1. a named level field (JSON `level`/`severity`/`lvl`/`@l`/…, logfmt `level=`, journald
 *    `PRIORITY`, a `Level:` line) — the most explicit;
 * 2. the header: syslog PRI, a klog/glog header, a logcat or Redis level mark, a
 *    `LEVEL:logger:` prefix, or the first level token among the first tokens (so a level in the
 *    header beats level-like words in the message; a word in the message counts only when the
 *    header has none);
 * 3. stack-trace and exception markers → ERROR.
 * Strings in, packed or plain results out: no record types here.
 */
import { SEVERITY_SHORT_NAMES } from './levels';
import { RULE_IDS, pack, ruleText, unpackNumber, unpackRule, type SeverityRule } from './rules';
import { fieldSeverity, lastField } from './structured';
import { headerSeverity, lastToken } from './header';
import { hasStackMarker } from './stack';

/** Named fields and stack-trace markers are looked for only in the first 4 KiB of a line. */
const SCAN_CHARS = 4096;
const R_STACK = RULE_IDS['stack-trace'];

/**
 * The level of a line, packed: SeverityNumber in bits 0–7, rule id above (see rules.ts); 0 when
 * the line carries no recognisable level. The per-record path: allocates nothing for lines up to 4 KiB.
 */
export function locateSeverityCode(s: string): number {
  if (s.length === 0) return 0;
  const region = s.length > SCAN_CHARS ? s.slice(0, SCAN_CHARS) : s;
  let code = fieldSeverity(region);
  if (code !== 0) return code;
  code = headerSeverity(s);
  if (code !== 0) return code;
  return hasStackMarker(region) ? pack(17, R_STACK) : 0;
}

export interface LocatedSeverity {
  readonly severityNumber: number;
  /** OTel short name of severityNumber. */
  readonly severityText: string;
  /** The text the level was read from (the level token, field or marker), when there is one. */
  readonly token: string;
  readonly rule: SeverityRule;
  readonly ruleText: string;
}

/** The level of a line with the rule that found it, or undefined. For `explain` and tests. */
export function locateSeverity(s: string): LocatedSeverity | undefined {
  const code = locateSeverityCode(s);
  if (code === 0) return undefined;
  const n = unpackNumber(code);
  const rule = unpackRule(code);
  let token = '';
  if (rule === 'json-field' || rule === 'logfmt-field' || rule === 'journald-priority' || rule === 'level-line') token = s.slice(lastField.start, lastField.end);
  else if (rule !== 'stack-trace' && rule !== 'clef-default' && rule !== 'k8s-json-error') token = s.slice(lastToken.start, lastToken.end);
  return { severityNumber: n, severityText: SEVERITY_SHORT_NAMES[n]!, token: token.trim(), rule, ruleText: ruleText(rule) };
}
