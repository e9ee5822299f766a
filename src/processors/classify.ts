/**
 * `classify`: gives every record a category from ordered rules and a template from online
 * template mining, so that downstream users can group, count and alert on message shapes
 * without writing regexes.
 *
 * - Rules (src/classify/rules.ts): user rules first, then the built-in set; the first match
 *   sets `category_attribute` (default `log.category`), else `default_category`.
 * - Templates (src/classify/template-miner.ts): `log.template` (text with `<*>`),
 *   `log.template.id` (first 16 hex digits of SHA-256 of that text, so equal on every replica
 *   and after restarts) and, with `parameters`, `log.template.parameters` (array of strings).
 *   A record carries the id of its template as it stands after learning from that record;
 *   when a template later generalises, its old id becomes an alias of the new one (kept in the
 *   miner and in the snapshot).
 *
 * The mined text is the string body, or the `message`/`msg` string of a key-value body;
 * records without such text (or with only whitespace) get no template (rules still see the
 * rendered body).
 */
import { z } from 'zod';
import { opt } from '../config/options';
import { OptionError, defineProcessor } from './contract';
import type { AnyValue, LogBatch } from '../records/types';
import { anyValueToString, stringValue } from '../records/values';
import { DEFAULT_MINER_OPTIONS, TemplateMiner } from '../classify/template-miner';
import { DEFAULT_RULES, RuleEngine, RULE_SCAN_CHARS, compileRules, parseRuleSpecs, type CategoryRule, type RuleSpec } from '../classify/rules';
import { decodeSnapshot, encodeSnapshot } from '../classify/snapshot';

export const TEMPLATE_ATTRIBUTE = 'log.template';
export const TEMPLATE_ID_ATTRIBUTE = 'log.template.id';
export const TEMPLATE_PARAMETERS_ATTRIBUTE = 'log.template.parameters';

const NON_BLANK = /\S/;

/** NON_BLANK.test, without the regex call for the usual text that starts with a printable ASCII character. */
function nonBlank(text: string): boolean {
  const c = text.charCodeAt(0);
  return (c > 32 && c < 127) || NON_BLANK.test(text);
}
const MESSAGE_KEYS: ReadonlySet<string> = new Set(['message', 'msg', 'Message', 'MESSAGE', 'MSG']);

/** The text templates are mined from: a string body, or the message of a key-value body. */
export function messageText(body: AnyValue | undefined): string | undefined {
  if (body === undefined) return undefined;
  if (body.stringValue !== undefined) return body.stringValue;
  const kvs = body.kvlistValue;
  if (kvs === undefined) return undefined;
  const values = kvs.values;
  for (let i = 0; i < values.length; i++) {
    const kv = values[i]!;
    if (MESSAGE_KEYS.has(kv.key)) {
      const s = kv.value.stringValue;
      if (s !== undefined) return s;
    }
  }
  return undefined;
}

const specSchema = z.object({ category: z.string(), pattern: z.string(), attribute: z.string().optional() });

function similarityOption(raw: unknown): number {
  const n = typeof raw === 'number' ? raw : Number(String(raw).trim());
  if (String(raw).trim() === '' || !Number.isFinite(n)) throw new Error(`expected a number between 0 and 1, got "${String(raw)}"`);
  return n;
}

