/**
 * `attributes`: insert / update / upsert / delete / rename on record attributes, applied in
 * the order given (as the Collector's attributes processor does).
 */
import { z } from 'zod';
import { opt } from '../config/options';
import { defineProcessor } from './contract';
import type { AnyValue, LogBatch, ValueInput } from '../records/types';
import { anyValueEquals, toAnyValue } from '../records/values';

const scalar = z.union([z.string(), z.number(), z.boolean()]);
const actionSchema = z.discriminatedUnion('action', [
  z.object({ action: z.enum(['insert', 'update', 'upsert']), key: z.string().min(1), value: scalar }).strict(),
  z.object({ action: z.literal('delete'), key: z.string().min(1) }).strict(),
  z.object({ action: z.literal('rename'), key: z.string().min(1), to: z.string().min(1) }).strict(),
]);
export type AttributeAction = z.infer<typeof actionSchema>;

const ENV_ACTION = /^(insert|update|upsert|delete|rename)\s+([^=\s]+)(?:\s*=\s*(.*))?$/;

/**
 * Env form: actions separated by `;`, each `insert KEY=VALUE`, `update KEY=VALUE`,
 * `upsert KEY=VALUE`, `delete KEY` or `rename KEY=NEW_KEY`; percent-encode a literal `;`.
 * YAML form: a list of {action, key, value | to}.
 */
export function parseActions(raw: unknown): unknown {
  if (Array.isArray(raw)) return raw;
  const actions: unknown[] = [];
  for (const part of String(raw).split(';')) {
    const text = part.trim();
    if (text === '') continue;
    const m = ENV_ACTION.exec(text);
    if (!m) throw new Error(`cannot parse action "${text}": expected e.g. "insert env=prod", "delete password" or "rename msg=message"`);
    const [, action, key, rest] = m as unknown as [string, AttributeAction['action'], string, string | undefined];
    const decoded = rest === undefined ? undefined : decodeURIComponent(rest.trim());
    if (action === 'delete') {
      if (decoded !== undefined) throw new Error(`"${text}": delete takes a key only`);
      actions.push({ action, key });
    } else if (decoded === undefined) {
      throw new Error(`"${text}": ${action} needs ${action === 'rename' ? 'KEY=NEW_KEY' : 'KEY=VALUE'}`);
    } else if (action === 'rename') {
      actions.push({ action, key, to: decoded });
    } else {
      actions.push({ action, key, value: decoded });
    }
  }
  return actions;
}

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

/** A configured value as `Attributes.set` takes it: whole numbers are ints (clamped to int64), others doubles. */
function toValueInput(v: string | number | boolean): ValueInput {
  if (typeof v !== 'number' || !Number.isInteger(v)) return v;
  const n = BigInt(v);
  return n < INT64_MIN ? INT64_MIN : n > INT64_MAX ? INT64_MAX : n;
}

type Action =
  | { readonly action: 'insert' | 'update' | 'upsert'; readonly key: string; readonly input: ValueInput; readonly value: AnyValue }
  | { readonly action: 'delete'; readonly key: string }
  | { readonly action: 'rename'; readonly key: string; readonly to: string };

function compile(a: AttributeAction): Action {
  if (a.action === 'delete' || a.action === 'rename') return a;
  const input = toValueInput(a.value);
  return { action: a.action, key: a.key, input, value: toAnyValue(input) };
}

export const attributesProcessor = defineProcessor({
  name: 'attributes',
  summary: 'Inserts, updates, upserts, deletes or renames record attributes.',
  options: {
    actions: opt.custom<readonly AttributeAction[]>(
      'actions',
      parseActions as (raw: unknown) => readonly AttributeAction[],
      z.array(actionSchema).readonly(),
      [],
      'Actions applied in order. Env: `insert env=prod;upsert team=core;update level=info;delete password;rename msg=message`. YAML: list of `{action, key, value}` / `{action: rename, key, to}`.',
    ),
  },
  create(o) {
    const actions = o.actions.map(compile);
    return {
      process(batch: LogBatch): void {
        if (actions.length === 0) return;
        for (const rec of batch) {
          const attrs = rec.attributes;
          for (let i = 0; i < actions.length; i++) {
            const a = actions[i]!;
            switch (a.action) {
              case 'insert':
                // `set` builds a fresh value object from the input for each record.
                if (!attrs.has(a.key)) attrs.set(a.key, a.input);
                break;
              case 'update':
              case 'upsert': {
                const current = attrs.get(a.key);
                // Setting an equal value would only cost the record its received bytes.
                if (current === undefined ? a.action === 'upsert' : !anyValueEquals(current, a.value)) attrs.set(a.key, a.input);
                break;
              }
              case 'delete':
                attrs.delete(a.key);
                break;
              case 'rename': {
                const value = attrs.get(a.key);
                if (value !== undefined) {
                  attrs.delete(a.key);
                  attrs.set(a.to, value);
                }
                break;
              }
            }
          }
        }
      },
    };
  },
});
