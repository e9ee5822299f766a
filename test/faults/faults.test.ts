/**
 * Fault tests against the built service as a real process over loopback (run `npm run build`
 * first): kill -9 with the persistent queue, downstream outage, WAL damage, SIGTERM under load.
 * FAULT_OUTAGE_MS lengthens the outage (the 60 s: FAULT_OUTAGE_MS=60000).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { status } from '@grpc/grpc-js';
import { OtlpTestServer } from '../helpers/otlp-test-server';
import { startServiceProcess as startProcess, type ServiceProcess } from '../helpers/cli';
import { exportLogs } from '../helpers/grpc-client';
import { record, request } from '../helpers/builders';
import { eventually } from '../helpers/eventually';
import { Load, lossesAndDuplicates, rssOf, serviceEnv, waitForAll } from './load';

const OUTAGE_MS = Number(process.env.FAULT_OUTAGE_MS ?? 8000);
/** Waits until the load has had at least `n` more records acknowledged. */
async function ackedMore(load: Load, n: number, timeoutMs = 20_000): Promise<void> {
  const target = load.acked.size + n;
  await eventually(() => expect(load.acked.size).toBeGreaterThanOrEqual(target), timeoutMs);
}
/** Plans n UNAVAILABLE answers (a loop: spreading 100,000s of arguments overflows the stack). */
function failNext(sink: OtlpTestServer, n: number): void {
  for (let i = 0; i < n; i++) sink.failures.push({ code: status.UNAVAILABLE });
}

