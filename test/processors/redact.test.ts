import fc from 'fast-check';
import Long from 'long';
import pino from 'pino';
import type { OptionValues } from '../../src/config/options';
import { resolveConfig } from '../../src/config/resolve';
import { ConfigError } from '../../src/config/load';
import { decodeLogsData, encodeLogsData } from '../../src/otlp/codec';
import { RecordBatch } from '../../src/records/batch';
import type { AnyValue as RecordValue } from '../../src/records/types';
import type { AnyValue, KeyValue, LogRecord, LogsData } from '../../src/otlp/model';
import { anyValueKind, getAttribute, intValue, stringValue } from '../../src/otlp/values';
import { OptionError } from '../../src/processors/contract';
import { builtinProcessors } from '../../src/processors/registry';
import { redactProcessor, type RedactProcessor } from '../../src/processors/redact';
import { withLuhnDigit } from '../../src/redact/luhn';
import { parseUserPatterns } from '../../src/redact/patterns';
import { createStages } from '../../src/pipeline/stages';
import { logsDataArb } from '../helpers/arbitraries';
import { attrs, record, request } from '../helpers/builders';
import { exportLogs } from '../helpers/grpc-client';
import { createProcessor, runProcessor } from '../helpers/processors';
import { startTestService } from '../helpers/service';
import { useServiceFixture } from '../helpers/service-fixture';

type Options = OptionValues<typeof redactProcessor.options>;

const JWT = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U';

function make(overrides: Partial<Options> = {}): RedactProcessor {
  return createProcessor(redactProcessor, overrides) as RedactProcessor;
}

function records(batch: LogsData): LogRecord[] {
  return batch.resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords));
}

/** What `p` writes for `recs` (one request), checking that it dropped nothing. */
function run(p: RedactProcessor, recs: LogRecord[], resource?: Record<string, string>): LogsData {
  const { out, drops } = runProcessor(p, request(recs, resource));
  expect(drops).toEqual({});
  expect(records(out)).toHaveLength(recs.length);
  return out;
}

function one(p: RedactProcessor, rec: LogRecord): LogRecord {
  return records(run(p, [rec]))[0]!;
}

const kv = (entries: Record<string, AnyValue>): AnyValue => ({ kvlistValue: { values: Object.entries(entries).map(([key, value]) => ({ key, value })) } });
const arr = (...values: AnyValue[]): AnyValue => ({ arrayValue: { values } });
// Decoded messages read unset members as their defaults: the kind tells whether the string is set.
const str = (v: AnyValue | null | undefined): string | undefined => (anyValueKind(v) === 'stringValue' ? v!.stringValue! : undefined);
const attr = (list: KeyValue[], key: string): AnyValue | undefined => getAttribute(list, key);

