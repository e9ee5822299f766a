/**
 * Category rules: an ordered list of (condition, category); the first rule whose pattern is
 * found in its field decides. A field is the record's message text (`body`) or a record
 * attribute. User rules are compiled with RE2 (re2js: linear time, whatever the input), the
 * built-in ones are fixed JavaScript expressions written without nested quantifiers.
 */
import { RE2JS } from 're2js';
import type { Attributes } from '../records/types';
import { anyValueToString } from '../records/values';
import { BigramSet, LiteralFilter } from './literal-filter';

export interface CategoryRule {
  readonly category: string;
  /** Record attribute to test; undefined tests the message text. */
  readonly attribute: string | undefined;
  /** Pattern as written, for messages and docs. */
  readonly source: string;
  /**
   * For message rules: a cheap necessary condition (literals any match contains); a text it
   * rules out is not tested. Absent: always tested.
   */
  readonly filter?: LiteralFilter | undefined;
  test(text: string): boolean;
}

/** A user rule before compilation (env or YAML form). */
export interface RuleSpec {
  readonly category: string;
  readonly pattern: string;
  readonly attribute?: string | undefined;
}

/** Only the first KiB of a message is searched: categories are decided by how a message starts. */
export const RULE_SCAN_CHARS = 1024;

const CATEGORY_RE = /^[A-Za-z0-9][\w.-]{0,63}$/;

/**
 * Env form: `category=regex;category2=regex`, or `category[attribute.key]=regex` to test an
 * attribute. A `;` inside a pattern is written `\;` (RE2 reads that as a literal `;`).
 * YAML form: a list of `{category, pattern, attribute?}`.
 */
export function parseRuleSpecs(raw: unknown): RuleSpec[] {
  if (Array.isArray(raw)) {
    return raw.map((r, i) => {
      if (r === null || typeof r !== 'object') throw new Error(`rule ${i + 1}: expected {category, pattern, attribute?}`);
      const { category, pattern, attribute, ...rest } = r as Record<string, unknown>;
      if (Object.keys(rest).length > 0) throw new Error(`rule ${i + 1}: unknown key "${Object.keys(rest)[0]}"`);
      if (typeof category !== 'string' || typeof pattern !== 'string') throw new Error(`rule ${i + 1}: category and pattern must be strings`);
      if (attribute !== undefined && typeof attribute !== 'string') throw new Error(`rule ${i + 1}: attribute must be a string`);
      return checkSpec({ category: category.trim(), pattern, attribute: attribute?.trim() }, `rule ${i + 1}`);
    });
  }
  const specs: RuleSpec[] = [];
  for (const part of splitUnescaped(String(raw), ';')) {
    const text = part.trim();
    if (text === '') continue;
    const eq = text.indexOf('=');
    if (eq <= 0) throw new Error(`cannot parse rule "${text}": expected category=regex or category[attribute]=regex`);
    const head = text.slice(0, eq).trim();
    const m = /^([^[\]]+)(?:\[([^[\]]+)\])?$/.exec(head);
    if (!m) throw new Error(`cannot parse rule "${text}": expected category=regex or category[attribute]=regex`);
    specs.push(checkSpec({ category: m[1]!.trim(), pattern: text.slice(eq + 1), attribute: m[2]?.trim() }, `"${text}"`));
  }
  return specs;
}

function checkSpec(spec: RuleSpec, where: string): RuleSpec {
  if (!CATEGORY_RE.test(spec.category)) throw new Error(`${where}: category "${spec.category}" must be 1–64 letters, digits, '_', '-' or '.'`);
  if (spec.pattern === '') throw new Error(`${where}: empty pattern`);
  if (spec.attribute === '') throw new Error(`${where}: empty attribute name`);
  return spec;
}

/** Splits at `sep` not preceded by a backslash (the backslash stays, for RE2 to read). */
function splitUnescaped(s: string, sep: string): string[] {
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\') {
      i++;
      continue;
    }
    if (s[i] === sep) {
      out.push(s.slice(start, i));
      start = i + 1;
    }
  }
  out.push(s.slice(start));
  return out;
}

/** Compiles user rules with RE2; throws an Error naming the rule whose pattern is invalid. */
export function compileRules(specs: readonly RuleSpec[]): CategoryRule[] {
  return specs.map((spec) => {
    let re: RE2JS;
    try {
      re = RE2JS.compile(spec.pattern);
    } catch (e) {
      throw new Error(`pattern of rule ${spec.category}${spec.attribute ? `[${spec.attribute}]` : ''} is not a valid RE2 expression: ${(e as Error).message}`, { cause: e });
    }
    return { category: spec.category, attribute: spec.attribute, source: spec.pattern, test: (text: string) => re.test(text) };
  });
}

function builtin(category: string, re: RegExp, attribute?: string): CategoryRule {
  if (re.global || re.sticky) throw new Error('built-in rules must not keep lastIndex');
  const filter = attribute === undefined ? LiteralFilter.of(re.source) : undefined;
  return { category, attribute, source: re.source, filter, test: (text: string) => re.test(text) };
}

/**
 * The built-in rules, most specific first: a timeout is a timeout before it is a network
 * problem, an out-of-memory before it is an exception. Case-insensitive, on word boundaries.
 */
