import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { status } from '@grpc/grpc-js';
import Long from 'long';
import { classifyProcessor, messageText } from '../../src/processors/classify';
import { builtinProcessors } from '../../src/processors/registry';
import { OptionError } from '../../src/processors/contract';
import { encodeStateFile } from '../../src/pipeline/state-store';
import { ConfigError } from '../../src/config/load';
import { resolveConfig } from '../../src/config/resolve';
import { decodeSnapshot } from '../../src/classify/snapshot';
import { parseRuleSpecs } from '../../src/classify/rules';
import type { LogRecord } from '../../src/otlp/model';
import { getAttribute, intValue, newLogRecord, stringValue } from '../../src/otlp/values';
import type { Processor } from '../../src/processors/contract';
import { createProcessor, runProcessor } from '../helpers/processors';
import { attrs, record, request } from '../helpers/builders';
import { OtlpTestServer } from '../helpers/otlp-test-server';
import { startTestService, type TestService } from '../helpers/service';
import { exportLogs } from '../helpers/grpc-client';

type Overrides = Parameters<typeof createProcessor<typeof classifyProcessor.options>>[1];

/** The records `p` writes for `records` (one request); classify never drops. */
function classify(p: Processor, records: LogRecord[]): LogRecord[] {
  const { out, drops } = runProcessor(p, request(records));
  expect(drops).toEqual({});
  return out.resourceLogs[0]!.scopeLogs[0]!.logRecords;
}

function run(records: LogRecord[], overrides: Overrides = {}): LogRecord[] {
  return classify(createProcessor(classifyProcessor, overrides), records);
}

const attr = (rec: LogRecord, key: string): string | undefined => getAttribute(rec.attributes, key)?.stringValue ?? undefined;

