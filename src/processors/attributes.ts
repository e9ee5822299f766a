/**
 * `attributes`: insert / update / upsert / delete / rename on record attributes, applied in
 * the order given (as the Collector's attributes processor does).
 */
import { z } from 'zod';
import { opt } from '../config/options';
import { defineProcessor } from './contract';
import type { AnyValue, LogsData } from '../otlp/model';
import { deleteAttribute, findAttribute, insertAttribute, intValue, stringValue, updateAttribute, upsertAttribute } from '../otlp/values';

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

function toAnyValue(v: string | number | boolean): AnyValue {
  if (typeof v === 'boolean') return { boolValue: v };
  if (typeof v === 'number') return Number.isInteger(v) ? intValue(v) : { doubleValue: v };
  return stringValue(v);
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
    const actions = o.actions.map((a) => ({ ...a, anyValue: 'value' in a ? toAnyValue(a.value) : undefined }));
    return {
      process(batch: LogsData): LogsData {
        if (actions.length === 0) return batch;
        for (const rl of batch.resourceLogs) {
          for (const sl of rl.scopeLogs) {
            for (const rec of sl.logRecords) {
              const attrs = rec.attributes;
              for (const a of actions) {
                switch (a.action) {
                  case 'insert':
                    insertAttribute(attrs, a.key, { ...a.anyValue! });
                    break;
                  case 'update':
                    updateAttribute(attrs, a.key, { ...a.anyValue! });
                    break;
                  case 'upsert':
                    upsertAttribute(attrs, a.key, { ...a.anyValue! });
                    break;
                  case 'delete':
                    deleteAttribute(attrs, a.key);
                    break;
                  case 'rename': {
                    const i = findAttribute(attrs, a.key);
                    if (i >= 0) {
                      const value = attrs[i]!.value ?? {};
                      attrs.splice(i, 1);
                      upsertAttribute(attrs, a.to, value);
                    }
                    break;
                  }
                }
              }
            }
          }
        }
        return batch;
      },
    };
  },
});