export const DEFAULT_RULES: readonly CategoryRule[] = Object.freeze([
  builtin('memory', /out of memory|outofmemory|\boom(?:[- _]?kill(?:er|ed)?)?\b|cannot allocate memory|memory (?:exhausted|limit|pressure)|heap space|gc overhead limit|insufficient memory|low on memory|\bmalloc\b/i),
  builtin('timeout', /timed? ?out\b|timeout|deadline exceeded|took too long|\betimedout\b/i),
  builtin('permission', /permission denied|access (?:is )?denied|\bforbidden\b|not permitted|insufficient (?:privileges?|permissions?)|\beacces\b|\beperm\b|\bselinux\b.{0,40}\bdenied\b/i),
  builtin('auth', /authenticat|unauthori[sz]ed|\blog(?:ged)? ?(?:in|on|out)\b|\blogin\b|\blogon\b|password|credential|\bsession (?:opened|closed)\b|invalid user|\bsshd?\b|\bpam_\w+|kerberos|\boauth|\bjwt\b|\btoken (?:expired|invalid|revoked)|\bsign(?:ed)? ?(?:in|out)\b/i),
  builtin('database', /database|\bsql\b|\bquery\b|deadlock|\btransaction\b|\bjdbc\b|postgres|mysql|mariadb|mongo|redis|sqlite|cassandra|\bora-\d{4,5}\b|duplicate key|constraint violation/i),
  builtin('storage', /\bdisk\b|no space left|\bfile ?system\b|\bmount(?:ed|ing)?\b|\bumount|\bvolume\b|\bi\/?o error\b|\binode|\bquota\b|\bstorage\b|\benospc\b|read-only file|\bblock\b|\bblk_|\bfsck\b|\braid\b|\bsmart\b.{0,20}\berror/i),
  builtin('network', /connection (?:refused|reset|closed|aborted|lost|failed)|\bconnect(?:ion|ed|ing|s)?\b|network|\bsocket|\bdns\b|unreachable|no route to host|\bhost\b|\bport\b|\btcp\b|\budp\b|\bhttps?\b|\bproxy\b|broken pipe|\beconnreset\b|\beconnrefused\b|\behostunreach\b|\blink (?:up|down|error)|\binterface\b|\bpacket|\bssl\b|\btls\b|handshake/i),
  builtin('exception', /./, 'exception.type'),
  builtin('exception', /exception|traceback|stack ?trace|\bpanic\b|\buncaught\b|\bunhandled\b|segfault|segmentation fault|core dump|fatal error|assert(?:ion)? failed/i),
  // Class names (`TypeError`, `IOException`) and stack frames: case matters here.
  builtin('exception', /\b[A-Z][A-Za-z0-9]*(?:Exception|Error)\b|^[ \t]*at [\w$.<>]+\(/m),
  builtin('configuration', /\bconfig(?:uration|ured|uring)?\b|misconfigur|\bsettings?\b|\boptions?\b|\bpropert(?:y|ies)\b|environment variable|invalid (?:value|argument|parameter)|missing (?:required|key|field)|\bdeprecated\b|\bparameters?\b/i),
  builtin('lifecycle', /\bstart(?:ed|ing|up)\b|\bshut ?down\b|\bshutting down\b|\bstop(?:ped|ping)\b|\brestart(?:ed|ing)?\b|\binitiali[sz](?:ed|ing|ation)\b|\bboot(?:ed|ing|up)\b|\bterminat(?:ed|ing)\b|\bexit(?:ed|ing)\b|\blistening on\b|\bis ready\b|\breload(?:ed|ing)\b/i),
]);

/** What attribute rules read: a record's attributes, or any map in tests and tools. */
export type AttributeLookup = Pick<Attributes, 'get'>;

/** Evaluates an ordered rule list against one record. */
export class RuleEngine {
  /** Bigrams of the message being classified, loaded at the first rule with a filter. */
  private readonly bigrams = new BigramSet();

  constructor(
    readonly rules: readonly CategoryRule[],
    readonly defaultCategory: string,
  ) {}

  /** The category of the first matching rule, else the default (empty when none). */
  classify(text: string | undefined, attributes: AttributeLookup): string {
    const body = text === undefined ? undefined : text.length > RULE_SCAN_CHARS ? text.slice(0, RULE_SCAN_CHARS) : text;
    const rules = this.rules;
    // 0: bigrams not loaded yet; 1: loaded; 2: the text cannot be filtered (beyond ASCII).
    let loaded = 0;
    for (let i = 0; i < rules.length; i++) {
      const rule = rules[i]!;
      let subject: string | undefined;
      if (rule.attribute === undefined) {
        subject = body;
        const filter = rule.filter;
        if (filter !== undefined && body !== undefined) {
          if (loaded === 0) loaded = this.bigrams.load(body) ? 1 : 2;
          if (loaded === 1 && !filter.possible(this.bigrams)) continue;
        }
      } else {
        const v = attributes.get(rule.attribute);
        if (v !== undefined) {
          subject = v.stringValue ?? anyValueToString(v);
          if (subject.length > RULE_SCAN_CHARS) subject = subject.slice(0, RULE_SCAN_CHARS);
        }
      }
      if (subject !== undefined && rule.test(subject)) return rule.category;
    }
    return this.defaultCategory;
  }
}
