/**
 * A lock file (created with O_EXCL, holding the owner's pid) so two processes never share a
 * queue directory. A lock whose pid is gone (or is our own pid, as after a container restart
 * where the service is pid 1 again) is stale and taken over.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export class DirectoryLockedError extends Error {
  constructor(
    readonly dir: string,
    readonly pid: number,
  ) {
    super(`queue directory ${dir} is locked by running process ${pid} (OLP_QUEUE_DIR must not be shared)`);
    this.name = 'DirectoryLockedError';
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the lock or throws DirectoryLockedError; returns the release function. */
export function lockDirectory(dir: string): () => void {
  const file = path.join(dir, 'lock');
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = fs.openSync(file, 'wx');
      fs.writeSync(fd, `${process.pid}\n`);
      fs.closeSync(fd);
      return () => {
        try {
          if (fs.readFileSync(file, 'utf8').trim() === String(process.pid)) fs.unlinkSync(file);
        } catch {
          // Already gone.
        }
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 2) throw e;
    }
    let pid: number;
    try {
      pid = Number.parseInt(fs.readFileSync(file, 'utf8'), 10);
    } catch {
      continue; // Removed meanwhile: try again.
    }
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) throw new DirectoryLockedError(dir, pid);
    fs.rmSync(file, { force: true });
  }
}
