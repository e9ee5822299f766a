/** The worker pool's parts: the thread-count plan and the pool's own behaviour. */
import pino from 'pino';
import { ConfigError } from '../../src/config/load';
import { resolveConfig } from '../../src/config/resolve';
import { opt } from '../../src/config/options';
import { decodeLogsData, encodeLogsData } from '../../src/otlp/codec';
import { countRecords } from '../../src/otlp/model';
import { defineProcessor, type ProcessorFactory } from '../../src/processors/contract';
import { cpuQuotaCores, planWorkers, singleInstanceProcessors, WorkerPool } from '../../src/pipeline/worker-pool';
import { builtinProcessors } from '../../src/processors/registry';
import { createStages } from '../../src/pipeline/stages';
import { Metrics } from '../../src/telemetry/metrics';
import { record, request } from '../helpers/builders';

const silent = pino({ level: 'silent' });
const ctx = { logger: silent, clock: { now: () => 0 }, env: {} };

describe('planWorkers', () => {
  const plan = (env: Record<string, string>, cores: number, factories: readonly ProcessorFactory<any>[] = builtinProcessors) => {
    const config = resolveConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1', ...env }, factories);
    return planWorkers(config, factories, createStages(config, factories, ctx), cores);
  };

  test('auto is one thread per core for a stateless chain', () => {
    expect(plan({ OLP_PROCESSORS: 'severity,resource' }, 8)).toEqual({ count: 8 });
  });

  test('auto is 0 on one core, for an empty chain, and with a single-instance processor (saying which)', () => {
    expect(plan({ OLP_PROCESSORS: 'severity' }, 1).count).toBe(0);
    expect(plan({ OLP_PROCESSORS: '' }, 8)).toMatchObject({ count: 0, reason: expect.stringMatching(/empty/) });
    expect(plan({ OLP_PROCESSORS: 'severity,dedup' }, 8)).toMatchObject({ count: 0, reason: expect.stringMatching(/dedup/) });
    expect(plan({ OLP_PROCESSORS: 'rate_limit', OLP_RATE_LIMIT_RATE: '5' }, 8)).toMatchObject({ count: 0, reason: expect.stringMatching(/rate_limit/) });
  });

  test('an explicit number is used as is', () => {
    expect(plan({ OLP_PROCESSORS: '', OLP_WORKERS: '3' }, 1)).toEqual({ count: 3 });
    expect(plan({ OLP_PROCESSORS: 'severity', OLP_WORKERS: '0' }, 8)).toEqual({ count: 0 });
  });

  test('an explicit number with a single-instance processor is a ConfigError from createStages', () => {
    const config = resolveConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1', OLP_PROCESSORS: 'dedup', OLP_WORKERS: '2' }, builtinProcessors);
    expect(() => createStages(config, builtinProcessors, ctx)).toThrow(ConfigError);
    expect(() => createStages(config, builtinProcessors, ctx)).toThrow(/OLP_WORKERS: 2 worker threads .*dedup/);
  });
});

describe('singleInstanceProcessors', () => {
  const stateful = defineProcessor({
    name: 'stateful',
    summary: 'test',
    options: {},
    create: () => ({ process: (b) => b, state: { path: '/tmp/x', intervalMs: 0, snapshot: () => new Uint8Array(), restore: () => undefined } }),
  });
  const windowed = defineProcessor({ name: 'windowed', summary: 'test', options: {}, create: () => ({ process: (b) => b, flushIntervalMs: 1000, flush: () => undefined }) });
  const sometimes = defineProcessor({
    name: 'sometimes',
    summary: 'test',
    options: { shared: opt.bool(false, 'test') },
    parallel: (o) => !o.shared,
    create: () => ({ process: (b) => b }),
  });
  const factories = [...builtinProcessors, stateful, windowed, sometimes] as ProcessorFactory<any>[];
  const single = (env: Record<string, string>) => {
    const config = resolveConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1', ...env }, factories);
    return singleInstanceProcessors(config, factories, createStages(config, factories, ctx)).map((s) => s.name);
  };

  test('names processors with parallel false, persisted state or a flush', () => {
    expect(single({ OLP_PROCESSORS: 'severity,stateful,windowed,sometimes' })).toEqual(['stateful', 'windowed']);
  });

  test('asks parallel(options) when it is a function', () => {
    expect(single({ OLP_PROCESSORS: 'sometimes', OLP_SOMETIMES_SHARED: 'true' })).toEqual(['sometimes']);
  });
});

