import { randomBytes } from 'node:crypto';
import pino from 'pino';
import type { OptionValues } from '../../src/config/options';
import { countRecords, type LogRecord, type LogsData } from '../../src/otlp/model';
import { getAttribute } from '../../src/otlp/values';
import { OptionError, type Processor } from '../../src/processors/contract';
import { SAMPLED_OUT, murmur3, parseNumber, sampleProcessor } from '../../src/processors/sample';
import { record, request } from '../helpers/builders';
import { runProcessor } from '../helpers/processors';

type Options = OptionValues<typeof sampleProcessor.options>;

function make(overrides: Partial<Options>): Processor {
  const defaults = Object.fromEntries(Object.entries(sampleProcessor.options).map(([k, o]) => [k, o.default])) as unknown as Options;
  return sampleProcessor.create({ ...defaults, random_seed: 42, ...overrides }, { logger: pino({ level: 'silent' }), clock: { now: () => 0 }, env: {} });
}

function records(batch: LogsData): LogRecord[] {
  return batch.resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords));
}

function many(n: number, fields: (i: number) => Partial<LogRecord> = () => ({})): LogsData {
  return request(Array.from({ length: n }, (_, i) => record(`line ${i}`, { severityNumber: 9, ...fields(i) })));
}

/** What `p` kept of `data`, decoded. */
function sampled(p: Processor, data: LogsData): LogsData {
  return runProcessor(p, data).out;
}

/** 4 standard deviations of a binomial count. */
const bound = (n: number, p: number): number => 4 * Math.sqrt(n * p * (1 - p));

describe('murmur3', () => {
  // Published MurmurHash3_x86_32 test vectors (SMHasher).
  it.each([
    ['', 0, 0],
    ['', 1, 0x514e28b7],
    ['', 0xffffffff, 0x81f16f39],
    ['\0\0\0\0', 0, 0x2362f9de],
    ['aaaa', 0x9747b28c, 0x5a97808a],
    ['aaa', 0x9747b28c, 0x283e0130],
    ['aa', 0x9747b28c, 0x5d211726],
    ['a', 0x9747b28c, 0x7fa09ea6],
    ['Hello, world!', 0x9747b28c, 0x24884cba],
    ['The quick brown fox jumps over the lazy dog', 0x9747b28c, 0x2fa826cd],
  ])('hashes %j with seed %i', (text, seed, expected) => {
    expect(murmur3(Buffer.from(text, 'latin1'), seed)).toBe(expected);
  });
});

