/**
 * The effective configuration as a document in the OLP_CONFIG file layout, so that
 * `print-config` output can be saved and loaded back. Secrets are redacted.
 */
import { formatDuration } from './values';
import type { Option } from './options';
import type { ResolvedConfig } from './resolve';

export const REDACTED = '<redacted>';

function present(option: Option<unknown>, value: unknown): unknown {
  if (option.secret) {
    if (Array.isArray(value)) return value.map(() => REDACTED);
    if (value && typeof value === 'object') return Object.fromEntries(Object.keys(value).map((k) => [k, REDACTED]));
    return value === '' ? '' : REDACTED;
  }
  if (option.type.startsWith('duration')) return formatDuration(value as number);
  return value;
}

export function configDocument(config: ResolvedConfig): Record<string, unknown> {
  const doc: Record<string, unknown> = {};
  for (const [section, shape] of Object.entries(config.sections)) {
    const out: Record<string, unknown> = {};
    for (const [key, option] of Object.entries(shape)) out[key] = present(option, config.values[section]![key]);
    if (section === '') Object.assign(doc, out);
    else doc[section] = out;
  }
  doc.exporters = [...config.exporters];
  return doc;
}
