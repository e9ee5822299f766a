/**
 * Load of the bench: pre-encoded OTLP export requests built from the Loghub-2k samples (or
 * generated lines), a send timestamp patched into each copy as it is sent, and the sink's
 * protobuf wire scan that counts records and reads the timestamps back without a full decode.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { encodeLogsData } from '../src/otlp/codec';
import type { KeyValue, LogRecord, ResourceLogs } from '../src/otlp/model';
import { intValue, newLogRecord, stringValue, unixNanosFromMillis } from '../src/otlp/values';

/** Resource attribute carrying the send time: process.hrtime (CLOCK_MONOTONIC, shared by all processes on the host), in ns. */
export const SENT_NS_KEY = 'bench.sent_ns';
/** Fixed width (19 digits covers any 63-bit ns value) so the stamp is patched in place, never re-encoded. */
const STAMP_DIGITS = 19;

export interface Sample {
  dataset: string;
  lines: string[];
}

export const DEFAULT_DATASETS_DIR = path.resolve(__dirname, '..', '..', '..', 'shared', 'datasets', 'loghub-2k');

/** Every X/X_2k.log under dir (CRLF or LF lines), or one generated sample when there are none. */
export function loadSamples(dir: string = DEFAULT_DATASETS_DIR): Sample[] {
  const samples: Sample[] = [];
  if (fs.existsSync(dir)) {
    for (const name of fs.readdirSync(dir).sort()) {
      const file = path.join(dir, name, `${name}_2k.log`);
      if (!fs.existsSync(file)) continue;
      const lines = fs.readFileSync(file, 'utf8').split(/\r?\n/).filter((l) => l.trim() !== '');
      if (lines.length > 0) samples.push({ dataset: name, lines });
    }
  }
  return samples.length > 0 ? samples : [generatedSample(2000)];
}

/** Header-style lines of varied length, for machines without the datasets. */
export function generatedSample(count: number): Sample {
  const levels = ['INFO', 'INFO', 'INFO', 'WARN', 'ERROR', 'DEBUG'];
  const lines = Array.from({ length: count }, (_, i) => {
    const tail = ' detail'.repeat(i % 23);
    return `2024-05-0${1 + (i % 9)} 10:${String(i % 60).padStart(2, '0')}:00,${String(i % 1000).padStart(3, '0')} ${levels[i % levels.length]} [worker-${i % 8}] com.example.Service: request ${i} for user u${i * 7} took ${i % 500} ms${tail}`;
  });
  return { dataset: 'generated', lines };
}

export interface BenchRequest {
  /** Encoded ExportLogsServiceRequest with a zero stamp; never sent as is (see stampRequest). */
  template: Buffer;
  /** Byte offsets of each resource's 19-digit stamp. */
  stampOffsets: number[];
  records: number;
}

function resourceLogs(sample: Sample, from: number, count: number, host: number, baseMs: number): ResourceLogs {
  const records: LogRecord[] = [];
  for (let k = 0; k < count; k++) {
    const n = (from + k) % sample.lines.length;
    const attributes: KeyValue[] = [
      { key: 'log.file.name', value: stringValue(`${sample.dataset}_2k.log`) },
      { key: 'log.iostream', value: stringValue(k % 7 === 0 ? 'stderr' : 'stdout') },
      { key: 'line.number', value: intValue(n + 1) },
    ];
    if (k % 3 === 0) attributes.push({ key: 'thread.name', value: stringValue(`worker-${k % 16}`) });
    records.push(
      newLogRecord({
        timeUnixNano: unixNanosFromMillis(baseMs + n),
        observedTimeUnixNano: unixNanosFromMillis(baseMs + n, 500),
        body: stringValue(sample.lines[n]!),
        attributes,
      }),
    );
  }
  return {
    resource: {
      attributes: [
        { key: 'service.name', value: stringValue(sample.dataset.toLowerCase()) },
        { key: 'service.instance.id', value: stringValue(`${sample.dataset.toLowerCase()}-${host}`) },
        { key: 'host.name', value: stringValue(`node-${host}.bench.local`) },
        { key: 'telemetry.sdk.language', value: stringValue('nodejs') },
        { key: SENT_NS_KEY, value: stringValue('0'.repeat(STAMP_DIGITS)) },
      ],
      droppedAttributesCount: 0,
      entityRefs: [],
    },
    scopeLogs: [{ scope: { name: 'bench.loghub', version: '1.0.0', attributes: [], droppedAttributesCount: 0 }, logRecords: records, schemaUrl: '' }],
    schemaUrl: 'https://opentelemetry.io/schemas/1.26.0',
  };
}

/** Where each stamp sits: after the key come tag 0x12, len 21, AnyValue tag 0x0a, len 19. */
export function findStampOffsets(encoded: Buffer): number[] {
  const key = Buffer.from(SENT_NS_KEY);
  const tail = Buffer.from([0x12, STAMP_DIGITS + 2, 0x0a, STAMP_DIGITS]);
  const offsets: number[] = [];
  for (let i = encoded.indexOf(key); i >= 0; i = encoded.indexOf(key, i + 1)) {
    const at = i + key.length;
    if (encoded[i - 1] === key.length && encoded.subarray(at, at + tail.length).equals(tail)) offsets.push(at + tail.length);
  }
  return offsets;
}

/**
 * `count` requests of `batch` records, each with two resources (two datasets, half the records
 * each), walking every sample so consecutive requests carry different lines.
 */
