import fc from 'fast-check';
import Long from 'long';
import type { OptionValues } from '../../src/config/options';
import type { LogRecord, LogsData } from '../../src/otlp/model';
import { getAttribute, intValue, newLogRecord, stringValue, unixNanosFromMillis } from '../../src/otlp/values';
import type { Processor, ProcessorContext } from '../../src/processors/contract';
import { AGGREGATE_SCOPE, ANOMALY_EVENT, TEMPLATE_NEW_ATTRIBUTE, WINDOW_EVENT, aggregateProcessor } from '../../src/processors/aggregate';
import { Baseline } from '../../src/aggregate/spike';
import { millisFromNanos } from '../../src/aggregate/time';
import { encodeLogsData } from '../../src/otlp/codec';
import { RecordBatch } from '../../src/records/batch';
import { attrs, request } from '../helpers/builders';
import { createProcessor, expectOptionError, flushProcessor, runProcessor } from '../helpers/processors';
import { plainAttributes } from '../helpers/values';

type Options = OptionValues<typeof aggregateProcessor.options>;

const MINUTE = 60_000;
/** 2026-11-25T10:00:00Z, a minute boundary. */
const T0 = Date.UTC(2026, 10, 25, 10, 0, 0);

class FakeClock {
  t = T0;
  now(): number {
    return this.t;
  }
}

function make(overrides: Partial<Options> = {}, clock = new FakeClock(), ctx: Partial<ProcessorContext> = {}): Processor {
  return createProcessor(aggregateProcessor, overrides, {}, { clock, ...ctx });
}

interface Spec {
  sev?: number;
  text?: string;
  attrs?: Record<string, string>;
  /** Observed time, ms since the epoch; absent: no timestamps (the processor clock counts). */
  at?: number;
}

function rec(s: Spec = {}): LogRecord {
  return newLogRecord({
    body: stringValue('m'),
    severityNumber: s.sev ?? 0,
    severityText: s.text ?? '',
    attributes: attrs(s.attrs ?? {}),
    ...(s.at !== undefined ? { observedTimeUnixNano: unixNanosFromMillis(s.at) } : {}),
  });
}

const repeat = (n: number, s: Spec = {}): LogRecord[] => Array.from({ length: n }, () => rec(s));

/** Runs the processor over the records under one resource; returns what it passed on. */
function send(p: Processor, records: LogRecord[], service = 'api', resource: Record<string, string> = {}): LogsData {
  return runProcessor(p, request(records, { 'service.name': service, ...resource })).out;
}

interface Emitted {
  resource: Record<string, unknown>;
  scope: string;
  record: LogRecord;
  attributes: Record<string, unknown>;
}

function emitted(out: LogsData | undefined): Emitted[] {
  if (!out) return [];
  return out.resourceLogs.flatMap((rl) =>
    rl.scopeLogs.flatMap((sl) =>
      sl.logRecords.map((record) => ({
        resource: plainAttributes(rl.resource?.attributes ?? []),
        scope: sl.scope?.name ?? '',
        record,
        attributes: plainAttributes(record.attributes),
      })),
    ),
  );
}

const summaries = (out: LogsData | undefined): Emitted[] => emitted(out).filter((e) => e.record.eventName === WINDOW_EVENT);
const anomalies = (out: LogsData | undefined): Emitted[] => emitted(out).filter((e) => e.record.eventName === ANOMALY_EVENT);
const flush = (p: Processor, now: number, final = false): LogsData | undefined => flushProcessor(p, now, final);
const plainCounts = (m: ReadonlyMap<string, ReadonlyMap<string, number>> | undefined) =>
  Object.fromEntries([...(m ?? [])].map(([d, values]) => [d, Object.fromEntries(values)]));

