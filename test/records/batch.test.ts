import Long from 'long';
import { decodeLogsData, encodeLogsData } from '../../src/otlp/codec';
import type { LogsData } from '../../src/otlp/model';
import { RecordBatch } from '../../src/records/batch';
import type { LogRecord } from '../../src/records/types';
import { batchToLogsData } from '../helpers/processors';
import { record, request } from '../helpers/builders';

/** A request whose record, scope and resource each end with unknown field 99 (a varint) and 100 (a group). */
function withUnknownFields(data: LogsData): Uint8Array {
  const bytes = encodeLogsData(data);
  // Appending an unknown field to the outermost message only needs no length rewrite.
  return Buffer.concat([bytes, Buffer.from([0x98, 0x06, 0x2a, 0xa3, 0x06, 0xa4, 0x06])]);
}

function recordsOf(batch: RecordBatch): LogRecord[] {
  return [...batch];
}

describe('record batch', () => {
  const data = request([record('first line', { severityNumber: 9, severityText: 'INFO' }), record('second line')], { 'service.name': 'svc', host: 'h1' });

  it('writes a batch nothing touched as its original bytes', () => {
    const bytes = withUnknownFields(data);
    const batch = new RecordBatch(bytes);
    for (const r of batch) void r.bodyString;
    const out = batch.encode(1000);
    expect(out).toHaveLength(1);
    expect(out[0]!.bytes).toBe(bytes);
  });

  it('reads every field of a record', () => {
    const batch = new RecordBatch(encodeLogsData(data));
    const [a, b] = recordsOf(batch);
    expect(a!.bodyString).toBe('first line');
    expect(a!.body).toEqual({ stringValue: 'first line' });
    expect(a!.severityNumber).toBe(9);
    expect(a!.severityText).toBe('INFO');
    expect(a!.timeUnixNano).toBe(1700000000123456789n);
    expect(b!.severityText).toBe('');
    expect(a!.resource).toBe(b!.resource);
    expect(a!.resource.attributes.getString('service.name')).toBe('svc');
    expect(a!.scope.name).toBe('test-scope');
    expect(a!.scope.version).toBe('1');
  });

  it.each([
    ['a negative severity number (a 10-byte varint)', { severityNumber: -1 }, (r: LogRecord) => r.severityNumber, -1],
    ['the largest dropped attributes count', { droppedAttributesCount: 0xffffffff }, (r: LogRecord) => r.droppedAttributesCount, 0xffffffff],
    ['all flags', { flags: 0xffffffff }, (r: LogRecord) => r.flags, 0xffffffff],
    ['the largest observed time', { observedTimeUnixNano: Long.MAX_UNSIGNED_VALUE }, (r: LogRecord) => r.observedTimeUnixNano, 0xffffffffffffffffn],
  ])('reads %s exactly', (_name, fields, read, expected) => {
    const batch = new RecordBatch(encodeLogsData(request([record('x', fields)])));
    expect(read(recordsOf(batch)[0]!)).toBe(expected);
  });

  it('keeps unknown fields of the request through a change to a record', () => {
    const bytes = withUnknownFields(data);
    const batch = new RecordBatch(bytes);
    recordsOf(batch)[1]!.severityNumber = 17;
    const out = batch.encode(1000)[0]!.bytes;
    expect(Buffer.from(out.subarray(out.length - 7))).toEqual(Buffer.from([0x98, 0x06, 0x2a, 0xa3, 0x06, 0xa4, 0x06]));
    const decoded = decodeLogsData(out);
    expect(decoded.resourceLogs[0]!.scopeLogs[0]!.logRecords[1]!.severityNumber).toBe(17);
    expect(decoded.resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!.severityNumber).toBe(9);
  });

  it.each([
    ['severity', (r: LogRecord) => ((r.severityNumber = 21), (r.severityText = 'FATAL')), { severityNumber: 21, severityText: 'FATAL' }],
    ['body', (r: LogRecord) => (r.body = { kvlistValue: { values: [{ key: 'k', value: { intValue: -5n } }] } }), { body: { kvlistValue: { values: [{ key: 'k', value: { intValue: Long.fromInt(-5) } }] } } }],
    ['time at the 64-bit edge', (r: LogRecord) => (r.timeUnixNano = 0xffffffffffffffffn), { timeUnixNano: Long.fromString('18446744073709551615', true) }],
    ['ids', (r: LogRecord) => ((r.traceId = new Uint8Array(16).fill(1)), (r.spanId = new Uint8Array(8).fill(2))), { traceId: new Uint8Array(16).fill(1), spanId: new Uint8Array(8).fill(2) }],
    ['event name and flags', (r: LogRecord) => ((r.eventName = 'e'), (r.flags = 0xffffffff)), { eventName: 'e', flags: 0xffffffff }],
  ])('writes a changed %s and keeps the other fields', (_name, change, expected) => {
    const batch = new RecordBatch(encodeLogsData(data));
    change(recordsOf(batch)[0]!);
    const rec = batchToLogsData(batch).resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!;
    expect(rec).toMatchObject(expected);
    expect(rec.timeUnixNano.toString()).toBe('timeUnixNano' in expected ? expected.timeUnixNano.toString() : '1700000000123456789');
  });

  it('sets, replaces and deletes attributes, shared resource ones once', () => {
    const batch = new RecordBatch(encodeLogsData(data));
    const [a, b] = recordsOf(batch);
    a!.attributes.set('x', 'y');
    a!.attributes.set('n', 3n);
    a!.attributes.set('x', true);
    b!.resource.attributes.set('region', 'eu');
    b!.resource.attributes.delete('host');
    expect([...a!.attributes.keys()]).toEqual(['x', 'n']);
    const rl = batchToLogsData(batch).resourceLogs[0]!;
    expect(rl.resource!.attributes.map((kv) => kv.key)).toEqual(['service.name', 'region']);
    expect(rl.scopeLogs[0]!.logRecords[0]!.attributes).toEqual([
      { key: 'x', value: { boolValue: true } },
      { key: 'n', value: { intValue: Long.fromInt(3) } },
    ]);
  });

  it('reads a key written twice inside one attribute as its last occurrence, as decoders do', () => {
    const kv = Buffer.from([0x0a, 0x01, 0x61, 0x12, 0x03, 0x0a, 0x01, 0x78, 0x0a, 0x01, 0x62]); // key "a", value "x", key "b"
    const rec = Buffer.concat([Buffer.from([0x32, kv.length]), kv]);
    const wrap = (tag: number, b: Buffer): Buffer => Buffer.concat([Buffer.from([tag, b.length]), b]);
    const bytes = wrap(0x0a, wrap(0x12, wrap(0x12, rec)));
    expect(decodeLogsData(bytes).resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!.attributes[0]!.key).toBe('b');
    const [r] = recordsOf(new RecordBatch(bytes));
    expect(r!.attributes.getString('b')).toBe('x');
    expect(r!.attributes.has('a')).toBe(false);
  });

  it('drops records, removes the scopes and resources they empty, and counts by reason', () => {
    const two = { resourceLogs: [...data.resourceLogs, ...request([record('other')]).resourceLogs] };
    const batch = new RecordBatch(encodeLogsData(two));
    const recs = recordsOf(batch);
    recs[2]!.drop('filtered');
    recs[0]!.drop('sampled_out');
    recs[0]!.drop('again');
    expect(batch.size).toBe(1);
    expect([...batch.takeDrops()!]).toEqual([
      ['filtered', 1],
      ['sampled_out', 1],
    ]);
    const out = batchToLogsData(batch);
    expect(out.resourceLogs).toHaveLength(1);
    expect(out.resourceLogs[0]!.scopeLogs[0]!.logRecords.map((r) => r.body?.stringValue)).toEqual(['second line']);
  });

  it('keeps the scopes and resources that arrived empty when drops empty others', () => {
    const emptied = request([record('dropped')]).resourceLogs[0]!;
    const arrivedEmpty = request([]).resourceLogs[0]!;
    const mixed = request([record('kept')]).resourceLogs[0]!;
    mixed.scopeLogs.push(request([record('dropped too')]).resourceLogs[0]!.scopeLogs[0]!);
    const noScopes = { ...request([]).resourceLogs[0]!, scopeLogs: [] };
    const batch = new RecordBatch(encodeLogsData({ resourceLogs: [emptied, arrivedEmpty, mixed, noScopes] }));
    for (const r of batch) if (r.bodyString !== 'kept') r.drop('filtered');
    const out = batchToLogsData(batch);
    expect(out.resourceLogs.map((rl) => rl.scopeLogs.map((sl) => sl.logRecords.length))).toEqual([[0], [1], []]);
  });

  it('adds records into a record’s scope and under a resource of their own', () => {
    const batch = new RecordBatch(encodeLogsData(data));
    const [a] = recordsOf(batch);
    const origin = { resource: { 'service.name': 'olp' }, scope: { name: 'summary' } };
    batch.add({ body: 'added', severityNumber: 9 }, a);
    batch.add({ body: 'summary 1', attributes: { n: 1n } }, origin);
    batch.add({ body: 'summary 2' }, origin);
    expect(batch.size).toBe(5);
    const out = batchToLogsData(batch);
    expect(out.resourceLogs.map((rl) => rl.scopeLogs[0]!.logRecords.map((r) => r.body?.stringValue))).toEqual([
      ['first line', 'second line', 'added'],
      ['summary 1', 'summary 2'],
    ]);
    expect(out.resourceLogs[1]!.scopeLogs[0]!.scope!.name).toBe('summary');
  });

  it('writes each request into memory of its own, so a worker thread can transfer it without a copy', () => {
    for (const n of [1, 300]) {
      const batch = new RecordBatch(encodeLogsData(request(Array.from({ length: n }, (_, i) => record(`line ${i}`)))));
      for (const r of batch) r.severityNumber = 9;
      const [out] = batch.encode(1000);
      expect(out!.bytes.byteOffset).toBe(0);
      expect(out!.bytes.byteLength).toBe(out!.bytes.buffer.byteLength);
    }
  });

  it('splits into requests of at most N records, repeating resource and scope', () => {
    const batch = new RecordBatch(encodeLogsData(request(Array.from({ length: 5 }, (_, i) => record(`line ${i}`)))));
    const parts = batch.encode(2);
    expect(parts.map((p) => p.records)).toEqual([2, 2, 1]);
    for (const p of parts) expect(decodeLogsData(p.bytes).resourceLogs[0]!.resource!.attributes[0]!.key).toBe('service.name');
  });

  it('writes per exporter only the records routed to it', () => {
    const batch = new RecordBatch(encodeLogsData(data));
    const [a, b] = recordsOf(batch);
    batch.setRoutes(a!, 0b01);
    batch.setRoutes(b!, 0b11);
    expect(batch.countFor(0)).toBe(2);
    expect(batch.countFor(1)).toBe(1);
    const one = decodeLogsData(batch.encode(100, 1)[0]!.bytes);
    expect(one.resourceLogs[0]!.scopeLogs[0]!.logRecords.map((r) => r.body?.stringValue)).toEqual(['second line']);
  });

  it('undoes every change, drop and addition of a pass on rollback', () => {
    const bytes = encodeLogsData(data);
    const batch = new RecordBatch(bytes);
    const [a, b] = recordsOf(batch);
    batch.begin();
    a!.severityNumber = 1;
    a!.attributes.set('k', 'v');
    a!.resource.attributes.set('r', 'v');
    a!.scope.name = 'changed';
    b!.drop('x');
    batch.add({ body: 'new' }, a);
    batch.add({ body: 'new' }, {});
    batch.rollback();
    expect(batch.size).toBe(2);
    expect(batch.takeDrops()).toBeUndefined();
    expect(decodeLogsData(batch.encode(100)[0]!.bytes)).toEqual(decodeLogsData(bytes));
  });

  it('undoes a resource and scope change made before their attributes were first read', () => {
    const bytes = encodeLogsData(data);
    const batch = new RecordBatch(bytes);
    const [a] = recordsOf(batch);
    batch.begin();
    a!.resource.droppedAttributesCount = 3;
    a!.resource.attributes.set('added', 'x');
    a!.scope.version = '2';
    a!.scope.attributes.set('added', 'y');
    batch.rollback();
    expect(a!.resource.attributes.has('added')).toBe(false);
    expect(a!.scope.attributes.has('added')).toBe(false);
    expect(decodeLogsData(batch.encode(100)[0]!.bytes)).toEqual(decodeLogsData(bytes));
  });

  it('keeps the changes of earlier passes when a later one rolls back', () => {
    const batch = new RecordBatch(encodeLogsData(data));
    const [a] = recordsOf(batch);
    batch.begin();
    a!.attributes.set('kept', 'yes');
    batch.commit();
    batch.begin();
    a!.attributes.set('kept', 'no');
    a!.attributes.set('lost', 'yes');
    batch.rollback();
    expect([...a!.attributes]).toEqual([['kept', { stringValue: 'yes' }]]);
  });
});
