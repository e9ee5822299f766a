/**
 * The matcher engine's common ground: the detector contract and the span list every detector
 * appends to. Detectors run over the original string (never over an earlier detector's
 * output, so a mask or hash cannot be re-detected); overlapping spans are then merged into one
 * replacement, so no part of a detected value is left behind when detectors disagree on its extent.
 */

export interface Detector {
  /** Label used in masks (`[REDACTED:<name>]`) and in the per-detector counts. */
  readonly name: string;
  /**
   * Appends the [start, end) ranges of `s` to redact, tagged with `id`. Runs its own cheap
   * pre-check first: most strings hold nothing to find. Keeps no state between calls except
   * reusable scratch objects owned by the instance.
   */
  find(s: string, out: Spans, id: number): void;
}

/** Insertion sort below this many spans; the usual case is 0–2. */
const SMALL = 16;

/**
 * Spans found in one string, as parallel arrays reused from string to string (one instance
 * per processor, and processing is synchronous).
 */
export class Spans {
  starts: number[] = [];
  ends: number[] = [];
  ids: number[] = [];
  length = 0;
  private order: number[] = [];
  // Bound once per instance: the large-list sort must not create a closure per string.
  private readonly compare = (a: number, b: number): number =>
    this.starts[a]! - this.starts[b]! || this.ends[b]! - this.ends[a]! || this.ids[a]! - this.ids[b]!;

  clear(): void {
    this.length = 0;
  }

  add(start: number, end: number, id: number): void {
    if (end <= start) return;
    const n = this.length;
    this.starts[n] = start;
    this.ends[n] = end;
    this.ids[n] = id;
    this.length = n + 1;
  }

  /**
   * Orders the spans by start (on a tie: longer first, then lower id, which is higher
   * priority) and merges overlapping ones into the first, which keeps its label. Touching
   * spans stay separate. Returns the number of spans left.
   */
  resolve(): number {
    const n = this.length;
    if (n <= 1) return n;
    if (n <= SMALL) this.insertionSort(n);
    else this.indexSort(n);
    let w = 0;
    for (let r = 1; r < n; r++) {
      if (this.starts[r]! < this.ends[w]!) {
        if (this.ends[r]! > this.ends[w]!) this.ends[w] = this.ends[r]!;
      } else {
        w++;
        this.starts[w] = this.starts[r]!;
        this.ends[w] = this.ends[r]!;
        this.ids[w] = this.ids[r]!;
      }
    }
    this.length = w + 1;
    return this.length;
  }

  private before(s: number, e: number, id: number, j: number): boolean {
    const sj = this.starts[j]!;
    if (s !== sj) return s < sj;
    const ej = this.ends[j]!;
    if (e !== ej) return e > ej;
    return id < this.ids[j]!;
  }

  private insertionSort(n: number): void {
    const { starts, ends, ids } = this;
    for (let i = 1; i < n; i++) {
      const s = starts[i]!;
      const e = ends[i]!;
      const id = ids[i]!;
      let j = i - 1;
      while (j >= 0 && this.before(s, e, id, j)) {
        starts[j + 1] = starts[j]!;
        ends[j + 1] = ends[j]!;
        ids[j + 1] = ids[j]!;
        j--;
      }
      starts[j + 1] = s;
      ends[j + 1] = e;
      ids[j + 1] = id;
    }
  }

  private indexSort(n: number): void {
    const order = this.order;
    order.length = n;
    for (let i = 0; i < n; i++) order[i] = i;
    order.sort(this.compare);
    const starts: number[] = new Array<number>(n);
    const ends: number[] = new Array<number>(n);
    const ids: number[] = new Array<number>(n);
    for (let k = 0; k < n; k++) {
      const i = order[k]!;
      starts[k] = this.starts[i]!;
      ends[k] = this.ends[i]!;
      ids[k] = this.ids[i]!;
    }
    this.starts = starts;
    this.ends = ends;
    this.ids = ids;
  }
}

/** ASCII letter or digit. */
export function isAlnum(c: number): boolean {
  return (c >= 48 && c <= 57) || ((c | 32) >= 97 && (c | 32) <= 122);
}

/** ASCII letter, digit or underscore: what counts as "glued" to a candidate. */
export function isWordChar(c: number): boolean {
  return c === 95 || isAlnum(c);
}

export function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
