/**
 * Throughput of the persistent queue (fsync per batch and per interval) relative to the memory
 * queue, measured in one run against real processes. Timing-dependent, so only with FAULT_BENCH=1.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { OtlpTestServer } from '../helpers/otlp-test-server';
import { startServiceProcess } from '../helpers/cli';
import { Load, serviceEnv } from './load';

const RUN_MS = Number(process.env.FAULT_BENCH_MS ?? 3000);
const bench = process.env.FAULT_BENCH === '1' ? test : test.skip;

bench('persistent queue throughput as a ratio of the memory queue', async () => {
  const rates: Record<string, number> = {};
  for (const [mode, extra] of [
    ['memory', {}],
    ['wal-fsync-batch', { OLP_QUEUE_FSYNC: 'batch' }],
    ['wal-fsync-interval', { OLP_QUEUE_FSYNC: 'interval', OLP_QUEUE_FSYNC_INTERVAL: '1s' }],
  ] as const) {
    const sink = await new OtlpTestServer().start();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'olp-bench-'));
    const env = serviceEnv(sink.endpoint, mode === 'memory' ? {} : { OLP_QUEUE_DIR: dir, ...extra });
    const svc = await startServiceProcess(env);
    const load = new Load(`http://127.0.0.1:${svc.port}`, { concurrency: 16, recordsPerRequest: 100 });
    await new Promise((r) => setTimeout(r, RUN_MS));
    await load.stop();
    rates[mode] = load.acked.size / (RUN_MS / 1000);
    await svc.stop('SIGTERM');
    await sink.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const ratio = (m: string) => (rates[m]! / rates.memory!).toFixed(2);
  console.log(
    `acked records/s: ${JSON.stringify(Object.fromEntries(Object.entries(rates).map(([k, v]) => [k, Math.round(v)])))}; ` +
      `ratio to memory: fsync batch ${ratio('wal-fsync-batch')}, fsync interval ${ratio('wal-fsync-interval')}`,
  );
  expect(rates['wal-fsync-batch']).toBeGreaterThan(0);
}, 60_000);
