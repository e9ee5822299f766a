import fc from 'fast-check';
import type { KeyValue } from '../../src/records/types';
import { KeyValueParser, LogfmtParser } from '../../src/parse/key-value';
import type { LineParser } from '../../src/parse/types';

function run(parser: LineParser, text: string): { fields: Record<string, string | boolean>; keys: string[]; error: string | undefined } {
  const out: KeyValue[] = [];
  const error = parser.parse(text, out);
  const fields: Record<string, string | boolean> = {};
  for (const kv of out) fields[kv.key] = kv.value.stringValue ?? kv.value.boolValue!;
  return { fields, keys: out.map((kv) => kv.key), error };
}

describe('logfmt', () => {
  const p = new LogfmtParser();

  it.each<[string, Record<string, string | boolean>]>([
    ['a=1', { a: '1' }],
    ['time=2024-01-01T10:00:00Z level=INFO msg="request done" status=200', { time: '2024-01-01T10:00:00Z', level: 'INFO', msg: 'request done', status: '200' }],
    // Go slog's text handler
    ['time=2024-01-01T10:00:00.123+01:00 level=WARN source=main.go:12 msg="disk \\"low\\"" free=1.5GB', { time: '2024-01-01T10:00:00.123+01:00', level: 'WARN', source: 'main.go:12', msg: 'disk "low"', free: '1.5GB' }],
    ['msg="line1\\nline2\\ttab \\\\ back \\u00e9"', { msg: 'line1\nline2\ttab \\ back é' }],
    ['msg="unknown \\q escape"', { msg: 'unknown \\q escape' }],
    ['msg="\\a\\b\\f\\v"', { msg: '\x07\b\f\v' }],
    ['empty= quoted="" flag other=x', { empty: '', quoted: '', flag: true, other: 'x' }],
    ['  leading   and=trailing   \r\n', { leading: true, and: 'trailing' }],
    ['url=http://x/?a=b&c=d', { url: 'http://x/?a=b&c=d' }],
    ['k=1 k=2', { k: '2' }],
    ['unicode=héllo msg="世界 ok"', { unicode: 'héllo', msg: '世界 ok' }],
    ['a=1\tb=2', { a: '1', b: '2' }],
  ])('%s', (text, expected) => {
    const r = run(p, text);
    expect(r.error).toBeUndefined();
    expect(r.fields).toEqual(expected);
  });

  it('keeps keys unique and in order of first appearance', () => {
    expect(run(p, 'b=1 a=2 b=3').keys).toEqual(['b', 'a']);
  });

  it('keeps keys unique on long lines too, in linear time', () => {
    const keys = Array.from({ length: 40 }, (_, i) => `k${i}`);
    const r = run(p, keys.map((k) => `${k}=1`).join(' ') + ' k3=last k39=end k40=new');
    expect(r.keys).toEqual([...keys, 'k40']);
    expect(r.fields.k3).toBe('last');
    expect(r.fields.k39).toBe('end');
    const many = Array.from({ length: 50_000 }, (_, i) => `key${i % 25_000}=${i}`).join(' ');
    const start = Date.now();
    const big = run(p, many);
    expect(Date.now() - start).toBeLessThan(1000);
    expect(big.keys).toHaveLength(25_000);
    expect(big.fields.key0).toBe('25000');
  });

  it.each([
    ['', 'no_pairs'],
    ['just some words', 'no_pairs'],
    ['=value', 'invalid_logfmt'],
    ['a=1 =2', 'invalid_logfmt'],
    ['msg="unterminated', 'unterminated_quote'],
    ['msg="ends with backslash\\"', 'unterminated_quote'],
    ['a="x"b', 'invalid_logfmt'],
    ['a"b=1', 'invalid_logfmt'],
    ['{"json":true}', 'invalid_logfmt'],
  ])('rejects %j as %s', (text, reason) => {
    expect(run(p, text).error).toBe(reason);
  });

  it('reads back what a logfmt encoder writes', () => {
    const key = fc.stringMatching(/^[a-z_][a-z0-9_.]{0,10}$/);
    const value = fc.string({ maxLength: 20 });
    fc.assert(
      fc.property(fc.uniqueArray(fc.tuple(key, value), { minLength: 1, maxLength: 6, selector: (t) => t[0] }), (pairs) => {
        const line = pairs.map(([k, v]) => `${k}=${v !== '' && /^[^\s"=\\]+$/.test(v) ? v : JSON.stringify(v)}`).join(' ');
        const r = run(p, line);
        expect(r.error).toBeUndefined();
        expect(r.fields).toEqual(Object.fromEntries(pairs));
      }),
    );
  });
});

describe('keyvalue', () => {
  it.each<[string, string, string, Record<string, string>]>([
    ['', '=', 'a=1 b=2', { a: '1', b: '2' }],
    // free text between pairs is skipped; empty values kept
    ['', '=', 'authentication failure; logname= uid=0 euid=0 tty=NODEVssh ruser= rhost=218.188.2.4', { logname: '', uid: '0', euid: '0', tty: 'NODEVssh', ruser: '', rhost: '218.188.2.4' }],
    ['', '=', 'user="John Smith" role=\'admin user\' x=1', { user: 'John Smith', role: 'admin user', x: '1' }],
    ['', '=', 'q="say \\"hi\\"" n=1', { q: 'say "hi"', n: '1' }],
    [',', '=', 'a=1, b = two words ,c="x, y"', { a: '1', b: 'two words', c: 'x, y' }],
    [';', ':', 'host: web-1; port: 8080; path: /a:b', { host: 'web-1', port: '8080', path: '/a:b' }],
    ['&', '=', 'a=1&b=2&&c=', { a: '1', b: '2', c: '' }],
    [', ', '=>', 'a=>1, b=>2', { a: '1', b: '2' }],
    ['|', '=', 'a=1|junk|b=2', { a: '1', b: '2' }],
    ['', '=', 'a="quoted"trailing b=2', { a: 'quoted', b: '2' }],
    ['', '=', 'a="unterminated b=2', { a: '"unterminated', b: '2' }],
  ])('pairs %j, key/value %j: %s', (pairDelimiter, kvDelimiter, text, expected) => {
    const out: KeyValue[] = [];
    const error = new KeyValueParser(pairDelimiter, kvDelimiter).parse(text, out);
    expect(error).toBeUndefined();
    expect(Object.fromEntries(out.map((kv) => [kv.key, kv.value.stringValue]))).toEqual(expected);
  });

  it.each(['', 'no pairs here', '=value'])('rejects %j', (text) => {
    expect(new KeyValueParser('', '=').parse(text, [])).toBe('no_pairs');
  });
});
