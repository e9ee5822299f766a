/**
 * Field paths for the `transform` processor: where a value is read from or written to.
 * `body`, `severity_text`, `severity_number`, `event_name`, `attributes.<key>` (record),
 * `scope.<key>` (scope attributes), `resource.<key>`; any other text is a record attribute key.
 */
import type { AnyValue, LogRecord } from '../records/types';
import { anyValueKind, anyValueToString } from '../records/values';

export type FieldKind = 'body' | 'attribute' | 'scope' | 'resource' | 'severity_text' | 'severity_number' | 'event_name';
/** Which part of the request holds the field: a resource field is shared by every record of its ResourceLogs. */
export type FieldLevel = 'record' | 'scope' | 'resource';

export interface FieldPath {
  readonly text: string;
  readonly kind: FieldKind;
  /** Attribute key for attribute, scope and resource fields; '' otherwise. */
  readonly key: string;
  readonly level: FieldLevel;
}

const FIXED: Readonly<Record<string, FieldKind>> = { body: 'body', severity_text: 'severity_text', severity_number: 'severity_number', event_name: 'event_name' };
const PREFIXES: readonly (readonly [string, FieldKind, FieldLevel])[] = [
  ['attributes.', 'attribute', 'record'],
  ['resource.', 'resource', 'resource'],
  ['scope.', 'scope', 'scope'],
];

/** Throws a message naming the path when it cannot be parsed. */
export function parseFieldPath(text: string): FieldPath {
  const t = text.trim();
  if (t === '') throw new Error('empty field path');
  const fixed = Object.prototype.hasOwnProperty.call(FIXED, t) ? FIXED[t] : undefined;
  if (fixed) return { text: t, kind: fixed, key: '', level: 'record' };
  for (const [prefix, kind, level] of PREFIXES) {
    if (t.startsWith(prefix)) {
      const key = t.slice(prefix.length);
      if (key === '') throw new Error(`field "${t}" needs a key after "${prefix}"`);
      return { text: t, kind, key, level };
    }
  }
  if (t === 'attributes' || t === 'resource' || t === 'scope') throw new Error(`field "${t}" needs a key, e.g. "${t}.name"`);
  return { text: t, kind: 'attribute', key: t, level: 'record' };
}

/** Highest severity number defined by the OTel log data model. */
const MAX_SEVERITY = 24;
const MAX_SEVERITY_INT = 24n;

/**
 * The value at `p` for `rec`, or undefined when absent (proto3 defaults — '', 0, unset body —
 * count as absent). Scope and resource fields are those of the record's scope and resource.
 */
export function getField(p: FieldPath, rec: LogRecord): AnyValue | undefined {
  switch (p.kind) {
    case 'resource':
      return rec.resource.attributes.get(p.key);
    case 'scope':
      return rec.scope.attributes.get(p.key);
    case 'attribute':
      return rec.attributes.get(p.key);
    case 'body': {
      const body = rec.body;
      return anyValueKind(body) !== undefined ? body : undefined;
    }
    case 'severity_text': {
      const text = rec.severityText;
      return text !== '' ? { stringValue: text } : undefined;
    }
    case 'event_name': {
      const name = rec.eventName;
      return name !== '' ? { stringValue: name } : undefined;
    }
    case 'severity_number': {
      const n = rec.severityNumber;
      return n !== 0 ? { intValue: BigInt(n) } : undefined;
    }
  }
}

/** The string form of the value at `p` ('' when absent); typed fields are read without building a value. */
export function fieldText(p: FieldPath, rec: LogRecord): string {
  switch (p.kind) {
    case 'severity_text':
      return rec.severityText;
    case 'event_name':
      return rec.eventName;
    case 'severity_number': {
      const n = rec.severityNumber;
      return n !== 0 ? String(n) : '';
    }
    case 'body':
      return rec.bodyString ?? anyValueToString(rec.body);
    default:
      return anyValueToString(getField(p, rec));
  }
}

/**
 * Writes `v` at `p` (overwriting). Text fields take the string form of the value; severity_number
 * takes an int (or integer string) in 0..24 and returns false otherwise, leaving the record unchanged.
 */
export function setField(p: FieldPath, rec: LogRecord, v: AnyValue): boolean {
  switch (p.kind) {
    case 'resource':
      rec.resource.attributes.set(p.key, v);
      return true;
    case 'scope':
      rec.scope.attributes.set(p.key, v);
      return true;
    case 'attribute':
      rec.attributes.set(p.key, v);
      return true;
    case 'body':
      rec.body = v;
      return true;
    case 'severity_text':
      rec.severityText = anyValueToString(v);
      return true;
    case 'event_name':
      rec.eventName = anyValueToString(v);
      return true;
    case 'severity_number': {
      const n = severityNumberOf(v);
      if (n === undefined) return false;
      rec.severityNumber = n;
      return true;
    }
  }
}

/** Removes the value at `p` (typed fields go back to their proto3 default); returns whether it was there. */
export function deleteField(p: FieldPath, rec: LogRecord): boolean {
  switch (p.kind) {
    case 'resource':
      return rec.resource.attributes.delete(p.key);
    case 'scope':
      return rec.scope.attributes.delete(p.key);
    case 'attribute':
      return rec.attributes.delete(p.key);
    case 'body':
      if (rec.body === undefined) return false;
      rec.body = undefined;
      return true;
    case 'severity_text':
      if (rec.severityText === '') return false;
      rec.severityText = '';
      return true;
    case 'event_name':
      if (rec.eventName === '') return false;
      rec.eventName = '';
      return true;
    case 'severity_number':
      if (rec.severityNumber === 0) return false;
      rec.severityNumber = 0;
      return true;
  }
}

function severityNumberOf(v: AnyValue): number | undefined {
  const kind = anyValueKind(v);
  if (kind === 'intValue') {
    const n = v.intValue!;
    return n >= 0n && n <= MAX_SEVERITY_INT ? Number(n) : undefined;
  }
  if (kind === 'stringValue' && /^\s*\d{1,2}\s*$/.test(v.stringValue!)) {
    const n = Number(v.stringValue);
    return n <= MAX_SEVERITY ? n : undefined;
  }
  return undefined;
}
