import Long from 'long';
import { builtinProcessors } from '../../src/processors/registry';
import { transformProcessor, type TransformProcessor } from '../../src/processors/transform';
import { parseTransformActions } from '../../src/transform/actions';
import { encodeLogsData } from '../../src/otlp/codec';
import type { AnyValue, KeyValue, LogRecord, LogsData } from '../../src/otlp/model';
import { anyValueKind, anyValueToString, getAttribute, intValue, stringValue } from '../../src/otlp/values';
import { BatchView, RecordBatch } from '../../src/records/batch';
import { batchToLogsData, createProcessor, runProcessor } from '../helpers/processors';
import { attrs, record, request } from '../helpers/builders';
import { exportLogs } from '../helpers/grpc-client';
import { useServiceFixture } from '../helpers/service-fixture';
import { startTestService } from '../helpers/service';

function make(actions: unknown): TransformProcessor {
  return createProcessor(transformProcessor, { actions: parseTransformActions(actions) }) as TransformProcessor;
}

function run(p: TransformProcessor, data: LogsData): LogsData {
  const { out, drops } = runProcessor(p, data);
  expect(drops).toEqual({});
  return out;
}

/** Runs the processor on a record batch of `data` and returns the batch, to look at the records themselves. */
function runBatch(p: TransformProcessor, data: LogsData | Uint8Array): RecordBatch {
  const batch = new RecordBatch(data instanceof Uint8Array ? data : encodeLogsData(data));
  batch.begin();
  p.process(batch);
  batch.commit();
  return batch;
}

function records(data: LogsData): LogRecord[] {
  return data.resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords));
}

/** Typed rendering so that tests see int vs string vs structured. */
function show(v: AnyValue | null | undefined): unknown {
  // Own properties only: decoded messages carry every member's default on the prototype.
  switch (anyValueKind(v)) {
    case undefined:
      return undefined;
    case 'intValue':
      return `int:${v!.intValue!.toString()}`;
    case 'doubleValue':
      return `double:${v!.doubleValue}`;
    case 'boolValue':
      return `bool:${v!.boolValue}`;
    default:
      return anyValueToString(v);
  }
}
const plain = (list: readonly KeyValue[]): Record<string, unknown> => Object.fromEntries(list.map((kv) => [kv.key, show(kv.value)]));
const kv = (entries: Record<string, AnyValue>): AnyValue => ({ kvlistValue: { values: Object.entries(entries).map(([key, value]) => ({ key, value })) } });

/** Runs actions on one record and returns its attributes (plain) and body. */
function one(actions: unknown, input: Record<string, string>, fields: Partial<LogRecord> = {}): { attrs: Record<string, unknown>; body: unknown; rec: LogRecord } {
  const rec = records(run(make(actions), request([record('the body', { attributes: attrs(input), ...fields })])))[0]!;
  return { attrs: plain(rec.attributes), body: show(rec.body), rec };
}

const SHA_ABC = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';

