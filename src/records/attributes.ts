/**
 * An attribute map over the KeyValue entries of a received message. Looking a key up compares
 * it with the entries' key bytes, so reading one attribute or adding a new one decodes nothing
 * else; the entries are decoded into a list only for what needs them all (iteration, delete, a
 * replaced value). Unchanged entries are written back as their bytes.
 */
import type { AnyValue, Attributes, ValueInput } from './types';
import { decodeAnyValue, toAnyValue, writeKeyValueField } from './values';
import { WT_LEN, WireCursor, type WireWriter, utf8 } from './wire';

/** Told when a map changes (the record, resource or scope that holds it). */
export interface ChangeListener {
  /** Before the change (lets the batch keep what to restore if the processor fails). */
  willChange(): void;
  /** After it. */
  touch(): void;
}

interface Entry {
  key: string;
  /** Decoded or set value; undefined until read. */
  value: AnyValue | undefined;
  /** KeyValue content range in the source, or -1 once the entry was set (then written from `value`). */
  start: number;
  end: number;
  /** AnyValue content range in the source; -1 when the KeyValue has no value. */
  valueStart: number;
  valueEnd: number;
}

/** What `save` returns and `restore` takes. */
export interface AttributeState {
  readonly entries: Entry[] | undefined;
  readonly added: Entry[] | undefined;
  readonly changed: boolean;
}

const EMPTY_RANGES: readonly number[] = [];
const EMPTY_VALUE: AnyValue = Object.freeze({}) as AnyValue;
const KEY_TAG = (1 << 3) | WT_LEN;
const VALUE_TAG = (2 << 3) | WT_LEN;

/** Whether b[at, end) is empty or exactly one value field (so the key before `at` is the only key). */
function isKeyThenValue(b: Uint8Array, at: number, end: number): boolean {
  if (at === end) return true;
  if (b[at] !== VALUE_TAG) return false;
  let len = 0;
  let scale = 1;
  let p = at + 1;
  for (let k = 0; k < 5 && p < end; k++) {
    const byte = b[p++]!;
    len += (byte & 0x7f) * scale;
    if (byte < 0x80) return p + len === end;
    scale *= 128;
  }
  return false;
}

function newEntry(key: string, value: AnyValue): Entry {
  return { key, value, start: -1, end: -1, valueStart: -1, valueEnd: -1 };
}

export class AttributeMap implements Attributes {
  /** Every entry, once decoded; until then the source ranges plus `added`. */
  private entries: Entry[] | undefined;
  /** Keys set while the entries were not decoded (none of them is in the source). */
  private added: Entry[] | undefined;
  /** True once an entry was set or deleted: the map is written from its entries. */
  changed = false;

  constructor(
    private readonly b: Uint8Array,
    /** KeyValue content ranges as [start, end, start, end, …]. */
    private readonly ranges: readonly number[] = EMPTY_RANGES,
    public owner?: ChangeListener,
  ) {}

  // ---- lookups without decoding ----

  /** Index (into ranges) of the first source entry whose key is `key`, or -1. */
  private findSource(key: string): number {
    const r = this.ranges;
    if (r.length === 0) return -1;
    const b = this.b;
    // A key of as many bytes as `key` has units can only be it in ASCII (UTF-8 takes more bytes for
    // anything else, and the wire reader checked the bytes are UTF-8): compared unit by unit.
    // A longer one only matters for a non-ASCII `key`, compared through its UTF-8 form.
    let utf8Key: Buffer | undefined;
    for (let i = 0; i < r.length; i += 2) {
      const start = r[i]!;
      const end = r[i + 1]!;
      let keyStart = -1;
      let keyLen = 0;
      if (b[start] === KEY_TAG && b[start + 1]! < 0x80 && isKeyThenValue(b, start + 2 + b[start + 1]!, end)) {
        // The usual layout, a short key then the value and nothing else: no need to walk the fields.
        keyLen = b[start + 1]!;
        keyStart = start + 2;
      } else {
        const c = new WireCursor(b, start, end);
        while (c.pos < end) {
          const tag = c.varint();
          if (tag === KEY_TAG) {
            keyLen = c.length();
            keyStart = c.pos;
            c.pos += keyLen;
          } else c.skip(tag);
        }
      }
      let k = 0;
      if (keyLen === key.length) {
        while (k < keyLen && b[keyStart + k] === key.charCodeAt(k)) k++;
      } else if (keyLen > key.length) {
        utf8Key ??= Buffer.from(key, 'utf8');
        if (keyLen !== utf8Key.length) continue;
        while (k < keyLen && b[keyStart + k] === utf8Key[k]) k++;
      } else continue;
      if (k === keyLen) return i;
    }
    return -1;
  }

  private sourceValue(i: number): AnyValue {
    const b = this.b;
    const end = this.ranges[i + 1]!;
    const c = new WireCursor(b, this.ranges[i]!, end);
    let value: AnyValue = EMPTY_VALUE;
    while (c.pos < end) {
      const tag = c.varint();
      if (tag === VALUE_TAG) {
        const n = c.length();
        value = decodeAnyValue(b, c.pos, c.pos + n);
        c.pos += n;
      } else c.skip(tag);
    }
    return value;
  }

  private findAdded(key: string): Entry | undefined {
    const a = this.added;
    if (a) for (let i = 0; i < a.length; i++) if (a[i]!.key === key) return a[i];
    return undefined;
  }

  // ---- the decoded list ----