describe('WorkerPool', () => {
  const env = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1', OLP_PROCESSORS: 'severity' };

  test('processes a request in a thread without moving the caller’s buffer, and answers after close UNAVAILABLE', async () => {
    const pool = new WorkerPool({ size: 1, env, logLevel: 'silent', maxInFlightPerThread: 16, busyRetryAfterMs: 1000 }, new Metrics(), silent);
    await pool.start();
    try {
      const encoded = encodeLogsData(request([record('one'), record('two')]));
      // A slice of a larger buffer, as a receiver may hand over.
      const big = Buffer.alloc(encoded.length + 100, 7);
      big.set(encoded, 50);
      const slice = big.subarray(50, 50 + encoded.length);
      const out = await pool.process(slice, 'grpc', 2);
      expect(out.ok).toBe(true);
      if (!out.ok) return;
      expect(out.received).toBe(2);
      expect(out.tally).toEqual({ accepted: 2, refused: {} });
      expect(big.byteLength).toBe(encoded.length + 100);
      expect(Buffer.from(slice)).toEqual(Buffer.from(encoded));
      const batch = out.outputs[0]!.batches[0]!;
      expect(batch.records).toBe(2);
      expect(countRecords(decodeLogsData(batch.bytes))).toBe(2);
      const snapshots = await pool.snapshots();
      expect(snapshots).toHaveLength(1);
      expect(snapshots[0]!.find((m) => m.name === 'olp_processor_incoming_log_records_total')?.values[0]?.value).toBe(2);
    } finally {
      await pool.close(Date.now() + 2000);
    }
    const after = await pool.process(encodeLogsData(request([record('late')])), 'grpc', 1);
    expect(after.ok).toBe(false);
    if (!after.ok) expect([after.error.kind, after.tally]).toEqual(['unavailable', { accepted: 0, refused: { shutting_down: 1 } }]);
  });

  test('refuses requests beyond the in-flight bound of every thread as overloaded, with RetryInfo, counting them', async () => {
    const pool = new WorkerPool({ size: 1, env, logLevel: 'silent', maxInFlightPerThread: 2, busyRetryAfterMs: 750 }, new Metrics(), silent);
    await pool.start();
    try {
      const bytes = encodeLogsData(request([record('a'), record('b'), record('c')]));
      // Sent in one tick: the thread cannot answer any before the third arrives.
      const outcomes = await Promise.all([1, 2, 3].map(() => pool.process(bytes, 'grpc', 3)));
      expect(outcomes.map((o) => o.ok)).toEqual([true, true, false]);
      const refused = outcomes[2]!;
      if (refused.ok) return;
      expect(refused.error.kind).toBe('overloaded');
      expect(refused.error.retryAfterMs).toBe(750);
      expect(refused.error.message).toContain('OLP_WORKERS_MAX_IN_FLIGHT');
      expect(refused.tally).toEqual({ accepted: 0, refused: { workers_busy: 3 } });
      // Room again once the thread answered.
      expect((await pool.process(bytes, 'grpc', 3)).ok).toBe(true);
    } finally {
      await pool.close(Date.now() + 2000);
    }
  });

  test('a thread that cannot build its chain fails start() with its ConfigError', async () => {
    const pool = new WorkerPool({ size: 1, env: { ...env, OLP_PROCESSORS: 'no_such_processor' }, logLevel: 'silent', maxInFlightPerThread: 16, busyRetryAfterMs: 1000 }, new Metrics(), silent);
    await expect(pool.start()).rejects.toThrow(ConfigError);
  });
});

describe('cpuQuotaCores', () => {
  const files = (map: Record<string, string>) => (f: string): string => {
    if (f in map) return map[f]!;
    throw new Error('ENOENT');
  };

  test.each([
    ['cgroup v2 limit of 1.5 cores rounds up to 2', { '/sys/fs/cgroup/cpu.max': '150000 100000\n' }, 2],
    ['cgroup v2 limit of 500m is one core', { '/sys/fs/cgroup/cpu.max': '50000 100000' }, 1],
    ['cgroup v2 without a limit', { '/sys/fs/cgroup/cpu.max': 'max 100000' }, undefined],
    ['cgroup v1 quota of 3 cores', { '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '300000', '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000' }, 3],
    ['cgroup v1 without a quota', { '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '-1', '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000' }, undefined],
    ['no cgroup files', {}, undefined],
  ])('%s', (_, map, want) => {
    expect(cpuQuotaCores(files(map))).toBe(want);
  });
});