describe('transform processor: record attributes', () => {
  test.each<[string, string, Record<string, string>, Record<string, unknown>]>([
    ['copy adds the target', 'copy a=b', { a: '1' }, { a: '1', b: '1' }],
    ['copy overwrites the target in place', 'copy a=b', { b: '0', a: '1' }, { b: '1', a: '1' }],
    ['copy of a missing field does nothing', 'copy nope=b', { a: '1' }, { a: '1' }],
    ['move (rename) removes the source', 'move a=b', { a: '1', c: '2' }, { c: '2', b: '1' }],
    ['rename is move', 'rename a=b', { a: '1' }, { b: '1' }],
    ['move onto itself keeps the field', 'move a=a', { a: '1' }, { a: '1' }],
    ['move of a missing field does nothing', 'move nope=b', { b: '1' }, { b: '1' }],
    ['delete', 'delete a', { a: '1', b: '2' }, { b: '2' }],
    ['hash replaces with SHA-256 hex', 'hash user.email', { 'user.email': 'abc' }, { 'user.email': SHA_ABC }],
    ['hash of a missing field does nothing', 'hash user.email', { a: 'abc' }, { a: 'abc' }],
    ['truncate by UTF-8 bytes', 'truncate m=4', { m: 'a€bc' }, { m: 'a€' }],
    ['truncate keeps short values', 'truncate m=4', { m: 'abcd' }, { m: 'abcd' }],
    ['truncate of a missing field does nothing', 'truncate m=4', {}, {}],
    ['convert string → int', 'convert s=int', { s: '200' }, { s: 'int:200' }],
    ['convert beyond 2^53 is exact', 'convert s=int', { s: '-9223372036854775807' }, { s: 'int:-9223372036854775807' }],
    ['convert string → double', 'convert s=double', { s: '0.25' }, { s: 'double:0.25' }],
    ['convert string → bool', 'convert s=bool', { s: 'false' }, { s: 'bool:false' }],
    ['failed convert leaves the value', 'convert s=int', { s: 'abc' }, { s: 'abc' }],
    ['convert of a missing field does nothing', 'convert s=int', {}, {}],
    ['set a literal', 'set env=prod', {}, { env: 'prod' }],
    ['set from a template', 'set summary={severity_text} {attributes.http.method} {body}', { 'http.method': 'GET' }, { 'http.method': 'GET', summary: 'INFO GET the body' }],
    ['set renders missing fields empty', 'set s=[{nope}|{event_name}]', {}, { s: '[|]' }],
    ['set with literal braces and percent-encoded ;', 'set s={{x}}%3B{a}', { a: '1' }, { a: '1', s: '{x};1' }],
    ['actions apply in order', 'copy a=b; hash b; truncate b=8; convert a=int; set c={a}/{b}', { a: '7' }, { a: 'int:7', b: '7902699b', c: '7/7902699b' }],
  ])('%s', (_name, actions, input, expected) => {
    expect(one(actions, input, { severityText: 'INFO' }).attrs).toEqual(expected);
  });

  test('convert counts failures in counts', () => {
    const p = make('convert s=int; convert t=int');
    run(p, request([record('x', { attributes: attrs({ s: 'x', t: '1' }) }), record('y', { attributes: attrs({ s: 'y' }) })]));
    expect(p.counts.get('convert_failed')).toBe(2);
  });

  test('convert keeps 64-bit ints exact in both directions', () => {
    const rec = record('x', { attributes: [{ key: 'n', value: intValue(Long.fromString('9007199254740993')) }] });
    const out = records(run(make('convert n=string; copy n=m; convert m=int'), request([rec])))[0]!;
    expect(plain(out.attributes)).toEqual({ n: '9007199254740993', m: 'int:9007199254740993' });
  });

  test('limit keeps the first N attributes and adds the rest to dropped_attributes_count', () => {
    const { attrs: out, rec } = one('limit 2', { a: '1', b: '2', c: '3', d: '4' }, { droppedAttributesCount: 5 });
    expect(out).toEqual({ a: '1', b: '2' });
    expect(rec.droppedAttributesCount).toBe(7);
    const under = one('limit 10', { a: '1' });
    expect(under.rec.droppedAttributesCount).toBe(0);
  });

  test('limit 0 removes every attribute', () => {
    const { attrs: out, rec } = one('limit 0', { a: '1', b: '2' });
    expect(out).toEqual({});
    expect(rec.droppedAttributesCount).toBe(2);
  });

  test('limit with a repeated key keeps its first entry and cuts the later ones', () => {
    const repeated = [...attrs({ a: '1', b: '2' }), { key: 'a', value: stringValue('3') }, ...attrs({ c: '4' })];
    const rec = records(run(make('limit 2'), request([record('x', { attributes: repeated })])))[0]!;
    expect(rec.attributes.map((e) => [e.key, show(e.value)])).toEqual([
      ['a', '1'],
      ['b', '2'],
    ]);
    expect(rec.droppedAttributesCount).toBe(2);
  });

  test('copies get their own value objects', () => {
    const [rec] = runBatch(make('copy a=b'), request([record('x', { attributes: attrs({ a: '1' }) })]));
    expect(rec!.attributes.get('b')).toEqual({ stringValue: '1' });
    expect(rec!.attributes.get('a')).not.toBe(rec!.attributes.get('b'));
  });
});

