import { DEFAULT_RULES, RuleEngine, compileRules, parseRuleSpecs } from '../../src/classify/rules';
import type { AnyValue } from '../../src/records/types';
import { intValue, stringValue } from '../../src/records/values';

/** String attributes as the rules look them up. */
const attrs = (map: Record<string, string>): Map<string, AnyValue> => new Map(Object.entries(map).map(([k, v]) => [k, stringValue(v)]));
const NONE = attrs({});

const defaults = new RuleEngine(DEFAULT_RULES, 'other');

describe('default category rules', () => {
  test.each([
    ['java.lang.OutOfMemoryError: Java heap space', 'memory'],
    ['Memory cgroup out of memory: Killed process 4242 (java)', 'memory'],
    ['upstream request timeout after 30s', 'timeout'],
    ['connect to 10.0.0.1:5432 timed out', 'timeout'],
    ['open /etc/shadow: permission denied', 'permission'],
    ['Failed password for invalid user admin from 10.0.0.1 port 22 ssh2', 'auth'],
    ['session opened for user root by (uid=0)', 'auth'],
    ['ERROR: deadlock detected while waiting for ShareLock on transaction 1234', 'database'],
    ['write failed: No space left on device', 'storage'],
    ['Deleting block blk_1 file /data/blk_1', 'storage'],
    ['dial tcp 10.0.0.1:443: connect: connection refused', 'network'],
    ['NIFF: node node-1 detected a failed network connection', 'network'],
    ['Traceback (most recent call last):', 'exception'],
    ['Unhandled rejection TypeError: x is undefined', 'exception'],
    ['request failed\n\tat com.example.Foo.bar(Foo.java:42)', 'exception'],
    ['Linkerror event interval expired', 'other'],
    ['invalid value for setting max_connections', 'configuration'],
    ['Server started, listening on :8080', 'lifecycle'],
    ['Shutting down gracefully', 'lifecycle'],
    ['all good here', 'other'],
  ])('%s → %s', (text, category) => {
    expect(defaults.classify(text, NONE)).toBe(category);
  });

  test('an exception.type attribute makes an exception whatever the text', () => {
    expect(defaults.classify('request handled', attrs({ 'exception.type': 'java.lang.IllegalStateException' }))).toBe('exception');
  });

  test('text is searched in its first KiB only', () => {
    expect(defaults.classify('x'.repeat(2000) + ' timeout', NONE)).toBe('other');
  });
});

describe('user rules', () => {
  test('are parsed from the env form, with attribute rules and escaped semicolons', () => {
    expect(parseRuleSpecs('payments=(?i)stripe|paypal; audit[event.domain]=^audit$ ;semi=a\\;b')).toEqual([
      { category: 'payments', pattern: '(?i)stripe|paypal', attribute: undefined },
      { category: 'audit', pattern: '^audit$', attribute: 'event.domain' },
      { category: 'semi', pattern: 'a\\;b', attribute: undefined },
    ]);
  });

  test('are taken from YAML lists', () => {
    expect(parseRuleSpecs([{ category: 'payments', pattern: 'stripe' }, { category: 'audit', pattern: 'x', attribute: 'k' }])).toEqual([
      { category: 'payments', pattern: 'stripe', attribute: undefined },
      { category: 'audit', pattern: 'x', attribute: 'k' },
    ]);
  });

  test.each([
    ['no equals sign', 'payments'],
    ['an empty category', '=x'],
    ['an empty pattern', 'payments='],
    ['a bad category name', 'pay ments=x'],
    ['a YAML entry with unknown keys', [{ category: 'a', pattern: 'b', regex: 'c' }]],
    ['a YAML entry that is not an object', ['a=b']],
  ])('reject %s', (_name, raw) => {
    expect(() => parseRuleSpecs(raw)).toThrow();
  });

  test('come first and match in order', () => {
    const engine = new RuleEngine([...compileRules(parseRuleSpecs('payments=stripe;billing=invoice')), ...DEFAULT_RULES], 'other');
    expect(engine.classify('stripe call timeout', NONE)).toBe('payments');
    expect(engine.classify('invoice stripe', NONE)).toBe('payments');
    expect(engine.classify('invoice sent', NONE)).toBe('billing');
    expect(engine.classify('call timeout', NONE)).toBe('timeout');
  });

  test('can test an attribute', () => {
    const engine = new RuleEngine(compileRules(parseRuleSpecs('audit[event.domain]=^audit$')), '');
    expect(engine.classify('x', attrs({ 'event.domain': 'audit' }))).toBe('audit');
    expect(engine.classify('x', attrs({ 'event.domain': 'auditing' }))).toBe('');
    expect(engine.classify('audit', NONE)).toBe('');
  });

  test('test a non-string attribute in its rendering', () => {
    const engine = new RuleEngine(compileRules(parseRuleSpecs('teapot[http.response.status_code]=^418$')), '');
    expect(engine.classify('x', new Map([['http.response.status_code', intValue(418)]]))).toBe('teapot');
  });

  test('are compiled with RE2: backtracking-only syntax is refused, pathological input stays linear', () => {
    expect(() => compileRules(parseRuleSpecs('x=(a)\\1'))).toThrow(/not a valid RE2 expression/);
    expect(() => compileRules(parseRuleSpecs('x=(?<=a)b'))).toThrow(/not a valid RE2 expression/);
    const [rule] = compileRules(parseRuleSpecs('x=(a+)+$'));
    const start = Date.now();
    expect(rule!.test('a'.repeat(5000) + '!')).toBe(false);
    expect(Date.now() - start).toBeLessThan(1000);
  });
});
