import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DirectoryLockedError, lockDirectory, type DirectoryLock } from '../../src/queue/lock';
import { eventually } from '../helpers/eventually';

const LOCK_JS = path.resolve(__dirname, '../../dist/src/queue/lock.js');

/** A child process that tries the lock at `startAt` and prints `won` or the error name, then holds on until killed. */
function contender(dir: string, startAt: number): { child: ChildProcess; outcome: Promise<string> } {
  const script = `const { lockDirectory } = require(${JSON.stringify(LOCK_JS)});
    const startAt = Number(process.argv[1]);
    while (Date.now() < startAt);
    Promise.resolve().then(() => lockDirectory(${JSON.stringify(dir)})).then(() => console.log('won'), (e) => console.log(e.name));
    setInterval(() => undefined, 1000);`;
  const child = spawn(process.execPath, ['-e', script, String(startAt)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const outcome = new Promise<string>((resolve) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(out.trim());
    });
    child.on('exit', () => resolve(out.trim() || 'exited'));
  });
  return { child, outcome };
}

describe('queue directory lock', () => {
  let dir: string;
  const lockFile = () => path.join(dir, 'lock');
  const children: ChildProcess[] = [];
  const held: DirectoryLock[] = [];

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'olp-lock-'));
  });
  afterEach(() => {
    for (const c of children.splice(0)) c.kill('SIGKILL');
    for (const l of held.splice(0)) l.release();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** A lock left by a process of this host and namespace that was killed while holding it. */
  async function lockOfKilledProcess(): Promise<void> {
    const c = contender(dir, 0);
    expect(await c.outcome).toBe('won');
    c.child.kill('SIGKILL');
    await new Promise((r) => c.child.once('exit', r));
  }

  const foreignLock = (pid: number, ageMs: number) => {
    fs.writeFileSync(lockFile(), JSON.stringify({ instance: 'other', host: 'other-pod', ns: 'other-boot/pid:[1]', pid }));
    const t = new Date(Date.now() - ageMs);
    fs.utimesSync(lockFile(), t, t);
  };

  test.each([
    ['an empty directory', async () => undefined],
    ['a lock left by a killed process', lockOfKilledProcess],
    ['a lock from another host whose heartbeat stopped long ago', async () => foreignLock(1, 60_000)],
  ])('of many processes starting at once on %s, exactly one gets the lock', async (_name, setup) => {
    await setup();
    const startAt = Date.now() + 1500;
    const runs = Array.from({ length: 10 }, () => contender(dir, startAt));
    children.push(...runs.map((r) => r.child));
    const outcomes = await Promise.all(runs.map((r) => r.outcome));
    expect(outcomes.filter((o) => o === 'won')).toHaveLength(1);
    expect(outcomes.filter((o) => o !== 'won')).toEqual(Array(9).fill('DirectoryLockedError'));
  }, 30_000);

  test('a lock from another container holding our own pid, with a live heartbeat, is not taken', async () => {
    foreignLock(process.pid, 0);
    const beat = setInterval(() => {
      const t = new Date();
      fs.utimesSync(lockFile(), t, t);
    }, 20);
    try {
      await expect(lockDirectory(dir, { heartbeatMs: 20, staleAfterMs: 2000 })).rejects.toThrow(DirectoryLockedError);
    } finally {
      clearInterval(beat);
    }
  });

  test('a lock from another container is taken once its heartbeat has stood still for staleAfterMs', async () => {
    foreignLock(process.pid, 0);
    const started = Date.now();
    held.push(await lockDirectory(dir, { heartbeatMs: 20, staleAfterMs: 300 }));
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(JSON.parse(fs.readFileSync(lockFile(), 'utf8'))).toMatchObject({ pid: process.pid, host: os.hostname() });
  });

  test('a lock of a live process on this host and namespace is refused at once; a previous run of this pid is taken at once', async () => {
    const live = contender(dir, 0);
    children.push(live.child);
    expect(await live.outcome).toBe('won');
    await expect(lockDirectory(dir, { staleAfterMs: 60_000 })).rejects.toThrow(DirectoryLockedError);
    live.child.kill('SIGKILL');
    await new Promise((r) => live.child.once('exit', r));

    const previous = JSON.parse(fs.readFileSync(lockFile(), 'utf8')) as Record<string, unknown>;
    fs.writeFileSync(lockFile(), JSON.stringify({ ...previous, instance: 'previous-run', pid: process.pid }));
    const started = Date.now();
    held.push(await lockDirectory(dir, { staleAfterMs: 60_000 }));
    expect(Date.now() - started).toBeLessThan(1000);
  });

  test('the holder refreshes the heartbeat, is told when its lock is replaced, and release leaves a lock that is not its own', async () => {
    const lost: string[] = [];
    const lock = await lockDirectory(dir, { heartbeatMs: 20, onLost: (h) => lost.push(h) });
    const first = fs.statSync(lockFile()).mtimeMs;
    await eventually(() => expect(fs.statSync(lockFile()).mtimeMs).toBeGreaterThan(first));
    foreignLock(7, 0);
    await eventually(() => expect(lost).toEqual(['pid 7 on other-pod, instance other']));
    lock.release();
    expect(JSON.parse(fs.readFileSync(lockFile(), 'utf8'))).toMatchObject({ instance: 'other' });
  });

  test('the lock file is 0600 and only the lock is left in the directory', async () => {
    held.push(await lockDirectory(dir));
    expect(fs.readdirSync(dir)).toEqual(['lock']);
    expect(fs.statSync(lockFile()).mode & 0o777).toBe(0o600);
  });
});