describe('transform processor: body and typed fields', () => {
  test('move attribute → body and body → attribute keep AnyValue types', () => {
    const structured = kv({ user: stringValue('bob'), n: intValue(Long.fromString('9007199254740993')) });
    const rec = record('x', { body: structured, attributes: [{ key: 'msg', value: stringValue('hello') }] });
    const out = records(run(make('move body=attributes.original; move attributes.msg=body'), request([rec])))[0]!;
    expect(show(out.body)).toBe('hello');
    const original = getAttribute(out.attributes, 'original')!;
    expect(original.kvlistValue!.values.map((e) => [e.key, show(e.value)])).toEqual([
      ['user', 'bob'],
      ['n', 'int:9007199254740993'],
    ]);
    expect(getAttribute(out.attributes, 'msg')).toBeUndefined();
  });

  test('moving the body away unsets it', () => {
    const out = one('move body=attributes.b', {});
    expect(out.body).toBeUndefined();
    expect(out.attrs).toEqual({ b: 'the body' });
  });

  test('typed fields read, write and delete', () => {
    const { rec } = one('copy level=severity_text; move sev=severity_number; set event_name=e.{level}; delete x', { level: 'WARN', sev: '13', x: '1' });
    expect(rec.severityText).toBe('WARN');
    expect(rec.severityNumber).toBe(13);
    expect(rec.eventName).toBe('e.WARN');
    expect(plain(rec.attributes)).toEqual({ level: 'WARN' });
  });

  test('an invalid severity_number is counted and the source kept', () => {
    const p = make('move sev=severity_number');
    const rec = records(run(p, request([record('x', { attributes: attrs({ sev: '99' }), severityNumber: 9 })])))[0]!;
    expect(rec.severityNumber).toBe(9);
    expect(plain(rec.attributes)).toEqual({ sev: '99' });
    expect(p.counts.get('invalid_severity_number')).toBe(1);
  });

  test('truncate and hash work on the body and severity_text', () => {
    const { rec } = one('truncate body=3; hash severity_text', {}, { severityText: 'abc' });
    expect(show(rec.body)).toBe('the');
    expect(rec.severityText).toBe(SHA_ABC);
  });

  test('convert leaves a structured body unchanged and counts it', () => {
    const p = make('convert body=string');
    const bytes = encodeLogsData(request([record('x', { body: kv({ a: stringValue('1') }) })]));
    // Nothing written: the batch goes out as the bytes it came as.
    expect(runBatch(p, bytes).encode(Number.MAX_SAFE_INTEGER)[0]!.bytes).toBe(bytes);
    expect(p.counts.get('convert_failed')).toBe(1);
  });
});

