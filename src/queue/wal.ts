/**
 * The persistent queue's write-ahead log: an append-only sequence of segment files of framed
 * records (see frame.ts). `append` resolves once the record is written (and fsynced, with the
 * `batch` policy): that is when the receiver may acknowledge the request. Writes that arrive
 * while a write is under way are grouped into the next write and share one fsync.
 *
 * Entries are marked done (delivered, or dropped for good and counted) by appending their ids
 * to the segment's `.ack` file; a sealed segment whose entries are all done is deleted with
 * its ack file. At start-up every segment is scanned: good records without an ack are
 * returned for re-sending, damaged ones are skipped and counted. New records always go to a
 * new segment, never after a possibly torn tail.
 */
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { Logger } from 'pino';
import { PipelineError, type FailureKind } from '../errors';
import type { EncodedBatch } from '../otlp/encoded-batch';
import type { Metrics } from '../telemetry/metrics';
import { encodeFrame, scanSegment, type WalEntry } from './frame';
import { lockDirectory, type DirectoryLock } from './lock';

export type FsyncPolicy = 'batch' | 'interval';

export interface WalSettings {
  readonly dir: string;
  readonly fsync: FsyncPolicy;
  readonly fsyncIntervalMs: number;
  /** A segment is sealed (and a new one started) once it holds this many bytes. */
  readonly segmentBytes?: number;
  /** RetryInfo delay when a write fails (disk full). */
  readonly retryAfterMs: number;
  /** Kind answered when the disk is full ('overloaded' → RESOURCE_EXHAUSTED, or 'unavailable'). */
  readonly fullKind?: FailureKind;
  /** Test hook: called before each write with its size; may throw (e.g. an ENOSPC error). */
  readonly beforeWrite?: (bytes: number) => void;
}

export interface WalContext {
  readonly name: string;
  readonly logger: Logger;
  readonly metrics: Metrics;
}

interface Segment {
  readonly seq: number;
  readonly file: string;
  /** Entries written and not yet done. */
  live: number;
  size: number;
  sealed: boolean;
}

interface PendingWrite {
  readonly id: number;
  readonly frame: Buffer;
  readonly resolve: (id: number) => void;
  readonly reject: (e: Error) => void;
}

export interface RecoveryReport {
  readonly segments: number;
  readonly recovered: number;
  readonly alreadyDone: number;
  readonly corrupt: number;
  readonly tornTail: number;
}

const FILE_MODE = 0o600;
const DEFAULT_SEGMENT_BYTES = 16 * 1024 * 1024;
const SEGMENT_RE = /^(\d{12})\.wal$/;

export class WriteAheadLog {
  private readonly segments = new Map<number, Segment>();
  private readonly entrySegment = new Map<number, Segment>();
  private active: { segment: Segment; handle: fsp.FileHandle } | undefined;
  private nextId = 1;
  private nextSeq = 1;
  private pending: PendingWrite[] = [];
  private writing: Promise<void> | undefined;
  private dirty = false;
  private fsyncTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private lock: DirectoryLock | undefined;
  private recovered: WalEntry[] = [];
  report: RecoveryReport = { segments: 0, recovered: 0, alreadyDone: 0, corrupt: 0, tornTail: 0 };

  private constructor(
    private readonly settings: WalSettings,
    private readonly ctx: WalContext,
  ) {}

  /**
   * Locks the directory and recovers what a previous run left; `takeRecovered` hands it out.
   * The directory is 0700 and every file in it 0600: batches may carry forwarded credentials.
   */
  static async open(settings: WalSettings, ctx: WalContext): Promise<WriteAheadLog> {
    const wal = new WriteAheadLog(settings, ctx);
    fs.mkdirSync(settings.dir, { recursive: true, mode: 0o700 });
    // An existing directory (an older version, a mounted volume) is tightened too.
    fs.chmodSync(settings.dir, 0o700);
    wal.lock = await lockDirectory(settings.dir, {
      onLost: (holder) => ctx.logger.error({ dir: settings.dir, holder }, 'another process took over the persistent queue directory lock; OLP_QUEUE_DIR must not be shared'),
    });
    try {
      wal.recover();
    } catch (e) {
      wal.lock.release();
      throw e;
    }
    if (settings.fsync === 'interval') {
      wal.fsyncTimer = setInterval(() => void wal.syncActive(), settings.fsyncIntervalMs);
      wal.fsyncTimer.unref();
    }
    return wal;
  }

  /** Unsent entries found at start-up, oldest first (handed out once). */
  takeRecovered(): WalEntry[] {
    const out = this.recovered;
    this.recovered = [];
    return out;
  }

