import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import pino from 'pino';
import { PipelineError } from '../../src/errors';
import { HEADER_BYTES } from '../../src/queue/frame';
import { WriteAheadLog, type WalSettings } from '../../src/queue/wal';
import { Metrics } from '../../src/telemetry/metrics';

const silent = pino({ level: 'silent' });
const octal = (file: string) => (fs.statSync(file).mode & 0o777).toString(8);

function batch(text: string, metadata?: Record<string, string>) {
  return { bytes: Buffer.from(text), records: 1, receivedAt: [1700000000000], metadata };
}

describe('write-ahead log', () => {
  let dir: string;
  let metrics: Metrics;
  const open = (extra: Partial<WalSettings> = {}) =>
    WriteAheadLog.open({ dir, fsync: 'batch', fsyncIntervalMs: 1000, retryAfterMs: 500, ...extra }, { name: 'otlp', logger: silent, metrics });
  const segments = () => fs.readdirSync(dir).filter((f) => f.endsWith('.wal')).sort();
  const texts = (wal: WriteAheadLog) => wal.takeRecovered().map((e) => Buffer.from(e.batch.bytes).toString());

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'olp-wal-'));
    metrics = new Metrics();
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('recovers unacknowledged entries after a restart, with metadata, and skips done ones', async () => {
    const wal = await open();
    const ids = await Promise.all([wal.append(batch('a')), wal.append(batch('b', { 'x-tenant': 't1' })), wal.append(batch('c'))]);
    expect(new Set(ids).size).toBe(3);
    wal.done([ids[0]!]);
    await wal.close();

    const again = await open();
    const entries = again.takeRecovered();
    expect(entries.map((e) => Buffer.from(e.batch.bytes).toString())).toEqual(['b', 'c']);
    expect(entries[0]!.batch.metadata).toEqual({ 'x-tenant': 't1' });
    expect(again.report).toMatchObject({ recovered: 2, alreadyDone: 1, corrupt: 0, tornTail: 0 });
    // New ids never collide with recovered ones.
    const next = await again.append(batch('d'));
    expect(next).toBeGreaterThan(Math.max(...ids));
    await again.close();
  });

  test('groups appends of one tick into one write, and deletes a sealed segment once all its entries are done', async () => {
    const wal = await open({ segmentBytes: 64 });
    const first = await Promise.all([wal.append(batch('one')), wal.append(batch('two'))]);
    expect(segments()).toHaveLength(1); // both in one group, then the segment was sealed
    const second = await wal.append(batch('three'));
    expect(segments()).toHaveLength(2);
    wal.done(first);
    expect(segments()).toHaveLength(1);
    wal.done([second]);
    await wal.close();
    expect(segments()).toHaveLength(0);
    expect(await metrics.total(metrics.walWritten)).toBe(3);
  });

  test('a truncated tail is detected: the records before it are recovered, the torn one counted', async () => {
    const wal = await open();
    for (const t of ['r1', 'r2', 'r3']) await wal.append(batch(t));
    await wal.close();
    const file = path.join(dir, segments()[0]!);
    fs.truncateSync(file, fs.statSync(file).size - 3);
    const again = await open();
    expect(texts(again)).toEqual(['r1', 'r2']);
    expect(again.report).toMatchObject({ corrupt: 0, tornTail: 1 });
    expect(await metrics.total(metrics.walCorrupt, { kind: 'torn_tail' })).toBe(1);
    await again.close();
  });

  test('a record with flipped bytes is skipped and counted; the good ones before and after it are recovered', async () => {
    const wal = await open();
    for (const t of ['before', 'victim', 'after1', 'after2']) await wal.append(batch(t));
    await wal.close();
    const file = path.join(dir, segments()[0]!);
    const buf = fs.readFileSync(file);
    const at = buf.indexOf('victim');
    buf[at] = buf[at]! ^ 0xff;
    buf[at + 1] = buf[at + 1]! ^ 0xff;
    fs.writeFileSync(file, buf);
    const again = await open();
    expect(texts(again)).toEqual(['before', 'after1', 'after2']);
    expect(again.report).toMatchObject({ corrupt: 1, tornTail: 0 });
    await again.close();
  });

  test('a corrupted length field is resynced past, not trusted', async () => {
    const wal = await open();
    for (const t of ['a1', 'a2', 'a3']) await wal.append(batch(t));
    await wal.close();
    const file = path.join(dir, segments()[0]!);
    const buf = fs.readFileSync(file);
    const second = buf.indexOf('a2') - 24 - HEADER_BYTES; // start of the second record
    buf.writeUInt32LE(0x7fffffff, second + 4);
    fs.writeFileSync(file, buf);
    const again = await open();
    expect(texts(again)).toEqual(['a1', 'a3']);
    expect(again.report.corrupt).toBe(1);
    await again.close();
  });

  test('disk full: the append is refused with a retryable PipelineError, counted, and later writes succeed', async () => {
    let full = true;
    const wal = await open({
      beforeWrite: () => {
        if (full) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      },
    });
    const refused = await wal.append(batch('x')).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(PipelineError);
    expect(refused).toMatchObject({ kind: 'overloaded', retryAfterMs: 500 });
    expect(await metrics.total(metrics.walWriteErrors, { code: 'ENOSPC' })).toBe(1);
    full = false;
    await wal.append(batch('y'));
    await wal.close();
    const again = await open();
    expect(texts(again)).toEqual(['y']);
    expect(again.report.corrupt + again.report.tornTail).toBe(0);
    await again.close();
  });

  test('the directory is locked against a second process, and released at close', async () => {
    const wal = await open();
    const script = `const {WriteAheadLog}=require(${JSON.stringify(path.resolve(__dirname, '../../dist/src/queue/wal.js'))});
      WriteAheadLog.open({dir:${JSON.stringify(dir)},fsync:'batch',fsyncIntervalMs:1000,retryAfterMs:1},{name:'x',logger:require('pino')({level:'silent'}),metrics:new (require(${JSON.stringify(path.resolve(__dirname, '../../dist/src/telemetry/metrics.js'))}).Metrics)()})
        .then((w) => { console.log('opened'); return w.close(); }, (e) => console.log(e.name));`;
    const run = () =>
      new Promise<string>((resolve) => {
        const child = spawn(process.execPath, ['-e', script], { cwd: path.resolve(__dirname, '../..') });
        let out = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.on('close', () => resolve(out.trim()));
      });
    expect(await run()).toBe('DirectoryLockedError');
    await wal.close();
    expect(await run()).toBe('opened');
  });

  test('the directory is 0700 and segments, ack files and the lock are 0600 whatever the umask', async () => {
    const old = process.umask(0o022);
    try {
      fs.chmodSync(dir, 0o755); // as left by an older version
      const wal = await open({ segmentBytes: 64 });
      const ids = await Promise.all([wal.append(batch('secret', { authorization: 'Bearer t' })), wal.append(batch('two'))]);
      await wal.append(batch('three'));
      wal.done([ids[0]!]);
      const files = fs.readdirSync(dir);
      expect(files).toEqual(expect.arrayContaining(['lock', expect.stringMatching(/\.wal$/), expect.stringMatching(/\.wal\.ack$/)]));
      const modes = Object.fromEntries([['.', octal(dir)], ...files.map((f) => [f, octal(path.join(dir, f))])]);
      expect(modes).toEqual(Object.fromEntries([['.', '700'], ...files.map((f) => [f, '600'])]));
      await wal.close();
    } finally {
      process.umask(old);
    }
  });
});
