import Long from 'long';
import { attributesProcessor, parseActions } from '../../src/processors/attributes';
import { encodeLogsData } from '../../src/otlp/codec';
import type { KeyValue } from '../../src/otlp/model';
import { anyValueKind } from '../../src/otlp/values';
import { RecordBatch } from '../../src/records/batch';
import { createProcessor, runProcessor } from '../helpers/processors';
import { attrs, record, request } from '../helpers/builders';

function run(actions: unknown, recordAttrs: KeyValue[]): KeyValue[] {
  const p = createProcessor(attributesProcessor, { actions: parseActions(actions) as never });
  return runProcessor(p, request([record('x', { attributes: recordAttrs })])).out.resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!.attributes;
}

/** Decoded attributes as key → string, int (as a string), bool or double. */
const plain = (list: KeyValue[]): Record<string, unknown> =>
  Object.fromEntries(
    list.map((kv) => {
      const kind = anyValueKind(kv.value);
      return [kv.key, kind === undefined ? null : kind === 'intValue' ? kv.value!.intValue!.toString() : kv.value![kind]];
    }),
  );

describe('attributes processor', () => {
  test.each([
    ['insert adds a missing key', 'insert env=prod', { a: '1' }, { a: '1', env: 'prod' }],
    ['insert keeps an existing key', 'insert a=2', { a: '1' }, { a: '1' }],
    ['update changes an existing key', 'update a=2', { a: '1' }, { a: '2' }],
    ['update ignores a missing key', 'update b=2', { a: '1' }, { a: '1' }],
    ['upsert sets in both cases', 'upsert a=2;upsert b=3', { a: '1' }, { a: '2', b: '3' }],
    ['delete removes a key', 'delete password', { password: 'x', a: '1' }, { a: '1' }],
    ['rename moves the value to the new key', 'rename msg=message', { msg: 'hi', a: '1' }, { a: '1', message: 'hi' }],
    ['rename overwrites the target', 'rename msg=a', { msg: 'hi', a: '1' }, { a: 'hi' }],
    ['rename ignores a missing key', 'rename nope=x', { a: '1' }, { a: '1' }],
    ['actions apply in order', 'upsert a=2;rename a=b;delete b', { a: '1' }, {}],
    ['values are percent-decoded', 'insert q=a%3Bb%3Dc', {}, { q: 'a;b=c' }],
  ])('%s', (_name, actions, input, expected) => {
    expect(plain(run(actions, attrs(input)))).toEqual(expected);
  });

  test('YAML actions keep value types', () => {
    const out = run(
      [
        { action: 'insert', key: 'n', value: 3 },
        { action: 'insert', key: 'f', value: 1.5 },
        { action: 'insert', key: 'b', value: true },
      ],
      [],
    );
    expect(Long.isLong(out[0]!.value!.intValue)).toBe(true);
    expect(plain(out)).toEqual({ n: '3', f: 1.5, b: true });
  });

  test.each([['explode x'], ['delete a=b'], ['insert a'], ['rename a']])('rejects the malformed action %j', (text) => {
    expect(() => parseActions(text)).toThrow(/cannot parse action|takes a key only|needs/);
  });

  test('gives each record its own value object', () => {
    const p = createProcessor(attributesProcessor, { actions: parseActions('insert env=prod;upsert n=1') as never });
    const batch = new RecordBatch(encodeLogsData(request([record('a'), record('b')])));
    p.process(batch);
    const [r1, r2] = [...batch];
    expect(r1!.attributes.get('env')).toEqual({ stringValue: 'prod' });
    expect(r1!.attributes.get('env')).not.toBe(r2!.attributes.get('env'));
    expect(r1!.attributes.get('n')).not.toBe(r2!.attributes.get('n'));
  });

  test('leaves a record whose attributes already hold the values as received', () => {
    const bytes = encodeLogsData(request([record('a', { attributes: [...attrs({ env: 'prod' }), { key: 'n', value: { intValue: Long.fromInt(3) } }] })]));
    const batch = new RecordBatch(bytes);
    const actions = [
      { action: 'upsert', key: 'env', value: 'prod' },
      { action: 'update', key: 'n', value: 3 },
      { action: 'insert', key: 'env', value: 'x' },
      { action: 'delete', key: 'nope' },
    ] as const;
    createProcessor(attributesProcessor, { actions }).process(batch);
    expect(batch.encode(1000)[0]!.bytes).toBe(bytes);
  });
});
