/** The records the aggregate processor emits for closed windows, and its window metrics. */
import type { KeyValue, LogRecord, LogsData, Long } from '../otlp/model';
import { intValue, newLogRecord, stringValue, unixNanosFromMillis } from '../otlp/values';
import type { Spike } from './spike';
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

export class WindowOutput {
  private readonly seconds: number;

  constructor(private readonly o: OutputOptions) {
    this.seconds = o.windowMs / 1000;
  }

  /**
   * One ResourceLogs per closed window and group (resource = the group-by attributes): the
   * summary record (when on) and the anomaly record (when a spike). Undefined when empty.
   */
  records(closed: readonly Closed[], now: number): LogsData | undefined {
    const observed = unixNanosFromMillis(Math.max(0, Math.floor(now)));
    const out: LogsData = { resourceLogs: [] };
    for (const { group, window, spike } of closed) {
      const startMs = window.index * this.o.windowMs;
      const startIso = new Date(startMs).toISOString();
      const end = unixNanosFromMillis(startMs + this.o.windowMs);
      const logRecords: LogRecord[] = [];
      if (this.o.summary) logRecords.push(this.summary(window, startIso, end, observed));
      if (spike !== undefined) logRecords.push(this.anomaly(window, spike, startIso, end, observed));
      if (logRecords.length === 0) continue;
      out.resourceLogs.push({
        resource: { attributes: this.resourceOf(group).map(([key, v]) => ({ key, value: stringValue(v) })), droppedAttributesCount: 0, entityRefs: [] },
        schemaUrl: '',
        scopeLogs: [{ scope: { name: AGGREGATE_SCOPE, version: '', attributes: [], droppedAttributesCount: 0 }, schemaUrl: '', logRecords }],
      });
    }
    return out.resourceLogs.length > 0 ? out : undefined;
  }

  /** The group-by attributes, after the service's own resource attributes they do not name. */
  private resourceOf(group: Group): (readonly [string, string])[] {
    if (this.o.resource.length === 0) return [...group.resource];
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

  private windowAttributes(w: Window, startIso: string): KeyValue[] {
    return [
      { key: 'log.aggregate.window.start', value: stringValue(startIso) },
      { key: 'log.aggregate.window.seconds', value: intValue(this.seconds) },
      { key: 'log.aggregate.records', value: intValue(w.records) },
      { key: 'log.aggregate.errors', value: intValue(w.errors) },
    ];
  }

  private summary(w: Window, startIso: string, end: Long, observed: Long): LogRecord {
    const attributes = this.windowAttributes(w, startIso);
    const dims = this.o.dimensions;
    for (let d = 0; d < dims.length; d++) {
      const values = topValues(w.values[d]!, w.other[d]!, this.o.top).map(([v, n]) => ({ key: v, value: intValue(n) }));
      attributes.push({ key: `log.aggregate.by.${dims[d]}`, value: { kvlistValue: { values } } });
    }
    return newLogRecord({
      timeUnixNano: end,
      observedTimeUnixNano: observed,
      severityNumber: INFO_SEVERITY,
      severityText: 'INFO',
      eventName: WINDOW_EVENT,
      body: stringValue(`${this.seconds}s window from ${startIso}: ${plural(w.records, 'record')}, ${plural(w.errors, 'error')}`),
      attributes,
    });
  }

  private anomaly(w: Window, s: Spike, startIso: string, end: Long, observed: Long): LogRecord {
    const k = this.o.k;
    return newLogRecord({
      timeUnixNano: end,
      observedTimeUnixNano: observed,
      severityNumber: WARN_SEVERITY,
      severityText: 'WARN',
      eventName: ANOMALY_EVENT,
      body: stringValue(
        `error spike: ${s.errors} errors in the ${this.seconds}s window from ${startIso}, above the threshold ${s.threshold.toFixed(2)} ` +
          `(mean ${s.mean.toFixed(2)} + ${k} × max(stddev ${s.stddev.toFixed(2)}, √mean, 1) over the previous ${s.windows} windows)`,
      ),
      attributes: [
        { key: 'log.anomaly', value: stringValue('error_spike') },
        ...this.windowAttributes(w, startIso),
        { key: 'log.anomaly.baseline.mean', value: { doubleValue: s.mean } },
        { key: 'log.anomaly.baseline.stddev', value: { doubleValue: s.stddev } },
        { key: 'log.anomaly.baseline.windows', value: intValue(s.windows) },
        { key: 'log.anomaly.threshold', value: { doubleValue: s.threshold } },
        { key: 'log.anomaly.k', value: { doubleValue: k } },
      ],
    });
  }
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