  /** Durably appends a batch (per the fsync policy); resolves with its entry id. Throws PipelineError when it cannot. */
  append(batch: EncodedBatch): Promise<number> {
    if (this.closed) return Promise.reject(new PipelineError('unavailable', 'persistent queue is closed (shutting down)'));
    const id = this.nextId++;
    const frame = encodeFrame(id, batch);
    return new Promise((resolve, reject) => {
      this.pending.push({ id, frame, resolve, reject });
      this.writing ??= this.writeLoop();
    });
  }

  /** Marks entries delivered (or dropped for good); deletes segments left with nothing to send. */
  done(ids: readonly number[]): void {
    if (this.closed || ids.length === 0) return;
    const bySegment = new Map<Segment, number[]>();
    for (const id of ids) {
      const seg = this.entrySegment.get(id);
      if (!seg) continue;
      this.entrySegment.delete(id);
      let list = bySegment.get(seg);
      if (!list) bySegment.set(seg, (list = []));
      list.push(id);
    }
    for (const [seg, list] of bySegment) {
      seg.live -= list.length;
      if (seg.sealed && seg.live === 0) {
        this.deleteSegment(seg);
        continue;
      }
      // Not fsynced: a lost ack only means a duplicate after a crash, never a loss.
      const buf = Buffer.allocUnsafe(list.length * 8);
      list.forEach((id, i) => buf.writeBigUInt64LE(BigInt(id), i * 8));
      try {
        fs.appendFileSync(ackFile(seg.file), buf, { mode: FILE_MODE });
      } catch (e) {
        this.ctx.logger.warn({ err: (e as Error).message }, 'cannot record delivered entries; they may be sent again after a restart');
      }
    }
  }

  /** Entries written and not done. */
  get liveEntries(): number {
    return this.entrySegment.size;
  }

