import fc from 'fast-check';
import type { AnyValue } from '../../src/records/types';
import { anyValueEquals } from '../../src/records/values';
import { parseFieldPath } from '../../src/transform/fields';
import { compileTemplate } from '../../src/transform/template';
import { cloneValue, convertValue, hashValue, truncateUtf8, truncateValue, type ConvertType } from '../../src/transform/values';

const int = (s: string): AnyValue => ({ intValue: BigInt(s) });
const show = (v: AnyValue | undefined): unknown =>
  v === undefined ? undefined : v.intValue !== undefined ? `int:${v.intValue.toString()}` : (v.stringValue ?? v.boolValue ?? v.doubleValue ?? JSON.stringify(v));

describe('convertValue', () => {
  test.each<[string, AnyValue, ConvertType, unknown]>([
    ['string → int', { stringValue: '42' }, 'int', 'int:42'],
    ['string → int, trimmed and signed', { stringValue: ' -7 ' }, 'int', 'int:-7'],
    ['string → int beyond 2^53 stays exact', { stringValue: '9007199254740993' }, 'int', 'int:9007199254740993'],
    ['string → int at int64 max', { stringValue: '9223372036854775807' }, 'int', 'int:9223372036854775807'],
    ['string → int at int64 min', { stringValue: '-9223372036854775808' }, 'int', 'int:-9223372036854775808'],
    ['string → int above int64 max fails', { stringValue: '9223372036854775808' }, 'int', undefined],
    ['decimal string → int fails', { stringValue: '3.5' }, 'int', undefined],
    ['empty string → int fails', { stringValue: '' }, 'int', undefined],
    ['double → int truncates toward zero', { doubleValue: -3.9 }, 'int', 'int:-3'],
    ['large double → int is exact', { doubleValue: 2 ** 60 }, 'int', 'int:1152921504606846976'],
    ['NaN → int fails', { doubleValue: NaN }, 'int', undefined],
    ['2^63 → int fails', { doubleValue: 2 ** 63 }, 'int', undefined],
    ['bool → int', { boolValue: true }, 'int', 'int:1'],
    ['int → string beyond 2^53 stays exact', int('9007199254740993'), 'string', '9007199254740993'],
    ['int64 min → string', int('-9223372036854775808'), 'string', '-9223372036854775808'],
    ['double → string', { doubleValue: 1.5 }, 'string', '1.5'],
    ['bool → string', { boolValue: false }, 'string', 'false'],
    ['int → double', int('12'), 'double', 12],
    ['int → double beyond 2^53 rounds to the nearest', int('9007199254740995'), 'double', 9007199254740996],
    ['string → double', { stringValue: '1e3' }, 'double', 1000],
    ['hex string → double fails', { stringValue: '0x10' }, 'double', undefined],
    ['string → bool', { stringValue: 'TRUE' }, 'bool', true],
    ['"0" → bool', { stringValue: '0' }, 'bool', false],
    ['"yes" → bool fails', { stringValue: 'yes' }, 'bool', undefined],
    ['int → bool', int('0'), 'bool', false],
    ['double → bool', { doubleValue: 0.1 }, 'bool', true],
    ['kvlist → string fails', { kvlistValue: { values: [] } }, 'string', undefined],
    ['array → int fails', { arrayValue: { values: [] } }, 'int', undefined],
    ['bytes → string fails', { bytesValue: new Uint8Array([1]) }, 'string', undefined],
  ])('%s', (_name, input, type, expected) => {
    expect(show(convertValue(input, type))).toEqual(expected);
  });

  test('a value that already has the type comes back as the same object', () => {
    const v = { stringValue: 'x' };
    expect(convertValue(v, 'string')).toBe(v);
  });

  test('int → string → int round-trips every int64 exactly', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), (b) => {
        const s = convertValue(int(b.toString()), 'string')!;
        expect(s.stringValue).toBe(b.toString());
        expect(convertValue(s, 'int')!.intValue!.toString()).toBe(b.toString());
      }),
    );
  });
});

