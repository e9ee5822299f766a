import Long from 'long';
import pino from 'pino';
import type { OptionValues } from '../../src/config/options';
import type { AnyValue, LogRecord, LogsData } from '../../src/otlp/model';
import { getAttribute, intValue, stringValue } from '../../src/otlp/values';
import { type Processor } from '../../src/processors/contract';
import { DEDUPLICATED, dedupProcessor } from '../../src/processors/dedup';
import { attrs, record, request } from '../helpers/builders';
import { RecordingDrops, expectOptionError } from '../helpers/processors';

type Options = OptionValues<typeof dedupProcessor.options>;

class FakeClock {
  t = 1_700_000_000_000;
  now(): number {
    return this.t;
  }
}

function make(overrides: Partial<Options> = {}, clock = new FakeClock()): Processor {
  const defaults = Object.fromEntries(Object.entries(dedupProcessor.options).map(([k, o]) => [k, o.default])) as unknown as Options;
  return dedupProcessor.create({ ...defaults, ...overrides }, { logger: pino({ level: 'silent' }), clock, env: {} });
}

function records(batch: LogsData): LogRecord[] {
  return batch.resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords));
}

const count = (r: LogRecord): number | undefined => getAttribute(r.attributes, 'log.dedup.count')?.intValue?.toNumber();

