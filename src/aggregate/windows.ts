/** Per-group tumbling windows of the aggregate processor: counting and ranking. */
import { Baseline } from './spike';

/** Value under which counts beyond `max_keys` (per window) or `top` (per summary) are summed. */
export const OTHER = '_other';

/** A mutable count, so that counting a known value is one map lookup. */
export interface Counter {
  n: number;
}

export class Window {
  records = 0;
  errors = 0;
  /** Per dimension: value → count, at most `maxKeys` values. */
  readonly values: Map<string, Counter>[];
  /** Per dimension: records whose value did not fit in `values`. */
  readonly other: number[];

  constructor(
    /** floor(start / window length): the window covers [index · W, (index + 1) · W). */
    readonly index: number,
    dimensions: number,
  ) {
    this.values = new Array<Map<string, Counter>>(dimensions);
    this.other = new Array<number>(dimensions).fill(0);
    for (let d = 0; d < dimensions; d++) this.values[d] = new Map();
  }

  /** Counts one record under `value`; returns false when the value overflowed to `_other`. */
  add(dimension: number, value: string, maxKeys: number): boolean {
    const m = this.values[dimension]!;
    const c = m.get(value);
    if (c !== undefined) c.n++;
    else if (m.size < maxKeys) m.set(value, { n: 1 });
    else {
      this.other[dimension]!++;
      return false;
    }
    return true;
  }
}

export class Group {
  /** Open windows in ascending index order (a handful: see the processor's bounds). */
  readonly windows: Window[] = [];
  /** Index of the first window not closed yet; earlier windows are final for this group. */
  minOpen = -Infinity;
  /** Index of the last closed window, -Infinity before the first. */
  lastClosed = -Infinity;
  readonly baseline: Baseline;
  private last: Window | undefined;

  constructor(
    readonly key: string,
    /** Group-by resource attributes present on the group's records (key, value). */
    readonly resource: readonly (readonly [string, string])[],
    baselineWindows: number,
  ) {
    this.baseline = new Baseline(baselineWindows);
  }

  /** The open window with this index, created when missing. */
  window(index: number, dimensions: number): Window {
    const last = this.last;
    if (last !== undefined && last.index === index) return last;
    const ws = this.windows;
    let i = 0;
    while (i < ws.length && ws[i]!.index < index) i++;
    let w = ws[i];
    if (w === undefined || w.index !== index) {
      w = new Window(index, dimensions);
      ws.splice(i, 0, w);
    }
    this.last = w;
    return w;
  }

  /** Removes and returns the open windows with index < `before`, oldest first. */
  takeClosable(before: number): Window[] {
    const ws = this.windows;
    let n = 0;
    while (n < ws.length && ws[n]!.index < before) n++;
    if (n === 0) return [];
    const closed = ws.splice(0, n);
    if (this.last !== undefined && this.last.index < before) this.last = undefined;
    const lastIndex = closed[n - 1]!.index;
    if (lastIndex + 1 > this.minOpen) this.minOpen = lastIndex + 1;
    return closed;
  }
}

/**
 * The `top` most frequent values (count descending, then value), followed by `_other` with the
 * sum of the rest and of `other` when that is not 0.
 */
export function topValues(values: ReadonlyMap<string, number | Counter>, other: number, top: number): [string, number][] {
  const entries: [string, number][] = [];
  for (const [v, c] of values) entries.push([v, typeof c === 'number' ? c : c.n]);
  entries.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  let rest = other;
  for (let i = top; i < entries.length; i++) rest += entries[i]![1];
  if (entries.length > top) entries.length = top;
  if (rest > 0) {
    // A real value spelled "_other" merges with the rest rather than appearing twice.
    const own = entries.findIndex((e) => e[0] === OTHER);
    if (own >= 0) entries[own]![1] += rest;
    else entries.push([OTHER, rest]);
  }
  return entries;
}
