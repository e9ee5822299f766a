/**
 * Follows a growing file by name, like `tail -F`: yields each complete line as it is written,
 * and carries on across rotation — rename (or delete) and recreate: the old file is read to its
 * end, then the new one from its start — and truncation in place (copytruncate): read again from
 * the start. Polls, because fs.watch misses renames on some filesystems and in containers.
 */
import * as fs from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { wait } from './wait';

export interface FollowOptions {
  /** Start at the end of the file as it is now (only lines written later). */
  readonly fromEnd: boolean;
  /** How often the file is checked for new data, rotation and truncation. */
  readonly pollMs: number;
  readonly signal: AbortSignal;
}

const CHUNK = 64 * 1024;

function statByName(file: string): fs.Stats | undefined {
  try {
    return fs.statSync(file);
  } catch {
    return undefined; // between rename and recreate, or not created yet
  }
}

/** Lines of `file` (without line endings) until `signal` aborts. */
export async function* followLines(file: string, o: FollowOptions): AsyncGenerator<string> {
  let fd: number | undefined;
  let ino = 0;
  let pos = 0;
  let partial = '';
  // Keeps a UTF-8 sequence split across two reads whole.
  let decoder = new StringDecoder('utf8');
  const buf = Buffer.alloc(CHUNK);
  let first = true;

  /** Reads what was appended since the last call; returns the complete lines. */
  const drain = (): string[] => {
    if (fd === undefined) return [];
    let text = '';
    for (;;) {
      const n = fs.readSync(fd, buf, 0, CHUNK, pos);
      if (n === 0) break;
      pos += n;
      text += decoder.write(buf.subarray(0, n));
    }
    if (text === '') return [];
    const parts = (partial + text).split('\n');
    partial = parts.pop()!;
    return parts;
  };

  try {
    while (!o.signal.aborted) {
      const lines: string[] = [];
      let rotated = false;
      if (fd === undefined && statByName(file)) {
        fd = fs.openSync(file, 'r');
        // The inode of what was opened, not of a name that may have moved on since.
        const st = fs.fstatSync(fd);
        ino = st.ino;
        pos = first && o.fromEnd ? st.size : 0;
      }
      first = false;
      if (fd !== undefined) {
        if (fs.fstatSync(fd).size < pos) {
          // Truncated in place: what follows is new content from the start.
          pos = 0;
          partial = '';
          decoder = new StringDecoder('utf8');
        }
        lines.push(...drain());
        // Renamed or deleted with no new file yet: keep reading the old one, its writer may not
        // have moved on. Once a new file has the name, the old one is complete (its last line
        // even without a newline).
        const named = statByName(file);
        if (named && named.ino !== ino) {
          lines.push(...drain());
          if (partial !== '') lines.push(partial);
          partial = '';
          decoder = new StringDecoder('utf8');
          fs.closeSync(fd);
          fd = undefined;
          rotated = true;
        }
      }
      for (const line of lines) yield line.endsWith('\r') ? line.slice(0, -1) : line;
      if (lines.length === 0 && !rotated) await wait(o.pollMs, o.signal);
    }
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
