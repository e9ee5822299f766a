/**
 * `severity`: makes SeverityNumber and SeverityText agree. A number without text gets its
 * OTel short name; a text without number is mapped through an alias table; a record with
 * neither gets a severity inferred from its body, or `default_level`.
 *
 * The alias table and the level locator (which header token, field or marker sets the level
 * of a line, and the precedence between them) live in src/severity/ and work on plain strings.
 */
import { opt } from '../config/options';
import { OptionError, defineProcessor } from './contract';
import type { AnyValue, KeyValue, LogBatch, LogRecord } from '../records/types';
import { anyValueKind, asString } from '../records/values';
import { DEBUG, ERROR, FATAL, INFO, NUMERIC_LEVELS, SEVERITY_SHORT_NAMES, TRACE, WARN, lookupText, severityFromText } from '../severity/levels';
import { locateSeverity, locateSeverityCode } from '../severity/locate';

export { SEVERITY_SHORT_NAMES, severityFromText };

/** Record attribute set to true when the severity was inferred or defaulted, not sent. */
export const INFERRED_ATTRIBUTE = 'log.severity.inferred';

const DEFAULT_LEVELS = { none: 0, trace: TRACE, debug: DEBUG, info: INFO, warn: WARN, error: ERROR, fatal: FATAL } as const;
type DefaultLevel = keyof typeof DEFAULT_LEVELS;

const KV_LEVEL_KEYS: ReadonlySet<string> = new Set(['level', 'lvl', 'severity', 'loglevel', 'log_level', 'log.level', 'levelname', '@l', 'priority']);
const KV_MESSAGE_KEYS: ReadonlySet<string> = new Set(['msg', 'message', 'log']);
const MAX_KV_KEY = 9;

const TEXT_CACHE_MAX = 512;

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

/** Infers a SeverityNumber from a log line, or undefined when it carries no recognisable level. */
export function inferSeverity(body: string): number | undefined {
  const n = inferFromString(body);
  return n === 0 ? undefined : n;
}

function inferFromString(s: string): number {
  return locateSeverityCode(s) & 0xff;
}

/** A level value from a structured body: a level text, or a pino/bunyan number. */
function levelValueSeverity(v: AnyValue): number {
  switch (anyValueKind(v)) {
    case 'stringValue':
      return severityFromText(v.stringValue!) ?? 0;
    case 'intValue':
      return NUMERIC_LEVELS[Number(v.intValue!)] ?? 0;
    case 'doubleValue':
      return NUMERIC_LEVELS[v.doubleValue!] ?? 0;
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

function bodySeverity(rec: LogRecord): number {
  // The string read builds no value object for the usual string body.
  const line = rec.bodyString;
  if (line !== undefined) return inferFromString(line);
  const body = rec.body;
  return anyValueKind(body) === 'kvlistValue' ? kvlistSeverity(body!.kvlistValue!.values) : 0;
}

/** A record's severity fields as they were before the processor ran, for `explain`. */
export interface SeverityBefore {
  readonly severityNumber: number;
  readonly severityText: string;
  readonly body: AnyValue | undefined;
}

/**
 * Which rule set a record's severity, in words, from its fields before the processor and the
 * number it ended with. For `explain`; not on the per-record path.
 */
export function explainSeverity(before: SeverityBefore, after: number): string {
  if (before.severityNumber) return 'severity_number sent by the source';
  if (before.severityText) {
    return lookupText(before.severityText) !== 0 ? `severity_text ${JSON.stringify(before.severityText)} mapped by the alias table` : `unknown severity_text ${JSON.stringify(before.severityText)} left as sent`;
  }
  let line: string | undefined;
  let where = 'body';
  const body = before.body;
  if (anyValueKind(body) === 'stringValue') line = body!.stringValue!;
  else if (anyValueKind(body) === 'kvlistValue') {
    for (const kv of body!.kvlistValue!.values) {
      const key = kv.key.toLowerCase();
      if (kv.key.length <= MAX_KV_KEY && KV_LEVEL_KEYS.has(key) && levelValueSeverity(kv.value) === after && after !== 0) return `structured body key ${JSON.stringify(kv.key)}`;
      if (line === undefined && KV_MESSAGE_KEYS.has(key)) {
        line = asString(kv.value);
        where = `body key ${JSON.stringify(kv.key)}`;
      }
    }
  }
  const located = line === undefined ? undefined : locateSeverity(line);
  if (located && located.severityNumber === after) {
    return `${located.rule}: ${located.ruleText}${located.token ? ` — ${JSON.stringify(located.token)}` : ''}${where === 'body' ? '' : ` in ${where}`}`;
  }
  return after === 0 ? 'no level found; default_level none' : 'no level found (or infer off): default_level';
}

interface Settings {
  readonly infer: boolean;
  readonly defaultLevel: number;
  readonly rewriteText: boolean;
  readonly classAttribute: string;
  readonly texts: TextCache;
}

function normalizeRecord(rec: LogRecord, s: Settings): void {
  let num = rec.severityNumber;
  if (num === 0) {
    const text = rec.severityText;
    if (text) {
      // The sender named a level: map it, but never second-guess it from the body.
      const n = s.texts.lookup(text);
      if (n !== 0) {
        rec.severityNumber = num = n;
        if (s.rewriteText) rec.severityText = SEVERITY_SHORT_NAMES[n]!;
      }
    } else {
      let n = s.infer ? bodySeverity(rec) : 0;
      if (n === 0) n = s.defaultLevel;
      if (n !== 0) {
        rec.severityNumber = num = n;
        rec.severityText = SEVERITY_SHORT_NAMES[n]!;
        rec.attributes.set(INFERRED_ATTRIBUTE, true);
      }
    }
  } else if (num >= TRACE && num <= FATAL + 3 && !rec.severityText) {
    rec.severityText = SEVERITY_SHORT_NAMES[num]!;
  }
  if (s.classAttribute !== '') {
    const cls = num >= ERROR ? 'error' : num >= WARN ? 'warn' : 'info';
    // Unchanged attributes keep the record written as its received bytes.
    const attrs = rec.attributes;
    if (attrs.getString(s.classAttribute) !== cls) attrs.set(s.classAttribute, cls);
  }
}

export const severityProcessor = defineProcessor({
  name: 'severity',
  summary: 'Fills SeverityNumber and SeverityText from each other, maps level aliases, and infers a severity from the body when neither is set.',
  options: {
    infer: opt.bool(true, 'Infer the severity from the body when number and text are both unset: a named level field, else the level token of the header (syslog PRI, klog, logcat, Redis, level words; it wins over words in the message), else stack traces.'),
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
      process(batch: LogBatch): void {
        for (const rec of batch) normalizeRecord(rec, settings);
      },
    };
  },
});
