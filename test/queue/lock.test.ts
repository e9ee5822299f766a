import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DirectoryLockedError, lockDirectory, type DirectoryLock } from '../../src/queue/lock';
import { eventually } from '../helpers/eventually';

const LOCK_JS = path.resolve(__dirname, '../../dist/src/queue/lock.js');

/** Boot id and pid namespace, as the lock names them. */
const ourNs = (): string => `${fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()}/${fs.readlinkSync('/proc/self/ns/pid')}`;

/**
 * A child process that tries the lock of each of `dirs` in turn, the i-th at `startAt + i * gapMs`, and prints
 * `won` or the error name for each (one line each), then holds on to what it won until killed.
 */
function contender(dir: string | readonly string[], startAt: number, gapMs = 0): { child: ChildProcess; outcome: Promise<string>; outcomes: Promise<string[]> } {
  const dirs = typeof dir === 'string' ? [dir] : dir;
  const script = `const { lockDirectory } = require(${JSON.stringify(LOCK_JS)});
    const dirs = ${JSON.stringify(dirs)};
    const startAt = Number(process.argv[1]);
    const gapMs = Number(process.argv[2]);
    (async () => {
      for (let i = 0; i < dirs.length; i++) {
        while (Date.now() < startAt + i * gapMs);
        const outcome = await Promise.resolve().then(() => lockDirectory(dirs[i])).then(() => 'won', (e) => e.name);
        console.log(outcome);
      }
    })();
    setInterval(() => undefined, 1000);`;
  const child = spawn(process.execPath, ['-e', script, String(startAt), String(gapMs)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const outcomes = new Promise<string[]>((resolve) => {
    let out = '';
    const lines = () => out.split('\n').slice(0, -1).map((l) => l.trim());
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (lines().length >= dirs.length) resolve(lines().slice(0, dirs.length));
    });
    child.on('exit', () => resolve([...lines(), ...Array<string>(dirs.length).fill('exited')].slice(0, dirs.length)));
  });
  return { child, outcome: outcomes.then((o) => o[0]!), outcomes };
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

  // The takeover race, as processes meet it: a contender that judged the stale lock must never replace or remove the
  // lock another contender has just put in its place. Many rounds of many processes, so that a window of a few system
  // calls gets hit; rounds alternate a lock left by a killed process of ours and one of another host, long silent.
  test('stress: in each of 12 rounds of 16 processes starting at once on a stale lock, exactly one gets the lock', async () => {
    const deadPid = spawnSync('true').pid;
    const rounds = Array.from({ length: 12 }, (_, i) => {
      const d = path.join(dir, `round${i}`);
      fs.mkdirSync(d);
      const f = path.join(d, 'lock');
      const killed = i % 2 === 0;
      fs.writeFileSync(f, JSON.stringify(killed ? { instance: 'killed', host: os.hostname(), ns: ourNs(), pid: deadPid } : { instance: 'other', host: 'other-pod', ns: 'other-boot/pid:[1]', pid: 1 }));
      const t = new Date(Date.now() - (killed ? 0 : 60_000));
      fs.utimesSync(f, t, t);
      return d;
    });
    const startAt = Date.now() + 3000;
    const runs = Array.from({ length: 16 }, () => contender(rounds, startAt, 150));
    children.push(...runs.map((r) => r.child));
    const outcomes = await Promise.all(runs.map((r) => r.outcomes));
    const bad = rounds
      .map((_, round) => outcomes.map((o) => o[round]))
      .map((o, round) => ({ round, won: o.filter((x) => x === 'won').length, other: o.filter((x) => x !== 'won' && x !== 'DirectoryLockedError') }))
      .filter((r) => r.won !== 1 || r.other.length > 0);
    expect(bad).toEqual([]);
  }, 60_000);

  // The same race, made to happen: right after the contender has read the stale lock, before it changes anything,
  // another contender (L) replaces the stale lock with its own; and whenever the lock path is empty, a third one (M)
  // links its own into it. L's lock must stay in place, and the path must never be empty.
  test('a contender that judged a stale lock never removes the lock another contender has put in its place meanwhile', async () => {
    foreignLock(1, 60_000);
    const sleeper = spawn('sleep', ['60']);
    children.push(sleeper);
    const live = (instance: string) => `${JSON.stringify({ instance, host: os.hostname(), ns: ourNs(), pid: sleeper.pid })}\n`;
    const real = jest.requireActual<typeof import('node:fs')>('node:fs');
    const lock = lockFile();
    let readStale = false;
    let replaced = false;
    const gaps: string[] = [];
    const adversary = () => {
      if (!readStale) return;
      if (!replaced) {
        replaced = true;
        real.writeFileSync(`${lock}.L`, live('L'));
        real.renameSync(`${lock}.L`, lock);
      } else if (!real.existsSync(lock)) {
        gaps.push('M linked into an empty lock path');
        real.writeFileSync(`${lock}.M`, live('M'));
        real.linkSync(`${lock}.M`, lock);
        real.rmSync(`${lock}.M`);
      }
    };
    const mutating = ['writeFileSync', 'linkSync', 'renameSync', 'rmSync', 'unlinkSync', 'utimesSync', 'symlinkSync', 'copyFileSync', 'truncateSync', 'writeSync'] as const;
    const reading = ['readFileSync', 'openSync'] as const;
    const wrapped: Record<string, unknown> = { ...real };
    for (const name of mutating) {
      const f = real[name] as (...args: unknown[]) => unknown;
      wrapped[name] = (...args: unknown[]) => {
        adversary();
        return f(...args);
      };
    }
    for (const name of reading) {
      const f = real[name] as (...args: unknown[]) => unknown;
      wrapped[name] = (...args: unknown[]) => {
        const result = f(...args);
        if (args[0] === lock) readStale = true;
        return result;
      };
    }
    let isolated!: typeof import('../../src/queue/lock');
    jest.isolateModules(() => {
      jest.doMock('node:fs', () => wrapped);
      isolated = require('../../src/queue/lock');
      jest.dontMock('node:fs');
    });
    await expect(isolated.lockDirectory(dir, { staleAfterMs: 60_000 })).rejects.toThrow(isolated.DirectoryLockedError);
    expect(replaced).toBe(true);
    expect(fs.readFileSync(lock, 'utf8')).toBe(live('L'));
    expect(gaps).toEqual([]);
  });

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
