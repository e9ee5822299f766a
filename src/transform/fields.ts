/**
 * Field paths for the `transform` processor: where a value is read from or written to.
 * `body`, `severity_text`, `severity_number`, `event_name`, `attributes.<key>` (record),
 * `scope.<key>` (scope attributes), `resource.<key>`; any other text is a record attribute key.
 */
import Long from 'long';
import type { AnyValue, LogRecord, ResourceLogs, ScopeLogs } from '../otlp/model';
import { anyValueKind, anyValueToString, deleteAttribute, getAttribute, upsertAttribute } from '../otlp/values';

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

/** The value at `p`, or undefined when absent (proto3 defaults — '', 0, unset body — count as absent). */
export function getField(p: FieldPath, rl: ResourceLogs, sl: ScopeLogs | undefined, rec: LogRecord | undefined): AnyValue | undefined {
  switch (p.kind) {
    case 'resource':
      return rl.resource ? getAttribute(rl.resource.attributes, p.key) : undefined;
    case 'scope':
      return sl?.scope ? getAttribute(sl.scope.attributes, p.key) : undefined;
    case 'attribute':
      return rec ? getAttribute(rec.attributes, p.key) : undefined;
    case 'body':
      return rec?.body && anyValueKind(rec.body) !== undefined ? rec.body : undefined;
    case 'severity_text':
      return rec && rec.severityText !== '' ? { stringValue: rec.severityText } : undefined;
    case 'event_name':
      return rec && rec.eventName ? { stringValue: rec.eventName } : undefined;
    case 'severity_number':
      return rec && rec.severityNumber ? { intValue: Long.fromInt(rec.severityNumber) } : undefined;
  }
}

/**
 * Writes `v` at `p` (overwriting). Text fields take the string form of the value; severity_number
 * takes an int (or integer string) in 0..24 and returns false otherwise, leaving the record unchanged.
 */
export function setField(p: FieldPath, rl: ResourceLogs, sl: ScopeLogs | undefined, rec: LogRecord | undefined, v: AnyValue): boolean {
  switch (p.kind) {
    case 'resource':
      rl.resource ??= { attributes: [], droppedAttributesCount: 0, entityRefs: [] };
      upsertAttribute(rl.resource.attributes, p.key, v);
      return true;
    case 'scope':
      if (!sl) return false;
      sl.scope ??= { name: '', version: '', attributes: [], droppedAttributesCount: 0 };
      upsertAttribute(sl.scope.attributes, p.key, v);
      return true;
    case 'attribute':
      if (!rec) return false;
      upsertAttribute(rec.attributes, p.key, v);
      return true;
    case 'body':
      if (!rec) return false;
      rec.body = v;
      return true;
    case 'severity_text':
      if (!rec) return false;
      rec.severityText = anyValueToString(v);
      return true;
    case 'event_name':
      if (!rec) return false;
      rec.eventName = anyValueToString(v);
      return true;
    case 'severity_number': {
      const n = severityNumberOf(v);
      if (!rec || n === undefined) return false;
      rec.severityNumber = n;
      return true;
    }
  }
}

/** Removes the value at `p` (typed fields go back to their proto3 default); returns whether it was there. */
export function deleteField(p: FieldPath, rl: ResourceLogs, sl: ScopeLogs | undefined, rec: LogRecord | undefined): boolean {
  switch (p.kind) {
    case 'resource':
      return rl.resource ? deleteAttribute(rl.resource.attributes, p.key) : false;
    case 'scope':
      return sl?.scope ? deleteAttribute(sl.scope.attributes, p.key) : false;
    case 'attribute':
      return rec ? deleteAttribute(rec.attributes, p.key) : false;
    case 'body':
      if (!rec?.body) return false;
      rec.body = null;
      return true;
    case 'severity_text':
      if (!rec?.severityText) return false;
      rec.severityText = '';
      return true;
    case 'event_name':
      if (!rec?.eventName) return false;
      rec.eventName = '';
      return true;
    case 'severity_number':
      if (!rec?.severityNumber) return false;
      rec.severityNumber = 0;
      return true;
  }
}

function severityNumberOf(v: AnyValue): number | undefined {
  let n: number;
  const kind = anyValueKind(v);
  if (kind === 'intValue') {
    const l = v.intValue!;
    if (l.high !== 0) return undefined; // far outside 0..24; avoids any 64-bit → number conversion
    n = l.low;
  } else if (kind === 'stringValue' && /^\s*\d{1,2}\s*$/.test(v.stringValue!)) {
    n = Number(v.stringValue);
  } else {
    return undefined;
  }
  return n >= 0 && n <= MAX_SEVERITY ? n : undefined;
}
