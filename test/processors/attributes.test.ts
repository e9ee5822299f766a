import Long from 'long';
import { attributesProcessor, parseActions } from '../../src/processors/attributes';
import type { KeyValue } from '../../src/otlp/model';
import { createProcessor, RecordingDrops } from '../helpers/processors';
import { attrs, record, request } from '../helpers/builders';

function run(actions: unknown, recordAttrs: KeyValue[]): KeyValue[] {
  const p = createProcessor(attributesProcessor, { actions: parseActions(actions) as never });
  return p.process(request([record('x', { attributes: recordAttrs })]), new RecordingDrops()).resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!.attributes;
}

const plain = (list: KeyValue[]): Record<string, unknown> =>
  Object.fromEntries(list.map((kv) => [kv.key, kv.value?.stringValue ?? kv.value?.intValue?.toString() ?? kv.value?.boolValue ?? kv.value?.doubleValue ?? null]));

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
    const p = createProcessor(attributesProcessor, { actions: parseActions('insert env=prod') as never });
    const out = p.process(request([record('a'), record('b')]), new RecordingDrops());
    const [r1, r2] = out.resourceLogs[0]!.scopeLogs[0]!.logRecords;
    expect(r1!.attributes[0]!.value).not.toBe(r2!.attributes[0]!.value);
  });
});
