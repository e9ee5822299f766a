/** The contract shared by the `parse` formats. */
import type { AnyValue, KeyValue } from '../records/types';

/**
 * One format: turns a text into fields. Instances are created once per processor (so they may
 * keep scratch state) and are called once per record.
 */
export interface LineParser {
  /**
   * Appends the fields parsed from `text` to `out` (keys unique, in the order they appear) and
   * returns undefined, or returns a short snake_case reason when `text` is not in the format
   * (`out` may then hold a partial result, which the caller discards).
   */
  parse(text: string, out: KeyValue[]): string | undefined;
}

/**
 * Which parsed fields carry the record's time, level and message. Each is a list of keys tried
 * in order; the first present one wins.
 */
export interface WellKnownFields {
  readonly time: readonly string[];
  readonly level: readonly string[];
  readonly message: readonly string[];
}

/** Index of the first field with this key, or -1 (field lists are short: linear is fastest). */
export function fieldIndex(fields: readonly KeyValue[], key: string): number {
  for (let i = 0; i < fields.length; i++) if (fields[i]!.key === key) return i;
  return -1;
}

/** Adds a field, replacing an earlier one with the same key so that keys stay unique (last wins, as in JSON.parse). */
export function setField(fields: KeyValue[], key: string, value: AnyValue): void {
  const i = fieldIndex(fields, key);
  if (i < 0) fields.push({ key, value });
  else fields[i] = { key, value };
}

/** Fields at or above which duplicate keys are looked up in a Map instead of by a linear scan. */
const INDEX_AT = 16;

/**
 * Appends fields keeping keys unique (the last value wins) at O(1) per key: a 32-bit mask of
 * (length, first char) classes proves most keys new without a scan; when a class repeats, a
 * short list is scanned, a long one is indexed by a Map. Reused per parser: call `reset` first.
 */
export class FieldWriter {
  private fields: KeyValue[] = [];
  private mask = 0;
  private index: Map<string, number> | undefined;

  reset(fields: KeyValue[]): void {
    this.fields = fields;
    this.mask = 0;
    this.index = undefined;
  }

  set(key: string, value: AnyValue): void {
    const fields = this.fields;
    const bit = 1 << ((key.length * 7 + key.charCodeAt(0)) & 31);
    if (this.index === undefined) {
      if ((this.mask & bit) === 0) {
        this.mask |= bit;
        fields.push({ key, value });
        return;
      }
      if (fields.length < INDEX_AT) {
        setField(fields, key, value);
        return;
      }
      this.index = new Map();
      for (let i = 0; i < fields.length; i++) this.index.set(fields[i]!.key, i);
    }
    const i = this.index.get(key);
    if (i === undefined) {
      this.index.set(key, fields.length);
      fields.push({ key, value });
    } else {
      fields[i] = { key, value };
    }
  }
}

/** Index after the last non-whitespace character (trailing CR/LF and spaces are not part of a line's fields). */
export function trimmedEnd(s: string): number {
  let end = s.length;
  while (end > 0 && s.charCodeAt(end - 1) <= 32) end--;
  return end;
}
