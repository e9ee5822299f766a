import type { KeyValue } from '../../src/records/types';
import { RegexParser } from '../../src/parse/regex';

function run(pattern: string, text: string): { fields: Record<string, string>; error: string | undefined } {
  const out: KeyValue[] = [];
  const error = new RegexParser(pattern).parse(text, out);
  return { fields: Object.fromEntries(out.map((kv) => [kv.key, kv.value.stringValue!])), error };
}

describe('regex', () => {
  it.each<[string, string, Record<string, string>]>([
    ['^(?P<level>\\w+) (?P<message>.*)$', 'ERROR disk full', { level: 'ERROR', message: 'disk full' }],
    // JS-style group names work too
    ['^(?<a>\\d+)-(?<b>\\d+)$', '12-34', { a: '12', b: '34' }],
    // unanchored: searched anywhere
    ['user=(?P<user>\\w+)', 'login ok user=bob from x', { user: 'bob' }],
    // a group that did not take part is left out; an empty one is kept
    ['^(?P<a>x)?(?P<b>y*)(?P<c>z)$', 'z', { b: '', c: 'z' }],
    // unnamed groups are not fields
    ['^(\\w+) (?P<rest>.*)$', 'a b c', { rest: 'b c' }],
    // Unicode input
    ['^(?P<word>\\pL+) (?P<emoji>.)$', 'héllo 😀', { word: 'héllo', emoji: '😀' }],
    // HealthApp-style, pipes
    ['^(?P<timestamp>[^|]*)\\|(?P<component>[^|]*)\\|(?P<pid>\\d+)\\|(?P<message>.*)$', '20171223-22:15:29:606|Step_LSC|30002312|onStandStepChanged 3579', {
      timestamp: '20171223-22:15:29:606', component: 'Step_LSC', pid: '30002312', message: 'onStandStepChanged 3579',
    }],
    // case-insensitive flag inside the pattern
    ['(?i)^(?P<level>info|warn)', 'WARN x', { level: 'WARN' }],
  ])('%s on %j', (pattern, text, expected) => {
    const r = run(pattern, text);
    expect(r.error).toBeUndefined();
    expect(r.fields).toEqual(expected);
  });

  it('reports no_match', () => {
    expect(run('^(?P<n>\\d+)$', 'abc').error).toBe('no_match');
  });

  it('reuses its matcher across inputs without leaking state', () => {
    const p = new RegexParser('^(?P<a>\\d+)(?:-(?P<b>\\d+))?$');
    const a: KeyValue[] = [];
    const b: KeyValue[] = [];
    expect(p.parse('1-2', a)).toBeUndefined();
    expect(p.parse('3', b)).toBeUndefined();
    expect(b.map((kv) => [kv.key, kv.value.stringValue])).toEqual([['a', '3']]);
    expect(p.fieldNames).toEqual(['a', 'b']);
  });

  it.each([
    ['', /required/],
    ['(?P<a>x', /invalid pattern/],
    ['(?=lookahead)(?P<a>x)', /invalid pattern/],
    ['(a)\\1(?P<b>x)', /invalid pattern/],
    ['(?P<a>x)(?P<a>y)', /invalid pattern/],
    ['no groups', /no named groups/],
  ])('rejects the pattern %j', (pattern, message) => {
    expect(() => new RegexParser(pattern)).toThrow(message);
  });

  it('matches catastrophic-backtracking patterns in linear time', () => {
    const cases: [string, string][] = [
      ['(?P<x>(a+)+)$', 'a'.repeat(50_000) + 'b'],
      ['^(?P<x>(a|a)*)$', 'a'.repeat(50_000) + '!'],
      ['^(?P<x>(\\w+\\s?)*)$', 'word '.repeat(10_000) + '!'],
      ['(?P<x>(.*a){12})', 'a'.repeat(20_000)],
    ];
    for (const [pattern, input] of cases) {
      const p = new RegexParser(pattern);
      const start = process.hrtime.bigint();
      p.parse(input, []);
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      expect(ms).toBeLessThan(1000);
    }
  });
});
