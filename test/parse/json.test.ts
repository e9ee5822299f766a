import fc from 'fast-check';
import type { AnyValue, KeyValue } from '../../src/records/types';
import { JsonParser } from '../../src/parse/json';

/** A value as plain JS for readable expectations: ints as bigint, empty values (JSON null) as null. */
function plainValue(v: AnyValue): unknown {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return v.intValue;
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.arrayValue !== undefined) return v.arrayValue.values.map(plainValue);
  if (v.kvlistValue !== undefined) return plainAttributes(v.kvlistValue.values);
  return null;
}

function plainAttributes(kvs: readonly KeyValue[]): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  // defineProperty: a "__proto__" key must be a field, not the prototype.
  for (const kv of kvs) Object.defineProperty(o, kv.key, { value: plainValue(kv.value), enumerable: true, writable: true, configurable: true });
  return o;
}

function parse(text: string): { fields: KeyValue[]; error: string | undefined } {
  const out: KeyValue[] = [];
  const error = new JsonParser().parse(text, out);
  return { fields: out, error };
}

describe('json', () => {
  it.each<[string, Record<string, unknown>]>([
    ['{}', {}],
    [' {"a":1} \r\n', { a: 1n }],
    ['{"msg":"hi","level":"info","n":42,"neg":-7,"f":1.5,"e":1e3,"one":1.0,"t":true,"nil":null}', { msg: 'hi', level: 'info', n: 42n, neg: -7n, f: 1.5, e: 1000, one: 1, t: true, nil: null }],
    ['{"nested":{"a":{"b":[1,"x",{"c":false}]}}}', { nested: { a: { b: [1n, 'x', { c: false }] } } }],
    ['{"arr":[],"obj":{}}', { arr: [], obj: {} }],
    ['{"esc":"a\\"b\\\\c\\/d\\n\\t\\r\\b\\f\\u00e9\\ud83d\\ude00"}', { esc: 'a"b\\c/d\n\t\r\b\fé😀' }],
    ['{"unicode":"héllo 世界"}', { unicode: 'héllo 世界' }],
    ['{"dup":1,"dup":2}', { dup: 2n }],
    ['{ "spaced" : "yes" , "x" : [ 1 , 2 ] }', { spaced: 'yes', x: [1n, 2n] }],
    // 2^53 + 1 and int64 bounds stay exact
    ['{"big":9007199254740993}', { big: 9007199254740993n }],
    ['{"max":9223372036854775807,"min":-9223372036854775808}', { max: 9223372036854775807n, min: -9223372036854775808n }],
    // beyond int64: a double
    ['{"huge":9223372036854775808}', { huge: 9223372036854775808 }],
    ['{"huger":123456789012345678901234567890}', { huger: 1.2345678901234568e29 }],
    ['{"zero":0,"negzero":-0,"small":-0.0}', { zero: 0n, negzero: 0n, small: -0 }],
  ])('%s', (text, expected) => {
    const r = parse(text);
    expect(r.error).toBeUndefined();
    expect(plainAttributes(r.fields)).toEqual(expected);
  });

  it('keeps raw control characters inside strings (JSON.parse would reject them)', () => {
    expect(plainAttributes(parse('{"a":"tab\there\u0001"}').fields)).toEqual({ a: 'tab\there\u0001' });
  });

  it('finds escapes in every string of a line with several', () => {
    expect(plainAttributes(parse('{"a":"x","b":"y\\"z","c":"w","d":"\\n"}').fields)).toEqual({ a: 'x', b: 'y"z', c: 'w', d: '\n' });
  });

  it('scans long lines in linear time', () => {
    const big = '{' + Array.from({ length: 20_000 }, (_, i) => `"k${i}":"v${i}"`).join(',') + '}';
    const start = Date.now();
    expect(parse(big).fields).toHaveLength(20_000);
    expect(Date.now() - start).toBeLessThan(1000);
  });

  it('keeps key order, including integer-like keys that JS objects would reorder', () => {
    expect(parse('{"b":1,"2":2,"a":3,"1":4}').fields.map((f) => f.key)).toEqual(['b', '2', 'a', '1']);
  });

  it('keeps a __proto__ key as a plain field', () => {
    const r = parse('{"__proto__":{"x":1}}');
    expect(r.fields.map((f) => f.key)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(plainAttributes(r.fields))).toBe(Object.prototype);
  });

  it.each([
    ['', 'invalid_json'],
    ['not json', 'invalid_json'],
    ['{', 'invalid_json'],
    ['{"a":}', 'invalid_json'],
    ['{"a":1,}', 'invalid_json'],
    ['{"a" 1}', 'invalid_json'],
    ['{a:1}', 'invalid_json'],
    ["{'a':1}", 'invalid_json'],
    ['{"a":01}', 'invalid_json'],
    ['{"a":1.}', 'invalid_json'],
    ['{"a":.5}', 'invalid_json'],
    ['{"a":1e}', 'invalid_json'],
    ['{"a":+1}', 'invalid_json'],
    ['{"a":NaN}', 'invalid_json'],
    ['{"a":tru}', 'invalid_json'],
    ['{"a":"\\x"}', 'invalid_json'],
    ['{"a":"\\u12"}', 'invalid_json'],
    ['{"a":"unterminated}', 'invalid_json'],
    ['{"a":1} trailing', 'invalid_json'],
    ['{"a":[1,2}', 'invalid_json'],
    ['[1,2,3]', 'json_not_object'],
    ['"a string"', 'json_not_object'],
    ['42', 'json_not_object'],
    ['null', 'json_not_object'],
    ['[1,', 'invalid_json'],
    ['{"deep":' + '['.repeat(100) + ']'.repeat(100) + '}', 'json_too_deep'],
  ])('rejects %j as %s', (text, reason) => {
    expect(parse(text).error).toBe(reason);
  });

  it('agrees with JSON.parse on accepting or rejecting arbitrary JSON-ish text', () => {
    fc.assert(
      fc.property(fc.oneof(fc.json(), fc.string(), fc.json().map((j) => j.slice(0, -1))), (text) => {
        let expected: unknown;
        try {
          expected = JSON.parse(text);
        } catch {
          expected = undefined;
        }
        const r = parse(text);
        const isObject = typeof expected === 'object' && expected !== null && !Array.isArray(expected);
        if (isObject) expect(r.error).toBeUndefined();
        else expect(r.error).toBe(expected === undefined ? 'invalid_json' : 'json_not_object');
      }),
      { numRuns: 500 },
    );
  });

  it('reads the same values as JSON.parse for any object within double precision', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (obj) => {
        const r = parse(JSON.stringify(obj));
        expect(r.error).toBeUndefined();
        const back = JSON.parse(JSON.stringify(plainAttributes(r.fields), (_k, v) => (typeof v === 'bigint' ? Number(v) : v)));
        expect(back).toEqual(JSON.parse(JSON.stringify(obj)));
      }),
      { numRuns: 300 },
    );
  });

  it('reads any int64 exactly', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }), (n) => {
        const r = parse(`{"n":${n}}`);
        expect(r.fields[0]!.value.intValue).toBe(n);
      }),
    );
  });
});
