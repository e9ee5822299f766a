/** The matcher engine: span merging, detector priority on overlaps, Luhn, user patterns, hashing, and linear time on hostile input. */
import { BUILTIN_DETECTORS, createBuiltinDetectors } from '../../src/redact/detectors';
import { luhnValid, withLuhnDigit } from '../../src/redact/luhn';
import { compileUserPattern, parseUserPatterns, PatternError } from '../../src/redact/patterns';
import { Redactor, normalizeForHash, redactedPrefixes, type RedactMode } from '../../src/redact/redactor';
import { Spans } from '../../src/redact/spans';

function redactor(mode: RedactMode = 'mask', patterns: string = '', hashKey = ''): Redactor {
  const mask = '[REDACTED:{detector}]';
  return new Redactor({
    detectors: [...parseUserPatterns(patterns).map(compileUserPattern), ...createBuiltinDetectors(BUILTIN_DETECTORS, redactedPrefixes(mode, mask))],
    mode,
    mask,
    hashKey,
    allowKeys: [],
    attributeKeys: [],
    secretKeys: true,
    resource: false,
  });
}

const JWT = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U';

describe('luhn', () => {
  test.each([
    ['4111111111111111', true],
    ['79927398713', true],
    ['79927398710', false],
    ['4111111111111112', false],
    ['', false],
    ['41x1', false],
  ])('%s → %s', (digits, ok) => {
    expect(luhnValid(digits)).toBe(ok);
  });

  test('withLuhnDigit completes any payload', () => {
    for (const p of ['0', '411111111111111', '12345']) expect(luhnValid(withLuhnDigit(p))).toBe(true);
  });
});

describe('Spans', () => {
  const resolved = (spans: Spans): [number, number, number][] => {
    const n = spans.resolve();
    return Array.from({ length: n }, (_, i) => [spans.starts[i]!, spans.ends[i]!, spans.ids[i]!]);
  };

  test('merges overlapping spans into the leftmost, which keeps its label; touching spans stay apart', () => {
    const s = new Spans();
    s.add(10, 15, 2);
    s.add(0, 5, 1);
    s.add(3, 8, 0);
    s.add(15, 20, 3);
    expect(resolved(s)).toEqual([
      [0, 8, 1],
      [10, 15, 2],
      [15, 20, 3],
    ]);
  });

  test('on the same start the longer span wins, on the same extent the lower id', () => {
    const s = new Spans();
    s.add(0, 4, 0);
    s.add(0, 6, 5);
    s.add(10, 12, 4);
    s.add(10, 12, 1);
    expect(resolved(s)).toEqual([
      [0, 6, 5],
      [10, 12, 1],
    ]);
  });

  test('ignores empty spans and sorts long lists', () => {
    const s = new Spans();
    s.add(3, 3, 0);
    for (let i = 40; i >= 0; i--) s.add(i * 10, i * 10 + 5, i % 3);
    const out = resolved(s);
    expect(out).toHaveLength(41);
    expect(out.map((x) => x[0])).toEqual(Array.from({ length: 41 }, (_, i) => i * 10));
  });
});

describe('all detectors together', () => {
  test.each([
    ['a JWT bearer token is labelled jwt', `Authorization: Bearer ${JWT}`, 'Authorization: Bearer [REDACTED:jwt]'],
    ['a JWT as a key value is labelled jwt', `token=${JWT}`, 'token=[REDACTED:jwt]'],
    ['an e-mail as a password is labelled email', 'password=alice@example.com next', 'password=[REDACTED:email] next'],
    ['an IPv4-suffixed IPv6 address is one replacement', 'peer ::ffff:10.0.0.1 up', 'peer [REDACTED:ipv6] up'],
    ['Authorization with a scheme is labelled bearer', 'Authorization: Basic dXNlcjpwYXNz', 'Authorization: Basic [REDACTED:bearer]'],
    [
      'several kinds in one line',
      'user=bob@x.io ip=10.1.2.3 card=4111-1111-1111-1111 api_key=k-123',
      'user=[REDACTED:email] ip=[REDACTED:ipv4] card=[REDACTED:credit_card] api_key=[REDACTED:secret_kv]',
    ],
    ['nothing to find', 'GET /api/v1/orders 200 12ms', 'GET /api/v1/orders 200 12ms'],
  ])('%s', (_name, input, expected) => {
    expect(redactor().redactString(input)).toBe(expected);
  });

  test('redacting twice changes nothing more (mask and hash)', () => {
    const line = `user=bob@x.io from 10.1.2.3 password="p w" Authorization: Bearer ${JWT} card 4111 1111 1111 1111`;
    for (const mode of ['mask', 'hash'] as const) {
      const r = redactor(mode);
      const once = r.redactString(line);
      expect(r.redactString(once)).toBe(once);
    }
  });

  test('returns the very same string when nothing matched', () => {
    const s = 'plain text '.repeat(10);
    expect(redactor().redactString(s)).toBe(s);
  });

  test('counts replacements per detector, merged overlaps once under the winning label', () => {
    const r = redactor();
    r.redactString('a@b.io c@d.io 10.0.0.1 password=e@f.io');
    expect(Object.fromEntries(r.counts)).toEqual({ jwt: 0, bearer: 0, credit_card: 0, email: 3, ipv6: 0, ipv4: 1, secret_kv: 0 });
  });
});

