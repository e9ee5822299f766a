/**
 * A lock file so two processes never share a queue directory (each would resend and delete
 * the other's segments).
 *
 * Taking it is atomic: the lock is written complete under a temporary name and hard-linked
 * into place, which fails when a lock exists, so nobody ever reads a half-written one. It
 * names its holder (instance id, host, pid namespace, pid), and the holder refreshes its
 * mtime every heartbeat. A lock is stale when
 * - its heartbeat is older than `staleAfterMs`, or stops for that long while we watch (this
 *   covers other containers and hosts, where a pid means nothing), or
 * - its holder ran in our own pid namespace on this boot and that pid is dead or is ours
 *   (then the holder is a previous run of this process).
 *
 * A stale lock is replaced in one step (our lock renamed over it), never removed first, so
 * the path is never empty while a takeover is under way. Only the contender that claims the
 * very lock it judged (a claim file named after that lock's inode, content and mtime,
 * created exclusively) may replace it, and only after checking under the claim that the
 * lock in place is still exactly that one. Checking and replacing cannot race: the lock in
 * place changes only by a takeover or by its holder's release, and both go through the
 * claim of that lock. (Claims are held for a few system calls; a claim whose holder died is
 * stepped over by claiming the next level.) This is safe as long as no process stalls for
 * `staleAfterMs` in the middle of taking or releasing — a holder that stalls that long is
 * taken over by design, and told so by `onLost`.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export class DirectoryLockedError extends Error {
  constructor(
    readonly dir: string,
    readonly holder: string,
  ) {
    super(`queue directory ${dir} is locked by a running process (${holder}); OLP_QUEUE_DIR must not be shared`);
    this.name = 'DirectoryLockedError';
  }
}

export interface LockOptions {
  /** How often the holder refreshes the lock's mtime. */
  readonly heartbeatMs?: number;
  /** A lock whose heartbeat is this old is stale. */
  readonly staleAfterMs?: number;
  /** Called once if another process replaced our lock (we were judged stale, e.g. a long pause). */
  readonly onLost?: (holder: string) => void;
}

export interface DirectoryLock {
  release(): void;
}

interface Holder {
  readonly instance: string;
  readonly host: string;
  /** Boot id and pid namespace: a pid is only meaningful where both match ours. Empty: unknown. */
  readonly ns: string;
  readonly pid: number;
}

export const DEFAULT_HEARTBEAT_MS = 1000;
export const DEFAULT_STALE_AFTER_MS = 10_000;

function readOr(read: () => string): string {
  try {
    return read().trim();
  } catch {
    return '';
  }
}

