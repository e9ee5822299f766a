/**
 * Template ids: the first 16 hex digits (64 bits) of SHA-256 over the template text (UTF-8).
 *
 * Why SHA-256 rather than a 64-bit FNV-1a: the id is computed only when a template is created
 * or changes, never per record, so speed does not matter; what does is that anyone can
 * recompute it from the text with standard tools (`printf '%s' "$TEMPLATE" | sha256sum | cut -c1-16`)
 * and that it is well mixed (FNV-1a clusters on short, similar inputs). 64 bits keep the
 * chance of any collision among a million templates below 1 in 30 million. The id is a hex
 * string, so it never passes through a JS number.
 */
import { createHash } from 'node:crypto';

export const TEMPLATE_ID_HEX_DIGITS = 16;

export function templateId(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex').slice(0, TEMPLATE_ID_HEX_DIGITS);
}

const ID_RE = /^[0-9a-f]{16}$/;

export function isTemplateId(s: string): boolean {
  return ID_RE.test(s);
}