export const classifyProcessor = defineProcessor({
  name: 'classify',
  summary: 'Sets a category from ordered rules (log.category) and a mined message template with a stable id (log.template, log.template.id).',
  options: {
    rules: opt.bool(true, 'Set a category from the rules (`extra_rules`, then the built-in set).'),
    templates: opt.bool(true, 'Mine templates and set `log.template` and `log.template.id`.'),
    category_attribute: opt.string('log.category', 'Record attribute the category is written to.', { nonEmpty: true }),
    default_category: opt.string('other', 'Category of records no rule matches; empty: leave the attribute unset.'),
    default_rules: opt.bool(true, 'Apply the built-in rules (memory, timeout, permission, auth, database, storage, network, exception, configuration, lifecycle) after `extra_rules`.'),
    extra_rules: opt.custom<readonly RuleSpec[]>(
      'rules',
      parseRuleSpecs,
      z.array(specSchema).readonly() as unknown as z.ZodType<readonly RuleSpec[]>,
      [],
      'Rules tried before the built-in ones, first match wins. Env: `category=regex;category2=regex`, `category[attribute.key]=regex` to test an attribute, `\\;` for a literal `;`. YAML: list of `{category, pattern, attribute}`. RE2 syntax (linear time); `(?i)` for case-insensitive.',
      { defaultText: '' },
    ),
    parameters: opt.bool(false, 'Also set `log.template.parameters`: the values at the template\'s `<*>` positions, as an array of strings.'),
    max_templates: opt.int(DEFAULT_MINER_OPTIONS.maxTemplates, 'Templates kept in memory; the least recently matched is evicted beyond it (about 16 MiB per 10k templates).', { min: 1, max: 10_000_000 }),
    max_tokens: opt.int(DEFAULT_MINER_OPTIONS.maxTokens, 'Tokens of a message that are mined; the rest of a longer message is one trailing `<*>`.', { min: 2, max: 10_000 }),
    similarity: opt.custom<number>(
      'number',
      similarityOption,
      z.number().min(0, 'must be at least 0').max(1, 'must be at most 1'),
      DEFAULT_MINER_OPTIONS.similarity,
      'Share of comparable words (not variables) a message must have in common with a template to join it. The default is the evaluated one; lower merges more, higher splits more.',
    ),
    depth: opt.int(DEFAULT_MINER_OPTIONS.depth, 'Depth of the prefix tree as in Drain (depth − 2 leading tokens route a message).', { min: 3, max: 12 }),
    state_path: opt.string('', 'File the templates are saved to (periodically and at shutdown) and loaded from at start; empty: no persistence. A corrupt file is logged and ignored.'),
    state_interval: opt.duration('60s', 'How often templates are saved while running; 0s: only at shutdown.'),
  },
  create(o, ctx) {
    const categoryAttribute = o.category_attribute.trim();
    if (o.rules && [TEMPLATE_ATTRIBUTE, TEMPLATE_ID_ATTRIBUTE, TEMPLATE_PARAMETERS_ATTRIBUTE].includes(categoryAttribute)) {
      throw new OptionError('category_attribute', `must not be ${categoryAttribute}, which the template part sets`);
    }
    if (o.state_path !== '' && !o.templates) throw new OptionError('state_path', 'needs templates on: only templates are persisted');
    if (o.parameters && !o.templates) throw new OptionError('parameters', 'needs templates on');
    let userRules: CategoryRule[];
    try {
      userRules = compileRules(o.extra_rules);
    } catch (e) {
      throw new OptionError('extra_rules', (e as Error).message);
    }
    const engine = o.rules ? new RuleEngine([...userRules, ...(o.default_rules ? DEFAULT_RULES : [])], o.default_category.trim()) : undefined;
    const miner = o.templates
      ? new TemplateMiner({ similarity: o.similarity, depth: o.depth, maxTemplates: o.max_templates, maxTokens: o.max_tokens })
      : undefined;
    const parameters = o.parameters;

    ctx.logger.debug({ rules: engine?.rules.length ?? 0, templates: o.templates, state: o.state_path || undefined }, 'classify processor created');
    return {
      process(batch: LogBatch): void {
        // One clock read per batch: first / last seen need no finer grain.
        const now = ctx.clock.now();
        for (const rec of batch) {
          // The cheap string read first; a structured body is decoded only when there is none.
          let text = rec.bodyString;
          let body: AnyValue | undefined;
          if (text === undefined) {
            body = rec.body;
            text = messageText(body);
          }
          const attrs = rec.attributes;
          if (miner && text !== undefined && nonBlank(text)) {
            const shape = miner.add(text);
            miner.note(shape, now, rec.severityNumber, text);
            const template = miner.template(shape);
            attrs.set(TEMPLATE_ATTRIBUTE, template.text);
            attrs.set(TEMPLATE_ID_ATTRIBUTE, template.id);
            if (parameters) attrs.set(TEMPLATE_PARAMETERS_ATTRIBUTE, { arrayValue: { values: miner.parameters(shape).map(stringValue) } });
          }
          if (engine) {
            // Structured bodies without a message are searched in their rendering.
            const subject = text ?? (body ? anyValueToString(body).slice(0, RULE_SCAN_CHARS) : undefined);
            const category = engine.classify(subject, attrs);
            if (category !== '') attrs.set(categoryAttribute, category);
          }
        }
      },
      ...(miner ? { templates: (limit: number) => miner.summaries(limit) } : {}),
      ...(miner && o.state_path !== ''
        ? {
            state: {
              path: o.state_path,
              intervalMs: o.state_interval,
              snapshot: () => encodeSnapshot(miner.exportState()),
              restore: (data: Uint8Array) => miner.importState(decodeSnapshot(data)),
            },
          }
        : {}),
    };
  },
});
