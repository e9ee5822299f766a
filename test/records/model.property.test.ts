/**
 * The record model against the decoder: random requests, random edits applied both to the
 * decoded objects (the reference) and through the record API; the written bytes must decode to
 * the reference. And unknown fields inside records survive whatever else a processor changes.
 */
import fc from 'fast-check';
import Long from 'long';
import { decodeLogsData, encodeLogsData } from '../../src/otlp/codec';
import type { AnyValue as WireValue, KeyValue as WireKeyValue, LogRecord as WireRecord, LogsData, ResourceLogs, ScopeLogs } from '../../src/otlp/model';
import { RecordBatch } from '../../src/records/batch';
import type { AnyValue } from '../../src/records/types';
import { anySeverity, anyValueArb, logsDataArb } from '../helpers/arbitraries';
import { UNKNOWN_IN_RECORD, withFieldsInRecords } from '../helpers/wire';

const RUNS = Number(process.env.FUZZ_RUNS ?? 2000);

/** protobufjs value (Long ints, nulls) → record API value (bigint). */
function toApi(v: WireValue | null | undefined): AnyValue {
  if (!v) return {};
  if (v.stringValue != null) return { stringValue: v.stringValue };
  if (v.boolValue != null) return { boolValue: v.boolValue };
  if (v.intValue != null) return { intValue: BigInt(v.intValue.toString()) };
  if (v.doubleValue != null) return { doubleValue: v.doubleValue };
  if (v.bytesValue != null) return { bytesValue: v.bytesValue };
  if (v.arrayValue != null) return { arrayValue: { values: v.arrayValue.values.map(toApi) } };
  if (v.kvlistValue != null) return { kvlistValue: { values: v.kvlistValue.values.map((kv) => ({ key: kv.key, value: toApi(kv.value) })) } };
  return {};
}

type Edit =
  | { op: 'severity'; at: number; n: number; text: string }
  | { op: 'body'; at: number; value: WireValue }
  | { op: 'time'; at: number; t: bigint }
  | { op: 'set'; at: number; key: string; value: WireValue }
  | { op: 'delete'; at: number; key: string }
  | { op: 'resource'; at: number; key: string; value: string }
  | { op: 'scope'; at: number; name: string }
  | { op: 'drop'; at: number }
  | { op: 'add'; at: number; body: string };

const keyArb = fc.constantFrom('a', 'b', 'service.name', 'k');
const editArb: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ op: fc.constant('severity' as const), at: fc.nat(), n: fc.integer({ min: 0, max: 24 }), text: fc.constantFrom('', 'WARN', 'ü') }),
  fc.record({ op: fc.constant('body' as const), at: fc.nat(), value: anyValueArb }),
  fc.record({ op: fc.constant('time' as const), at: fc.nat(), t: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }) }),
  fc.record({ op: fc.constant('set' as const), at: fc.nat(), key: keyArb, value: anyValueArb }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), key: keyArb }),
  fc.record({ op: fc.constant('resource' as const), at: fc.nat(), key: keyArb, value: fc.string({ maxLength: 5 }) }),
  fc.record({ op: fc.constant('scope' as const), at: fc.nat(), name: fc.string({ maxLength: 5 }) }),
  fc.record({ op: fc.constant('drop' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('add' as const), at: fc.nat(), body: fc.string({ maxLength: 5 }) }),
);

interface Slot {
  rec: WireRecord;
  sl: ScopeLogs;
  rl: ResourceLogs;
}

function upsert(list: WireKeyValue[], key: string, value: WireValue): void {
  const i = list.findIndex((kv) => kv.key === key);
  if (i < 0) list.push({ key, value });
  else list[i] = { key, value };
}

