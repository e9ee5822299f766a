import pino from 'pino';
import { MemoryLimiter, findGc } from '../../src/pipeline/memory-limiter';
import { Metrics } from '../../src/telemetry/metrics';

const MIB = 1024 * 1024;

describe('memory limiter', () => {
  test('refuses above the soft limit (limit − spike) with a retryable error, accepts again below it', () => {
    let used = 50 * MIB;
    const metrics = new Metrics();
    const limiter = new MemoryLimiter({ limitMib: 100, spikeMib: 20, retryAfterMs: 700 }, { metrics, logger: pino({ level: 'silent' }), measure: () => used, gc: null });
    limiter.check();
    expect(limiter.refusal()).toBeUndefined();
    used = 81 * MIB;
    limiter.check();
    expect(limiter.refusal()).toMatchObject({ kind: 'overloaded', retryAfterMs: 700 });
    used = 79 * MIB;
    limiter.check();
    expect(limiter.refusal()).toBeUndefined();
  });

  test('above the hard limit forces a GC and measures again; spike 0 means 20% of the limit', async () => {
    let used = 120 * MIB;
    const metrics = new Metrics();
    const gc = jest.fn(() => (used = 70 * MIB));
    const limiter = new MemoryLimiter({ limitMib: 100, spikeMib: 0, retryAfterMs: 1, refuseKind: 'unavailable' }, { metrics, logger: pino({ level: 'silent' }), measure: () => used, gc });
    expect(limiter.softBytes).toBe(80 * MIB);
    limiter.check();
    expect(gc).toHaveBeenCalledTimes(1);
    expect(limiter.refusal()).toBeUndefined();
    used = 90 * MIB;
    limiter.check();
    expect(gc).toHaveBeenCalledTimes(1);
    expect(limiter.refusal()).toMatchObject({ kind: 'unavailable' });
    expect(await metrics.total(metrics.memoryGcs)).toBe(1);
  });

  test('a GC function can be obtained at run time', () => {
    const gc = findGc();
    expect(typeof gc).toBe('function');
    gc!();
  });
});
