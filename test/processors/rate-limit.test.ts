import { status } from '@grpc/grpc-js';
import pino from 'pino';
import type { OptionValues } from '../../src/config/options';
import type { LogRecord, LogsData } from '../../src/otlp/model';
import { getAttribute } from '../../src/otlp/values';
import { type Processor } from '../../src/processors/contract';
import { OTHER_KEYS_EVENT, RATE_LIMITED, rateLimitProcessor } from '../../src/processors/rate-limit';
import { builtinProcessors } from '../../src/processors/registry';
import { attrs, record, request } from '../helpers/builders';
import { exportLogs } from '../helpers/grpc-client';
import { expectOptionError, runProcessor } from '../helpers/processors';
import { useServiceFixture } from '../helpers/service-fixture';
import { startTestService } from '../helpers/service';

type Options = OptionValues<typeof rateLimitProcessor.options>;

class FakeClock {
  t = 1_700_000_000_000;
  now(): number {
    return this.t;
  }
}

function make(overrides: Partial<Options>, clock = new FakeClock()): Processor {
  const defaults = Object.fromEntries(Object.entries(rateLimitProcessor.options).map(([k, o]) => [k, o.default])) as unknown as Options;
  return rateLimitProcessor.create({ ...defaults, ...overrides }, { logger: pino({ level: 'silent' }), clock, env: {} });
}

function records(batch: LogsData): LogRecord[] {
  return batch.resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords));
}

/** Runs the processor over `data`: the records it passed on. */
const pass = (p: Processor, data: LogsData): LogRecord[] => records(runProcessor(p, data).out);

const lines = (n: number, fields: (i: number) => Partial<LogRecord> = () => ({})): LogRecord[] => Array.from({ length: n }, (_, i) => record(`line ${i}`, fields(i)));

describe('rate_limit', () => {
  it('passes a burst, then refills at the rate, never above the burst', () => {
    const clock = new FakeClock();
    const p = make({ rate: 10, burst: 5 }, clock);
    let limited = 0;
    const passed = (n: number) => {
      const { out, drops } = runProcessor(p, request(lines(n)));
      limited += drops[RATE_LIMITED] ?? 0;
      return records(out).length;
    };
    expect(passed(20)).toBe(5);
    expect(limited).toBe(15);
    // Tokens accrue fractionally: 50 ms is half a record.
    clock.t += 50;
    expect(passed(5)).toBe(0);
    clock.t += 50;
    expect(passed(5)).toBe(1);
    clock.t += 60_000;
    expect(passed(20)).toBe(5);
    expect(limited).toBe(15 + 5 + 4 + 15);
  });

  it.each<[number, number, number, number]>([
    // rate, burst, seconds, expected: burst + rate × seconds
    [1, 1, 10, 11],
    [100, 0, 2, 300],
    [0.5, 1, 10, 6],
    [2.5, 0, 4, 13],
  ])('rate %d burst %d over %d s with one batch per 100 ms passes %d', (rate, burst, seconds, expected) => {
    const clock = new FakeClock();
    const p = make({ rate, burst }, clock);
    let passed = 0;
    for (let t = 0; t <= seconds * 10; t++) {
      passed += pass(p, request(lines(1000))).length;
      clock.t += 100;
    }
    expect(passed).toBe(expected);
  });

  it('keeps a bucket per service by default; records without the key share one', () => {
    const p = make({ rate: 1, burst: 2 });
    const batch = request(lines(5), { 'service.name': 'a' });
    batch.resourceLogs.push(request(lines(5), { 'service.name': 'b' }).resourceLogs[0]!);
    batch.resourceLogs.push(request(lines(5), {}).resourceLogs[0]!);
    batch.resourceLogs.push(request(lines(5), { 'service.name': 'a' }).resourceLogs[0]!);
    const { out } = runProcessor(p, batch);
    expect(out.resourceLogs.map((rl) => getAttribute(rl.resource!.attributes, 'service.name')?.stringValue)).toEqual(['a', 'b', undefined]);
    expect(out.resourceLogs.map((rl) => rl.scopeLogs[0]!.logRecords.map((r) => r.body?.stringValue))).toEqual([
      ['line 0', 'line 1'],
      ['line 0', 'line 1'],
      ['line 0', 'line 1'],
    ]);
    expect(Object.fromEntries(p.counts!)).toEqual({ [`${RATE_LIMITED}:a`]: 8, [`${RATE_LIMITED}:b`]: 3, [`${RATE_LIMITED}:(none)`]: 3 });
  });

  it.each<[string, string[], (i: number) => Partial<LogRecord>, number]>([
    ['a record attribute', ['attributes.log.template.id'], (i) => ({ attributes: attrs({ 'log.template.id': String(i % 3) }) }), 3],
    ['severity_text', ['severity_text'], (i) => ({ severityText: i % 2 ? 'INFO' : 'ERROR' }), 2],
    ['severity_number', ['severity_number'], (i) => ({ severityNumber: i % 4 }), 4],
    ['event_name', ['event_name'], (i) => ({ eventName: `e${i % 5}` }), 5],
    ['service and severity together', ['severity_text', 'resource.service.name'], (i) => ({ severityText: i % 2 ? 'INFO' : 'ERROR' }), 2],
    ['nothing (one bucket)', [], () => ({}), 1],
  ])('keys by %s', (_name, key, fields, buckets) => {
    const p = make({ rate: 1, burst: 1, key });
    expect(pass(p, request(lines(60, fields)))).toHaveLength(buckets);
  });

  it('keys by scope name and scope attributes', () => {
    const batch = request(lines(3));
    batch.resourceLogs[0]!.scopeLogs.push({ scope: { name: 'other', version: '', attributes: attrs({ tier: 'x' }), droppedAttributesCount: 0 }, schemaUrl: '', logRecords: lines(3) });
    expect(pass(make({ rate: 1, burst: 1, key: ['scope.name'] }), batch)).toHaveLength(2);
  });

  it('counts drops separately for max_counted_keys values, the rest together', () => {
    const p = make({ rate: 1, burst: 1, key: ['attributes.k'], max_counted_keys: 2 });
    runProcessor(p, request(lines(12, (i) => ({ attributes: attrs({ k: `v${i % 4}` }) }))));
    expect(Object.fromEntries(p.counts!)).toEqual({ [`${RATE_LIMITED}:v0`]: 2, [`${RATE_LIMITED}:v1`]: 2, [OTHER_KEYS_EVENT]: 4 });
  });

  it('keeps at most max_keys buckets: an evicted key starts again with a full bucket', () => {
    const p = make({ rate: 1, burst: 1, key: ['attributes.k'], max_keys: 2 });
    const send = (...keys: string[]) => pass(p, request(keys.map((k) => record(k, { attributes: attrs({ k }) })))).map((r) => r.body?.stringValue);
    expect(send('a', 'a', 'b', 'c')).toEqual(['a', 'b', 'c']);
    expect(send('a', 'c')).toEqual(['a']);
    expect(p.counts!.get('buckets_evicted')).toBe(2);
  });

  it('a clock that steps back grants nothing', () => {
    const clock = new FakeClock();
    const p = make({ rate: 1, burst: 1 }, clock);
    expect(pass(p, request(lines(2)))).toHaveLength(1);
    clock.t -= 10_000;
    expect(pass(p, request(lines(2)))).toHaveLength(0);
    clock.t += 1_000;
    expect(pass(p, request(lines(2)))).toHaveLength(1);
  });

  it.each<[string, Partial<Options>, string]>([
    ['no rate', {}, 'rate'],
    ['an unknown key path', { rate: 1, key: ['body'] }, 'key'],
    ['an empty attribute name', { rate: 1, key: ['attributes.'] }, 'key'],
  ])('rejects %s', (_name, overrides, option) => {
    expectOptionError(() => make(overrides), option);
  });

  it('validates rate and burst', () => {
    expect(rateLimitProcessor.options.rate.parse('0.5')).toBe(0.5);
    expect(rateLimitProcessor.options.rate.schema.safeParse(0).success).toBe(false);
    expect(rateLimitProcessor.options.burst.schema.safeParse(-1).success).toBe(false);
  });
});

