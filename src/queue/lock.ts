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
 * A stale lock is renamed away (only one contender can) and replaced.
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
  readonly ino: number;
  readonly mtimeMs: number;
  /** Undefined for content we cannot read (a lock from an older version: a bare pid). */
  readonly holder: Holder | undefined;
  readonly text: string;
}

function look(file: string): Seen | undefined {
  let text: string;
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  let holder: Holder | undefined;
  try {
    const h = JSON.parse(text) as Partial<Holder>;
    if (typeof h.instance === 'string' && typeof h.host === 'string' && typeof h.ns === 'string' && typeof h.pid === 'number') holder = h as Holder;
  } catch {
    holder = undefined;
  }
  return { ino: st.ino, mtimeMs: st.mtimeMs, holder, text: text.trim() };
}

function describe(seen: Seen): string {
  const h = seen.holder;
  return h ? `pid ${h.pid} on ${h.host}, instance ${h.instance}` : `"${seen.text.slice(0, 80)}"`;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * 'stale', 'alive', or 'changed' (the file was replaced or removed while we looked: look again).
 * Waits at most staleAfterMs, and only when the holder's liveness cannot be read from its pid.
 */
async function judge(file: string, seen: Seen, me: Holder, heartbeatMs: number, staleAfterMs: number): Promise<'stale' | 'alive' | 'changed'> {
  if (Date.now() - seen.mtimeMs > staleAfterMs) return 'stale';
  const h = seen.holder;
  if (h && me.ns && h.ns === me.ns && h.host === me.host) return h.pid === me.pid || !alive(h.pid) ? 'stale' : 'alive';
  // Another container or host: alive if the heartbeat moves, stale if it stays still that long (our clock only).
  const until = Date.now() + staleAfterMs;
  while (Date.now() <= until) {
    await sleep(Math.max(10, heartbeatMs / 4));
    const now = look(file);
    if (!now || now.ino !== seen.ino) return 'changed';
    if (now.mtimeMs !== seen.mtimeMs) return 'alive';
  }
  return 'stale';
}

/**
 * Removes the stale lock we judged, and nothing else: rename is atomic, so of several
 * contenders only one moves it; if what we moved is not the file we judged (someone took
 * over in between), it is put back.
 */
function breakStale(file: string, seen: Seen, me: Holder): void {
  const moved = `${file}.${me.instance}.stale`;
  try {
    fs.renameSync(file, moved);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  try {
    const got = look(moved);
    if (got && (got.ino !== seen.ino || got.text !== seen.text)) fs.linkSync(moved, file);
  } catch {
    // A newer lock is in place already: the one we moved lost, and its holder is told at its next heartbeat.
  } finally {
    fs.rmSync(moved, { force: true });
  }
}

/** Takes the lock or throws DirectoryLockedError. */
export async function lockDirectory(dir: string, options: LockOptions = {}): Promise<DirectoryLock> {
  const heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
  const staleAfterMs = options.staleAfterMs ?? DEFAULT_STALE_AFTER_MS;
  const me: Holder = { instance: crypto.randomUUID(), host: os.hostname(), ns: namespaceId(), pid: process.pid };
  const file = path.join(dir, 'lock');
  const tmp = `${file}.${me.instance}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(me)}\n`, { mode: 0o600, flag: 'wx' });
  try {
    for (;;) {
      try {
        fs.linkSync(tmp, file);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const seen = look(file);
      if (!seen) continue;
      const verdict = await judge(file, seen, me, heartbeatMs, staleAfterMs);
      if (verdict === 'alive') throw new DirectoryLockedError(dir, describe(seen));
      if (verdict === 'stale') breakStale(file, seen, me);
    }
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  const ours = (): boolean => look(file)?.holder?.instance === me.instance;
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
        if (ours()) fs.unlinkSync(file);
      } catch {
        // Already gone.
      }
    },
  };
}