describe('hash mode', () => {
  test('replaces with sha256: and 16 hex digits, stable for equal values, different per key', () => {
    const a = redactor('hash').redactString('ip 10.0.0.1 and 10.0.0.1 and 10.0.0.2');
    const m = /^ip (sha256:[0-9a-f]{16}) and (sha256:[0-9a-f]{16}) and (sha256:[0-9a-f]{16})$/.exec(a)!;
    expect(m).not.toBeNull();
    expect(m[1]).toBe(m[2]);
    expect(m[1]).not.toBe(m[3]);
    const keyed = redactor('hash', '', 'k1').redactString('ip 10.0.0.1');
    expect(keyed).not.toBe(`ip ${m[1]}`);
    expect(redactor('hash', '', 'k1').redactString('ip 10.0.0.1')).toBe(keyed);
  });

  test('a card hashes the same however it is grouped, an e-mail whatever its case', () => {
    const r = redactor('hash');
    const cards = ['4111111111111111', '4111 1111 1111 1111', '4111-1111-1111-1111'].map((c) => r.redactString(c));
    expect(new Set(cards).size).toBe(1);
    expect(r.redactString('Bob@Example.COM')).toBe(r.redactString('bob@example.com'));
    expect(normalizeForHash('ipv4', 'A')).toBe('A');
  });

  test('a digest that reads as a card number is not redacted again; a card after it still is', () => {
    const r = redactor('hash');
    // The digest of this card is 16 decimal digits with a card prefix that pass the Luhn check.
    const once = r.redactString(' 2221549475714510 ');
    expect(once).toBe(' sha256:5596407019788849 ');
    expect(r.redactString(once)).toBe(once);
    expect(r.redactString(`${once}4111 1111 1111 1111`)).toMatch(/^ sha256:5596407019788849 sha256:[0-9a-f]{16}$/);
  });
});

describe('user patterns', () => {
  test.each([
    ['a=x', [{ name: 'a', regex: 'x' }]],
    [' a = x ; b=y=z ', [{ name: 'a', regex: 'x' }, { name: 'b', regex: 'y=z' }]],
    ['semi=a\\;b;c=d', [{ name: 'semi', regex: 'a\\;b' }, { name: 'c', regex: 'd' }]],
    ['bs=a\\\\;c=d', [{ name: 'bs', regex: 'a\\\\' }, { name: 'c', regex: 'd' }]],
    ['', []],
  ])('parses the env form %j', (raw, expected) => {
    expect(parseUserPatterns(raw)).toEqual(expected);
  });

  test('parses YAML forms', () => {
    expect(parseUserPatterns({ a: 'x', b: 'y' })).toEqual([
      { name: 'a', regex: 'x' },
      { name: 'b', regex: 'y' },
    ]);
    expect(parseUserPatterns(['a=x', { name: 'b', regex: 'y' }])).toEqual([
      { name: 'a', regex: 'x' },
      { name: 'b', regex: 'y' },
    ]);
  });

  test('rejects a part without a name', () => {
    expect(() => parseUserPatterns('=x')).toThrow(/expected name=regex/);
    expect(() => parseUserPatterns('novalue')).toThrow(/expected name=regex/);
  });

  test('a regex that does not compile is a PatternError naming the pattern', () => {
    expect(() => compileUserPattern({ name: 'bad', regex: '(a' })).toThrow(PatternError);
    expect(() => compileUserPattern({ name: 'bad', regex: 'a(?=b)' })).toThrow(/pattern "bad"/);
  });

  test('redacts whole matches, or group 1 when there is one; `;` can be escaped', () => {
    const r = redactor('mask', 'emp=EMP-\\d{4};ticket=tkt=([0-9a-f]{4});semi=x\\;y');
    expect(r.redactString('EMP-1234 tkt=beef x;y')).toBe('[REDACTED:emp] tkt=[REDACTED:ticket] [REDACTED:semi]');
  });

  test('a user pattern labels a span it shares with a built-in', () => {
    expect(redactor('mask', 'internal=\\b10\\.\\d+\\.\\d+\\.\\d+\\b').redactString('10.0.0.1')).toBe('[REDACTED:internal]');
  });

  test('zero-length matches are ignored', () => {
    expect(redactor('mask', 'nothing=x*').redactString('abc')).toBe('abc');
  });
});

describe('linear time on hostile input', () => {
  const N = 50_000;
  test.each([
    ['repeated eyJ', 'eyJ'.repeat(N / 3)],
    ['repeated eyJ with dots', 'eyJa.'.repeat(N / 5)],
    ['digits and single spaces', '1 '.repeat(N / 2)],
    ['digits then a letter', '4'.repeat(N) + 'x'],
    ['local part without @ domain', 'a'.repeat(N) + '@'],
    ['many @', 'a@'.repeat(N / 2)],
    ['many colons', ':'.repeat(N)],
    ['hex and colons', '1:'.repeat(N / 2)],
    ['dotted digits', '1.'.repeat(N / 2)],
    ['keywords without values', 'password='.repeat(N / 9)],
    ['keywords without separators', 'token'.repeat(N / 5)],
    ['bearer words', 'bearer '.repeat(N / 7)],
    ['an unterminated quote', 'password="' + 'x'.repeat(N)],
  ])('%s', (_name, input) => {
    const r = redactor();
    const t = process.hrtime.bigint();
    r.redactString(input);
    expect(Number(process.hrtime.bigint() - t) / 1e6).toBeLessThan(250);
  });
});
