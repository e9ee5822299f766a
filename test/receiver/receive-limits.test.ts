/** The receive budget shared by the receivers, and the descriptor limit the connection caps are checked against. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BudgetLease, MAX_CONCURRENT_INFLATIONS, ReceiveBudget, grpcMaxConnections, receiveBudgetBytes } from '../../src/receiver/receive-budget';
import { eventually } from '../helpers/eventually';
import { descriptorLimit } from '../../src/receiver/connection-guard';
import { Metrics } from '../../src/telemetry/metrics';
import { minReceiveBudgetMib } from '../../src/config/settings';
import { resolveConfig } from '../../src/config/resolve';
import { builtinProcessors } from '../../src/processors/registry';

const MIB = 1024 * 1024;

describe('receive budget', () => {
  test.each([
    [0, 0, 256 * MIB],
    [0, 1024, 256 * MIB],
    [0, 400, 100 * MIB],
    [0, 64, 33 * MIB],
    [40, 1024, 40 * MIB],
    [40, 0, 40 * MIB],
  ])('OLP_MEMORY_RECEIVE_BUDGET_MIB=%i with OLP_MEMORY_LIMIT_MIB=%i and 16 MiB requests is %i bytes', (budgetMib, limitMib, bytes) => {
    expect(receiveBudgetBytes(budgetMib, limitMib, minReceiveBudgetMib(16, 16))).toBe(bytes);
  });

  test.each([
    [0, 256 * MIB, 100, 163],
    [0, 33 * MIB, 100, 21],
    [0, 1 * MIB, 100, 16],
    [0, 256 * MIB, 10, 1638],
    [500, 1 * MIB, 100, 500],
  ])('OLP_GRPC_MAX_CONNECTIONS=%i with a %i-byte budget and %i streams per connection allows %i', (configured, budgetBytes, streams, want) => {
    expect(grpcMaxConnections(configured, budgetBytes, streams)).toBe(want);
  });

  test('a budget too small for the largest request is a configuration error', () => {
    expect(() => resolveConfig({ OLP_MEMORY_RECEIVE_BUDGET_MIB: '20' }, builtinProcessors)).toThrow(
      'OLP_MEMORY_RECEIVE_BUDGET_MIB: must be at least 33 (twice the larger OLP_GRPC_MAX_RECV_MIB / OLP_HTTP_MAX_RECV_MIB, plus 1)',
    );
    expect(() => resolveConfig({ OLP_MEMORY_RECEIVE_BUDGET_MIB: '3', OLP_GRPC_MAX_RECV_MIB: '1', OLP_HTTP_MAX_RECV_MIB: '1' }, builtinProcessors)).not.toThrow();
  });

  test('leases take what fits, keep what they had when refused, and hand it all back once', async () => {
    const metrics = new Metrics();
    const budget = new ReceiveBudget(100, metrics);
    const a = new BudgetLease(budget);
    const b = new BudgetLease(budget);
    expect(a.grow(60)).toBe(true);
    expect(b.grow(50)).toBe(false);
    expect(b.grow(40)).toBe(true);
    expect(a.grow(1)).toBe(false);
    expect(budget.inUse).toBe(100);
    a.release();
    a.release();
    expect(a.grow(1)).toBe(false);
    expect(budget.inUse).toBe(40);
    expect((await metrics.receiveBudgetInUse.get()).values[0]?.value).toBe(40);
    b.release();
    expect(budget.inUse).toBe(0);
    expect(budget.refusal()).toMatchObject({ kind: 'overloaded', retryAfterMs: 1000 });
  });
});

test('inflations beyond the concurrency limit wait for a running one to end', async () => {
  const budget = new ReceiveBudget(100, new Metrics());
  let running = 0;
  let peak = 0;
  const gates: (() => void)[] = [];
  const jobs = Array.from({ length: MAX_CONCURRENT_INFLATIONS + 3 }, (_, i) =>
    budget.inflation(async () => {
      running++;
      peak = Math.max(peak, running);
      await new Promise<void>((resolve) => gates.push(resolve));
      running--;
      return i;
    }),
  );
  await eventually(() => expect(gates.length).toBe(MAX_CONCURRENT_INFLATIONS));
  while (gates.length > 0 || running > 0) {
    gates.shift()?.();
    await new Promise((r) => setImmediate(r));
  }
  expect(await Promise.all(jobs)).toEqual([...jobs.keys()]);
  expect(peak).toBe(MAX_CONCURRENT_INFLATIONS);
});

describe('descriptorLimit', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'olp-limits-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const limitsFile = (line: string): string => {
    const file = path.join(dir, `limits-${Math.random()}`);
    fs.writeFileSync(file, `Limit                     Soft Limit           Hard Limit           Units\n${line}\nMax processes             unlimited            unlimited            processes\n`);
    return file;
  };

  test.each([
    ['Max open files            1024                 524288               files', 1024],
    ['Max open files            unlimited            unlimited            files', Number.POSITIVE_INFINITY],
    ['Max locked memory         65536                65536                bytes', undefined],
  ])('reads the soft limit from "%s"', (line, want) => {
    expect(descriptorLimit(limitsFile(line))).toBe(want);
  });

  test('is undefined where /proc cannot be read', () => {
    expect(descriptorLimit(path.join(dir, 'missing'))).toBeUndefined();
  });
});
