/**
 * An attribute map over the KeyValue entries of a received message: keys are decoded when the
 * map is first used, values when read; unchanged entries are written back as their bytes.
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

const EMPTY_RANGES: readonly number[] = [];
const EMPTY_VALUE: AnyValue = Object.freeze({}) as AnyValue;

export class AttributeMap implements Attributes {
  private entries: Entry[] | undefined;
  /** True once an entry was set or deleted: the map is written from its entries. */
  changed = false;

  constructor(
    private readonly b: Uint8Array,
    /** KeyValue content ranges as [start, end, start, end, …]. */
    private readonly ranges: readonly number[] = EMPTY_RANGES,
    public owner?: ChangeListener,
  ) {}

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
        if (tag === ((1 << 3) | WT_LEN)) {
          const n = c.length();
          key = utf8(b, c.pos, c.pos + n);
          c.pos += n;
        } else if (tag === ((2 << 3) | WT_LEN)) {
          const n = c.length();
          valueStart = c.pos;
          valueEnd = c.pos + n;
          c.pos += n;
        } else c.skip(tag);
      }
      out.push({ key, value: undefined, start, end, valueStart, valueEnd });
    }
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

  get size(): number {
    return this.entries ? this.entries.length : this.ranges.length / 2;
  }

  get(key: string): AnyValue | undefined {
    const e = this.find(key);
    return e ? this.valueOf(e) : undefined;
  }

  getString(key: string): string | undefined {
    return this.get(key)?.stringValue;
  }

  has(key: string): boolean {
    return this.find(key) !== undefined;
  }

  set(key: string, value: ValueInput): void {
    const v = toAnyValue(value);
    this.owner?.willChange();
    const e = this.find(key);
    if (e) {
      e.value = v;
      e.start = -1;
    } else {
      this.entries!.push({ key, value: v, start: -1, end: -1, valueStart: -1, valueEnd: -1 });
    }
    this.markChanged();
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
  save(): { entries: Entry[] | undefined; changed: boolean } {
    return { entries: this.entries?.map((e) => ({ ...e })), changed: this.changed };
  }

  restore(s: { entries: Entry[] | undefined; changed: boolean }): void {
    this.entries = s.entries;
    this.changed = s.changed;
  }

  /** Writes every entry as field `field` (KeyValue): unchanged ones as their bytes. */
  write(w: WireWriter, field: number): void {
    for (const e of this.list()) {
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