  private list(): Entry[] {
    if (this.entries) return this.entries;
    const out: Entry[] = [];
    const b = this.b;
    const r = this.ranges;
    for (let i = 0; i < r.length; i += 2) {
      const start = r[i]!;
      const end = r[i + 1]!;
      const c = new WireCursor(b, start, end);
      let key = '';
      let valueStart = -1;
      let valueEnd = -1;
      while (c.pos < end) {
        const tag = c.varint();
        if (tag === KEY_TAG) {
          const n = c.length();
          key = utf8(b, c.pos, c.pos + n);
          c.pos += n;
        } else if (tag === VALUE_TAG) {
          const n = c.length();
          valueStart = c.pos;
          valueEnd = c.pos + n;
          c.pos += n;
        } else c.skip(tag);
      }
      out.push({ key, value: undefined, start, end, valueStart, valueEnd });
    }
    if (this.added) for (const e of this.added) out.push(e);
    this.added = undefined;
    this.entries = out;
    return out;
  }

  private find(key: string): Entry | undefined {
    const list = this.list();
    for (let i = 0; i < list.length; i++) if (list[i]!.key === key) return list[i];
    return undefined;
  }

  private valueOf(e: Entry): AnyValue {
    if (e.value === undefined) e.value = e.valueStart < 0 ? EMPTY_VALUE : decodeAnyValue(this.b, e.valueStart, e.valueEnd);
    return e.value;
  }

  // ---- Attributes ----

  get size(): number {
    return this.entries ? this.entries.length : this.ranges.length / 2 + (this.added?.length ?? 0);
  }

  get(key: string): AnyValue | undefined {
    if (this.entries) {
      const e = this.find(key);
      return e ? this.valueOf(e) : undefined;
    }
    const i = this.findSource(key);
    if (i >= 0) return this.sourceValue(i);
    return this.findAdded(key)?.value;
  }

  getString(key: string): string | undefined {
    return this.get(key)?.stringValue;
  }

  has(key: string): boolean {
    if (this.entries) return this.find(key) !== undefined;
    return this.findSource(key) >= 0 || this.findAdded(key) !== undefined;
  }

  set(key: string, value: ValueInput): void {
    const v = toAnyValue(value);
    this.owner?.willChange();
    if (!this.entries) {
      const added = this.findAdded(key);
      if (added) added.value = v;
      else if (this.findSource(key) < 0) (this.added ??= []).push(newEntry(key, v));
      else this.replace(key, v);
    } else this.replace(key, v);
    this.markChanged();
  }

  private replace(key: string, v: AnyValue): void {
    const e = this.find(key);
    if (e) {
      e.value = v;
      e.start = -1;
    } else this.entries!.push(newEntry(key, v));
  }

  delete(key: string): boolean {
    const list = this.list();
    const kept = list.filter((e) => e.key !== key);
    if (kept.length === list.length) return false;
    this.owner?.willChange();
    this.entries = kept;
    this.markChanged();
    return true;
  }

  clear(): void {
    if (this.size === 0) return;
    this.owner?.willChange();
    this.entries = [];
    this.added = undefined;
    this.markChanged();
  }

  *keys(): IterableIterator<string> {
    for (const e of this.list()) yield e.key;
  }

  *[Symbol.iterator](): IterableIterator<[string, AnyValue]> {
    for (const e of this.list()) yield [e.key, this.valueOf(e)];
  }

  private markChanged(): void {
    this.changed = true;
    this.owner?.touch();
  }

  /** The map's state, to put back with `restore` (entries are replaced, never changed in place, after this). */
  save(): AttributeState {
    return { entries: this.entries?.map((e) => ({ ...e })), added: this.added?.map((e) => ({ ...e })), changed: this.changed };
  }

  restore(s: AttributeState): void {
    this.entries = s.entries;
    this.added = s.added;
    this.changed = s.changed;
  }

  /** True while every change only added keys the received list lacks (nothing replaced or deleted). */
  get onlyAdded(): boolean {
    return this.entries === undefined;
  }

  /** Writes the keys added since the list was received (see onlyAdded) as field `field`. */
  writeAdded(w: WireWriter, field: number): void {
    if (this.added) for (const e of this.added) writeKeyValueField(w, field, e.key, e.value!);
  }

  /** Writes every entry as field `field` (KeyValue): unchanged ones as their bytes. */
  write(w: WireWriter, field: number): void {
    if (!this.entries) {
      const r = this.ranges;
      for (let i = 0; i < r.length; i += 2) {
        w.tag(field, WT_LEN);
        w.varint(r[i + 1]! - r[i]!);
        w.bytes(this.b, r[i]!, r[i + 1]!);
      }
      if (this.added) for (const e of this.added) writeKeyValueField(w, field, e.key, e.value!);
      return;
    }
    for (const e of this.entries) {
      if (e.start >= 0) {
        w.tag(field, WT_LEN);
        w.varint(e.end - e.start);
        w.bytes(this.b, e.start, e.end);
      } else {
        writeKeyValueField(w, field, e.key, e.value!);
      }
    }
  }
}

/** A map filled from what a processor passes when creating a record, resource or scope. */
export function attributesFrom(init: Iterable<readonly [string, ValueInput]> | Readonly<Record<string, ValueInput>> | undefined, owner?: ChangeListener): AttributeMap {
  const map = new AttributeMap(new Uint8Array(0));
  if (init) {
    const pairs = Symbol.iterator in init ? (init as Iterable<readonly [string, ValueInput]>) : Object.entries(init as Record<string, ValueInput>);
    for (const [k, v] of pairs) map.set(k, v);
  }
  map.changed = true;
  map.owner = owner;
  return map;
}
