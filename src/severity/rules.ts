/**
 * The rules that can set an inferred severity, in precedence order, with the text `explain`
 * shows. A locator result packs the SeverityNumber (bits 0–7) and the rule id (bits 8+) into one
 * number so that the per-record path allocates nothing.
 */
export const RULES = [
  { id: 'none', text: 'no level found' },
  { id: 'json-field', text: 'JSON level field (level, severity, lvl, @l, levelname, log.level, loglevel; pino/bunyan numbers)' },
  { id: 'logfmt-field', text: 'key=value level field (level=, lvl=, severity=, at=, …)' },
  { id: 'journald-priority', text: 'journald PRIORITY field (syslog severity 0–7)' },
  { id: 'level-line', text: '`Level:` line (Windows Event Log text)' },
  { id: 'clef-default', text: 'Serilog CLEF event without @l (Information)' },
  { id: 'k8s-json-error', text: 'Kubernetes JSON log with err and no v (ErrorS)' },
  { id: 'syslog-pri', text: 'syslog PRI <N> (severity = N mod 8)' },
  { id: 'klog', text: 'klog/glog header letter (I W E F + mmdd)' },
  { id: 'logcat', text: 'Android logcat level letter (after time/pid/tid, or L/tag)' },
  { id: 'redis-marker', text: 'Redis level marker (. - * #) after the time' },
  { id: 'prefix', text: 'LEVEL:logger: / Level,date prefix (Python logging default, env_logger, Event Log CSV)' },
  { id: 'header-level', text: 'level token in the header (before the message)' },
  { id: 'message-word', text: 'level word at the start of the message (the header has none)' },
  { id: 'stack-trace', text: 'stack trace / exception line' },
] as const;

export type SeverityRule = (typeof RULES)[number]['id'];

export const RULE_IDS: Readonly<Record<SeverityRule, number>> = Object.fromEntries(RULES.map((r, i) => [r.id, i])) as Record<SeverityRule, number>;

export function ruleText(rule: SeverityRule): string {
  return RULES[RULE_IDS[rule]]!.text;
}

/** n (1–24) with rule id r. */
export function pack(n: number, r: number): number {
  return n === 0 ? 0 : n | (r << 8);
}

export function unpackNumber(code: number): number {
  return code & 0xff;
}

export function unpackRule(code: number): SeverityRule {
  return RULES[code >> 8]!.id;
}