describe('redact processor', () => {
  test('redacts the string body with every built-in detector by default', () => {
    const body = `user bob@example.com from 10.0.0.1 / 2001:db8::7 paid 4111 1111 1111 1111 password=hunter2 Authorization: Bearer abc123def456 ${JWT}`;
    const out = one(make(), record(body));
    expect(str(out.body)).toBe(
      'user [REDACTED:email] from [REDACTED:ipv4] / [REDACTED:ipv6] paid [REDACTED:credit_card] password=[REDACTED:secret_kv] Authorization: Bearer [REDACTED:bearer] [REDACTED:jwt]',
    );
  });

  test('leaves a request without secrets untouched: it is written out as its received bytes', () => {
    const rec = record('GET /api/v1/orders 200 12ms', {
      body: kv({ msg: stringValue('GET /api/v1/orders'), hops: arr(stringValue('fine'), intValue(3)) }),
      attributes: attrs({ 'http.route': '/api/v1/orders', 'service.version': '1.2.3' }),
    });
    const bytes = encodeLogsData(request([rec, record('GET /healthz 200')], { 'service.name': 'api' }));
    const batch = new RecordBatch(bytes);
    batch.begin();
    make({ resource: true }).process(batch);
    batch.commit();
    const out = batch.encode(100);
    expect(out).toHaveLength(1);
    expect(out[0]!.bytes).toBe(bytes);
  });

  test('redacts string attribute values and leaves other types alone', () => {
    const rec = record('x', {
      attributes: [
        { key: 'client.address', value: stringValue('192.168.0.10') },
        { key: 'user.email', value: stringValue('Eve <eve@example.org>') },
        { key: 'count', value: intValue(4111111111111111) },
        { key: 'ratio', value: { doubleValue: 1.5 } },
      ],
    });
    const out = one(make(), rec);
    expect(str(attr(out.attributes, 'client.address'))).toBe('[REDACTED:ipv4]');
    expect(str(attr(out.attributes, 'user.email'))).toBe('Eve <[REDACTED:email]>');
    expect(attr(out.attributes, 'count')!.intValue!.toString()).toBe('4111111111111111');
    expect(attr(out.attributes, 'ratio')!.doubleValue).toBe(1.5);
  });

  test('allow_keys are never touched, at any level', () => {
    const rec = record('x', {
      body: kv({ trace_ip: stringValue('10.0.0.1'), other: stringValue('10.0.0.2') }),
      attributes: attrs({ 'net.peer.ip': '10.0.0.1', password: 'hunter2', 'user.email': 'a@b.io' }),
    });
    const out = one(make({ allow_keys: ['net.peer.ip', 'password', 'trace_ip'] }), rec);
    expect(str(attr(out.attributes, 'net.peer.ip'))).toBe('10.0.0.1');
    expect(str(attr(out.attributes, 'password'))).toBe('hunter2');
    expect(str(attr(out.attributes, 'user.email'))).toBe('[REDACTED:email]');
    expect(str(attr(out.body!.kvlistValue!.values, 'trace_ip'))).toBe('10.0.0.1');
    expect(str(attr(out.body!.kvlistValue!.values, 'other'))).toBe('[REDACTED:ipv4]');
  });

  test('attribute_keys redact the whole value whatever its type or content', () => {
    const rec = record('x', {
      attributes: [
        { key: 'session_id', value: stringValue('plain words') },
        { key: 'pin', value: intValue(1234) },
        { key: 'profile', value: kv({ name: stringValue('Bob') }) },
        { key: 'empty', value: {} },
        { key: 'kept', value: stringValue('plain words') },
      ],
    });
    const p = make({ attribute_keys: ['session_id', 'pin', 'profile', 'empty'] });
    const out = one(p, rec);
    expect(out.attributes.map((a) => [a.key, str(a.value)])).toEqual([
      ['session_id', '[REDACTED:attribute_key]'],
      ['pin', '[REDACTED:attribute_key]'],
      ['profile', '[REDACTED:attribute_key]'],
      ['empty', undefined],
      ['kept', 'plain words'],
    ]);
    expect(p.counts.get('attribute_key')).toBe(3);
  });

  test('values of keys that name a secret are redacted whole (secret_kv), flags stay', () => {
    const rec = record('x', {
      attributes: [
        { key: 'db.password', value: stringValue('correct horse') },
        { key: 'http.request.header.authorization', value: stringValue('Basic dXNlcjpwYXNz') },
        { key: 'apiKey', value: intValue(42) },
        { key: 'has_token', value: { boolValue: true } },
        { key: 'token_count', value: stringValue('12') },
      ],
    });
    const out = one(make(), rec);
    expect(out.attributes.map((a) => [a.key, str(a.value) ?? a.value!.boolValue])).toEqual([
      ['db.password', '[REDACTED:secret_kv]'],
      ['http.request.header.authorization', '[REDACTED:secret_kv]'],
      ['apiKey', '[REDACTED:secret_kv]'],
      ['has_token', true],
      ['token_count', '12'],
    ]);
    // Without the secret_kv detector, key names are not special.
    const plain = one(make({ detectors: ['email'] }), record('x', { attributes: attrs({ password: 'hunter2' }) }));
    expect(str(attr(plain.attributes, 'password'))).toBe('hunter2');
  });

  test('walks structured bodies: maps and arrays, recursively', () => {
    const body = kv({
      msg: stringValue('login by a@b.io'),
      password: stringValue('hunter2'),
      n: intValue(7),
      hops: arr(stringValue('10.0.0.1'), stringValue('fine'), arr(kv({ card: stringValue('5555555555554444') }))),
    });
    const out = one(make(), record('', { body }));
    const values = out.body!.kvlistValue!.values;
    expect(str(attr(values, 'msg'))).toBe('login by [REDACTED:email]');
    expect(str(attr(values, 'password'))).toBe('[REDACTED:secret_kv]');
    expect(attr(values, 'n')!.intValue!.toNumber()).toBe(7);
    const hops = attr(values, 'hops')!.arrayValue!.values;
    expect(str(hops[0])).toBe('[REDACTED:ipv4]');
    expect(str(hops[1])).toBe('fine');
    expect(str(attr(hops[2]!.arrayValue!.values[0]!.kvlistValue!.values, 'card'))).toBe('[REDACTED:credit_card]');
  });

  test('replaces a value nested deeper than the bound whole (fail closed)', () => {
    // Deeper than protobufjs encodes or decodes (100 messages): built and read through the record model.
    let deep: RecordValue = { stringValue: 'nothing secret' };
    for (let i = 0; i < 200; i++) deep = { arrayValue: { values: [deep] } };
    const batch = new RecordBatch();
    batch.add({ body: deep });
    const p = make();
    batch.begin();
    p.process(batch);
    batch.commit();
    const [written] = new RecordBatch(batch.encode(10)[0]!.bytes);
    let v = written!.body!;
    let depth = 0;
    while (v.arrayValue) {
      v = v.arrayValue.values[0]!;
      depth++;
    }
    expect(depth).toBeLessThan(200);
    expect(v.stringValue).toBe('[REDACTED:too_deep]');
    expect(p.counts.get('too_deep')).toBe(1);
  });

  test('resource attributes only with resource: true', () => {
    const resource = { 'host.ip': '10.1.1.1', 'service.name': 'api' };
    const off = run(make(), [record('x')], resource).resourceLogs[0]!.resource!.attributes;
    expect(str(attr(off, 'host.ip'))).toBe('10.1.1.1');
    const on = run(make({ resource: true }), [record('x')], resource).resourceLogs[0]!.resource!.attributes;
    expect(str(attr(on, 'host.ip'))).toBe('[REDACTED:ipv4]');
    expect(str(attr(on, 'service.name'))).toBe('api');
  });

  test('redacts the resource of every group once, however many records share it', () => {
    const p = make({ resource: true });
    const two = { resourceLogs: [...request([record('x'), record('y')], { 'host.ip': '10.1.1.1' }).resourceLogs, ...request([record('z')], { 'host.ip': '10.1.1.2' }).resourceLogs] };
    const { out } = runProcessor(p, two);
    expect(out.resourceLogs.map((rl) => str(attr(rl.resource!.attributes, 'host.ip')))).toEqual(['[REDACTED:ipv4]', '[REDACTED:ipv4]']);
    expect(p.counts.get('ipv4')).toBe(2);
  });

  test('a repeated attribute key whose later entry holds a secret keeps only its first entry (fail closed)', () => {
    const rec = record('x', {
      attributes: [
        { key: 'note', value: stringValue('fine') },
        { key: 'other', value: stringValue('a@b.io') },
        { key: 'note', value: stringValue('c@d.io') },
      ],
    });
    const out = one(make(), rec);
    expect(out.attributes.map((a) => [a.key, str(a.value)])).toEqual([
      ['note', 'fine'],
      ['other', '[REDACTED:email]'],
    ]);
  });

  test('detectors selects the built-ins; none leaves only patterns and attribute_keys', () => {
    const line = 'a@b.io 10.0.0.1';
    expect(str(one(make({ detectors: ['email'] }), record(line)).body)).toBe('[REDACTED:email] 10.0.0.1');
    const out = one(make({ detectors: [], attribute_keys: ['k'] }), record(line, { attributes: attrs({ k: 'v' }) }));
    expect(str(out.body)).toBe(line);
    expect(str(attr(out.attributes, 'k'))).toBe('[REDACTED:attribute_key]');
  });

  test('a custom mask, with and without {detector}', () => {
    expect(str(one(make({ mask: '<{detector}>' }), record('a@b.io')).body)).toBe('<email>');
    expect(str(one(make({ mask: '***' }), record('a@b.io password=x')).body)).toBe('*** password=***');
  });

  describe('hash mode', () => {
    const HASH = /^sha256:[0-9a-f]{16}$/;
    const hashOf = (p: RedactProcessor, body: string): string => str(one(p, record(body)).body)!;

    test('equal values get equal hashes, across records and batches; different values differ', () => {
      const p = make({ mode: 'hash' });
      const out = records(run(p, [record('bob@example.com'), record('bob@example.com'), record('eve@example.com')])).map((r) => str(r.body)!);
      expect(out[0]).toMatch(HASH);
      expect(out[1]).toBe(out[0]);
      expect(out[2]).not.toBe(out[0]);
      expect(hashOf(p, 'bob@example.com')).toBe(out[0]);
      expect(hashOf(make({ mode: 'hash' }), 'bob@example.com')).toBe(out[0]);
    });

    test('the key changes the hash and is stable per key', () => {
      const none = hashOf(make({ mode: 'hash' }), '10.0.0.1');
      const k1 = hashOf(make({ mode: 'hash', hash_key: 'k1' }), '10.0.0.1');
      const k2 = hashOf(make({ mode: 'hash', hash_key: 'k2' }), '10.0.0.1');
      expect(new Set([none, k1, k2]).size).toBe(3);
      expect(hashOf(make({ mode: 'hash', hash_key: 'k1' }), '10.0.0.1')).toBe(k1);
      for (const h of [none, k1, k2]) expect(h).toMatch(HASH);
    });

    test('keeps the key of key=value secrets and hashes whole attribute values', () => {
      const p = make({ mode: 'hash', hash_key: 'k', attribute_keys: ['pin'] });
      const out = one(p, record('password=hunter2', { attributes: [{ key: 'pin', value: intValue(1234) }] }));
      expect(str(out.body)).toMatch(/^password=sha256:[0-9a-f]{16}$/);
      expect(str(attr(out.attributes, 'pin'))).toMatch(HASH);
    });
  });

  describe('patterns', () => {
    test('user patterns redact under their own name', () => {
      const p = make({ patterns: parseUserPatterns('emp=EMP-\\d{6};order=order_id=(\\d+)') });
      expect(str(one(p, record('EMP-123456 order_id=987 EMP-12')).body)).toBe('[REDACTED:emp] order_id=[REDACTED:order] EMP-12');
      expect(p.counts.get('emp')).toBe(1);
      expect(p.counts.get('order')).toBe(1);
    });

    test('an invalid pattern is an OptionError naming patterns', () => {
      let err: unknown;
      try {
        make({ patterns: parseUserPatterns('ok=a;bad=(unclosed') });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(OptionError);
      expect((err as OptionError).option).toBe('patterns');
      expect((err as OptionError).message).toMatch(/pattern "bad".*missing closing \)/);
    });

    test('start-up reports the invalid pattern with its env var', () => {
      const processors = builtinProcessors;
      const config = resolveConfig({ OLP_PROCESSORS: 'redact', OLP_REDACT_PATTERNS: 'bad=a(?=b)' }, processors);
      const ctx = { logger: pino({ level: 'silent' }), clock: { now: () => 0 }, env: {} };
      expect(() => createStages(config, processors, ctx)).toThrow(ConfigError);
      expect(() => createStages(config, processors, ctx)).toThrow(/OLP_REDACT_PATTERNS: pattern "bad"/);
    });

    test.each([
      ['a built-in name', 'email=x', /taken by a built-in/],
      ['a reserved label', 'attribute_key=x', /taken by a built-in/],
      ['a duplicate', 'a=x;a=y', /used twice/],
    ])('rejects %s', (_name, patterns, message) => {
      expect(() => make({ patterns: parseUserPatterns(patterns) })).toThrow(message);
    });

    test('the config loader rejects malformed pattern text and bad names', () => {
      const processors = builtinProcessors;
      expect(() => resolveConfig({ OLP_REDACT_PATTERNS: 'noequals' }, processors)).toThrow(/OLP_REDACT_PATTERNS: expected name=regex/);
      expect(() => resolveConfig({ OLP_REDACT_PATTERNS: '9bad=x' }, processors)).toThrow(/OLP_REDACT_PATTERNS/);
      expect(() => resolveConfig({ OLP_REDACT_DETECTORS: 'email,phone' }, processors)).toThrow(/OLP_REDACT_DETECTORS/);
      expect(resolveConfig({ OLP_REDACT_DETECTORS: '' }, processors).processorOptions.redact!.detectors).toEqual([]);
      expect(resolveConfig({ OLP_REDACT_PATTERNS: 'a=x\\;y;b=z' }, processors).processorOptions.redact!.patterns).toEqual([
        { name: 'a', regex: 'x\\;y' },
        { name: 'b', regex: 'z' },
      ]);
    });

    test('a ReDoS-style pattern runs in linear time on a 50k-character input', () => {
      const p = make({ patterns: parseUserPatterns('evil=(a+)+$') });
      const input = 'a'.repeat(50_000) + '!';
      const t = process.hrtime.bigint();
      const out = one(p, record(input, { attributes: attrs({ also: input }) }));
      const ms = Number(process.hrtime.bigint() - t) / 1e6;
      expect(str(out.body)).toBe(input);
      expect(ms).toBeLessThan(500);
    });
  });

  test('rejects a key both allowed and always redacted', () => {
    expect(() => make({ allow_keys: ['a', 'b'], attribute_keys: ['b'] })).toThrow(expect.objectContaining({ option: 'allow_keys' }));
  });

  test('counts cumulative replacements per detector', () => {
    const p = make();
    run(p, [record('a@b.io c@d.io'), record('10.0.0.1')]);
    run(p, [record('e@f.io', { attributes: attrs({ ip: '10.0.0.2' }) })]);
    expect(Object.fromEntries(p.counts)).toEqual({ jwt: 0, bearer: 0, credit_card: 0, email: 3, ipv6: 0, ipv4: 2, secret_kv: 0 });
  });

  test('survives an encode/decode round trip, keeping the values it does not replace', () => {
    const batch = request([
      record('mail a@b.io', {
        attributes: [
          { key: 'n', value: intValue(5) },
          { key: 'ip', value: stringValue('10.0.0.1') },
          { key: 'm', value: kv({ e: stringValue('x@y.io'), i: intValue(1) }) },
        ],
      }),
    ]);
    const out = records(run(make(), records(batch)))[0]!;
    expect(str(out.body)).toBe('mail [REDACTED:email]');
    expect(Long.fromValue(attr(out.attributes, 'n')!.intValue!).toNumber()).toBe(5);
    expect(str(attr(out.attributes, 'ip'))).toBe('[REDACTED:ipv4]');
    expect(str(attr(attr(out.attributes, 'm')!.kvlistValue!.values, 'e'))).toBe('[REDACTED:email]');
    expect(Long.fromValue(attr(attr(out.attributes, 'm')!.kvlistValue!.values, 'i')!.intValue!).toNumber()).toBe(1);
    const again = decodeLogsData(encodeLogsData(out.body ? request([out]) : request([])));
    expect(str(records(again)[0]!.body)).toBe('mail [REDACTED:email]');
  });

  describe('property: no generated e-mail or card survives', () => {
    const localPart = fc.stringMatching(/^[A-Za-z0-9_%+-](?:[A-Za-z0-9._%+-]{0,14}[A-Za-z0-9_%+-])?$/);
    const email = fc.tuple(localPart, fc.domain()).map(([l, d]) => `${l}@${d}`);
    const prefix = fc.constantFrom('4', '51', '52', '55', '34', '37', '6011', '65', '2221', '2720', '3528');
    const card = fc
      .tuple(prefix, fc.integer({ min: 13, max: 19 }), fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 19, maxLength: 19 }), fc.constantFrom('solid', 'space', 'dash'))
      .map(([p, len, digits, style]) => {
        const n = withLuhnDigit((p + digits.join('')).slice(0, len - 1));
        if (style === 'solid') return n;
        return n.replace(/(\d{4})(?=\d)/g, style === 'space' ? '$1 ' : '$1-');
      });
    const filler = fc.stringMatching(/^[A-Za-z ,.;:()"'=\n]{0,12}$/);
    const separator = fc.constantFrom(' ', ', ', '; ', ' "', '" ', '\t', '\n', ' (', ') ', ' <', '> ', ' email=', ' card: ');
    const secret = fc.oneof(email, card);
    const line = fc.array(fc.tuple(filler, separator, secret, separator), { minLength: 1, maxLength: 5 });

    test('in string bodies and attribute values', () => {
      const p = make();
      fc.assert(
        fc.property(line, (parts) => {
          const text = parts.map(([f, a, s, b]) => f + a + s + b).join('');
          const out = one(p, record(text, { attributes: attrs({ note: text }) }));
          for (const [, , s] of parts) {
            expect(str(out.body)).not.toContain(s);
            expect(str(attr(out.attributes, 'note'))).not.toContain(s);
          }
        }),
        { numRuns: 300 },
      );
    });

    test('redacting an already redacted line changes nothing (mask and hash)', () => {
      for (const mode of ['mask', 'hash'] as const) {
        const p = make({ mode });
        fc.assert(
          fc.property(line, (parts) => {
            const once = str(one(p, record(parts.map(([f, a, s, b]) => f + a + s + b).join(''))).body)!;
            expect(str(one(p, record(once)).body)).toBe(once);
          }),
          { numRuns: 100 },
        );
      }
    });
  });

  test('property: any batch keeps its records and shape, and never throws', () => {
    const p = make({ resource: true, attribute_keys: ['k'] });
    fc.assert(
      fc.property(logsDataArb(), (batch) => {
        const shape = (b: LogsData): number[] => b.resourceLogs.flatMap((rl) => rl.scopeLogs.map((sl) => sl.logRecords.length));
        const { out, drops } = runProcessor(p, batch);
        expect(shape(out)).toEqual(shape(batch));
        expect(drops).toEqual({});
      }),
      { numRuns: 200 },
    );
  });
});

