/** What a record counts as in the aggregate dimensions: its severity class and attribute values. */
import type { AnyValue, Attributes, LogRecord } from '../records/types';
import { anyValueKind, anyValueToString } from '../records/values';
import { SEVERITY_SHORT_NAMES, severityFromText } from '../processors/severity';

/** Dimension values are cut to this many characters. */
export const MAX_VALUE_CHARS = 256;
const MAX_SEVERITY_TEXT_CHARS = 32;
const TEXT_CACHE_MAX = 512;

export interface SeverityClass {
  /** Dimension value: TRACE, DEBUG, INFO, WARN, ERROR, FATAL, UNSPECIFIED or an unknown text upper-cased. */
  readonly name: string;
  /** Effective SeverityNumber (0: unknown). */
  readonly number: number;
}

export const UNSPECIFIED: SeverityClass = { name: 'UNSPECIFIED', number: 0 };
/** Indexed by SeverityNumber 0–24: the short name without its 2/3/4 suffix. */
const BY_NUMBER: readonly SeverityClass[] = SEVERITY_SHORT_NAMES.map((name, n) => (n === 0 ? UNSPECIFIED : { name: name.replace(/\d$/, ''), number: n }));

/**
 * The severity number when set (1–24); else the severity text through the severity processor's
 * aliases (`error`, `E`, `warning`…); else the text itself, trimmed and upper-cased; else
 * UNSPECIFIED. Texts are cached per instance (cleared when full).
 */
export class SeverityClassifier {
  private readonly texts = new Map<string, SeverityClass>();

  classify(rec: LogRecord): SeverityClass {
    const n = rec.severityNumber;
    if (n > 0 && n < BY_NUMBER.length) return BY_NUMBER[n]!;
    // Only read (decoded) when the number does not decide.
    const text = rec.severityText;
    if (!text) return UNSPECIFIED;
    let c = this.texts.get(text);
    if (c === undefined) {
      const m = severityFromText(text);
      if (m !== undefined) c = BY_NUMBER[m]!;
      else {
        const name = text.trim().toUpperCase().slice(0, MAX_SEVERITY_TEXT_CHARS);
        c = name === '' ? UNSPECIFIED : { name, number: 0 };
      }
      if (this.texts.size >= TEXT_CACHE_MAX) this.texts.clear();
      this.texts.set(text, c);
    }
    return c;
  }
}

/** Dimension value of an attribute: strings as they are, other values rendered; cut to a bounded length. */
export function valueText(v: AnyValue | undefined): string | undefined {
  let s = v?.stringValue;
  if (s === undefined) {
    if (anyValueKind(v) === undefined) return undefined;
    s = anyValueToString(v);
  }
  return s.length > MAX_VALUE_CHARS ? s.slice(0, MAX_VALUE_CHARS) : s;
}

export function attributeText(attrs: Attributes, key: string): string | undefined {
  return valueText(attrs.get(key));
}
