/** The records the aggregate processor emits for closed windows, and its window metrics. */
import type { AnyValue, KeyValue, LogBatch, NewOrigin, NewRecord, ValueInput } from '../records/types';
import type { Spike } from './spike';
import { nanosFromMillis } from './time';
import { topValues, type Group, type Window } from './windows';

export const AGGREGATE_SCOPE = 'otlp-log-processor/aggregate';
export const WINDOW_EVENT = 'log.aggregate.window';
export const ANOMALY_EVENT = 'log.anomaly';

const INFO_SEVERITY = 9;
const WARN_SEVERITY = 13;

/** A window closed by a flush, with the spike found in it. */
export interface Closed {
  readonly group: Group;
  readonly window: Window;
  readonly spike: Spike | undefined;
}

export interface OutputOptions {
  readonly windowMs: number;
  readonly dimensions: readonly string[];
  readonly top: number;
  readonly k: number;
  readonly summary: boolean;
  /** The service's own resource attributes, under the group-by ones (those win). */
  readonly resource: readonly (readonly [string, string])[];
}

type Attribute = readonly [string, ValueInput];

export class WindowOutput {
  private readonly seconds: number;

  constructor(private readonly o: OutputOptions) {
    this.seconds = o.windowMs / 1000;
  }

  /**
   * Adds to `out`, per closed window and group, the summary record (when on) and the anomaly
   * record (when a spike), both under one resource (the group-by attributes) and scope.
   */
  emit(closed: readonly Closed[], now: number, out: LogBatch): void {
    const observed = nanosFromMillis(Math.max(0, Math.floor(now)));
    for (const { group, window, spike } of closed) {
      if (!this.o.summary && spike === undefined) continue;
      const startMs = window.index * this.o.windowMs;
      const startIso = new Date(startMs).toISOString();
      const end = nanosFromMillis(startMs + this.o.windowMs);
      // One origin object per window and group: its records share one resource and scope.
      const origin: NewOrigin = { resource: this.resourceOf(group), scope: { name: AGGREGATE_SCOPE } };
      if (this.o.summary) out.add(this.summary(window, startIso, end, observed), origin);
      if (spike !== undefined) out.add(this.anomaly(window, spike, startIso, end, observed), origin);
    }
  }

  /** The group-by attributes, after the service's own resource attributes they do not name. */
  private resourceOf(group: Group): readonly (readonly [string, string])[] {
    if (this.o.resource.length === 0) return group.resource;
    const named = new Set(group.resource.map(([k]) => k));
    return [...this.o.resource.filter(([k]) => !named.has(k)), ...group.resource];
  }

  /** Dimension → value → count of the latest window index among `closed`, all groups summed, top values + `_other`. */
  windowCounts(closed: readonly Closed[]): ReadonlyMap<string, ReadonlyMap<string, number>> {
    const dims = this.o.dimensions;
    let latest = -Infinity;
    for (const c of closed) if (c.window.index > latest) latest = c.window.index;
    const merged = dims.map(() => new Map<string, number>());
    const other = new Array<number>(dims.length).fill(0);
    for (const c of closed) {
      if (c.window.index !== latest) continue;
      for (let d = 0; d < dims.length; d++) {
        const m = merged[d]!;
        for (const [v, n] of c.window.values[d]!) m.set(v, (m.get(v) ?? 0) + n.n);
        other[d]! += c.window.other[d]!;
      }
    }
    return new Map(dims.map((dim, d) => [dim, new Map(topValues(merged[d]!, other[d]!, this.o.top))]));
  }

  /** Integers as bigint: a number would be written as a double. */
  private windowAttributes(w: Window, startIso: string): Attribute[] {
    return [
      ['log.aggregate.window.start', startIso],
      ['log.aggregate.window.seconds', BigInt(this.seconds)],
      ['log.aggregate.records', BigInt(w.records)],
      ['log.aggregate.errors', BigInt(w.errors)],
    ];
  }

  private summary(w: Window, startIso: string, end: bigint, observed: bigint): NewRecord {
    const attributes = this.windowAttributes(w, startIso);
    const dims = this.o.dimensions;
    for (let d = 0; d < dims.length; d++) {
      const values: KeyValue[] = topValues(w.values[d]!, w.other[d]!, this.o.top).map(([v, n]) => ({ key: v, value: { intValue: BigInt(n) } }));
      const byValue: AnyValue = { kvlistValue: { values } };
      attributes.push([`log.aggregate.by.${dims[d]}`, byValue]);
    }
    return {
      timeUnixNano: end,
      observedTimeUnixNano: observed,
      severityNumber: INFO_SEVERITY,
      severityText: 'INFO',
      eventName: WINDOW_EVENT,
      body: `${this.seconds}s window from ${startIso}: ${plural(w.records, 'record')}, ${plural(w.errors, 'error')}`,
      attributes,
    };
  }

  private anomaly(w: Window, s: Spike, startIso: string, end: bigint, observed: bigint): NewRecord {
    const k = this.o.k;
    // Numbers are doubles here (baseline statistics, k).
    return {
      timeUnixNano: end,
      observedTimeUnixNano: observed,
      severityNumber: WARN_SEVERITY,
      severityText: 'WARN',
      eventName: ANOMALY_EVENT,
      body:
        `error spike: ${s.errors} errors in the ${this.seconds}s window from ${startIso}, above the threshold ${s.threshold.toFixed(2)} ` +
        `(mean ${s.mean.toFixed(2)} + ${k} × max(stddev ${s.stddev.toFixed(2)}, √mean, 1) over the previous ${s.windows} windows)`,
      attributes: [
        ['log.anomaly', 'error_spike'],
        ...this.windowAttributes(w, startIso),
        ['log.anomaly.baseline.mean', s.mean],
        ['log.anomaly.baseline.stddev', s.stddev],
        ['log.anomaly.baseline.windows', BigInt(s.windows)],
        ['log.anomaly.threshold', s.threshold],
        ['log.anomaly.k', k],
      ],
    };
  }
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
