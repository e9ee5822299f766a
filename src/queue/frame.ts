/**
 * Framing of write-ahead log records: magic, payload length and CRC-32 of the payload, then
 * the payload (entry id, record count, forwarded metadata, receive time, encoded request).
 * The magic lets recovery resync after a damaged record; the CRC tells a torn or flipped
 * record from a good one.
 */
import * as zlib from 'node:zlib';
import type { EncodedBatch } from '../otlp/encoded-batch';

export const FRAME_MAGIC = 0x4f4c5057; // "OLPW"
export const HEADER_BYTES = 12;
/** No request is larger (OLP_GRPC_MAX_RECV_MIB is at most 1024); a larger length is corruption. */
export const MAX_PAYLOAD_BYTES = 1024 * 1024 * 1024 + 65536;

export interface WalEntry {
  readonly id: number;
  readonly batch: EncodedBatch;
}

export function encodeFrame(id: number, batch: EncodedBatch): Buffer {
  const meta = batch.metadata ? Buffer.from(JSON.stringify(batch.metadata)) : Buffer.alloc(0);
  const fixed = 8 + 4 + 4 + 8;
  const payloadLength = fixed + meta.length + batch.bytes.length;
  const out = Buffer.allocUnsafe(HEADER_BYTES + payloadLength);
  let o = HEADER_BYTES;
  out.writeBigUInt64LE(BigInt(id), o);
  out.writeUInt32LE(batch.records, (o += 8));
  out.writeUInt32LE(meta.length, (o += 4));
  out.writeDoubleLE(batch.receivedAt?.[0] ?? Date.now(), (o += 4));
  o += 8;
  meta.copy(out, o);
  out.set(batch.bytes, o + meta.length);
  out.writeUInt32LE(FRAME_MAGIC, 0);
  out.writeUInt32LE(payloadLength, 4);
  out.writeUInt32LE(zlib.crc32(out.subarray(HEADER_BYTES)), 8);
  return out;
}

function decodePayload(p: Buffer): WalEntry {
  const id = Number(p.readBigUInt64LE(0));
  const records = p.readUInt32LE(8);
  const metaLength = p.readUInt32LE(12);
  const receivedAt = p.readDoubleLE(16);
  const metaEnd = 24 + metaLength;
  if (metaEnd > p.length) throw new Error('metadata length past the end of the record');
  const metadata = metaLength > 0 ? (JSON.parse(p.subarray(24, metaEnd).toString()) as Record<string, string>) : undefined;
  // Copied: the segment buffer is dropped after recovery.
  return { id, batch: { bytes: Buffer.from(p.subarray(metaEnd)), records, receivedAt: [receivedAt], metadata } };
}

export interface ScanResult {
  readonly entries: WalEntry[];
  /** Damaged regions skipped before the last good record (each counted once). */
  readonly corrupt: number;
  /** 1 when the file ends in an incomplete or damaged record (a torn write). */
  readonly tornTail: number;
}

/** Reads every good record of a segment; a damaged one is skipped by searching for the next magic. */
export function scanSegment(buf: Buffer): ScanResult {
  const entries: WalEntry[] = [];
  let corrupt = 0;
  let inBadRegion = false;
  let p = 0;
  while (p + HEADER_BYTES <= buf.length) {
    const entry = buf.readUInt32LE(p) === FRAME_MAGIC ? tryRecord(buf, p) : undefined;
    if (entry) {
      if (inBadRegion) corrupt++;
      inBadRegion = false;
      entries.push(entry.entry);
      p = entry.end;
      continue;
    }
    inBadRegion = true;
    const next = buf.indexOf(MAGIC_BYTES, p + 1);
    if (next < 0) {
      p = buf.length;
      break;
    }
    p = next;
  }
  // Damage that runs to the end of the file, or a partial header, is a torn tail.
  const tornTail = inBadRegion || p < buf.length ? 1 : 0;
  return { entries, corrupt, tornTail };
}

const MAGIC_BYTES = (() => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(FRAME_MAGIC, 0);
  return b;
})();

function tryRecord(buf: Buffer, p: number): { entry: WalEntry; end: number } | undefined {
  const length = buf.readUInt32LE(p + 4);
  if (length < 24 || length > MAX_PAYLOAD_BYTES) return undefined;
  const end = p + HEADER_BYTES + length;
  if (end > buf.length) return undefined;
  const payload = buf.subarray(p + HEADER_BYTES, end);
  if (zlib.crc32(payload) !== buf.readUInt32LE(p + 8)) return undefined;
  try {
    return { entry: decodePayload(payload), end };
  } catch {
    return undefined;
  }
}
