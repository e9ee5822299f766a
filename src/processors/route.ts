/**
 * `route`: chooses the exporters each record goes to, by CEL conditions — like the Collector's
 * routing connector and Vector's route transform, so that errors can go to one backend and the
 * rest to another.
 *
 * Rules are tried in order. With `mode=first` a record goes to the exporters of the first rule it
 * matches; with `mode=all` to the union over every rule it matches. A record matching no rule goes
 * to `default` (every exporter when unset; `none` drops it, counted as `unrouted`). The choice is
 * a mark on the record that the pipeline reads after the chain: it encodes one batch per set of
 * records an exporter gets.
 * Records the route processor never saw (outside its `where`, or added by later processors) go to
 * every exporter.
 */
import { z } from 'zod';
import { opt } from '../config/options';
import { compileCondition, type Condition } from '../conditions';
import type { RecordImpl } from '../records/batch';
import type { LogBatch, LogRecord } from '../records/types';
import { OptionError, defineProcessor } from './contract';

export const UNROUTED = 'unrouted';

export interface RouteRule {
  readonly exporters: readonly string[];
  readonly when: string;
}

const ruleSchema = z.object({ exporters: z.array(z.string()).readonly(), when: z.string() }).strict();

/**
 * Env: `exporter[,exporter]=condition;…`. CEL has no `;`, so the text splits at every `;`
 * outside a string literal; exporter names hold no `=`, so a rule splits at its first `=`.
 * YAML: a list of {exporters, when}.
 */
export function parseRouteRules(raw: unknown): RouteRule[] {
  if (Array.isArray(raw)) {
    return raw.map((r, i) => {
      const parsed = ruleSchema.safeParse(r);
      if (!parsed.success) throw new Error(`rule ${i + 1}: expected {exporters: [names], when: condition}`);
      return { exporters: parsed.data.exporters.map((e) => e.trim()), when: parsed.data.when };
    });
  }
  const rules: RouteRule[] = [];
  for (const part of splitOutsideStrings(String(raw))) {
    const text = part.trim();
    if (text === '') continue;
    const eq = text.indexOf('=');
    if (eq <= 0) throw new Error(`cannot parse rule "${text}": expected exporter[,exporter]=condition`);
    const exporters = text
      .slice(0, eq)
      .split(',')
      .map((e) => e.trim());
    rules.push({ exporters, when: text.slice(eq + 1).trim() });
  }
  return rules;
}

/**
 * Marks the exporters `rec` goes to (bit per exporter index). The mark lives on the batch that
 * holds the record: the batch a processor gets may be a `where` view, which has no setRoutes.
 */
export function setRecordRoutes(rec: LogRecord, mask: number): void {
  (rec as RecordImpl).group.resource.batch.setRoutes(rec, mask);
}

/** Splits at `;` outside single- or double-quoted CEL string literals. */
function splitOutsideStrings(s: string): string[] {
  const out: string[] = [];
  let start = 0;
  let quote = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = '';
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === ';') {
      out.push(s.slice(start, i));
      start = i + 1;
    }
  }
  out.push(s.slice(start));
  return out;
}

export const routeProcessor = defineProcessor({
  name: 'route',
  summary: 'Sends each record to some of the exporters by CEL conditions (first or all matches, default route).',
  options: {
    rules: opt.custom<readonly RouteRule[]>(
      'rules',
      parseRouteRules,
      z.array(ruleSchema).readonly() as unknown as z.ZodType<readonly RouteRule[]>,
      [],
      'Ordered rules. Env: `exporter[,exporter]=condition;…` (e.g. `errors=severity_number >= 17;audit,otlp=has(attributes.audit)`). YAML: list of `{exporters: [names], when: condition}`. Exporter names are those in OLP_EXPORTERS. Required.',
      { defaultText: '' },
    ),
    mode: opt.enum(['first', 'all'] as const, 'first', '`first`: the exporters of the first matching rule; `all`: of every matching rule.'),
    default: opt.list([], 'Exporters for records matching no rule. Empty: every exporter; `none`: drop them (counted as `unrouted`).', { defaultText: 'every exporter' }),
  },
  create(o, ctx) {
    const exporters = ctx.exporters ?? [];
    if (o.rules.length === 0) throw new OptionError('rules', 'required when the route processor is in OLP_PROCESSORS (e.g. errors=severity_number >= 17)');
    if (exporters.length > 31) throw new OptionError('rules', `route supports at most 31 exporters, ${exporters.length} are configured`);
    const maskOf = (names: readonly string[], option: string, what: string): number => {
      let mask = 0;
      for (const name of names) {
        const i = exporters.indexOf(name);
        if (i < 0) throw new OptionError(option, `${what} names exporter "${name}", which is not in OLP_EXPORTERS (${exporters.join(', ') || 'none configured'})`);
        mask |= 1 << i;
      }
      return mask;
    };
    const all = exporters.length === 0 ? 0 : 2 ** exporters.length - 1;
    const compiled: { when: Condition; mask: number }[] = o.rules.map((rule, i) => {
      if (rule.exporters.length === 0 || rule.exporters.some((e) => e === '')) throw new OptionError('rules', `rule ${i + 1}: empty exporter name`);
      let when: Condition;
      try {
        when = compileCondition(rule.when);
      } catch (e) {
        throw new OptionError('rules', `rule ${i + 1} (${rule.exporters.join(',')}): ${(e as Error).message}`);
      }
      return { when, mask: maskOf(rule.exporters, 'rules', `rule ${i + 1}`) };
    });
    const dropUnmatched = o.default.length === 1 && o.default[0] === 'none';
    const defaultMask = dropUnmatched ? 0 : o.default.length === 0 ? all : maskOf(o.default, 'default', 'default');
    const first = o.mode === 'first';
    const counts = new Map<string, number>([['evaluation_errors', 0]]);
    const matchedKeys = o.rules.map((rule) => `matched:${rule.exporters.join(',')}`);
    for (const key of matchedKeys) counts.set(key, 0);
    const matched = new Array<number>(compiled.length).fill(0);

    return {
      counts,
      process(batch: LogBatch): void {
        for (const rule of compiled) rule.when.reset();
        const errorsBefore = compiled.reduce((n, r) => n + r.when.errors, 0);
        for (const rec of batch) {
          let mask = 0;
          for (let r = 0; r < compiled.length; r++) {
            if (!compiled[r]!.when.matches(rec)) continue;
            mask |= compiled[r]!.mask;
            matched[r]!++;
            if (first) break;
          }
          if (mask === 0) mask = defaultMask;
          if (mask === 0) rec.drop(UNROUTED);
          // Unmarked records go to every exporter: such a record needs no mark, unless an earlier route marked it.
          else if (mask !== all || (rec as RecordImpl).routes !== undefined) setRecordRoutes(rec, mask);
        }
        const errors = compiled.reduce((n, r) => n + r.when.errors, 0) - errorsBefore;
        if (errors > 0) counts.set('evaluation_errors', counts.get('evaluation_errors')! + errors);
        for (let r = 0; r < matched.length; r++) {
          if (matched[r] === 0) continue;
          counts.set(matchedKeys[r]!, counts.get(matchedKeys[r]!)! + matched[r]!);
          matched[r] = 0;
        }
      },
    };
  },
});