describe('transform processor: resource and scope', () => {
  test('moves into the resource when every record agrees', () => {
    const data = request([record('a', { attributes: attrs({ 'host.name': 'h1', x: '1' }) }), record('b', { attributes: attrs({ 'host.name': 'h1' }) })]);
    const p = make('move attributes.host.name=resource.host.name');
    const out = run(p, data);
    expect(plain(out.resourceLogs[0]!.resource!.attributes)).toEqual({ 'service.name': 'test', 'host.name': 'h1' });
    expect(records(out).map((r) => plain(r.attributes))).toEqual([{ x: '1' }, {}]);
    expect(p.counts.size).toBe(0);
  });

  test.each([
    ['records disagree', { 'host.name': 'h2' }],
    ['a record lacks the field', {} as Record<string, string>],
  ])('leaves resource and records unchanged when %s, and counts a conflict', (_name, second) => {
    const data = request([record('a', { attributes: attrs({ 'host.name': 'h1' }) }), record('b', { attributes: attrs(second) })]);
    const p = make('move host.name=resource.host.name');
    const out = run(p, data);
    expect(plain(out.resourceLogs[0]!.resource!.attributes)).toEqual({ 'service.name': 'test' });
    expect(records(out).map((r) => plain(r.attributes))).toEqual([{ 'host.name': 'h1' }, second]);
    expect(p.counts.get('resource_conflict')).toBe(1);
  });

  test('scope fields are decided per scope and modified once per scope', () => {
    const data = request([record('a', { attributes: attrs({ lib: 'x' }) })]);
    const second = request([record('b', { attributes: attrs({ lib: 'y' }) }), record('c', { attributes: attrs({ lib: 'y' }) })]).resourceLogs[0]!.scopeLogs[0]!;
    second.scope!.attributes = attrs({ n: '5' });
    data.resourceLogs[0]!.scopeLogs.push(second);
    const out = run(make('move lib=scope.lib; convert scope.n=int'), data);
    expect(out.resourceLogs[0]!.scopeLogs.map((sl) => plain(sl.scope!.attributes))).toEqual([{ lib: 'x' }, { n: 'int:5', lib: 'y' }]);
    expect(records(out).map((r) => plain(r.attributes))).toEqual([{}, {}, {}]);
  });

  test('under a where, the resource is decided on the records the processor sees', () => {
    const data = request([record('a', { attributes: attrs({ h: '1' }) }), record('b', { attributes: attrs({ h: '2' }) }), record('c', { attributes: attrs({ h: '1' }) })]);
    const batch = new RecordBatch(encodeLogsData(data));
    const p = make('move h=resource.h');
    batch.begin();
    p.process(new BatchView(batch, batch.records().filter((r) => r.bodyString !== 'b')));
    batch.commit();
    const out = batchToLogsData(batch);
    expect(plain(out.resourceLogs[0]!.resource!.attributes)).toEqual({ 'service.name': 'test', h: '1' });
    expect(records(out).map((r) => plain(r.attributes))).toEqual([{}, { h: '2' }, {}]);
    expect(p.counts.size).toBe(0);
  });

  test('each ResourceLogs is decided on its own records', () => {
    const data = request([record('a', { attributes: attrs({ h: '1' }) })]);
    data.resourceLogs.push(request([record('b', { attributes: attrs({ h: '2' }) })], {}).resourceLogs[0]!);
    const out = run(make('copy h=resource.h'), data);
    expect(out.resourceLogs.map((rl) => plain(rl.resource!.attributes))).toEqual([{ 'service.name': 'test', h: '1' }, { h: '2' }]);
  });

  test('set into the resource from a template needs equal renderings', () => {
    const data = request([record('a', { severityText: 'INFO' }), record('b', { severityText: 'INFO' })]);
    expect(plain(run(make('set resource.lvl=L:{severity_text}'), data).resourceLogs[0]!.resource!.attributes)).toMatchObject({ lvl: 'L:INFO' });
  });

  test('moves from the resource into every record, each with its own copy', () => {
    const data = request([record('a'), record('b')], { 'service.name': 'svc', 'host.name': 'h' });
    const out = run(make('move resource.host.name=attributes.host'), data);
    expect(plain(out.resourceLogs[0]!.resource!.attributes)).toEqual({ 'service.name': 'svc' });
    expect(records(out).map((r) => plain(r.attributes))).toEqual([{ host: 'h' }, { host: 'h' }]);
    const [a, b] = runBatch(make('move resource.host.name=attributes.host'), data);
    expect(a!.attributes.get('host')).not.toBe(b!.attributes.get('host'));
  });

  test('reads resource and scope fields in templates, and writes scope attributes', () => {
    const data = request([record('a')], { 'service.name': 'svc' });
    const out = run(make('set where={resource.service.name}/{scope.lib}; copy where=scope.lib; set again={scope.lib}'), data);
    expect(plain(records(out)[0]!.attributes)).toEqual({ where: 'svc/', again: 'svc/' });
    expect(plain(out.resourceLogs[0]!.scopeLogs[0]!.scope!.attributes)).toEqual({ lib: 'svc/' });
  });

  test('modifies resource fields once and creates a missing resource on write', () => {
    const data = request([record('a'), record('b')], { token: 'abc' });
    const out = run(make('hash resource.token'), data);
    expect(plain(out.resourceLogs[0]!.resource!.attributes)).toEqual({ token: SHA_ABC });
    const bare = request([record('a', { attributes: attrs({ k: 'v' }) })]);
    bare.resourceLogs[0]!.resource = null;
    expect(plain(run(make('copy k=resource.k'), bare).resourceLogs[0]!.resource!.attributes)).toEqual({ k: 'v' });
  });
});

