/**
 * Declarative config options. Every setting of the service and of each processor is an
 * Option: its type, default, documentation and the env vars it is read from. The loader,
 * `--help`, and the README table are all derived from these declarations.
 */
import { z } from 'zod';
import { formatDuration, parseBool, parseDuration, parseInteger, parseKeyValueMap, parseList } from './values';

export interface Option<T> {
  /** Converts a raw env string or YAML value to T, or throws a message naming what was expected. */
  readonly parse: (raw: unknown) => T;
  /** Validates the converted value (ranges, enums). */
  readonly schema: z.ZodType<T>;
  readonly default: T;
  readonly doc: string;
  /** Type as shown in help and README. */
  readonly type: string;
  /** Env vars read for this option in precedence order; when absent, OLP_<SECTION>_<KEY>. */
  readonly env?: readonly string[];
  /** Redacted in print-config output and logs. */
  readonly secret?: boolean;
  /** Text shown for the default in help and README when the value alone does not say it. */
  readonly defaultText?: string;
}

export type OptionShape = Record<string, Option<any>>;
export type OptionValues<S extends OptionShape> = { readonly [K in keyof S]: S[K] extends Option<infer T> ? T : never };

interface Extra {
  env?: readonly string[];
  secret?: boolean;
  defaultText?: string;
}

/** Node timers fire at once past 2^31-1 ms (24.8 days); 596h stays below. */
const MAX_DURATION_MS = 596 * 3_600_000;

function make<T>(type: string, parse: (raw: unknown) => T, schema: z.ZodType<T>, def: T, doc: string, extra: Extra = {}): Option<T> {
  return { type, parse, schema, default: def, doc, ...extra };
}

export const opt = {
  string(def: string, doc: string, extra?: Extra & { nonEmpty?: boolean }): Option<string> {
    const schema = extra?.nonEmpty ? z.string().min(1, 'must not be empty') : z.string();
    return make('string', (raw) => String(raw), schema, def, doc, extra);
  },
  bool(def: boolean, doc: string, extra?: Extra): Option<boolean> {
    return make('bool', parseBool, z.boolean(), def, doc, extra);
  },
  int(def: number, doc: string, range: { min?: number; max?: number } = {}, extra?: Extra): Option<number> {
    let schema = z.number().int();
    if (range.min !== undefined) schema = schema.min(range.min, `must be at least ${range.min}`);
    if (range.max !== undefined) schema = schema.max(range.max, `must be at most ${range.max}`);
    return make('int', parseInteger, schema, def, doc, extra);
  },
  /** Stored in milliseconds; written "200ms", "5s", "1m". */
  duration(def: string, doc: string, extra?: Extra & { bareUnitMs?: boolean; min?: number }): Option<number> {
    const bare = extra?.bareUnitMs ?? false;
    const schema = z
      .number()
      .int()
      .min(extra?.min ?? 0, `must be at least ${formatDuration(extra?.min ?? 0)}`)
      .max(MAX_DURATION_MS, `must be at most ${formatDuration(MAX_DURATION_MS)}`);
    return make(bare ? 'duration (ms if no unit)' : 'duration', (raw) => parseDuration(raw, bare), schema, parseDuration(def), doc, {
      defaultText: def,
      ...extra,
    });
  },
  enum<const V extends string>(values: readonly V[], def: V, doc: string, extra?: Extra): Option<V> {
    const schema = z.enum(values as unknown as [V, ...V[]]);
    return make(values.join(' | '), (raw) => String(raw).trim().toLowerCase() as V, schema as unknown as z.ZodType<V>, def, doc, extra);
  },
  list(def: readonly string[], doc: string, extra?: Extra): Option<readonly string[]> {
    return make('list', parseList, z.array(z.string()).readonly(), def, doc, { defaultText: def.join(','), ...extra });
  },
  map(doc: string, extra?: Extra): Option<Readonly<Record<string, string>>> {
    return make('key=value,…', parseKeyValueMap, z.record(z.string(), z.string()).readonly(), {}, doc, { defaultText: '', ...extra });
  },
  custom<T>(type: string, parse: (raw: unknown) => T, schema: z.ZodType<T>, def: T, doc: string, extra?: Extra): Option<T> {
    return make(type, parse, schema, def, doc, extra);
  },
};

/** The env vars an option is read from. Top-level options (section '') are OLP_<KEY>. */
export function envNames(section: string, key: string, option: Option<unknown>): readonly string[] {
  if (option.env) return option.env;
  // A named instance's section `type/name` reads OLP_<TYPE>__<NAME>_<KEY> (see instances.ts).
  const parts = section === '' ? [key] : [section.replace('/', '__'), key];
  return ['OLP_' + parts.join('_').toUpperCase()];
}

export function formatDefault(option: Option<unknown>): string {
  if (option.defaultText !== undefined) return option.defaultText;
  const d = option.default;
  if (typeof d === 'object' && d !== null) return JSON.stringify(d);
  return String(d);
}