describe('sample', () => {
  it.each([
    [0.1, 10_000],
    [0.5, 10_000],
    [0.01, 20_000],
  ])('keeps records without a trace id at rate %d within 4σ', (rate, n) => {
    const { out, drops } = runProcessor(make({ rate }), many(n));
    const keptCount = countRecords(out);
    expect(Math.abs(keptCount - n * rate)).toBeLessThan(bound(n, rate));
    expect(drops[SAMPLED_OUT]).toBe(n - keptCount);
  });

  it('is reproducible with a random_seed and varies with a crypto seed', () => {
    const keptOf = (seed: number) => records(sampled(make({ rate: 0.5, random_seed: seed }), many(200))).map((r) => r.body?.stringValue);
    expect(keptOf(7)).toEqual(keptOf(7));
    expect(keptOf(7)).not.toEqual(keptOf(8));
    // random_seed 0: each instance seeds from crypto, so two of them choose differently (equal only with odds 2^-32).
    expect(keptOf(0)).not.toEqual(keptOf(0));
    const n = countRecords(sampled(make({ rate: 0.1, random_seed: 0 }), many(10_000)));
    expect(Math.abs(n - 1000)).toBeLessThan(bound(10_000, 0.1));
  });

  it('keeps or drops all logs of a trace together, across batches and replicas, at the rate', () => {
    const traces = Array.from({ length: 5000 }, () => randomBytes(16));
    const a = make({ rate: 0.2, hash_seed: 3, random_seed: 1 });
    const b = make({ rate: 0.2, hash_seed: 3, random_seed: 2 });
    const keptTraces = new Map<string, Set<boolean>>();
    // Three batches, each with one log of every trace, alternating between two replicas.
    for (const [round, p] of [a, b, a].entries()) {
      const out = sampled(
        p,
        many(traces.length, (i) => ({ traceId: traces[i]!, body: { stringValue: `${round}:${i}` } })),
      );
      const keptIds = new Set(records(out).map((r) => Buffer.from(r.traceId).toString('hex')));
      for (const t of traces) {
        const hex = t.toString('hex');
        if (!keptTraces.has(hex)) keptTraces.set(hex, new Set());
        keptTraces.get(hex)!.add(keptIds.has(hex));
      }
    }
    expect([...keptTraces.values()].every((s) => s.size === 1)).toBe(true);
    const n = [...keptTraces.values()].filter((s) => s.has(true)).length;
    expect(Math.abs(n - 1000)).toBeLessThan(bound(5000, 0.2));
  });

  it('decides traces by hash: a different hash_seed keeps different traces', () => {
    const traces = Array.from({ length: 500 }, () => randomBytes(16));
    const batch = () => many(traces.length, (i) => ({ traceId: traces[i]! }));
    const keptWith = (hash_seed: number) => records(sampled(make({ rate: 0.5, hash_seed }), batch())).map((r) => Buffer.from(r.traceId).toString('hex'));
    expect(keptWith(1)).toEqual(keptWith(1));
    expect(keptWith(1)).not.toEqual(keptWith(2));
    // The rule itself: kept iff the low 14 bits of the hash are below rate × 16384.
    const expected = traces.filter((t) => (murmur3(t, 1) & 0x3fff) < 8192).map((t) => t.toString('hex'));
    expect(keptWith(1)).toEqual(expected);
  });

  it.each([
    ['all-zero', new Uint8Array(16)],
    ['8-byte', new Uint8Array(8).fill(1)],
    ['empty', new Uint8Array(0)],
  ])('samples records with an %s trace id at random', (_name, traceId) => {
    const out = sampled(make({ rate: 0.5 }), many(4000, () => ({ traceId })));
    // Hashing one shared id would keep all or none.
    expect(Math.abs(countRecords(out) - 2000)).toBeLessThan(bound(4000, 0.5));
  });

  it.each<[Options['keep_severity'], number, string, boolean]>([
    ['warn', 13, '', true],
    ['warn', 17, 'ERROR', true],
    ['warn', 21, '', true],
    ['warn', 12, 'INFO4', false],
    ['warn', 9, '', false],
    ['warn', 0, 'ERROR', true],
    ['warn', 0, 'warning', true],
    ['warn', 0, 'info', false],
    ['warn', 0, '', false],
    ['error', 13, '', false],
    ['error', 17, '', true],
    ['trace', 1, '', true],
    ['trace', 0, '', false],
    ['none', 21, 'FATAL', false],
  ])('keep_severity %s: severity %i %j kept at rate 0 → %s', (keep_severity, severityNumber, severityText, kept) => {
    const traced = record('x', { severityNumber, severityText, traceId: randomBytes(16) });
    const plain = record('y', { severityNumber, severityText });
    const out = sampled(make({ rate: 0, keep_severity }), request([traced, plain]));
    expect(countRecords(out)).toBe(kept ? 2 : 0);
  });

  it('rate 0 drops everything below the floor and removes the emptied containers', () => {
    const batch = request([record('a', { severityNumber: 9 }), record('b', { severityNumber: 9, traceId: randomBytes(16) })]);
    batch.resourceLogs.push(request([record('err', { severityNumber: 17 })], { 'service.name': 'other' }).resourceLogs[0]!);
    const { out, drops } = runProcessor(make({ rate: 0 }), batch);
    expect(drops).toEqual({ [SAMPLED_OUT]: 2 });
    expect(out.resourceLogs).toHaveLength(1);
    expect(records(out).map((r) => r.body?.stringValue)).toEqual(['err']);
  });

  it('rate 1 keeps everything, traced or not, and reports no drops', () => {
    const batch = many(3000, (i) => (i % 2 === 0 ? { traceId: randomBytes(16) } : {}));
    const { out, drops } = runProcessor(make({ rate: 1 }), batch);
    expect(countRecords(out)).toBe(3000);
    expect(drops).toEqual({});
  });

  it('percent is the rate in percent', () => {
    const a = records(sampled(make({ percent: 25, hash_seed: 9 }), many(1000, (i) => ({ traceId: Buffer.alloc(16, i + 1) }))));
    const b = records(sampled(make({ rate: 0.25, hash_seed: 9 }), many(1000, (i) => ({ traceId: Buffer.alloc(16, i + 1) }))));
    expect(a.map((r) => r.body?.stringValue)).toEqual(b.map((r) => r.body?.stringValue));
  });

  it('rate_attribute marks sampled records with the rate and severity-kept ones with 1', () => {
    const out = sampled(make({ rate: 0.5, rate_attribute: 'sampling.rate' }), many(200, (i) => ({ severityNumber: i === 0 ? 17 : 9 })));
    const recs = records(out);
    expect(getAttribute(recs[0]!.attributes, 'sampling.rate')).toEqual({ doubleValue: 1 });
    expect(recs.slice(1).every((r) => getAttribute(r.attributes, 'sampling.rate')?.doubleValue === 0.5)).toBe(true);
    // Off by default: records are not changed.
    expect(records(sampled(make({ rate: 1 }), many(1)))[0]!.attributes).toEqual([]);
  });

  it('counts why records were kept', () => {
    const p = make({ rate: 1 });
    runProcessor(p, request([record('a', { severityNumber: 17 }), record('b', { traceId: randomBytes(16) }), record('c')]));
    expect(Object.fromEntries(p.counts!)).toEqual({ kept_severity: 1, kept_trace: 1, kept_random: 1 });
  });

  it.each<[string, Partial<Options>, string]>([
    ['neither rate nor percent', {}, 'rate'],
    ['both rate and percent', { rate: 0.1, percent: 10 }, 'percent'],
  ])('rejects %s', (_name, overrides, option) => {
    expect(() => make(overrides)).toThrow(OptionError);
    try {
      make(overrides);
    } catch (e) {
      expect((e as OptionError).option).toBe(option);
    }
  });

  it.each([
    ['0.25', 0.25],
    [' 1 ', 1],
    ['.5', 0.5],
    ['1e-3', 0.001],
    [0.3, 0.3],
  ])('parses the number %j', (raw, expected) => {
    expect(parseNumber(raw)).toBe(expected);
  });

  it('rejects non-numbers and out-of-range values', () => {
    expect(() => parseNumber('10%')).toThrow(/number/);
    expect(() => parseNumber('')).toThrow(/number/);
    expect(sampleProcessor.options.rate.schema.safeParse(1.5).success).toBe(false);
    expect(sampleProcessor.options.rate.schema.safeParse(-0.1).success).toBe(false);
    expect(sampleProcessor.options.percent.schema.safeParse(100).success).toBe(true);
    expect(sampleProcessor.options.percent.schema.safeParse(101).success).toBe(false);
  });
});