describe('redact end to end', () => {
  const f = useServiceFixture();

  test('redacts records between the receiver and the exporter', async () => {
    f.service = await startTestService(
      {
        OTEL_EXPORTER_OTLP_ENDPOINT: f.sink.endpoint,
        OLP_PROCESSORS: 'redact',
        OLP_REDACT_MODE: 'hash',
        OLP_REDACT_HASH_KEY: 'test-key',
        OLP_REDACT_ATTRIBUTE_KEYS: 'session',
        OLP_REDACT_ALLOW_KEYS: 'server.address',
        OLP_REDACT_PATTERNS: 'emp=EMP-\\d{6}',
      },
      builtinProcessors,
    );
    const rec = record('login bob@example.com EMP-123456 password=hunter2', {
      attributes: attrs({ session: 'abc', 'server.address': '10.0.0.1', 'client.address': '10.0.0.2' }),
    });
    await exportLogs(f.service.endpoint, request([rec, record('nothing here')]));
    await f.sink.waitForRecords(2);
    const [a, b] = f.sink.records();
    expect(str(a!.body)).toMatch(/^login sha256:[0-9a-f]{16} sha256:[0-9a-f]{16} password=sha256:[0-9a-f]{16}$/);
    expect(str(attr(a!.attributes, 'session'))).toMatch(/^sha256:[0-9a-f]{16}$/);
    expect(str(attr(a!.attributes, 'server.address'))).toBe('10.0.0.1');
    expect(str(attr(a!.attributes, 'client.address'))).toMatch(/^sha256:[0-9a-f]{16}$/);
    expect(str(b!.body)).toBe('nothing here');
    expect(a!.timeUnixNano.toString()).toBe('1700000000123456789');
  });
});
