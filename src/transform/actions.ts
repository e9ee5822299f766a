/**
 * The `transform` action list: its YAML shape (validated with zod), the `;`-separated env
 * syntax, and the checks on paths and templates, so that every mistake is reported at start-up.
 */
import { z } from 'zod';
import { parseFieldPath, type FieldPath } from './fields';
import { compileTemplate } from './template';
import { CONVERT_TYPES, type ConvertType } from './values';

const field = z.string().min(1);
const count = z.number().int().min(1, 'must be at least 1');

export const transformActionSchema = z.discriminatedUnion('action', [
  z.object({ action: z.enum(['copy', 'move', 'rename']), from: field, to: field }).strict(),
  z.object({ action: z.enum(['delete', 'hash']), field }).strict(),
  z.object({ action: z.literal('truncate'), field, max_bytes: count }).strict(),
  z.object({ action: z.literal('limit'), max: z.number().int().min(0, 'must be at least 0') }).strict(),
  z.object({ action: z.literal('convert'), field, type: z.enum(CONVERT_TYPES) }).strict(),
  z.object({ action: z.literal('set'), field, template: z.string() }).strict(),
]);
export type TransformAction = z.infer<typeof transformActionSchema>;

const ENV_ACTION = /^([a-z_]+)(?:\s+([\s\S]*))?$/i;
const PAIR = /^([^=\s]+)\s*=\s*([^=\s]+)$/;
const ONE = /^([^=\s]+)$/;
const SIZED = /^([^=\s]+)\s*=\s*(\d+)$/;
const NUMBER = /^(\d+)$/;
const TYPED = /^([^=\s]+)\s*=\s*(string|int|double|bool)$/i;
const ASSIGN = /^([^=\s]+)\s*=([\s\S]*)$/;

const SYNTAX: Readonly<Record<string, string>> = {
  copy: 'copy FROM=TO',
  move: 'move FROM=TO',
  rename: 'rename FROM=TO',
  delete: 'delete FIELD',
  hash: 'hash FIELD',
  truncate: 'truncate FIELD=MAX_BYTES',
  limit: 'limit MAX',
  convert: 'convert FIELD=string|int|double|bool',
  set: 'set FIELD=TEMPLATE',
};

/**
 * Option parser. Env: actions separated by `;` (percent-encode a literal `;` or `%` as `%3B`/`%25`),
 * e.g. `copy a=b; hash user.email; truncate message=256; limit 64; convert http.status=int; set summary={severity_text} {body}`.
 * YAML: a list of objects such as `{action: copy, from: a, to: b}`. Throws naming the offending action.
 */
export function parseTransformActions(raw: unknown): readonly TransformAction[] {
  const actions = Array.isArray(raw) ? raw.map(fromYaml) : fromEnv(String(raw));
  return actions;
}

function fromYaml(item: unknown, i: number): TransformAction {
  const r = transformActionSchema.safeParse(item);
  const where = `action ${i + 1} (${JSON.stringify(item)})`;
  if (!r.success) throw new Error(`${where}: ${r.error.issues.map((x) => (x.path.length ? `${x.path.join('.')}: ` : '') + x.message).join('; ')}`);
  try {
    checkAction(r.data);
  } catch (e) {
    throw new Error(`${where}: ${(e as Error).message}`, { cause: e });
  }
  return r.data;
}

function fromEnv(text: string): TransformAction[] {
  const out: TransformAction[] = [];
  for (const part of text.split(';')) {
    const t = part.trim();
    if (t === '') continue;
    try {
      const a = fromEnvAction(t);
      checkAction(a);
      out.push(a);
    } catch (e) {
      throw new Error(`cannot parse action "${t}": ${(e as Error).message}`, { cause: e });
    }
  }
  return out;
}

function fromEnvAction(text: string): TransformAction {
  const m = ENV_ACTION.exec(text);
  const name = m?.[1]?.toLowerCase() ?? '';
  const syntax = SYNTAX[name];
  if (!m || syntax === undefined) throw new Error(`unknown action; expected one of ${Object.keys(SYNTAX).join(', ')}`);
  const rest = (m[2] ?? '').trim();
  const bad = (): Error => new Error(`expected "${syntax}"`);
  switch (name) {
    case 'copy':
    case 'move':
    case 'rename': {
      const p = PAIR.exec(rest) ?? fail(bad());
      return { action: name, from: decode(p[1]!), to: decode(p[2]!) };
    }
    case 'delete':
    case 'hash': {
      const p = ONE.exec(rest) ?? fail(bad());
      return { action: name, field: decode(p[1]!) };
    }
    case 'truncate': {
      const p = SIZED.exec(rest) ?? fail(bad());
      return { action: 'truncate', field: decode(p[1]!), max_bytes: positive(p[2]!) };
    }
    case 'limit': {
      const p = NUMBER.exec(rest) ?? fail(bad());
      return { action: 'limit', max: Number(p[1]) };
    }
    case 'convert': {
      const p = TYPED.exec(rest) ?? fail(bad());
      return { action: 'convert', field: decode(p[1]!), type: p[2]!.toLowerCase() as ConvertType };
    }
    default: {
      const p = ASSIGN.exec(rest) ?? fail(bad());
      return { action: 'set', field: decode(p[1]!), template: decode(p[2]!.trim()) };
    }
  }
}

function positive(digits: string): number {
  const n = Number(digits);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`size must be at least 1, got ${digits}`);
  return n;
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new Error(`bad percent-encoding in "${s}" (write %25 for a literal %)`);
  }
}

function fail(e: Error): never {
  throw e;
}

/** Checks what zod cannot: field paths, which fields an action may touch, and templates. */
function checkAction(a: TransformAction): void {
  switch (a.action) {
    case 'copy':
    case 'move':
    case 'rename':
      parseFieldPath(a.from);
      parseFieldPath(a.to);
      return;
    case 'delete':
      parseFieldPath(a.field);
      return;
    case 'hash':
    case 'truncate':
      if (parseFieldPath(a.field).kind === 'severity_number') throw new Error(`${a.action} does not apply to severity_number`);
      return;
    case 'convert': {
      const p = parseFieldPath(a.field);
      if (!isAnyValueField(p)) throw new Error(`convert applies to body, attributes, scope and resource fields, not ${p.text}`);
      return;
    }
    case 'limit':
      return;
    case 'set':
      parseFieldPath(a.field);
      compileTemplate(a.template);
      return;
  }
}

/** Fields that hold an AnyValue (the others are typed record fields). */
export function isAnyValueField(p: FieldPath): boolean {
  return p.kind === 'body' || p.kind === 'attribute' || p.kind === 'scope' || p.kind === 'resource';
}