describe('transform action parsing', () => {
  test('env and YAML forms give the same actions', () => {
    const env = parseTransformActions('copy a=b; move a=body; delete x; hash e; truncate m=256; limit 64; convert s=INT; set t={body} x');
    const yaml = parseTransformActions([
      { action: 'copy', from: 'a', to: 'b' },
      { action: 'move', from: 'a', to: 'body' },
      { action: 'delete', field: 'x' },
      { action: 'hash', field: 'e' },
      { action: 'truncate', field: 'm', max_bytes: 256 },
      { action: 'limit', max: 64 },
      { action: 'convert', field: 's', type: 'int' },
      { action: 'set', field: 't', template: '{body} x' },
    ]);
    expect(env).toEqual(yaml);
    expect(parseTransformActions('')).toEqual([]);
  });

  test.each([
    ['explode a', /cannot parse action "explode a": unknown action/],
    ['copy a', /cannot parse action "copy a": expected "copy FROM=TO"/],
    ['hash a=b', /expected "hash FIELD"/],
    ['truncate m=abc', /expected "truncate FIELD=MAX_BYTES"/],
    ['truncate m=0', /size must be at least 1/],
    ['limit', /expected "limit MAX"/],
    ['convert s=float', /expected "convert FIELD=string\|int\|double\|bool"/],
    ['convert severity_text=int', /convert applies to body, attributes/],
    ['hash severity_number', /does not apply to severity_number/],
    ['set a={body', /cannot parse action "set a=\{body": template .* not closed/],
    ['set a=50%', /bad percent-encoding/],
    ['copy resource=b', /needs a key/],
  ])('rejects %j', (text, message) => {
    expect(() => parseTransformActions(text)).toThrow(message);
  });

  test.each([
    [[{ action: 'copy', from: 'a' }], /action 1 .*to:/],
    [[{ action: 'limit', max: 1 }, { action: 'truncate', field: 'a', max_bytes: 0 }], /action 2 .*max_bytes: must be at least 1/],
    [[{ action: 'set', field: 'a', template: '}' }], /action 1 .*unmatched/],
    [[{ action: 'nope' }], /action 1/],
  ])('rejects the YAML actions %j', (list, message) => {
    expect(() => parseTransformActions(list)).toThrow(message);
  });
});

describe('transform end to end', () => {
  const f = useServiceFixture();

  test('transforms records between the receiver and the exporter', async () => {
    f.service = await startTestService(
      {
        OTEL_EXPORTER_OTLP_ENDPOINT: f.sink.endpoint,
        OLP_PROCESSORS: 'transform',
        OLP_TRANSFORM_ACTIONS:
          'copy user.email=user.id; hash user.id; truncate message=5; convert http.status=int; set summary={severity_text} {attributes.http.method} {body}; move attributes.host.name=resource.host.name; limit 6',
      },
      builtinProcessors,
    );
    const rec = record('GET /x', {
      severityText: 'INFO',
      attributes: attrs({ 'user.email': 'abc', message: 'héllo world', 'http.status': '9223372036854775807', 'http.method': 'GET', 'host.name': 'h1' }),
    });
    await exportLogs(f.service.endpoint, request([rec]));
    await f.sink.waitForRecords(1);
    const data = f.sink.requests[0]!;
    const [out] = f.sink.records();
    expect(plain(out!.attributes)).toEqual({
      'user.email': 'abc',
      message: 'héll',
      'http.status': 'int:9223372036854775807',
      'http.method': 'GET',
      'user.id': SHA_ABC,
      summary: 'INFO GET GET /x',
    });
    expect(plain(data.resourceLogs[0]!.resource!.attributes)).toMatchObject({ 'host.name': 'h1' });
    expect(out!.timeUnixNano.toString()).toBe('1700000000123456789');
  });

  test('an invalid action stops start-up naming the env var', async () => {
    await expect(
      startTestService({ OTEL_EXPORTER_OTLP_ENDPOINT: f.sink.endpoint, OLP_PROCESSORS: 'transform', OLP_TRANSFORM_ACTIONS: 'copy a' }, builtinProcessors),
    ).rejects.toThrow(/OLP_TRANSFORM_ACTIONS.*cannot parse action "copy a"/);
  });
});