export function buildRequests(samples: readonly Sample[], batch: number, count: number): BenchRequest[] {
  if (samples.length === 0) throw new Error('no samples');
  const baseMs = Date.UTC(2024, 4, 1);
  const cursor = samples.map(() => 0);
  const out: BenchRequest[] = [];
  for (let r = 0; r < count; r++) {
    const groups: ResourceLogs[] = [];
    const halves = batch > 1 ? [Math.ceil(batch / 2), Math.floor(batch / 2)] : [batch];
    halves.forEach((size, h) => {
      const s = (r + h) % samples.length;
      groups.push(resourceLogs(samples[s]!, cursor[s]!, size, (r + h) % 5, baseMs));
      cursor[s]! += size;
    });
    const template = Buffer.from(encodeLogsData({ resourceLogs: groups }));
    const stampOffsets = findStampOffsets(template);
    if (stampOffsets.length !== groups.length) throw new Error(`found ${stampOffsets.length} stamps in request ${r}, expected ${groups.length}`);
    out.push({ template, stampOffsets, records: batch });
  }
  return out;
}

/** A fresh copy of the request with the send time written in (the copy may still be in flight when the next is stamped). */
export function stampRequest(req: BenchRequest, sentNs: bigint): Buffer {
  const buf = Buffer.from(req.template);
  const digits = sentNs.toString().padStart(STAMP_DIGITS, '0');
  for (const at of req.stampOffsets) buf.write(digits, at, 'latin1');
  return buf;
}

export interface ScanResult {
  records: number;
  /** One send time per resource that carried a stamp, in ns. */
  sentNs: bigint[];
}

// Only what the sink needs: ExportLogsServiceRequest.resource_logs(1) → ResourceLogs.resource(1)
// → Resource.attributes(1) → KeyValue{key(1), value(2) → AnyValue.string_value(1)}, and
// ResourceLogs.scope_logs(2) → ScopeLogs.log_records(2), counted without being read.
const SENT_KEY_BYTES = Buffer.from(SENT_NS_KEY);

type FieldVisitor = (field: number, wireType: number, start: number, end: number) => void;

function forEachField(buf: Uint8Array, start: number, end: number, visit: FieldVisitor): void {
  let pos = start;
  const varint = (): number => {
    let result = 0;
    let mul = 1;
    for (;;) {
      if (pos >= end) throw new Error('truncated varint');
      const b = buf[pos++]!;
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result;
      mul *= 128;
      if (mul > 2 ** 63) throw new Error('varint too long');
    }
  };
  while (pos < end) {
    const tag = varint();
    const field = Math.floor(tag / 8);
    const wireType = tag & 7;
    const at = pos;
    switch (wireType) {
      case 0:
        varint();
        break;
      case 1:
        pos += 8;
        break;
      case 2: {
        const len = varint();
        if (pos + len > end) throw new Error('truncated field');
        visit(field, 2, pos, pos + len);
        pos += len;
        break;
      }
      case 5:
        pos += 4;
        break;
      default:
        throw new Error(`unsupported wire type ${wireType}`);
    }
    if (pos > end) throw new Error('truncated field');
    if (wireType !== 2) visit(field, wireType, at, pos);
  }
}

function equalBytes(buf: Uint8Array, start: number, end: number, want: Uint8Array): boolean {
  if (end - start !== want.length) return false;
  for (let i = 0; i < want.length; i++) if (buf[start + i] !== want[i]) return false;
  return true;
}

function readStamp(buf: Uint8Array, start: number, end: number): bigint | undefined {
  let stamp: bigint | undefined;
  forEachField(buf, start, end, (f, w, s, e) => {
    if (f !== 1 || w !== 2) return; // Resource.attributes
    let isKey = false;
    forEachField(buf, s, e, (kf, kw, ks, ke) => {
      if (kf === 1 && kw === 2) isKey = equalBytes(buf, ks, ke, SENT_KEY_BYTES);
      else if (kf === 2 && kw === 2 && isKey) {
        forEachField(buf, ks, ke, (vf, vw, vs, ve) => {
          if (vf === 1 && vw === 2) stamp = BigInt(Buffer.from(buf.buffer, buf.byteOffset + vs, ve - vs).toString('latin1'));
        });
      }
    });
  });
  return stamp;
}

/** Record count and send stamps of an encoded ExportLogsServiceRequest. Throws on malformed input. */
export function scanExportRequest(buf: Uint8Array): ScanResult {
  const result: ScanResult = { records: 0, sentNs: [] };
  forEachField(buf, 0, buf.length, (f, w, s, e) => {
    if (f !== 1 || w !== 2) return;
    forEachField(buf, s, e, (rf, rw, rs, re) => {
      if (rw !== 2) return;
      if (rf === 1) {
        const stamp = readStamp(buf, rs, re);
        if (stamp !== undefined) result.sentNs.push(stamp);
      } else if (rf === 2) {
        forEachField(buf, rs, re, (sf, sw) => {
          if (sf === 2 && sw === 2) result.records++;
        });
      }
    });
  });
  return result;
}

/** Mean encoded bytes per record over a request set (for MiB/s from records/s). */
export function bytesPerRecord(requests: readonly BenchRequest[]): number {
  const bytes = requests.reduce((s, r) => s + r.template.length, 0);
  const records = requests.reduce((s, r) => s + r.records, 0);
  return records === 0 ? 0 : bytes / records;
}