function namespaceId(): string {
  const boot = readOr(() => fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8'));
  const pidNs = readOr(() => fs.readlinkSync('/proc/self/ns/pid'));
  return boot && pidNs ? `${boot}/${pidNs}` : '';
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

interface Seen {
  readonly dev: bigint;
  readonly ino: bigint;
  readonly mtimeNs: bigint;
  readonly mtimeMs: number;
  /** Undefined for content we cannot read (a lock from an older version: a bare pid). */
  readonly holder: Holder | undefined;
  readonly text: string;
}

/** The file's identity, mtime and content, all of one and the same file (read through one descriptor). */
function look(file: string): Seen | undefined {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  let st: fs.BigIntStats;
  let text: string;
  try {
    st = fs.fstatSync(fd, { bigint: true });
    text = fs.readFileSync(fd, 'utf8');
  } finally {
    fs.closeSync(fd);
  }
  let holder: Holder | undefined;
  try {
    const h = JSON.parse(text) as Partial<Holder>;
    if (typeof h.instance === 'string' && typeof h.host === 'string' && typeof h.ns === 'string' && typeof h.pid === 'number') holder = h as Holder;
  } catch {
    holder = undefined;
  }
  return { dev: st.dev, ino: st.ino, mtimeNs: st.mtimeNs, mtimeMs: Number(st.mtimeNs) / 1e6, holder, text: text.trim() };
}

/** Same file, same content, no heartbeat since. */
const same = (a: Seen, b: Seen): boolean => a.dev === b.dev && a.ino === b.ino && a.mtimeNs === b.mtimeNs && a.text === b.text;

function describe(seen: Seen): string {
  const h = seen.holder;
  return h ? `pid ${h.pid} on ${h.host}, instance ${h.instance}` : `"${seen.text.slice(0, 80)}"`;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A pid of our own namespace says whether its process still runs (our own pid: a previous run of us). */
function deadHere(h: Holder | undefined, me: Holder): boolean | undefined {
  if (!h || !me.ns || h.ns !== me.ns || h.host !== me.host) return undefined;
  return h.pid === me.pid || !alive(h.pid);
}

/**
 * 'stale', 'alive', or 'changed' (the file was replaced or removed while we looked: look again).
 * Waits at most staleAfterMs, and only when the holder's liveness cannot be read from its pid.
 */
async function judge(file: string, seen: Seen, me: Holder, heartbeatMs: number, staleAfterMs: number): Promise<'stale' | 'alive' | 'changed'> {
  if (Date.now() - seen.mtimeMs > staleAfterMs) return 'stale';
  const dead = deadHere(seen.holder, me);
  if (dead !== undefined) return dead ? 'stale' : 'alive';
  // Another container or host: alive if the heartbeat moves, stale if it stays still that long (our clock only).
  const until = Date.now() + staleAfterMs;
  while (Date.now() <= until) {
    await sleep(Math.max(10, heartbeatMs / 4));
    const now = look(file);
    if (!now || now.dev !== seen.dev || now.ino !== seen.ino || now.text !== seen.text) return 'changed';
    if (now.mtimeNs !== seen.mtimeNs) return 'alive';
  }
  return 'stale';
}

/**
 * The right to replace or remove the lock `seen` (this very file with this content and this
 * mtime): a claim file created exclusively, so of all processes that judged the same lock
 * only one holds it. A claim left by a process that died holding it is stepped over by
 * claiming the next level (a live claim is only held for a few system calls, so one older
 * than staleAfterMs is dead too). Returns the claim files to remove when done (all levels
 * up to ours, so a newcomer starting at level 0 cannot overlap a holder at a higher level),
 * or undefined when another process holds the claim.
 */
function claim(file: string, seen: Seen, me: Holder, staleAfterMs: number): string[] | undefined {
  const key = crypto.createHash('sha256').update(`${seen.dev}:${seen.ino}:${seen.mtimeNs}:${seen.text}`).digest('hex').slice(0, 16);
  const levels: string[] = [];
  for (let level = 0; ; level++) {
    const name = `${file}.${key}.claim${level}`;
    levels.push(name);
    try {
      fs.writeFileSync(name, `${JSON.stringify(me)}\n`, { mode: 0o600, flag: 'wx' });
      return levels;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const other = look(name);
    if (!other) return undefined; // Its holder just finished.
    if (!(Date.now() - other.mtimeMs > staleAfterMs || deadHere(other.holder, me) === true)) return undefined;
  }
}

function unclaim(levels: readonly string[]): void {
  // Lowest first: a newcomer starts at level 0, and finds ours held until we are done with it.
  for (const name of levels) fs.rmSync(name, { force: true });
}

/**
 * Replaces the stale lock we judged with ours (`next`, a link to our complete lock file), and
 * nothing else. True if ours is now in place; false if the lock changed meanwhile or another
 * contender is replacing it (look again).
 */
function takeOver(file: string, seen: Seen, next: string, me: Holder, staleAfterMs: number): boolean {
  const levels = claim(file, seen, me, staleAfterMs);
  if (!levels) return false;
  try {
    const now = look(file);
    if (!now || !same(now, seen)) return false;
    // Nobody else can replace or remove `seen` while we hold its claim, so it is what we replace.
    fs.renameSync(next, file);
    return true;
  } finally {
    unclaim(levels);
  }
}

/** Takes the lock or throws DirectoryLockedError. */
export async function lockDirectory(dir: string, options: LockOptions = {}): Promise<DirectoryLock> {
  const heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
  const staleAfterMs = options.staleAfterMs ?? DEFAULT_STALE_AFTER_MS;
  const me: Holder = { instance: crypto.randomUUID(), host: os.hostname(), ns: namespaceId(), pid: process.pid };
  const file = path.join(dir, 'lock');
  const tmp = `${file}.${me.instance}.tmp`;
  const next = `${file}.${me.instance}.next`;
  fs.writeFileSync(tmp, `${JSON.stringify(me)}\n`, { mode: 0o600, flag: 'wx' });
  try {
    for (;;) {
      // A fresh heartbeat: judging a lock may have taken staleAfterMs, and ours must not look stale on arrival.
      const now = new Date();
      fs.utimesSync(tmp, now, now);
      try {
        fs.linkSync(tmp, file);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        const seen = look(file);
        if (!seen) continue;
        const verdict = await judge(file, seen, me, heartbeatMs, staleAfterMs);
        if (verdict === 'alive') throw new DirectoryLockedError(dir, describe(seen));
        if (verdict === 'changed') continue;
        fs.rmSync(next, { force: true });
        fs.linkSync(tmp, next);
        const replaced = takeOver(file, seen, next, me, staleAfterMs);
        fs.rmSync(next, { force: true });
        if (!replaced) {
          await sleep(5);
          continue;
        }
      }
      // Ours is in place; nobody can have replaced it since without judging it stale.
      if (look(file)?.holder?.instance === me.instance) break;
    }
  } finally {
    fs.rmSync(tmp, { force: true });
    fs.rmSync(next, { force: true });
  }
  const ours = (): Seen | undefined => {
    const seen = look(file);
    return seen?.holder?.instance === me.instance ? seen : undefined;
  };
  const timer = setInterval(() => {
    try {
      const seen = look(file);
      if (seen?.holder?.instance !== me.instance) {
        clearInterval(timer);
        options.onLost?.(seen ? describe(seen) : 'lock file removed');
        return;
      }
      const now = new Date();
      fs.utimesSync(file, now, now);
    } catch {
      // Retried at the next beat; a lock left unrefreshed for staleAfterMs may be taken over.
    }
  }, heartbeatMs);
  timer.unref();
  return {
    release() {
      clearInterval(timer);
      try {
        const seen = ours();
        if (!seen) return;
        // Through the claim of our lock, as a takeover would: we never remove a lock that replaced ours meanwhile.
        const levels = claim(file, seen, me, staleAfterMs);
        if (!levels) return; // Being taken over right now.
        try {
          const now = look(file);
          if (now && same(now, seen)) fs.unlinkSync(file);
        } finally {
          unclaim(levels);
        }
      } catch {
        // Already gone.
      }
    },
  };
}
