/**
 * Error-spike detection over a group's previous windows.
 *
 * Baseline: the error counts of the last `size` closed windows of the group (windows in which
 * the group sent nothing count as 0 errors). With mean μ and population standard deviation σ,
 * a window is a spike when
 *   errors ≥ minErrors  and  errors > μ + k · max(σ, √μ, 1)
 * and at least `MIN_BASELINE` windows are in the baseline.
 *
 * Why the floor on σ: error counts are roughly Poisson, whose natural spread is √μ. A baseline
 * that happened to be flat (σ = 0, e.g. exactly 40 errors per window) would otherwise flag 41;
 * √μ is the noise such a count has anyway, and 1 keeps a quiet baseline (μ = 0) from flagging a
 * single error (minErrors guards that too).
 *
 * What joins the baseline: every closed window, a flagged one capped at the threshold it
 * exceeded (winsorised). One burst thus cannot inflate σ for the next `size` windows and hide a
 * second burst, while a lasting level shift still raises the baseline window by window, so it
 * stops being flagged after a few windows instead of forever.
 */

export const MIN_BASELINE = 3;

export interface Spike {
  readonly errors: number;
  readonly mean: number;
  readonly stddev: number;
  readonly threshold: number;
  readonly windows: number;
}

export class Baseline {
  private readonly values: Float64Array;
  private n = 0;
  private next = 0;

  constructor(readonly size: number) {
    this.values = new Float64Array(size);
  }

  get length(): number {
    return this.n;
  }

  push(v: number): void {
    this.values[this.next] = v;
    this.next = (this.next + 1) % this.size;
    if (this.n < this.size) this.n++;
  }

  /** Adds `count` windows without errors (the group sent nothing in them). */
  pushZeros(count: number): void {
    for (let i = Math.min(count, this.size); i > 0; i--) this.push(0);
  }

  /**
   * Tests a closed window's error count against the baseline, then adds it (capped at the
   * threshold when it was a spike). Returns the spike, or undefined.
   */
  observe(errors: number, k: number, minErrors: number): Spike | undefined {
    let spike: Spike | undefined;
    if (this.n >= MIN_BASELINE) {
      let sum = 0;
      for (let i = 0; i < this.n; i++) sum += this.values[i]!;
      const mean = sum / this.n;
      let sq = 0;
      for (let i = 0; i < this.n; i++) {
        const d = this.values[i]! - mean;
        sq += d * d;
      }
      const stddev = Math.sqrt(sq / this.n);
      const threshold = mean + k * Math.max(stddev, Math.sqrt(mean), 1);
      if (errors >= minErrors && errors > threshold) spike = { errors, mean, stddev, threshold, windows: this.n };
    }
    this.push(spike ? spike.threshold : errors);
    return spike;
  }
}