describe('classify processor', () => {
  test('sets category, template and template id on every record with text', () => {
    const out = run([record('Failed password for invalid user admin from 10.0.0.1 port 22 ssh2'), record('Failed password for invalid user oracle from 10.0.0.2 port 4711 ssh2')]);
    expect(out.map((r) => attr(r, 'log.category'))).toEqual(['auth', 'auth']);
    expect(attr(out[0]!, 'log.template')).toBe('Failed password for invalid user admin from <*> port <*> ssh2');
    expect(attr(out[1]!, 'log.template')).toBe('Failed password for invalid user <*> from <*> port <*> ssh2');
    expect(attr(out[1]!, 'log.template.id')).toMatch(/^[0-9a-f]{16}$/);
    expect(attr(out[1]!, 'log.template.id')).not.toBe(attr(out[0]!, 'log.template.id'));
  });

  test('keeps earlier records\' template ids resolvable after the template generalised (state has the alias)', () => {
    const p = createProcessor(classifyProcessor, { state_path: '/nonexistent/state' });
    const [a] = classify(p, [record('job finished after retry for tenant alpha with status done')]);
    const [b] = classify(p, [record('job finished after retry for tenant beta with status done')]);
    const state = decodeSnapshot(p.state!.snapshot());
    expect(state.aliases).toContainEqual([attr(a!, 'log.template.id'), attr(b!, 'log.template.id')]);
  });

  test.each([
    ['a string body', stringValue('disk quota exceeded for volume 7'), 'disk quota exceeded for volume <*>'],
    ['the message of a key-value body', { kvlistValue: { values: [{ key: 'level', value: stringValue('warn') }, { key: 'msg', value: stringValue('retry 3 of 5') }] } }, 'retry <*> of <*>'],
  ])('mines %s', (_name, body, template) => {
    const [rec] = run([newLogRecord({ body })]);
    expect(attr(rec!, 'log.template')).toBe(template);
  });

  test.each([
    ['an int body', intValue(42)],
    ['a blank string body', stringValue('  ')],
    ['no body', null],
    ['a key-value body without message', { kvlistValue: { values: [{ key: 'status', value: stringValue('connection refused') }] } }],
  ])('gives %s no template, but a category', (_name, body) => {
    const [rec] = run([newLogRecord({ body })]);
    expect(attr(rec!, 'log.template')).toBeUndefined();
    expect(attr(rec!, 'log.template.id')).toBeUndefined();
    expect(attr(rec!, 'log.category')).toBeDefined();
  });

  test('searches a structured body without message in its rendering', () => {
    const [rec] = run([newLogRecord({ body: { kvlistValue: { values: [{ key: 'status', value: stringValue('connection refused') }] } } })]);
    expect(attr(rec!, 'log.category')).toBe('network');
  });

  test('emits the parameters as an array of strings when asked', () => {
    const out = run([record('Deleting block blk_1 file /data/blk_1'), record('Deleting block blk_2 file /data/blk_2')], { parameters: true });
    const values = getAttribute(out[1]!.attributes, 'log.template.parameters')?.arrayValue?.values.map((v) => v.stringValue);
    expect(values).toEqual(['blk_2', '/data/blk_2']);
    // The first record's digit-word was still a constant of its then template.
    expect(getAttribute(out[0]!.attributes, 'log.template.parameters')?.arrayValue?.values.map((v) => v.stringValue)).toEqual(['/data/blk_1']);
  });

  test.each([
    ['rules off', { rules: false }, ['log.template', 'log.template.id']],
    ['templates off', { templates: false }, ['log.category']],
    ['both off', { rules: false, templates: false }, []],
  ])('with %s sets only its part', (_name, overrides, keys) => {
    const [rec] = run([record('all good', { attributes: attrs({ keep: 'me' }) })], overrides as Overrides);
    expect(rec!.attributes.map((a) => a.key)).toEqual(['keep', ...keys]);
  });

  test('writes the category to category_attribute, and default_category to unmatched records', () => {
    const out = run([record('all good'), record('request timed out')], { category_attribute: 'event.category', default_category: 'misc' });
    expect(out.map((r) => attr(r, 'event.category'))).toEqual(['misc', 'timeout']);
    expect(out.map((r) => attr(r, 'log.category'))).toEqual([undefined, undefined]);
  });

  test('an empty default_category leaves unmatched records without category', () => {
    const [rec] = run([record('all good')], { default_category: '' });
    expect(attr(rec!, 'log.category')).toBeUndefined();
  });

  test('extra_rules come before the built-in rules; default_rules off drops the built-in ones', () => {
    const extra = parseRuleSpecs('payments=(?i)stripe;audit[event.domain]=^audit$');
    const out = run([record('Stripe call timed out'), record('request timed out'), record('x', { attributes: attrs({ 'event.domain': 'audit' }) })], { extra_rules: extra });
    expect(out.map((r) => attr(r, 'log.category'))).toEqual(['payments', 'timeout', 'audit']);
    const off = run([record('request timed out')], { extra_rules: extra, default_rules: false });
    expect(attr(off[0]!, 'log.category')).toBe('other');
  });

  test.each([
    ['an invalid extra_rules pattern', { extra_rules: parseRuleSpecs('x=(unclosed') }, 'extra_rules'],
    ['state_path without templates', { state_path: '/tmp/x', templates: false }, 'state_path'],
    ['parameters without templates', { parameters: true, templates: false }, 'parameters'],
    ['a category attribute the template part sets', { category_attribute: 'log.template' }, 'category_attribute'],
  ])('rejects %s with an OptionError', (_name, overrides, option) => {
    let error: unknown;
    try {
      createProcessor(classifyProcessor, overrides as Overrides);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(OptionError);
    expect((error as OptionError).option).toBe(option);
  });

  test('exposes persistent state only with state_path', () => {
    expect(createProcessor(classifyProcessor).state).toBeUndefined();
    const p = createProcessor(classifyProcessor, { state_path: '/var/lib/olp/templates', state_interval: 5000 });
    expect(p.state).toMatchObject({ path: '/var/lib/olp/templates', intervalMs: 5000 });
  });

  test('restore rejects nonsense and keeps what was learnt', () => {
    const p = createProcessor(classifyProcessor, { state_path: '/tmp/x' });
    const [rec] = classify(p, [record('cache warmed for tenant')]);
    expect(() => p.state!.restore(Buffer.from('{"format":"something else"}'))).toThrow(/invalid template snapshot/);
    const [again] = classify(p, [record('cache warmed for tenant')]);
    expect(attr(again!, 'log.template.id')).toBe(attr(rec!, 'log.template.id'));
  });

  test('messageText reads string bodies and message keys only', () => {
    expect(messageText({ stringValue: 'x' })).toBe('x');
    expect(messageText({ kvlistValue: { values: [{ key: 'message', value: { stringValue: 'm' } }] } })).toBe('m');
    expect(messageText({ kvlistValue: { values: [{ key: 'message', value: { intValue: 1n } }] } })).toBeUndefined();
    expect(messageText({ boolValue: true })).toBeUndefined();
    expect(messageText(undefined)).toBeUndefined();
  });
});

describe('classify configuration', () => {
  const processors = builtinProcessors;

  test('reads extra_rules from YAML as a list and from the env var as text', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'olp-classify-yaml-'));
    try {
      const file = path.join(dir, 'olp.yaml');
      fs.writeFileSync(file, 'classify:\n  extra_rules:\n    - category: payments\n      pattern: "(?i)stripe"\n    - category: audit\n      pattern: ^audit$\n      attribute: event.domain\n  similarity: 0.9\n');
      const fromYaml = resolveConfig({ OLP_CONFIG: file }, processors).processorOptions.classify!;
      expect(fromYaml.extra_rules).toEqual([
        { category: 'payments', pattern: '(?i)stripe', attribute: undefined },
        { category: 'audit', pattern: '^audit$', attribute: 'event.domain' },
      ]);
      expect(fromYaml.similarity).toBe(0.9);
      const fromEnv = resolveConfig({ OLP_CONFIG: file, OLP_CLASSIFY_EXTRA_RULES: 'x=y', OLP_CLASSIFY_STATE_PATH: '/tmp/s' }, processors).processorOptions.classify!;
      expect(fromEnv.extra_rules).toEqual([{ category: 'x', pattern: 'y', attribute: undefined }]);
      expect(fromEnv.state_path).toBe('/tmp/s');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test.each([
    [{ OLP_CLASSIFY_EXTRA_RULES: 'no-equals-sign' }, /OLP_CLASSIFY_EXTRA_RULES/],
    [{ OLP_CLASSIFY_SIMILARITY: '1.5' }, /OLP_CLASSIFY_SIMILARITY.*at most 1/],
    [{ OLP_CLASSIFY_SIMILARITY: 'high' }, /OLP_CLASSIFY_SIMILARITY/],
    [{ OLP_CLASSIFY_MAX_TEMPLATES: '0' }, /OLP_CLASSIFY_MAX_TEMPLATES/],
  ])('reports %j naming the variable', (env, message) => {
    expect(() => resolveConfig(env, processors)).toThrow(ConfigError);
    expect(() => resolveConfig(env, processors)).toThrow(message);
  });
});

describe('classify end to end', () => {
  let sink: OtlpTestServer;
  let service: TestService | undefined;
  let dir: string;

  beforeEach(async () => {
    sink = await new OtlpTestServer().start();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'olp-classify-'));
  });
  afterEach(async () => {
    await service?.shutdown();
    service = undefined;
    await sink.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const start = async (env: Record<string, string> = {}): Promise<TestService> =>
    (service = await startTestService({ OTEL_EXPORTER_OTLP_ENDPOINT: sink.endpoint, OLP_PROCESSORS: 'severity,classify', ...env }, builtinProcessors));

  const send = async (s: TestService, bodies: string[], already = 0): Promise<LogRecord[]> => {
    const res = await exportLogs(s.endpoint, request(bodies.map((b) => record(b))));
    expect(res.code).toBe(status.OK);
    await sink.waitForRecords(already + bodies.length);
    return sink.records().slice(already);
  };

  test('records leave the service with severity, category, template and template id', async () => {
    const s = await start({ OLP_CLASSIFY_PARAMETERS: 'true', OLP_CLASSIFY_EXTRA_RULES: 'payments=(?i)stripe' });
    const out = await send(s, ['ERROR stripe charge 42 failed', 'connect to 10.0.0.1:5432 timed out after 30s', 'PacketResponder 1 for block blk_38865049064139660 terminating']);
    expect(out.map((r) => attr(r, 'log.category'))).toEqual(['payments', 'timeout', 'storage']);
    expect(out[0]!.severityText).toBe('ERROR');
    expect(attr(out[2]!, 'log.template')).toBe('PacketResponder <*> for block <*> terminating');
    expect(attr(out[2]!, 'log.template.id')).toMatch(/^[0-9a-f]{16}$/);
    expect(getAttribute(out[2]!.attributes, 'log.template.parameters')?.arrayValue?.values.map((v) => v.stringValue)).toEqual(['1', 'blk_38865049064139660']);
    // Everything else passes through untouched.
    expect(out[0]!.body?.stringValue).toBe('ERROR stripe charge 42 failed');
    expect(Long.fromValue(out[0]!.timeUnixNano).toString()).toBe('1700000000123456789');
  });

  test('an invalid extra_rules pattern fails start-up naming the option', async () => {
    await expect(start({ OLP_CLASSIFY_EXTRA_RULES: 'x=(unclosed' })).rejects.toThrow(/extra_rules|OLP_CLASSIFY_EXTRA_RULES/);
  });

  test('template ids survive a restart through OLP_CLASSIFY_STATE_PATH', async () => {
    const file = path.join(dir, 'state', 'classify.state');
    const env = { OLP_CLASSIFY_STATE_PATH: file, OLP_CLASSIFY_STATE_INTERVAL: '0s' };
    let s = await start(env);
    const first = await send(s, ['Invalid user alice from 10.0.0.1', 'Invalid user bob from 10.0.0.2', 'Invalid user carol from 10.0.0.3']);
    const learnt = attr(first[2]!, 'log.template.id');
    expect(attr(first[2]!, 'log.template')).toBe('Invalid user <*> from <*>');
    await s.shutdown();
    service = undefined;
    expect(fs.existsSync(file)).toBe(true);

    s = await start(env);
    const [after] = await send(s, ['Invalid user dave from 10.0.0.4'], 3);
    expect(attr(after!, 'log.template')).toBe('Invalid user <*> from <*>');
    expect(attr(after!, 'log.template.id')).toBe(learnt);
  });

  test('without the state, the same line gets a different, unlearnt template (control)', async () => {
    const s = await start();
    const [rec] = await send(s, ['Invalid user dave from 10.0.0.4']);
    expect(attr(rec!, 'log.template')).toBe('Invalid user dave from <*>');
  });

  test.each([
    ['garbage', () => Buffer.from('definitely not a state file')],
    ['a truncated file', () => encodeStateFile(Buffer.from('{"format":"olp.classify.templates"}')).subarray(0, 30)],
    ['a valid file with nonsense content', () => encodeStateFile(Buffer.from('{"format":"olp.classify.templates","version":1,"families":[],"shapes":[{"tokens":[1]}],"aliases":[]}'))],
  ])('a corrupt state file (%s) is ignored: the service starts empty', async (_name, content) => {
    const file = path.join(dir, 'classify.state');
    fs.writeFileSync(file, content());
    const s = await start({ OLP_CLASSIFY_STATE_PATH: file });
    const [rec] = await send(s, ['cache warmed for tenant']);
    expect(attr(rec!, 'log.template')).toBe('cache warmed for tenant');
  });
});