describe('dedup and rate_limit end to end', () => {
  const f = useServiceFixture();

  test('repeats are collapsed, then each f.service is limited to its burst', async () => {
    f.service = await startTestService(
      {
        OTEL_EXPORTER_OTLP_ENDPOINT: f.sink.endpoint,
        OLP_PROCESSORS: 'dedup,rate_limit',
        OLP_DEDUP_WINDOW: '1m',
        OLP_DEDUP_EXCLUDE_ATTRIBUTES: 'request.id',
        OLP_RATE_LIMIT_RATE: '0.001',
        OLP_RATE_LIMIT_BURST: '3',
      },
      builtinProcessors,
    );
    const noisy = request(
      [
        ...Array.from({ length: 5 }, (_, i) => record('disk full', { attributes: attrs({ 'request.id': String(i) }) })),
        ...lines(10),
      ],
      { 'service.name': 'noisy' },
    );
    noisy.resourceLogs.push(request(lines(2), { 'service.name': 'quiet' }).resourceLogs[0]!);
    const res = await exportLogs(f.service.endpoint, noisy);
    expect(res.code).toBe(status.OK);
    await f.sink.waitForRecords(5);
    const out = f.sink.requests.flatMap((r) => r.resourceLogs).map((rl) => [
      getAttribute(rl.resource!.attributes, 'service.name')?.stringValue,
      rl.scopeLogs.flatMap((sl) => sl.logRecords.map((r) => r.body?.stringValue)),
    ]);
    expect(out).toEqual([
      ['noisy', ['disk full', 'line 0', 'line 1']],
      ['quiet', ['line 0', 'line 1']],
    ]);
    const dropped = (await f.service.metrics.dropped.get()).values.map((v) => [v.labels.component, v.labels.reason, v.value]);
    expect(dropped).toEqual(
      expect.arrayContaining([
        ['processor/dedup', 'deduplicated', 4],
        ['processor/rate_limit', 'rate_limited', 8],
      ]),
    );
  });

  test('an invalid combination fails start-up naming the option', async () => {
    await expect(
      startTestService({ OTEL_EXPORTER_OTLP_ENDPOINT: f.sink.endpoint, OLP_PROCESSORS: 'sample', OLP_SAMPLE_RATE: '0.1', OLP_SAMPLE_PERCENT: '10' }),
    ).rejects.toThrow(/percent|OLP_SAMPLE_PERCENT/);
  });
});
