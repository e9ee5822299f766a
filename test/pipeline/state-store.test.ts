import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import pino from 'pino';
import { decodeStateFile, encodeStateFile, persistPeriodically, restoreStates, writeStateFileAtomic } from '../../src/pipeline/state-store';
import type { PersistentState } from '../../src/processors/contract';
import { eventually } from '../helpers/eventually';

function tempFile(): string {
  return path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'olp-state-')), 'sub', 'state.bin');
}

class Counter implements PersistentState {
  value = 0;
  restored = 0;
  constructor(
    readonly path: string,
    readonly intervalMs = 0,
  ) {}
  snapshot(): Uint8Array {
    return Buffer.from(JSON.stringify({ value: this.value }));
  }
  restore(data: Uint8Array): void {
    const parsed = JSON.parse(Buffer.from(data).toString()) as { value: unknown };
    if (typeof parsed.value !== 'number') throw new Error('bad value');
    this.value = parsed.value;
    this.restored++;
  }
}

const silent = pino({ level: 'silent' });

describe('state store', () => {
  test('round-trips a snapshot through an atomically written file', () => {
    const file = tempFile();
    const a = new Counter(file);
    a.value = 42;
    persistPeriodically([{ processor: 'p', state: a }], silent).stop();
    const b = new Counter(file);
    restoreStates([{ processor: 'p', state: b }], silent);
    expect(b.value).toBe(42);
    expect(fs.readdirSync(path.dirname(file))).toEqual(['state.bin']);
  });

  test('the state file is 0600 and the folder it creates 0700 whatever the umask', () => {
    const old = process.umask(0o022);
    try {
      const file = tempFile();
      writeStateFileAtomic(file, Buffer.from('{"value":1}'));
      const octal = (f: string) => (fs.statSync(f).mode & 0o777).toString(8);
      expect({ dir: octal(path.dirname(file)), file: octal(file) }).toEqual({ dir: '700', file: '600' });
    } finally {
      process.umask(old);
    }
  });

  test.each([
    ['a truncated file', (f: Buffer) => f.subarray(0, f.length - 3), /truncated/],
    ['a flipped payload byte', (f: Buffer) => Buffer.concat([f.subarray(0, f.length - 1), Buffer.from([f[f.length - 1]! ^ 0xff])]), /checksum/],
    ['a foreign file', () => Buffer.from('hello world, not a state file'), /magic/],
    ['an empty file', () => Buffer.alloc(0), /magic/],
  ])('detects %s', (_name, damage, reason) => {
    expect(decodeStateFile(damage(encodeStateFile(Buffer.from('{"value":1}'))))).toEqual(expect.objectContaining({ message: expect.stringMatching(reason) }));
  });

  test('ignores a corrupt file at start-up, logging why, and starts empty', () => {
    const file = tempFile();
    writeStateFileAtomic(file, Buffer.from('{"value":7}'));
    const bytes = fs.readFileSync(file);
    bytes[bytes.length - 2]! ^= 0x01;
    fs.writeFileSync(file, bytes);
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (l: string) => lines.push(l) });
    const c = new Counter(file);
    restoreStates([{ processor: 'classify', state: c }], logger);
    expect(c.restored).toBe(0);
    expect(lines.join('')).toMatch(/state file is corrupt.*checksum mismatch|checksum mismatch.*state file is corrupt/);
  });

  test('ignores content the processor rejects', () => {
    const file = tempFile();
    writeStateFileAtomic(file, Buffer.from('{"value":"x"}'));
    const c = new Counter(file);
    restoreStates([{ processor: 'p', state: c }], silent);
    expect(c.value).toBe(0);
  });

  test('a missing file means a fresh start', () => {
    const c = new Counter(tempFile());
    restoreStates([{ processor: 'p', state: c }], silent);
    expect(c.restored).toBe(0);
  });

  test('saves on its interval while running', async () => {
    const file = tempFile();
    const c = new Counter(file, 20);
    c.value = 5;
    const p = persistPeriodically([{ processor: 'p', state: c }], silent);
    await eventually(() => expect(fs.existsSync(file)).toBe(true));
    c.value = 6;
    await eventually(() => expect(decodeStateFile(fs.readFileSync(file))).toEqual(Buffer.from('{"value":6}')));
    p.stop();
  });
});
