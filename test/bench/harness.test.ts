/** Pure parts of the bench harness (bench/run.ts): options, percentiles, request building and the sink's wire scan. */
import { CONFIG_IDS, parseBenchArgs, parseDuration } from '../../bench/bench-args';
import { configSpec, singleInstanceIn } from '../../bench/bench-configs';
import { formatScalingTable, type BenchResult, type PhaseResult } from '../../bench/bench-report';
import { SENT_NS_KEY, buildRequests, bytesPerRecord, generatedSample, scanExportRequest, stampRequest, type Sample } from '../../bench/bench-requests';
import { percentile, summarize } from '../../bench/bench-stats';
import { decodeLogsData } from '../../src/otlp/codec';
import { countRecords } from '../../src/otlp/model';
import { asString, getAttribute } from '../../src/otlp/values';

describe('parseBenchArgs', () => {
  it('has bounded defaults', () => {
    const o = parseBenchArgs([]);
    expect(o).toMatchObject({ configs: [...CONFIG_IDS], durationMs: 8000, rateDurationMs: 5000, clients: 4, json: false });
  });

  it('reads every option', () => {
    const o = parseBenchArgs(['--configs', 'd,a', '--duration', '3s', '--rate-duration', '750ms', '--clients', '2', '--json', '--batch', '100']);
    expect(o).toMatchObject({ configs: ['a', 'd'], durationMs: 3000, rateDurationMs: 750, clients: 2, json: true, batch: 100 });
  });

  it('refuses unknown configs, unbounded values and unknown flags', () => {
    expect(() => parseBenchArgs(['--configs', 'a,e'])).toThrow(/unknown config/);
    expect(() => parseBenchArgs(['--duration', '10m'])).toThrow(/between/);
    expect(() => parseBenchArgs(['--clients', '0'])).toThrow(/clients/);
    expect(() => parseBenchArgs(['--bogus'])).toThrow();
  });

  it('parses durations', () => {
    expect(parseDuration('8s')).toBe(8000);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('2')).toBe(2000);
    expect(parseDuration('0.5s')).toBe(500);
    expect(() => parseDuration('fast')).toThrow();
  });
});

describe('worker scaling options', () => {
  it('runs the normal table with the service deciding OLP_WORKERS unless told', () => {
    expect(parseBenchArgs([])).toMatchObject({ workers: undefined, serviceWorkers: 'auto' });
    expect(parseBenchArgs(['--service-workers', '1']).serviceWorkers).toBe('1');
    expect(() => parseBenchArgs(['--service-workers', 'many'])).toThrow(/service-workers/);
  });

  it('reads --workers as sorted thread counts and scales b and c unless --configs says otherwise', () => {
    expect(parseBenchArgs(['--workers', '2,0,1,2'])).toMatchObject({ workers: [0, 1, 2], configs: ['b', 'c'] });
    expect(parseBenchArgs(['--workers', '0,1', '--configs', 'a']).configs).toEqual(['a']);
    expect(() => parseBenchArgs(['--workers', '1,x'])).toThrow(/--workers/);
    expect(() => parseBenchArgs(['--workers', ''])).toThrow(/--workers/);
  });

  it('knows which configurations may run in worker threads', () => {
    expect(singleInstanceIn(configSpec('b', new Set()))).toEqual([]);
    expect(singleInstanceIn({ ...configSpec('b', new Set()), processors: 'severity,dedup' })).toEqual(['dedup']);
  });

  it('prints one row per configuration and thread count with the speed-up over the first', () => {
    const phase = (rps: number): PhaseResult =>
      ({ recordsPerSecond: rps, serviceCpuCores: 1, recordsPerCpuSecond: rps, serviceRssMiB: 300, sinkCpuCores: 0.1, generatorCpuCores: 0.2, generator: { failures: {} } }) as unknown as PhaseResult;
    const result = {
      machine: { cores: 2, cpuModel: 'x', node: 'v24', platform: 'linux' },
      options: {},
      input: { datasets: ['HDFS'], recordsPerRequest: 500, bytesPerRecord: 200 },
      configs: [],
      scaling: [0, 2].map((workers) => ({ id: 'b', label: 'default chain', processors: 'severity,resource', workers, saturation: phase(workers ? 150_000 : 100_000), servicePeakRssMiB: 320 })),
      notes: ['(c) left out'],
      elapsedSeconds: 30,
    } satisfies BenchResult;
    const table = formatScalingTable(result);
    expect(table).toMatch(/\| \(b\) default chain \| 0 \| 100,000 \| 1\.00× \|/);
    expect(table).toMatch(/\| \(b\) default chain \| 2 \| 150,000 \| 1\.50× \|/);
    expect(table).toContain('(c) left out');
  });
});

describe('configSpec', () => {
  it('uses classify in (c) only when it is registered', () => {
    expect(configSpec('c', new Set(['parse', 'classify'])).processors).toBe('parse,severity,resource,classify');
    const without = configSpec('c', new Set(['parse']));
    expect(without.processors).toBe('parse,severity,resource');
    expect(without.note).toMatch(/classify/);
    expect(configSpec('a', new Set()).processors).toBe('');
    expect(configSpec('d', new Set()).persistentQueue).toBe(true);
  });
});

describe('percentile', () => {
  it('is nearest-rank', () => {
    const v = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(v, 50)).toBe(50);
    expect(percentile(v, 99)).toBe(99);
    expect(percentile(v, 100)).toBe(100);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
  });

  it('summarizes unsorted input', () => {
    const s = summarize([3, 1, 2, 4]);
    expect(s).toMatchObject({ count: 4, p50Ms: 2, p99Ms: 4, meanMs: 2.5, maxMs: 4 });
  });
});

describe('requests', () => {
  const samples: Sample[] = [generatedSample(50), { dataset: 'Other', lines: ['short', 'a much longer line with ünïcode and digits 0000000000000000000'] }];

  it('builds requests of the asked size with two stamped resources', () => {
    const reqs = buildRequests(samples, 11, 3);
    expect(reqs).toHaveLength(3);
    for (const r of reqs) {
      expect(r.records).toBe(11);
      expect(r.stampOffsets).toHaveLength(2);
      expect(countRecords(decodeLogsData(r.template))).toBe(11);
    }
    expect(bytesPerRecord(reqs)).toBeGreaterThan(50);
  });

  it('stamps a copy, leaving the template untouched', () => {
    const [req] = buildRequests(samples, 4, 1);
    const before = Buffer.from(req!.template);
    const sent = 1_234_567_890_123_456_789n;
    const body = stampRequest(req!, sent);
    expect(req!.template.equals(before)).toBe(true);
    const decoded = decodeLogsData(body);
    for (const rl of decoded.resourceLogs) expect(asString(getAttribute(rl.resource!.attributes, SENT_NS_KEY))).toBe(sent.toString());
  });

  it('scans records and stamps like a full decode', () => {
    const [req] = buildRequests(samples, 7, 1);
    const body = stampRequest(req!, 42n);
    expect(scanExportRequest(body)).toEqual({ records: 7, sentNs: [42n, 42n] });
    // Concatenated requests merge (repeated field), as a batching service may send them.
    expect(scanExportRequest(Buffer.concat([body, body])).records).toBe(14);
    expect(() => scanExportRequest(body.subarray(0, body.length - 3))).toThrow();
  });
});