describe('dedup', () => {
  it('passes the first record, drops repeats within the window, reports them on the first record after it', () => {
    const clock = new FakeClock();
    const p = make({}, clock);
    const drops = new RecordingDrops();
    const send = (...bodies: string[]) => records(p.process(request(bodies.map((b) => record(b, { severityText: 'ERROR' }))), drops));

    expect(send('disk full', 'disk full', 'other', 'disk full').map((r) => r.body?.stringValue)).toEqual(['disk full', 'other']);
    clock.t += 9_999;
    expect(send('disk full')).toEqual([]);
    expect(drops.counts[DEDUPLICATED]).toBe(3);

    clock.t += 1; // 10 s after the first: the window is over
    const [next, ...rest] = send('disk full', 'disk full');
    expect(rest).toEqual([]);
    expect(count(next!)).toBe(3);
    expect(p.counts!.get('reported')).toBe(1);

    // The next window saw one repeat; a window without repeats adds no attribute.
    clock.t += 10_000;
    expect(send('disk full').map(count)).toEqual([1]);
    clock.t += 10_000;
    expect(send('disk full').map(count)).toEqual([undefined]);
    expect(drops.counts[DEDUPLICATED]).toBe(4);
  });

  it('ignores timestamps, trace ids and flags', () => {
    const p = make();
    const a = record('x', { timeUnixNano: Long.fromNumber(1, true), observedTimeUnixNano: Long.fromNumber(2, true), traceId: new Uint8Array(16).fill(1), flags: 1 });
    const b = record('x', { timeUnixNano: Long.fromNumber(3, true), observedTimeUnixNano: Long.fromNumber(4, true), traceId: new Uint8Array(16).fill(2), flags: 0 });
    expect(records(p.process(request([a, b]), new RecordingDrops()))).toHaveLength(1);
  });

  const base = (): LogRecord => record('msg', { severityNumber: 9, severityText: 'INFO', attributes: attrs({ a: '1', b: '2' }), eventName: 'e' });
  it.each<[string, (r: LogRecord) => void, boolean]>([
    ['an identical record', () => {}, true],
    ['attributes in another order', (r) => r.attributes.reverse(), true],
    ['another body', (r) => (r.body = stringValue('msg2')), false],
    ['a body of another type', (r) => (r.body = { bytesValue: Buffer.from('msg') }), false],
    ['another severity text', (r) => (r.severityText = 'WARN'), false],
    ['another severity number', (r) => (r.severityNumber = 10), false],
    ['another attribute value', (r) => (r.attributes[0]!.value = stringValue('9')), false],
    ['an int instead of a string attribute', (r) => (r.attributes[0]!.value = intValue(1)), false],
    ['one more attribute', (r) => r.attributes.push({ key: 'c', value: stringValue('') }), false],
    ['another event name', (r) => (r.eventName = 'f'), false],
    ['ambiguous concatenation', (r) => (r.attributes = attrs({ a: '1b', '': '2' })), false],
  ])('with the default fields, %s is a duplicate: %s', (_name, change, duplicate) => {
    const other = base();
    change(other);
    expect(records(make().process(request([base(), other]), new RecordingDrops()))).toHaveLength(duplicate ? 1 : 2);
  });

  it('tells resources and scopes apart by default, and not when they are left out of fields', () => {
    const batch = (): LogsData => {
      const b = request([record('x')], { 'service.name': 'a' });
      b.resourceLogs.push(request([record('x')], { 'service.name': 'b' }).resourceLogs[0]!);
      const other = request([record('x')], { 'service.name': 'a' }).resourceLogs[0]!;
      other.scopeLogs[0]!.scope!.name = 'other-scope';
      b.resourceLogs.push(other);
      return b;
    };
    expect(records(make().process(batch(), new RecordingDrops()))).toHaveLength(3);
    const out = make({ fields: ['body'] }).process(batch(), new RecordingDrops());
    expect(records(out)).toHaveLength(1);
    // Resources left without records are removed.
    expect(out.resourceLogs).toHaveLength(1);
  });

  it('compares structured bodies deeply', () => {
    const kv = (v: AnyValue): AnyValue => ({ kvlistValue: { values: [{ key: 'user', value: v }, { key: 'n', value: { arrayValue: { values: [intValue(1), { doubleValue: 1.5 }] } } }] } });
    const p = make();
    const out = p.process(request([record('', { body: kv(stringValue('a')) }), record('', { body: kv(stringValue('a')) }), record('', { body: kv(stringValue('b')) })]), new RecordingDrops());
    expect(records(out)).toHaveLength(2);
  });

  it('exclude_attributes ignores volatile keys', () => {
    const recs = () => [record('x', { attributes: attrs({ 'request.id': '1', user: 'u' }) }), record('x', { attributes: attrs({ 'request.id': '2', user: 'u' }) })];
    expect(records(make().process(request(recs()), new RecordingDrops()))).toHaveLength(2);
    expect(records(make({ exclude_attributes: ['request.id'] }).process(request(recs()), new RecordingDrops()))).toHaveLength(1);
  });

  it('a record carrying a count is still a duplicate of its kind', () => {
    const clock = new FakeClock();
    const p = make({ window: 1000 }, clock);
    p.process(request([record('x'), record('x')]), new RecordingDrops());
    clock.t += 1000;
    const [withCount] = records(p.process(request([record('x')]), new RecordingDrops()));
    expect(count(withCount!)).toBe(1);
    // Fed again (e.g. through a second hop) it matches records without the attribute.
    expect(records(p.process(request([withCount!, record('x')]), new RecordingDrops()))).toHaveLength(0);
  });

  it('count_attribute can be renamed or turned off', () => {
    const clock = new FakeClock();
    const run = (count_attribute: string) => {
      const p = make({ count_attribute }, clock);
      p.process(request([record('x'), record('x')]), new RecordingDrops());
      clock.t += 10_000;
      return records(p.process(request([record('x')]), new RecordingDrops()))[0]!.attributes;
    };
    expect(run('dup.count')).toEqual([{ key: 'dup.count', value: intValue(1) }]);
    expect(run('')).toEqual([]);
  });

  it('remembers at most max_entries records, forgetting the least recently seen', () => {
    const clock = new FakeClock();
    const p = make({ max_entries: 2 }, clock);
    const drops = new RecordingDrops();
    const send = (...bodies: string[]) => records(p.process(request(bodies.map((b) => record(b))), drops)).map((r) => r.body?.stringValue);
    expect(send('a', 'a', 'b', 'c')).toEqual(['a', 'b', 'c']); // c evicts a (with one unreported drop)
    expect(send('a', 'c')).toEqual(['a']); // a is new again; c is still remembered
    expect(p.counts!.get('evicted_unreported')).toBe(1);
  });

  it('a clock that steps back starts a new window instead of suppressing forever', () => {
    const clock = new FakeClock();
    const p = make({}, clock);
    p.process(request([record('x')]), new RecordingDrops());
    clock.t -= 60_000;
    expect(records(p.process(request([record('x')]), new RecordingDrops()))).toHaveLength(1);
    expect(records(p.process(request([record('x')]), new RecordingDrops()))).toHaveLength(0);
  });

  it.each<[string, Partial<Options>, string]>([
    ['an unknown field', { fields: ['body', 'timestamp'] }, 'fields'],
    ['no fields', { fields: [] }, 'fields'],
    ['exclude_attributes without attributes', { fields: ['body'], exclude_attributes: ['x'] }, 'exclude_attributes'],
  ])('rejects %s', (_name, overrides, option) => {
    expectOptionError(() => make(overrides), option);
  });

  it('parses the window as a duration and refuses 0', () => {
    expect(dedupProcessor.options.window.parse('1m')).toBe(60_000);
    expect(dedupProcessor.options.window.default).toBe(10_000);
    expect(dedupProcessor.options.window.schema.safeParse(0).success).toBe(false);
  });
});
