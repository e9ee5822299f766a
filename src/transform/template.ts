/**
 * Templates for `set`: literal text with `{field.path}` placeholders, compiled once at start-up.
 * `{{` and `}}` are literal braces; a missing field renders as the empty string.
 */
import type { LogRecord } from '../records/types';
import { fieldText, parseFieldPath, type FieldPath } from './fields';

/** Alternating literal text and field paths. */
export type Template = readonly (string | FieldPath)[];

/** Throws a message naming the problem (unclosed or empty placeholder, stray `}`, bad path). */
export function compileTemplate(text: string): Template {
  const parts: (string | FieldPath)[] = [];
  let literal = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '{' && text[i + 1] === '{') {
      literal += '{';
      i += 2;
    } else if (c === '}' && text[i + 1] === '}') {
      literal += '}';
      i += 2;
    } else if (c === '{') {
      const end = text.indexOf('}', i + 1);
      if (end < 0) throw new Error(`template "${text}": "{" at ${i} is not closed (write "{{" for a literal brace)`);
      const inner = text.slice(i + 1, end);
      if (inner.includes('{')) throw new Error(`template "${text}": "{" inside a placeholder at ${i}`);
      if (inner.trim() === '') throw new Error(`template "${text}": empty placeholder at ${i}`);
      if (literal !== '') parts.push(literal);
      literal = '';
      parts.push(parseFieldPath(inner));
      i = end + 1;
    } else if (c === '}') {
      throw new Error(`template "${text}": unmatched "}" at ${i} (write "}}" for a literal brace)`);
    } else {
      literal += c;
      i++;
    }
  }
  if (literal !== '' || parts.length === 0) parts.push(literal);
  return parts;
}

/** The template for `rec` (scope and resource placeholders read the record's scope and resource). */
export function renderTemplate(t: Template, rec: LogRecord): string {
  let out = '';
  for (let i = 0; i < t.length; i++) {
    const part = t[i]!;
    out += typeof part === 'string' ? part : fieldText(part, rec);
  }
  return out;
}
