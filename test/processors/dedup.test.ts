import Long from 'long';
import pino from 'pino';
import type { OptionValues } from '../../src/config/options';
import type { AnyValue, LogRecord, LogsData } from '../../src/otlp/model';
import { getAttribute, intValue, stringValue } from '../../src/otlp/values';
import { type Processor } from '../../src/processors/contract';
import { DEDUPLICATED, dedupProcessor } from '../../src/processors/dedup';
import { attrs, record, request } from '../helpers/builders';
import { expectOptionError, runProcessor } from '../helpers/processors';

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

/** Runs the processor over `data`: the records it passed on. */
const pass = (p: Processor, data: LogsData): LogRecord[] => records(runProcessor(p, data).out);

const count = (r: LogRecord): number | undefined => getAttribute(r.attributes, 'log.dedup.count')?.intValue?.toNumber();

describe('dedup', () => {
  it('passes the first record, drops repeats within the window, reports them on the first record after it', () => {
    const clock = new FakeClock();
    const p = make({}, clock);
    let deduplicated = 0;
    const send = (...bodies: string[]) => {
      const { out, drops } = runProcessor(p, request(bodies.map((b) => record(b, { severityText: 'ERROR' }))));
      deduplicated += drops[DEDUPLICATED] ?? 0;
      return records(out);
    };

    expect(send('disk full', 'disk full', 'other', 'disk full').map((r) => r.body?.stringValue)).toEqual(['disk full', 'other']);
    clock.t += 9_999;
    expect(send('disk full')).toEqual([]);
    expect(deduplicated).toBe(3);

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
    expect(deduplicated).toBe(4);
  });

  it('ignores timestamps, trace ids and flags', () => {
    const p = make();
    const a = record('x', { timeUnixNano: Long.fromNumber(1, true), observedTimeUnixNano: Long.fromNumber(2, true), traceId: new Uint8Array(16).fill(1), flags: 1 });
    const b = record('x', { timeUnixNano: Long.fromNumber(3, true), observedTimeUnixNano: Long.fromNumber(4, true), traceId: new Uint8Array(16).fill(2), flags: 0 });
    expect(pass(p, request([a, b]))).toHaveLength(1);
  });

  const base = (): LogRecord => record('msg', { severityNumber: 9, severityText: 'INFO', attributes: attrs({ a: '1', b: '2' }), eventName: 'e' });
  it.each<[string, boolean, (r: LogRecord) => void]>([
    ['an identical record', true, () => {}],
    ['attributes in another order', true, (r) => r.attributes.reverse()],
    ['another body', false, (r) => (r.body = stringValue('msg2'))],
    ['a body of another type', false, (r) => (r.body = { bytesValue: Buffer.from('msg') })],
    ['another severity text', false, (r) => (r.severityText = 'WARN')],
    ['another severity number', false, (r) => (r.severityNumber = 10)],
    ['another attribute value', false, (r) => (r.attributes[0]!.value = stringValue('9'))],
    ['an int instead of a string attribute', false, (r) => (r.attributes[0]!.value = intValue(1))],
    ['one more attribute', false, (r) => r.attributes.push({ key: 'c', value: stringValue('') })],
    ['another event name', false, (r) => (r.eventName = 'f')],
    ['ambiguous concatenation', false, (r) => (r.attributes = attrs({ a: '1b', '': '2' }))],
  ])('with the default fields, %s is a duplicate: %s', (_name, duplicate, change) => {
    const other = base();
    change(other);
    expect(pass(make(), request([base(), other]))).toHaveLength(duplicate ? 1 : 2);
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
    expect(pass(make(), batch())).toHaveLength(3);
    const { out } = runProcessor(make({ fields: ['body'] }), batch());
    expect(records(out)).toHaveLength(1);
    // Resources left without records are removed.
    expect(out.resourceLogs).toHaveLength(1);
  });

  it('compares structured bodies deeply', () => {
    const kv = (v: AnyValue): AnyValue => ({ kvlistValue: { values: [{ key: 'user', value: v }, { key: 'n', value: { arrayValue: { values: [intValue(1), { doubleValue: 1.5 }] } } }] } });
    const p = make();
    const out = pass(p, request([record('', { body: kv(stringValue('a')) }), record('', { body: kv(stringValue('a')) }), record('', { body: kv(stringValue('b')) })]));
    expect(out).toHaveLength(2);
  });

  it('compares int values over all 64 bits, whatever the instance seed', () => {
    const withInt = (n: bigint) => record('x', { attributes: [{ key: 'n', value: intValue(n) }] });
    // Each instance draws its own hash seed: 32 of them, so a weakness of some seeds shows.
    for (let i = 0; i < 32; i++) expect(pass(make(), request([withInt(1n), withInt(1n + (1n << 32n)), withInt(-1n), withInt(1n + (1n << 32n))]))).toHaveLength(3);
  });

  it('exclude_attributes ignores volatile keys', () => {
    const recs = () => [record('x', { attributes: attrs({ 'request.id': '1', user: 'u' }) }), record('x', { attributes: attrs({ 'request.id': '2', user: 'u' }) })];
    expect(pass(make(), request(recs()))).toHaveLength(2);
    expect(pass(make({ exclude_attributes: ['request.id'] }), request(recs()))).toHaveLength(1);
  });

  it('a record carrying a count is still a duplicate of its kind', () => {
    const clock = new FakeClock();
    const p = make({ window: 1000 }, clock);
    pass(p, request([record('x'), record('x')]));
    clock.t += 1000;
    const [withCount] = pass(p, request([record('x')]));
    expect(count(withCount!)).toBe(1);
    // Fed again (e.g. through a second hop) it matches records without the attribute.
    expect(pass(p, request([withCount!, record('x')]))).toHaveLength(0);
  });

  it('count_attribute can be renamed or turned off', () => {
    const clock = new FakeClock();
    const run = (count_attribute: string) => {
      const p = make({ count_attribute }, clock);
      pass(p, request([record('x'), record('x')]));
      clock.t += 10_000;
      return pass(p, request([record('x')]))[0]!.attributes;
    };
    expect(run('dup.count')).toEqual([{ key: 'dup.count', value: intValue(1) }]);
    expect(run('')).toEqual([]);
  });

  it('remembers at most max_entries records, forgetting the least recently seen', () => {
    const clock = new FakeClock();
    const p = make({ max_entries: 2 }, clock);
    const send = (...bodies: string[]) => pass(p, request(bodies.map((b) => record(b)))).map((r) => r.body?.stringValue);
    expect(send('a', 'a', 'b', 'c')).toEqual(['a', 'b', 'c']); // c evicts a (with one unreported drop)
    expect(send('a', 'c')).toEqual(['a']); // a is new again; c is still remembered
    expect(p.counts!.get('evicted_unreported')).toBe(1);
  });

  it('a clock that steps back starts a new window instead of suppressing forever', () => {
    const clock = new FakeClock();
    const p = make({}, clock);
    pass(p, request([record('x')]));
    clock.t -= 60_000;
    expect(pass(p, request([record('x')]))).toHaveLength(1);
    expect(pass(p, request([record('x')]))).toHaveLength(0);
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