describe('fault tolerance (real processes)', () => {
  let sink: OtlpTestServer;
  let dir: string;
  const started: ServiceProcess[] = [];
  const startServiceProcess = async (env: Record<string, string>): Promise<ServiceProcess> => {
    const p = await startProcess(env);
    started.push(p);
    return p;
  };
  beforeEach(async () => {
    sink = await new OtlpTestServer().start();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'olp-faults-'));
  });
  afterEach(async () => {
    // A failed test must not leave a service behind (jest would wait for it).
    for (const p of started.splice(0)) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await sink.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('kill -9 under steady load with the persistent queue, restart: every acknowledged record arrives', async () => {
    const env = serviceEnv(sink.endpoint, { OLP_QUEUE_DIR: dir });
    const first = await startServiceProcess(env);
    const load = new Load(`http://127.0.0.1:${first.port}`);
    await ackedMore(load, 5000);
    await first.stop('SIGKILL');
    const ackedAtKill = load.acked.size;
    const second = await startServiceProcess(env);
    load.retarget(`http://127.0.0.1:${second.port}`);
    await ackedMore(load, 5000);
    await load.stop();
    await waitForAll(load.acked, sink, 20_000);
    const { lost, duplicates, receivedRecords } = lossesAndDuplicates(load.acked, sink);
    console.log(`kill -9: acked ${load.acked.size} (${ackedAtKill} before the kill), received ${receivedRecords}, lost ${lost}, duplicates ${duplicates}`);
    expect(ackedAtKill).toBeGreaterThan(0);
    expect(lost).toBe(0);
    expect(await second.stop('SIGTERM')).toBe(0);
    expect(second.stderr()).toMatch(/persistent queue recovered/);
  }, 60_000);

  test('downstream unavailable under load, then back: zero losses, bounded memory, retryable refusals upstream', async () => {
    const limitMib = 400;
    const svc = await startServiceProcess(serviceEnv(sink.endpoint, { OLP_QUEUE_MAX_RECORDS: '20000', OLP_MEMORY_LIMIT_MIB: String(limitMib) }));
    failNext(sink, 200_000);
    const load = new Load(`http://127.0.0.1:${svc.port}`);
    let maxRss = 0;
    const sampler = setInterval(() => (maxRss = Math.max(maxRss, rssOf(svc.child.pid!))), 100);
    // The outage lasts OUTAGE_MS and at least until the queue is full and senders are refused.
    const outageStart = Date.now();
    await eventually(() => {
      expect(load.refusals.RESOURCE_EXHAUSTED ?? 0).toBeGreaterThan(0);
      expect(Date.now() - outageStart).toBeGreaterThanOrEqual(OUTAGE_MS);
    }, OUTAGE_MS + 20_000);
    sink.failures.length = 0;
    const deliveredAtRecovery = sink.recordCount;
    await eventually(() => expect(sink.recordCount).toBeGreaterThan(deliveredAtRecovery), 20_000);
    await ackedMore(load, 5000);
    await load.stop();
    await waitForAll(load.acked, sink, 20_000);
    clearInterval(sampler);
    const { lost, duplicates } = lossesAndDuplicates(load.acked, sink);
    console.log(
      `outage ${OUTAGE_MS} ms: acked ${load.acked.size}, lost ${lost}, duplicates ${duplicates}, refusals ${JSON.stringify(load.refusals)}, max RSS ${Math.round(maxRss / 1048576)} MiB (limit ${limitMib})`,
    );
    expect(lost).toBe(0);
    expect(load.refusals.RESOURCE_EXHAUSTED ?? 0).toBeGreaterThan(0);
    expect(maxRss).toBeLessThan(limitMib * 1048576);
    expect(await svc.stop('SIGTERM')).toBe(0);
  }, 90_000 + 2 * OUTAGE_MS);

  test('a flipped record and a torn tail in the WAL: detected at start-up, the good records recovered', async () => {
    const env = serviceEnv(sink.endpoint, { OLP_QUEUE_DIR: dir });
    failNext(sink, 100_000);
    const first = await startServiceProcess(env);
    const ep = `http://127.0.0.1:${first.port}`;
    for (let i = 0; i < 10; i++) {
      expect((await exportLogs(ep, request([record(`w-${i}-a`), record(`w-${i}-b`)]))).code).toBe(status.OK);
    }
    expect(await first.stop('SIGTERM')).toBe(0);
    const segDir = path.join(dir, 'otlp');
    const seg = fs.readdirSync(segDir).filter((f) => f.endsWith('.wal'))[0]!;
    const file = path.join(segDir, seg);
    const buf = fs.readFileSync(file);
    const flip = buf.indexOf('w-3-a') + 2;
    buf[flip] = buf[flip]! ^ 0x55; // flip a byte inside request 3
    fs.writeFileSync(file, buf.subarray(0, buf.length - 4)); // and tear request 9

    sink.failures.length = 0;
    const second = await startServiceProcess(env);
    const expected = [0, 1, 2, 4, 5, 6, 7, 8].flatMap((i) => [`w-${i}-a`, `w-${i}-b`]);
    await sink.waitForRecords(expected.length, 10_000);
    // Once the process has exited nothing more can arrive.
    expect(await second.stop('SIGTERM')).toBe(0);
    const bodiesGot = sink.records().map((r) => r.body?.stringValue);
    expect(bodiesGot.sort()).toEqual(expected.sort());
    expect(second.stderr()).toMatch(/damaged records/);
    expect(second.stderr()).toMatch(/"corrupt":1/);
    expect(second.stderr()).toMatch(/"tornTail":1/);
  }, 40_000);

  test('a second process is refused the locked queue directory', async () => {
    const env = serviceEnv(sink.endpoint, { OLP_QUEUE_DIR: dir });
    const first = await startServiceProcess(env);
    await expect(startServiceProcess(env)).rejects.toThrow(/locked by a running process/);
    expect(await first.stop('SIGTERM')).toBe(0);
  }, 30_000);

  test('SIGTERM under load with the memory queue: the queue is drained, exit 0, nothing acknowledged is lost', async () => {
    const svc = await startServiceProcess(serviceEnv(sink.endpoint));
    const load = new Load(`http://127.0.0.1:${svc.port}`);
    await ackedMore(load, 5000);
    const code = await svc.stop('SIGTERM');
    await load.stop();
    const { lost, duplicates } = lossesAndDuplicates(load.acked, sink);
    console.log(`SIGTERM: acked ${load.acked.size}, lost ${lost}, duplicates ${duplicates}, exit ${code}`);
    expect(code).toBe(0);
    expect(load.acked.size).toBeGreaterThan(0);
    expect(lost).toBe(0);
    expect(svc.stderr()).not.toMatch(/unsent records dropped/);
  }, 30_000);
});
