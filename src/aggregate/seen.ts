/**
 * A bounded set of seen keys with approximate LRU eviction, cheaper per lookup than a true LRU
 * (the aggregate processor asks once per record). Two generations: keys go to `young`; when
 * it holds max/2 keys it becomes `old` and the previous `old` is dropped; a key found in `old` is
 * moved back to `young`. So at most `max` keys are held, and a key looked up at least once per
 * max/2 new keys is never forgotten.
 */
export class SeenSet {
  private young = new Set<string>();
  private old = new Set<string>();
  private readonly half: number;

  constructor(max: number) {
    this.half = Math.max(1, Math.floor(max / 2));
  }

  get size(): number {
    return this.young.size + this.old.size;
  }

  /** Marks `key` seen; returns whether it was new. */
  add(key: string): boolean {
    if (this.young.has(key)) return false;
    const known = this.old.delete(key);
    if (this.young.size >= this.half) {
      this.old = this.young;
      this.young = new Set();
    }
    this.young.add(key);
    return !known;
  }

  /** Keys, least recently added generation first. */
  keys(): string[] {
    return [...this.old, ...this.young];
  }

  clear(): void {
    this.young = new Set();
    this.old = new Set();
  }
}