describe('aggregate', () => {
  it('counts records per severity, category, template and attribute in one window and passes them on unchanged', () => {
    const clock = new FakeClock();
    const p = make({ dimensions: ['severity', 'log.category', 'log.template.id', 'k8s.namespace.name'], new_templates: false }, clock);
    const batch = request(
      [
        rec({ sev: 9, attrs: { 'log.category': 'network', 'log.template.id': 't1' } }),
        rec({ sev: 10, attrs: { 'log.category': 'network', 'log.template.id': 't1' } }),
        rec({ sev: 17, attrs: { 'log.category': 'database', 'log.template.id': 't2', 'k8s.namespace.name': 'own' } }),
        rec({ text: 'error', attrs: { 'log.category': 'database' } }), // text only: ERROR, an error
        rec({ text: 'Notice-ish' }), // unknown text: kept, upper-cased
        rec({ sev: 21 }),
        rec(),
      ],
      { 'service.name': 'api', 'k8s.namespace.name': 'prod' },
    );
    const bytes = encodeLogsData(batch);
    const records = new RecordBatch(bytes);
    p.process(records);
    // Nothing written: the batch goes on as the bytes it came as.
    expect(records.encode(Number.MAX_SAFE_INTEGER)[0]!.bytes).toBe(bytes);

    expect(flush(p, T0 + MINUTE - 1)).toBeUndefined();
    const [s, ...rest] = summaries(flush(p, T0 + MINUTE));
    expect(rest).toEqual([]);
    expect(s!.scope).toBe(AGGREGATE_SCOPE);
    expect(s!.resource).toEqual({ 'service.name': 'api' });
    expect(s!.record.severityNumber).toBe(9);
    expect(s!.record.body?.stringValue).toBe('60s window from 2026-11-25T10:00:00.000Z: 7 records, 3 errors');
    expect(s!.attributes).toEqual({
      'log.aggregate.window.start': '2026-11-25T10:00:00.000Z',
      'log.aggregate.window.seconds': 60n,
      'log.aggregate.records': 7n,
      'log.aggregate.errors': 3n,
      'log.aggregate.by.severity': { INFO: 2n, ERROR: 2n, FATAL: 1n, 'NOTICE-ISH': 1n, UNSPECIFIED: 1n },
      'log.aggregate.by.log.category': { database: 2n, network: 2n },
      'log.aggregate.by.log.template.id': { t1: 2n, t2: 1n },
      // A record attribute wins over the resource attribute with the same key.
      'log.aggregate.by.k8s.namespace.name': { prod: 6n, own: 1n },
    });
    expect(plainCounts(p.windowCounts)).toEqual({
      severity: { INFO: 2, ERROR: 2, FATAL: 1, 'NOTICE-ISH': 1, UNSPECIFIED: 1 },
      'log.category': { database: 2, network: 2 },
      'log.template.id': { t1: 2, t2: 1 },
      'k8s.namespace.name': { prod: 6, own: 1 },
    });
    expect(p.counts!.get('windows')).toBe(1);
  });

  it('closes a tumbling window at its end only after allowed_lateness, taking records by their timestamps until then', () => {
    const clock = new FakeClock();
    const p = make({ allowed_lateness: 10_000 }, clock);
    clock.t = T0 + 5_000;
    send(p, repeat(2));
    clock.t = T0 + 65_000;
    send(p, [rec({ at: T0 + 59_000 }), rec({ at: T0 + 61_000 })]);
    expect(flush(p, T0 + MINUTE)).toBeUndefined();
    expect(flush(p, T0 + 69_999)).toBeUndefined();
    const first = summaries(flush(p, T0 + 70_000));
    expect(first.map((s) => s.attributes['log.aggregate.records'])).toEqual([3n]);
    expect(p.counts!.get('late')).toBe(0);

    // The next window: records sent in it, closed at 2 min + 10 s.
    expect(flush(p, T0 + 2 * MINUTE + 9_999)).toBeUndefined();
    const second = summaries(flush(p, T0 + 2 * MINUTE + 10_000));
    expect(second.map((s) => [s.attributes['log.aggregate.window.start'], s.attributes['log.aggregate.records']])).toEqual([['2026-11-25T10:01:00.000Z', 1n]]);
  });

  it('counts a late record in the window of the processor clock and as `late`', () => {
    const clock = new FakeClock();
    const p = make({}, clock);
    clock.t = T0 + 30_000;
    send(p, repeat(1));
    clock.t = T0 + MINUTE; // window 0 is closable now, even before a flush closed it
    send(p, [rec({ at: T0 + 59_000 })]);
    expect(summaries(flush(p, T0 + MINUTE)).map((s) => s.attributes['log.aggregate.records'])).toEqual([1n]);
    clock.t = T0 + 61_000;
    send(p, [rec({ at: T0 + 1_000 }), rec({ at: T0 + 61_000 })]);
    expect(p.counts!.get('late')).toBe(2);
    const [s] = summaries(flush(p, T0 + 2 * MINUTE));
    expect(s!.attributes['log.aggregate.window.start']).toBe('2026-11-25T10:01:00.000Z');
    expect(s!.attributes['log.aggregate.records']).toBe(3n);
  });

  it('counts a record more than one window ahead of the clock in the current window, as `future`', () => {
    const clock = new FakeClock();
    const p = make({}, clock);
    clock.t = T0 + 1_000;
    send(p, [rec({ at: T0 + MINUTE + 1 }), rec({ at: T0 + 2 * MINUTE })]);
    expect(p.counts!.get('future')).toBe(1);
    const starts = summaries(flush(p, T0 + 2 * MINUTE)).map((s) => [s.attributes['log.aggregate.window.start'], s.attributes['log.aggregate.records']]);
    expect(starts).toEqual([
      ['2026-11-25T10:00:00.000Z', 1n],
      ['2026-11-25T10:01:00.000Z', 1n],
    ]);
  });

  it('emits the partial window at the final flush, and nothing twice', () => {
    const clock = new FakeClock();
    const p = make({}, clock);
    clock.t = T0 + 1_000;
    send(p, repeat(4, { sev: 17 }));
    expect(flush(p, T0 + 2_000)).toBeUndefined();
    const [s] = summaries(flush(p, T0 + 2_000, true));
    expect(s!.attributes).toMatchObject({ 'log.aggregate.records': 4n, 'log.aggregate.errors': 4n });
    expect(s!.record.timeUnixNano.toString()).toBe(unixNanosFromMillis(T0 + MINUTE).toString());
    expect(flush(p, T0 + 2_000, true)).toBeUndefined();
    expect(flush(p, T0 + 10 * MINUTE)).toBeUndefined();
  });

  it('counts values beyond max_keys per window as `_other` and as `overflow`', () => {
    const p = make({ dimensions: ['user'], max_keys: 2 });
    send(p, ['a', 'b', 'c', 'a', 'd', 'e'].map((u) => rec({ attrs: { user: u } })));
    expect(p.counts!.get('overflow')).toBe(3);
    const [s] = summaries(flush(p, 0, true));
    expect(s!.attributes['log.aggregate.by.user']).toEqual({ a: 2n, b: 1n, _other: 3n });
  });

  it('lists the top values per dimension in the summary and the metrics, the rest summed as `_other`', () => {
    const p = make({ dimensions: ['user'], top: 2 });
    const users = [...'aaaaabbbccd'];
    send(p, users.map((u) => rec({ attrs: { user: u } })));
    const [s] = summaries(flush(p, 0, true));
    const by = s!.record.attributes.find((a) => a.key === 'log.aggregate.by.user')!.value!.kvlistValue!.values;
    expect(by.map((kv) => [kv.key, kv.value!.intValue!.toNumber()])).toEqual([
      ['a', 5],
      ['b', 3],
      ['_other', 3],
    ]);
    expect(plainCounts(p.windowCounts)).toEqual({ user: { a: 5, b: 3, _other: 3 } });
  });

  it('keeps groups apart by service.name and sums them in the window metrics', () => {
    const clock = new FakeClock();
    const p = make({ dimensions: ['severity'] }, clock);
    send(p, repeat(3, { sev: 9 }), 'api');
    send(p, repeat(2, { sev: 17 }), 'db');
    send(p, repeat(1, { sev: 17 }), 'api');
    const out = summaries(flush(p, T0 + MINUTE));
    expect(out.map((s) => [s.resource, s.attributes['log.aggregate.records'], s.attributes['log.aggregate.errors']])).toEqual([
      [{ 'service.name': 'api' }, 4n, 1n],
      [{ 'service.name': 'db' }, 2n, 2n],
    ]);
    expect(plainCounts(p.windowCounts)).toEqual({ severity: { INFO: 3, ERROR: 3 } });
    expect(p.counts!.get('windows')).toBe(2);
  });

  it('forgets the least recently seen group beyond max_groups', () => {
    const p = make({ max_groups: 2 });
    send(p, repeat(1), 'a');
    send(p, repeat(1), 'b');
    send(p, repeat(1), 'a');
    send(p, repeat(1), 'c'); // evicts b
    expect(p.counts!.get('groups_evicted')).toBe(1);
    expect(summaries(flush(p, 0, true)).map((s) => s.resource['service.name'])).toEqual(['a', 'c']);
  });

  it('emits under the service resource with the group-by attributes over it, one resource per window and group', () => {
    const clock = new FakeClock();
    const resource = [
      ['service.name', 'olp'],
      ['k8s.pod.name', 'olp-0'],
    ] as const;
    const p = make({ dimensions: ['severity'] }, clock, { resource });
    send(p, repeat(1), 'api');
    send(p, repeat(1), 'db');
    const out = flush(p, T0 + MINUTE)!;
    expect(out.resourceLogs.map((rl) => [plainAttributes(rl.resource!.attributes), rl.scopeLogs.map((sl) => [sl.scope!.name, sl.logRecords.length])])).toEqual([
      [{ 'k8s.pod.name': 'olp-0', 'service.name': 'api' }, [[AGGREGATE_SCOPE, 1]]],
      [{ 'k8s.pod.name': 'olp-0', 'service.name': 'db' }, [[AGGREGATE_SCOPE, 1]]],
    ]);
  });

  it('emits only metrics and anomalies with summary off', () => {
    const p = make({ summary: false });
    send(p, repeat(3));
    expect(flush(p, 0, true)).toBeUndefined();
    expect(plainCounts(p.windowCounts).severity).toEqual({ UNSPECIFIED: 3 });
  });

  describe('error spikes', () => {
    /** Runs one window per entry with that many errors (and 50 info records); returns what each flush emitted. */
    function series(p: Processor, clock: FakeClock, errors: readonly number[], service = 'api'): (LogsData | undefined)[] {
      const base = Math.floor(clock.t / MINUTE) * MINUTE;
      return errors.map((n, i) => {
        clock.t = base + i * MINUTE + 1_000;
        send(p, [...repeat(n, { sev: 17 }), ...repeat(50, { sev: 9 })], service);
        return flush(p, base + (i + 1) * MINUTE);
      });
    }

    const stats = (xs: readonly number[]) => {
      const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
      const stddev = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length);
      return { mean, stddev };
    };

    it('flags exactly the spike of a noisy flat series, with its baseline numbers', () => {
      const clock = new FakeClock();
      const p = make({ summary: false }, clock);
      const baseline = [20, 22, 19, 21, 20, 18, 22, 21, 20, 19];
      const outs = series(p, clock, [...baseline, 60, 20, 21, 19, 22]);
      const flagged = outs.map((o, i) => [i, anomalies(o)] as const).filter(([, a]) => a.length > 0);
      expect(flagged.map(([i, a]) => [i, a.length])).toEqual([[10, 1]]);
      const a = flagged[0]![1][0]!;
      const { mean, stddev } = stats(baseline);
      const threshold = mean + 3 * Math.max(stddev, Math.sqrt(mean), 1);
      expect(a.record.severityNumber).toBe(13);
      expect(a.resource).toEqual({ 'service.name': 'api' });
      expect(a.attributes).toMatchObject({
        'log.anomaly': 'error_spike',
        'log.aggregate.errors': 60n,
        'log.aggregate.window.start': new Date(T0 + 10 * MINUTE).toISOString(),
        'log.anomaly.baseline.windows': 10n,
        'log.anomaly.k': 3,
      });
      expect(a.attributes['log.anomaly.baseline.mean']).toBeCloseTo(mean, 9);
      expect(a.attributes['log.anomaly.baseline.stddev']).toBeCloseTo(stddev, 9);
      expect(a.attributes['log.anomaly.threshold']).toBeCloseTo(threshold, 9);
      expect(a.record.body?.stringValue).toMatch(/^error spike: 60 errors in the 60s window from 2026-11-25T10:10:00.000Z/);
      expect(p.counts!.get('error_spikes')).toBe(1);
    });

    it('puts the anomaly beside the summary of its window, under the same resource and scope', () => {
      const clock = new FakeClock();
      const p = make({}, clock);
      const out = series(p, clock, [0, 0, 0, 50]).at(-1)!;
      expect(out.resourceLogs).toHaveLength(1);
      expect(out.resourceLogs[0]!.scopeLogs).toHaveLength(1);
      expect(out.resourceLogs[0]!.scopeLogs[0]!.logRecords.map((r) => r.eventName)).toEqual([WINDOW_EVENT, ANOMALY_EVENT]);
    });

    it('does not flag a gradual ramp', () => {
      const clock = new FakeClock();
      const p = make({}, clock);
      const outs = series(
        p,
        clock,
        Array.from({ length: 30 }, (_, i) => 10 + 5 * i),
      );
      expect(outs.flatMap(anomalies)).toEqual([]);
      expect(outs.flatMap(summaries)).toHaveLength(30);
    });

    it('never flags with fewer than 3 baseline windows', () => {
      const clock = new FakeClock();
      const p = make({}, clock);
      expect(series(p, clock, [0, 0, 500]).flatMap(anomalies)).toEqual([]);
      const q = make({}, clock);
      expect(series(q, clock, [0, 0, 0, 500]).map((o) => anomalies(o).length)).toEqual([0, 0, 0, 1]);
    });

    it('never flags below spike_min_errors', () => {
      const clock = new FakeClock();
      expect(series(make({}, clock), clock, [0, 0, 0, 0, 9]).flatMap(anomalies)).toEqual([]);
      expect(series(make({}, clock), clock, [0, 0, 0, 0, 10]).flatMap(anomalies)).toHaveLength(1);
      expect(series(make({ spike_min_errors: 0 }, clock), clock, [0, 0, 0, 0, 4]).flatMap(anomalies)).toHaveLength(1);
    });

    it('flags a second burst soon after the first (a spike joins the baseline capped at its threshold)', () => {
      const clock = new FakeClock();
      const p = make({}, clock);
      const outs = series(p, clock, [20, 21, 19, 20, 22, 20, 200, 20, 200]);
      expect(outs.map((o) => anomalies(o).length)).toEqual([0, 0, 0, 0, 0, 0, 1, 0, 1]);
    });

    it('floors the stddev of a flat baseline at √mean (and 1), so +1 error is no spike', () => {
      const flat = (v: number): Baseline => {
        const b = new Baseline(10);
        for (let i = 0; i < 5; i++) b.push(v);
        return b;
      };
      expect(flat(40).observe(58, 3, 0)).toBeUndefined(); // 40 + 3·√40 = 58.97
      expect(flat(40).observe(59, 3, 0)).toMatchObject({ mean: 40, stddev: 0, threshold: 40 + 3 * Math.sqrt(40) });
      expect(flat(0).observe(3, 3, 0)).toBeUndefined(); // 0 + 3·1
      expect(flat(0).observe(4, 3, 0)).toMatchObject({ threshold: 3 });
    });

    it('keeps a baseline per group, counting windows a group sent nothing in as 0 errors', () => {
      const clock = new FakeClock();
      const p = make({}, clock);
      // db errs 12 per window; api is silent for 3 windows, then errs 12: a spike for api only.
      clock.t = T0 + 1_000;
      send(p, repeat(1, { sev: 9 }), 'api');
      const outs = series(p, clock, [12, 12, 12, 12], 'db');
      clock.t = T0 + 4 * MINUTE + 1_000;
      send(p, repeat(12, { sev: 17 }), 'api');
      send(p, repeat(12, { sev: 17 }), 'db');
      const last = anomalies(flush(p, T0 + 5 * MINUTE));
      expect(outs.flatMap(anomalies)).toEqual([]);
      expect(last.map((a) => [a.resource['service.name'], a.attributes['log.anomaly.baseline.windows']])).toEqual([['api', 4n]]);
    });
  });

  describe('log.template.new', () => {
    const withTemplate = (id?: string): LogRecord => rec(id === undefined ? {} : { attrs: { 'log.template.id': id } });
    const flags = (out: LogsData): unknown[] => out.resourceLogs[0]!.scopeLogs[0]!.logRecords.map((r) => getAttribute(r.attributes, TEMPLATE_NEW_ATTRIBUTE)?.boolValue);

    it('is set once per template id', () => {
      const p = make();
      expect(flags(send(p, ['a', 'b', 'a', undefined, ''].map(withTemplate)))).toEqual([true, true, undefined, undefined, undefined]);
      expect(flags(send(p, ['a', 'c'].map(withTemplate)))).toEqual([undefined, true]);
      expect(p.counts!.get('new_templates')).toBe(3);
    });

    it.each<[string, readonly string[], boolean]>([
      ['classify runs before aggregate', ['severity', 'classify', 'aggregate'], true],
      ['classify is absent from the chain', ['severity', 'aggregate'], false],
      ['classify runs after aggregate', ['aggregate', 'classify'], false],
    ])('follows ctx.chain: set when %s: %s', (_name, chain, set) => {
      const p = make({}, new FakeClock(), { chain });
      expect(flags(send(p, [withTemplate('a')]))).toEqual([set ? true : undefined]);
    });

    it('is off with new_templates false', () => {
      expect(flags(send(make({ new_templates: false }), [withTemplate('a')]))).toEqual([undefined]);
    });

    it('remembers seen ids across a restart with state_path', () => {
      const p = make({ state_path: '/tmp/aggregate-state.json' });
      send(p, ['a', 'b'].map(withTemplate));
      const data = p.state!.snapshot();
      expect(p.state!.path).toBe('/tmp/aggregate-state.json');
      const q = make({ state_path: '/tmp/aggregate-state.json' });
      q.state!.restore(data);
      expect(flags(send(q, ['a', 'c', 'b'].map(withTemplate)))).toEqual([undefined, true, undefined]);
      expect(() => q.state!.restore(Buffer.from('{"version":2}'))).toThrow();
      // A snapshot as written before (the format is kept).
      const r = make({ state_path: '/tmp/aggregate-state.json' });
      r.state!.restore(Buffer.from('{"version":1,"templates":["a","b"]}'));
      expect(flags(send(r, ['b', 'c', 'a'].map(withTemplate)))).toEqual([undefined, true, undefined]);
      expect(make().state).toBeUndefined();
    });
  });

  it('assigns windows from exact 64-bit nanosecond times and emits window ends exactly', () => {
    const clock = new FakeClock();
    const p = make({}, clock);
    const boundary = Long.fromString(String(BigInt(T0 + MINUTE) * 1_000_000n), true);
    clock.t = T0 + MINUTE - 1;
    const at = (nanos: Long): LogRecord => newLogRecord({ observedTimeUnixNano: nanos });
    send(p, [at(boundary.subtract(1)), at(boundary), newLogRecord({ timeUnixNano: boundary.subtract(1) })]);
    const [first] = summaries(flush(p, T0 + MINUTE));
    expect(first!.attributes['log.aggregate.records']).toBe(2n);
    expect(first!.record.timeUnixNano.toString()).toBe(boundary.toString());
    expect(first!.record.observedTimeUnixNano.toString()).toBe(boundary.toString());
    const [second] = summaries(flush(p, T0 + 2 * MINUTE));
    expect(second!.attributes['log.aggregate.records']).toBe(1n);
    expect(second!.record.timeUnixNano.toString()).toBe(String(BigInt(T0 + 2 * MINUTE) * 1_000_000n));
  });

  it('converts nanoseconds to milliseconds exactly over the whole 64-bit range', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: (1n << 64n) - 1n }), (n) => {
        expect(millisFromNanos(n)).toBe(Number(n / 1_000_000n));
      }),
    );
    expect(millisFromNanos(0n)).toBe(-1);
  });

  it('accounts for every record in exactly one emitted window (property)', () => {
    const step = fc.record({
      advance: fc.integer({ min: 0, max: 90_000 }),
      records: fc.array(
        fc.record({
          sev: fc.integer({ min: 0, max: 24 }),
          offset: fc.option(fc.integer({ min: -4 * MINUTE, max: 4 * MINUTE })),
          service: fc.constantFrom('a', 'b', 'c'),
        }),
        { maxLength: 20 },
      ),
      flush: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 30 }), fc.integer({ min: 0, max: 3 }), (steps, lateWindows) => {
        const clock = new FakeClock();
        const p = make({ allowed_lateness: lateWindows * 20_000, dimensions: ['severity'] }, clock);
        let sent = 0;
        let total = 0;
        let records = 0;
        const tally = (out: LogsData | undefined) => {
          for (const s of summaries(out)) {
            records += Number(s.attributes['log.aggregate.records']);
            for (const c of Object.values(s.attributes['log.aggregate.by.severity'] as Record<string, bigint>)) total += Number(c);
          }
        };
        for (const st of steps) {
          clock.t += st.advance;
          for (const r of st.records) send(p, [rec({ sev: r.sev, ...(r.offset !== null ? { at: clock.t + r.offset } : {}) })], r.service);
          sent += st.records.length;
          if (st.flush) tally(flush(p, clock.t));
        }
        tally(flush(p, clock.t, true));
        expect(total).toBe(sent);
        expect(records).toBe(sent);
      }),
      { numRuns: 200 },
    );
  });

  it.each<[string, Partial<Options>, string]>([
    ['a window of 0', { window: 0 }, 'window'],
    ['a window that is not whole seconds', { window: 1_500 }, 'window'],
    ['a negative spike_k', { spike_k: -1 }, 'spike_k'],
    ['spike_windows below 3', { spike_windows: 2 }, 'spike_windows'],
    ['a negative spike_min_errors', { spike_min_errors: -1 }, 'spike_min_errors'],
    ['allowed_lateness beyond 10 windows', { window: 1_000, allowed_lateness: 11_000 }, 'allowed_lateness'],
    ['max_keys of 0', { max_keys: 0 }, 'max_keys'],
    ['top of 0', { top: 0 }, 'top'],
    ['a dimension named twice', { dimensions: ['severity', 'user', 'severity'] }, 'dimensions'],
    ['state_path without new_templates', { new_templates: false, state_path: '/tmp/x' }, 'state_path'],
  ])('rejects %s', (_name, overrides, option) => {
    expectOptionError(() => make(overrides), option);
  });

  it('declares its options for the loader', () => {
    const o = aggregateProcessor.options;
    expect(o.window.default).toBe(60_000);
    expect(o.window.schema.safeParse(0).success).toBe(false);
    expect(o.spike_k.parse('2.5')).toBe(2.5);
    expect(o.spike_k.schema.safeParse(-0.1).success).toBe(false);
    expect(o.dimensions.default).toEqual(['severity', 'log.category', 'log.template.id']);
    expect(aggregateProcessor.parallel).toBe(false);
    expect(make().flushIntervalMs).toBe(1000);
  });

  it('counts non-string attribute values by their text', () => {
    const p = make({ dimensions: ['code'] });
    send(p, [newLogRecord({ attributes: [{ key: 'code', value: intValue(500) }] })]);
    expect(summaries(flush(p, 0, true))[0]!.attributes['log.aggregate.by.code']).toEqual({ '500': 1n });
  });
});