  /** Finishes pending writes, fsyncs and releases the directory; what is not done stays for the next start. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.fsyncTimer) clearInterval(this.fsyncTimer);
    await this.writing;
    if (this.active) {
      await this.active.handle.sync().catch(() => undefined);
      await this.active.handle.close().catch(() => undefined);
      if (this.active.segment.live === 0) this.deleteSegment(this.active.segment);
      this.active = undefined;
    }
    this.lock?.release();
  }

  private async writeLoop(): Promise<void> {
    // Yield once so that appends made in the same tick share this write and its fsync.
    await new Promise<void>((r) => setImmediate(r));
    while (this.pending.length > 0) {
      const group = this.pending;
      this.pending = [];
      try {
        await this.writeGroup(group);
        this.ctx.metrics.walWritten.inc({ exporter: this.ctx.name }, group.length);
        for (const w of group) w.resolve(w.id);
      } catch (e) {
        const err = this.writeFailure(e as NodeJS.ErrnoException);
        for (const w of group) w.reject(err);
      }
    }
    this.writing = undefined;
  }

  private async writeGroup(group: PendingWrite[]): Promise<void> {
    const buf = group.length === 1 ? group[0]!.frame : Buffer.concat(group.map((w) => w.frame));
    const active = await this.activeSegment();
    try {
      this.settings.beforeWrite?.(buf.length);
      let off = 0;
      while (off < buf.length) {
        const { bytesWritten } = await active.handle.write(buf, off, buf.length - off, null);
        off += bytesWritten;
      }
      if (this.settings.fsync === 'batch') await active.handle.datasync();
      else this.dirty = true;
    } catch (e) {
      // Cut a partial write off so the segment stays clean; if that fails too, seal it (recovery resyncs).
      await active.handle.truncate(active.segment.size).catch(() => this.seal());
      throw e;
    }
    active.segment.size += buf.length;
    for (const w of group) this.entrySegment.set(w.id, active.segment);
    active.segment.live += group.length;
    if (active.segment.size >= (this.settings.segmentBytes ?? DEFAULT_SEGMENT_BYTES)) await this.seal();
  }

  private writeFailure(e: NodeJS.ErrnoException): PipelineError {
    const code = e.code ?? 'UNKNOWN';
    this.ctx.metrics.walWriteErrors.inc({ exporter: this.ctx.name, code });
    this.ctx.logger.warn({ code, err: e.message }, 'persistent queue write failed; refusing requests until it succeeds');
    const full = code === 'ENOSPC' || code === 'EDQUOT';
    return new PipelineError(
      full ? (this.settings.fullKind ?? 'overloaded') : 'unavailable',
      full ? `persistent queue disk is full (${this.settings.dir}); retry later` : `persistent queue write failed (${code}); retry later`,
      this.settings.retryAfterMs,
    );
  }

  private async activeSegment(): Promise<{ segment: Segment; handle: fsp.FileHandle }> {
    if (this.active) return this.active;
    const seq = this.nextSeq++;
    const file = path.join(this.settings.dir, `${String(seq).padStart(12, '0')}.wal`);
    const handle = await fsp.open(file, 'a', FILE_MODE);
    const segment: Segment = { seq, file, live: 0, size: 0, sealed: false };
    this.segments.set(seq, segment);
    this.active = { segment, handle };
    this.updateGauge();
    return this.active;
  }

  private async seal(): Promise<void> {
    const active = this.active;
    if (!active) return;
    this.active = undefined;
    active.segment.sealed = true;
    await active.handle.sync().catch(() => undefined);
    await active.handle.close().catch(() => undefined);
    if (active.segment.live === 0) this.deleteSegment(active.segment);
  }

  private async syncActive(): Promise<void> {
    if (!this.dirty || !this.active) return;
    this.dirty = false;
    await this.active.handle.datasync().catch((e: Error) => this.ctx.logger.warn({ err: e.message }, 'persistent queue fsync failed'));
  }

  private deleteSegment(seg: Segment): void {
    this.segments.delete(seg.seq);
    for (const f of [seg.file, ackFile(seg.file)]) {
      try {
        fs.rmSync(f, { force: true });
      } catch (e) {
        this.ctx.logger.warn({ file: f, err: (e as Error).message }, 'cannot delete an exported persistent queue segment');
      }
    }
    this.updateGauge();
  }

  private recover(): void {
    const names = fs.readdirSync(this.settings.dir);
    const seqs = names.flatMap((n) => {
      const m = SEGMENT_RE.exec(n);
      return m ? [Number(m[1])] : [];
    });
    seqs.sort((a, b) => a - b);
    // Ack files whose segment is gone (deleted between the two unlinks).
    for (const n of names) {
      if (n.endsWith('.wal.ack') && !names.includes(n.slice(0, -4))) fs.rmSync(path.join(this.settings.dir, n), { force: true });
    }
    let recovered = 0;
    let alreadyDone = 0;
    let corrupt = 0;
    let tornTail = 0;
    let maxId = 0;
    for (const seq of seqs) {
      const file = path.join(this.settings.dir, `${String(seq).padStart(12, '0')}.wal`);
      const scan = scanSegment(fs.readFileSync(file));
      const acked = readAcks(ackFile(file));
      const segment: Segment = { seq, file, live: 0, size: 0, sealed: true };
      corrupt += scan.corrupt;
      tornTail += scan.tornTail;
      if (scan.corrupt + scan.tornTail > 0) {
        this.ctx.logger.warn({ file, corrupt: scan.corrupt, tornTail: scan.tornTail === 1, good: scan.entries.length }, 'persistent queue segment has damaged records; they are skipped, the good ones recovered');
      }
      for (const entry of scan.entries) {
        maxId = Math.max(maxId, entry.id);
        if (acked.has(entry.id)) {
          alreadyDone++;
          continue;
        }
        segment.live++;
        this.entrySegment.set(entry.id, segment);
        this.recovered.push(entry);
        recovered++;
      }
      this.nextSeq = seq + 1;
      if (segment.live === 0) this.deleteSegment(segment);
      else this.segments.set(seq, segment);
    }
    this.nextId = maxId + 1;
    const m = this.ctx.metrics;
    if (corrupt > 0) m.walCorrupt.inc({ exporter: this.ctx.name, kind: 'checksum' }, corrupt);
    if (tornTail > 0) m.walCorrupt.inc({ exporter: this.ctx.name, kind: 'torn_tail' }, tornTail);
    m.walRecovered.inc({ exporter: this.ctx.name }, recovered);
    this.report = { segments: seqs.length, recovered, alreadyDone, corrupt, tornTail };
    if (seqs.length > 0) {
      const records = this.recovered.reduce((n, e) => n + e.batch.records, 0);
      this.ctx.logger.info({ dir: this.settings.dir, ...this.report, records }, 'persistent queue recovered');
    }
    this.updateGauge();
  }

  private updateGauge(): void {
    this.ctx.metrics.walSegments.set({ exporter: this.ctx.name }, this.segments.size);
  }
}

function ackFile(segmentFile: string): string {
  return `${segmentFile}.ack`;
}

function readAcks(file: string): Set<number> {
  const out = new Set<number>();
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch {
    return out;
  }
  // A torn last id (fewer than 8 bytes) is ignored: at worst that entry is sent again.
  for (let o = 0; o + 8 <= buf.length; o += 8) out.add(Number(buf.readBigUInt64LE(o)));
  return out;
}