describe('truncateUtf8', () => {
  test.each([
    ['ascii', 'hello world', 5, 'hello'],
    ['short enough', 'abc', 3, 'abc'],
    ['2-byte char not split', 'aé', 2, 'a'],
    ['3-byte char not split', 'a€b', 3, 'a'],
    ['3-byte char fits', 'a€b', 4, 'a€'],
    ['surrogate pair not split', 'x😀y', 4, 'x'],
    ['surrogate pair fits', 'x😀y', 5, 'x😀'],
    ['zero', 'abc', 0, ''],
  ])('%s', (_name, s, max, expected) => {
    expect(truncateUtf8(s, max)).toBe(expected);
  });

  test('never exceeds the limit and never splits a code point', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.nat(40), (s, max) => {
        const t = truncateUtf8(s, max);
        expect(s.startsWith(t)).toBe(true);
        expect(Buffer.byteLength(t)).toBeLessThanOrEqual(max);
        const last = t.charCodeAt(t.length - 1);
        const next = s.charCodeAt(t.length);
        expect(last >= 0xd800 && last <= 0xdbff && next >= 0xdc00 && next <= 0xdfff).toBe(false);
        // Longest such prefix: the next code point would not fit.
        if (t.length < s.length) {
          const cp = String.fromCodePoint(s.codePointAt(t.length)!);
          expect(Buffer.byteLength(t + cp)).toBeGreaterThan(max);
        }
      }),
    );
  });

  test('truncates the string elements of arrays only', () => {
    const v: AnyValue = { arrayValue: { values: [{ stringValue: 'abcdef' }, int('123456')] } };
    const out = truncateValue(v, 3);
    expect(out.arrayValue!.values.map(show)).toEqual(['abc', 'int:123456']);
    expect(v.arrayValue!.values[0]!.stringValue).toBe('abcdef');
    expect(truncateValue(int('1'), 0).intValue!.toString()).toBe('1');
  });
});

describe('hashValue', () => {
  test('is the SHA-256 hex of the string form', () => {
    expect(hashValue({ stringValue: 'abc' })).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(hashValue(int('1'))).toBe(hashValue({ stringValue: '1' }));
  });
});

describe('cloneValue', () => {
  test('clones deeply and compares by content', () => {
    const v: AnyValue = { kvlistValue: { values: [{ key: 'a', value: { arrayValue: { values: [int('9007199254740993'), { bytesValue: new Uint8Array([1, 2]) }] } } }] } };
    const c = cloneValue(v);
    expect(c).not.toBe(v);
    expect(c.kvlistValue!.values[0]!.value).not.toBe(v.kvlistValue!.values[0]!.value);
    expect(anyValueEquals(c, v)).toBe(true);
    expect(anyValueEquals(int('1'), { doubleValue: 1 })).toBe(false);
    expect(anyValueEquals({ stringValue: 'a' }, { stringValue: 'b' })).toBe(false);
  });
});

describe('field paths and templates', () => {
  test.each([
    ['body', 'body', ''],
    ['severity_text', 'severity_text', ''],
    ['attributes.http.method', 'attribute', 'http.method'],
    ['http.method', 'attribute', 'http.method'],
    ['resource.host.name', 'resource', 'host.name'],
    ['scope.lib', 'scope', 'lib'],
  ])('%s', (text, kind, key) => {
    expect(parseFieldPath(text)).toMatchObject({ kind, key });
  });

  test.each([[''], ['attributes.'], ['resource'], ['scope']])('rejects the path %j', (text) => {
    expect(() => parseFieldPath(text)).toThrow(/empty field path|needs a key/);
  });

  test('compiles literals, placeholders and escaped braces', () => {
    const t = compileTemplate('{{x}} {severity_text}: {body}}}');
    expect(t.map((p) => (typeof p === 'string' ? p : `<${p.text}>`))).toEqual(['{x} ', '<severity_text>', ': ', '<body>', '}']);
  });

  test.each([
    ['{body', /not closed/],
    ['a } b', /unmatched "}"/],
    ['{}', /empty placeholder/],
    ['{a{b}', /inside a placeholder/],
    ['{resource}', /needs a key/],
  ])('rejects the template %j', (text, message) => {
    expect(() => compileTemplate(text)).toThrow(message);
  });
});