/** Applies the edits to the decoded objects the way the record API defines them. */
function reference(data: LogsData, edits: readonly Edit[]): LogsData {
  const dropped = new Set<WireRecord>();
  // In request order, as the batch iterates.
  const live = (): Slot[] => {
    const slots: Slot[] = [];
    for (const rl of data.resourceLogs) for (const sl of rl.scopeLogs) for (const rec of sl.logRecords) if (!dropped.has(rec)) slots.push({ rec, sl, rl });
    return slots;
  };
  for (const e of edits) {
    const alive = live();
    if (alive.length === 0) break;
    const s = alive[e.at % alive.length]!;
    switch (e.op) {
      case 'severity':
        s.rec.severityNumber = e.n;
        s.rec.severityText = e.text;
        break;
      case 'body':
        s.rec.body = e.value;
        break;
      case 'time':
        s.rec.timeUnixNano = Long.fromString(e.t.toString(), true);
        break;
      case 'set':
        upsert(s.rec.attributes, e.key, e.value);
        break;
      case 'delete':
        s.rec.attributes = s.rec.attributes.filter((kv) => kv.key !== e.key);
        break;
      case 'resource':
        s.rl.resource ??= { attributes: [], droppedAttributesCount: 0, entityRefs: [] };
        upsert(s.rl.resource.attributes, e.key, { stringValue: e.value });
        break;
      case 'scope':
        s.sl.scope ??= { name: '', version: '', attributes: [], droppedAttributesCount: 0 };
        s.sl.scope.name = e.name;
        break;
      case 'drop':
        dropped.add(s.rec);
        break;
      case 'add':
        s.sl.logRecords.push({ body: { stringValue: e.body }, attributes: [] as WireKeyValue[] } as WireRecord);
    }
  }
  // Scopes and resources the drops emptied go; the others stay as they are.
  const resourceLogs = data.resourceLogs
    .map((rl) => ({ ...rl, scopeLogs: rl.scopeLogs.map((sl) => ({ ...sl, logRecords: sl.logRecords.filter((r) => !dropped.has(r)) })).filter((sl, i) => sl.logRecords.length > 0 || rl.scopeLogs[i]!.logRecords.length === 0) }))
    .filter((rl, i) => rl.scopeLogs.length > 0 || data.resourceLogs[i]!.scopeLogs.length === 0);
  return { resourceLogs };
}

function applyToBatch(batch: RecordBatch, edits: readonly Edit[]): void {
  for (const e of edits) {
    const alive = batch.records().filter((r) => !r.dropped);
    if (alive.length === 0) break;
    const r = alive[e.at % alive.length]!;
    switch (e.op) {
      case 'severity':
        r.severityNumber = e.n;
        r.severityText = e.text;
        break;
      case 'body':
        r.body = toApi(e.value);
        break;
      case 'time':
        r.timeUnixNano = e.t;
        break;
      case 'set':
        r.attributes.set(e.key, toApi(e.value));
        break;
      case 'delete':
        r.attributes.delete(e.key);
        break;
      case 'resource':
        r.resource.attributes.set(e.key, e.value);
        break;
      case 'scope':
        r.scope.name = e.name;
        break;
      case 'drop':
        r.drop('x');
        break;
      case 'add':
        batch.add({ body: e.body }, r);
    }
  }
}

function written(batch: RecordBatch): LogsData {
  const parts = batch.encode(Number.MAX_SAFE_INTEGER);
  return parts.length === 0 ? { resourceLogs: [] } : decodeLogsData(parts[0]!.bytes);
}

function normalised(data: LogsData): LogsData {
  return decodeLogsData(encodeLogsData(data));
}

function occurrences(hay: Uint8Array, needle: readonly number[]): number {
  let n = 0;
  const b = Buffer.from(hay);
  const nb = Buffer.from(needle);
  for (let i = b.indexOf(nb); i >= 0; i = b.indexOf(nb, i + 1)) n++;
  return n;
}

describe('record model against the decoder', () => {
  it('writes what the same edits make of the decoded request', () => {
    fc.assert(
      fc.property(logsDataArb(anySeverity), fc.array(editArb, { maxLength: 8 }), (data, edits) => {
        const bytes = encodeLogsData(data);
        const batch = new RecordBatch(bytes);
        applyToBatch(batch, edits);
        expect(written(batch)).toEqual(normalised(reference(decodeLogsData(bytes), edits)));
      }),
      { numRuns: RUNS },
    );
  });

  it('keeps unknown fields and groups inside every record it writes back', () => {
    fc.assert(
      fc.property(logsDataArb(anySeverity), fc.array(editArb.filter((e) => e.op !== 'add'), { maxLength: 6 }), (data, edits) => {
        const bytes = withFieldsInRecords(encodeLogsData(data));
        const batch = new RecordBatch(bytes);
        applyToBatch(batch, edits);
        const parts = batch.encode(Number.MAX_SAFE_INTEGER);
        const out = parts.length === 0 ? new Uint8Array(0) : parts[0]!.bytes;
        expect(occurrences(out, UNKNOWN_IN_RECORD)).toBe(batch.size);
      }),
      { numRuns: RUNS },
    );
  });

  it('writes a request nothing changed as its own bytes, whatever was read', () => {
    fc.assert(
      fc.property(logsDataArb(anySeverity), (data) => {
        const bytes = encodeLogsData(data);
        const batch = new RecordBatch(bytes);
        for (const r of batch) {
          void [r.body, r.bodyString, r.severityText, r.timeUnixNano, [...r.attributes], [...r.resource.attributes], r.scope.name, r.traceId, r.flags];
        }
        expect(batch.encode(Number.MAX_SAFE_INTEGER)[0]!.bytes).toBe(bytes);
      }),
      { numRuns: Math.min(RUNS, 500) },
    );
  });
});
