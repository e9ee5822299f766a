/**
 * Persistence of processor state (Processor.state): load at start, save periodically and at
 * shutdown. Files carry a magic, the payload length and a CRC-32, and are replaced atomically
 * (temp file, fsync, rename), so a crash mid-write leaves the previous snapshot intact and a
 * torn or corrupt file is detected, logged and ignored — never a failed start.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import type { Logger } from 'pino';
import type { PersistentState } from '../processors/contract';

const MAGIC = Buffer.from('OLPSTATE');
const VERSION = 1;
const HEADER = MAGIC.length + 1 + 4 + 4;

export function encodeStateFile(payload: Uint8Array): Buffer {
  const header = Buffer.alloc(HEADER);
  MAGIC.copy(header, 0);
  header.writeUInt8(VERSION, MAGIC.length);
  header.writeUInt32BE(payload.length, MAGIC.length + 1);
  header.writeUInt32BE(zlib.crc32(payload), MAGIC.length + 5);
  return Buffer.concat([header, payload]);
}

/** The payload, or an Error saying why the file is unusable. */
export function decodeStateFile(file: Buffer): Uint8Array | Error {
  if (file.length < HEADER || !file.subarray(0, MAGIC.length).equals(MAGIC)) return new Error('not a state file (bad magic)');
  const version = file.readUInt8(MAGIC.length);
  if (version !== VERSION) return new Error(`unsupported state file version ${version}`);
  const length = file.readUInt32BE(MAGIC.length + 1);
  const payload = file.subarray(HEADER);
  if (payload.length !== length) return new Error(`truncated: ${payload.length} of ${length} payload bytes`);
  if (zlib.crc32(payload) !== file.readUInt32BE(MAGIC.length + 5)) return new Error('checksum mismatch');
  return payload;
}

export function writeStateFileAtomic(file: string, payload: Uint8Array): void {
  // Processor state may hold record content: only our user may read it.
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = fs.openSync(tmp, 'w', 0o600);
  try {
    fs.writeSync(fd, encodeStateFile(payload));
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  // Make the rename itself durable.
  const dir = fs.openSync(path.dirname(file), 'r');
  try {
    fs.fsyncSync(dir);
  } finally {
    fs.closeSync(dir);
  }
}

export interface NamedState {
  readonly processor: string;
  readonly state: PersistentState;
}

/** Restores each state from its file; a missing file starts empty, a bad one is logged and ignored. */
export function restoreStates(states: readonly NamedState[], logger: Logger): void {
  for (const { processor, state } of states) {
    let raw: Buffer;
    try {
      raw = fs.readFileSync(state.path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') logger.warn({ processor, path: state.path, err: (e as Error).message }, 'cannot read state file; starting empty');
      continue;
    }
    const payload = decodeStateFile(raw);
    if (payload instanceof Error) {
      logger.warn({ processor, path: state.path, err: payload.message }, 'state file is corrupt; ignored, starting empty');
      continue;
    }
    try {
      state.restore(payload);
      logger.info({ processor, path: state.path, bytes: payload.length }, 'state restored');
    } catch (e) {
      logger.warn({ processor, path: state.path, err: (e as Error).message }, 'state file content rejected; starting empty');
    }
  }
}

/** Saves every state now; failures are logged (the previous file stays). */
export function saveStates(states: readonly NamedState[], logger: Logger): void {
  for (const { processor, state } of states) {
    try {
      writeStateFileAtomic(state.path, state.snapshot());
    } catch (e) {
      logger.error({ processor, path: state.path, err: (e as Error).message }, 'cannot save state');
    }
  }
}

/** Saves each state on its interval until stopped; `stop` saves once more. */
export function persistPeriodically(states: readonly NamedState[], logger: Logger): { stop(): void } {
  const timers = states
    .filter((s) => s.state.intervalMs > 0)
    .map((s) => {
      const t = setInterval(() => saveStates([s], logger), s.state.intervalMs);
      t.unref();
      return t;
    });
  return {
    stop() {
      for (const t of timers) clearInterval(t);
      saveStates(states, logger);
    },
  };
}
