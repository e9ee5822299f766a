import pino from 'pino';
import { resolveConfig } from '../../src/config/resolve';
import { ConfigError } from '../../src/config/load';
import { decodeLogsData, encodeLogsData } from '../../src/otlp/codec';
import type { LogRecord, LogsData } from '../../src/otlp/model';
import { parseRouteRules, routeProcessor, setRecordRoutes, type RouteRule } from '../../src/processors/route';
import type { Processor } from '../../src/processors/contract';
import { builtinProcessors } from '../../src/processors/registry';
import { createStages } from '../../src/pipeline/stages';
import { BatchView, RecordBatch } from '../../src/records/batch';
import { explainBatches, formatText } from '../../src/cli/explain';
import { bodies, record, request } from '../helpers/builders';
import { exportLogs } from '../helpers/grpc-client';
import { OtlpTestServer } from '../helpers/otlp-test-server';
import { batchToLogsData, expectOptionError } from '../helpers/processors';
import { useServiceFixture } from '../helpers/service-fixture';
import { eventually } from '../helpers/eventually';

const EXPORTERS = ['otlp', 'errors', 'audit'];
const ctx = { logger: pino({ level: 'silent' }), clock: { now: () => 0 }, env: {}, exporters: EXPORTERS };

function route(rules: RouteRule[] | string, extra: { mode?: 'first' | 'all'; default?: string[] } = {}) {
  return routeProcessor.create({ rules: typeof rules === 'string' ? parseRouteRules(rules) : rules, mode: extra.mode ?? 'first', default: extra.default ?? [] }, ctx);
}

const sev = (body: string, n: number, attributes: LogRecord['attributes'] = []) => record(body, { severityNumber: n, attributes });
const audited = (body: string, n: number) => sev(body, n, [{ key: 'audit', value: { boolValue: true } }]);

const ALL = Number.MAX_SAFE_INTEGER;

/** Runs `p` over `data` as the chain runner does and returns the batch, with the drops by reason. */
function runBatch(p: Processor, data: LogsData | RecordBatch): { batch: RecordBatch; drops: Record<string, number> } {
  const batch = data instanceof RecordBatch ? data : new RecordBatch(encodeLogsData(data));
  batch.begin();
  p.process(batch);
  batch.commit();
  return { batch, drops: Object.fromEntries(batch.takeDrops() ?? []) };
}

/** Record bodies of what the batch sends to exporter `i`, from the requests it encodes for it. */
function sentTo(batch: RecordBatch, i: number): string[] {
  return batch.encode(ALL, i).flatMap((part) => bodies(decodeLogsData(part.bytes).resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords))));
}

/** Exporter names per record body, from what the batch encodes for each exporter. */
function destinations(batch: RecordBatch): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  EXPORTERS.forEach((name, i) => {
    for (const body of sentTo(batch, i)) (out[body] ??= []).push(name);
  });
  return out;
}

describe('route processor', () => {
  const rules = 'errors=severity_number >= 17; audit=has(attributes.audit) && attributes.audit == true';
  const input = () => request([sev('info', 9), sev('error', 17), audited('audited info', 9), audited('audited error', 17)]);

  test.each([
    {
      mode: 'first' as const,
      default: [],
      want: { info: ['otlp', 'errors', 'audit'], error: ['errors'], 'audited info': ['audit'], 'audited error': ['errors'] },
    },
    {
      mode: 'all' as const,
      default: [],
      want: { info: ['otlp', 'errors', 'audit'], error: ['errors'], 'audited info': ['audit'], 'audited error': ['errors', 'audit'] },
    },
    {
      mode: 'first' as const,
      default: ['otlp'],
      want: { info: ['otlp'], error: ['errors'], 'audited info': ['audit'], 'audited error': ['errors'] },
    },
  ])('mode $mode with default $default routes each record', ({ mode, default: def, want }) => {
    const { batch, drops } = runBatch(route(rules, { mode, default: def }), input());
    expect(destinations(batch)).toEqual(want);
    expect(drops).toEqual({});
  });

  test('drops records matching no rule when the default is none, and counts them as unrouted', () => {
    const { batch, drops } = runBatch(route(rules, { default: ['none'] }), input());
    expect(bodies(batchToLogsData(batch).resourceLogs[0]!.scopeLogs[0]!.logRecords)).toEqual(['error', 'audited info', 'audited error']);
    expect(drops).toEqual({ unrouted: 1 });
  });

  test('marks records through a where view on the batch that holds them; the others go everywhere', () => {
    const batch = new RecordBatch(encodeLogsData(input()));
    batch.begin();
    route(rules, { default: ['otlp'] }).process(new BatchView(batch, batch.records().filter((r) => r.bodyString !== 'error')));
    batch.commit();
    expect(destinations(batch)).toEqual({ info: ['otlp'], error: ['otlp', 'errors', 'audit'], 'audited info': ['audit'], 'audited error': ['errors'] });
  });

  test('a later route replaces the exporters an earlier one chose, even with every exporter', () => {
    const { batch } = runBatch(route('errors=true'), input());
    runBatch(route('audit=false'), batch);
    expect(destinations(batch)).toEqual({ info: EXPORTERS, error: EXPORTERS, 'audited info': EXPORTERS, 'audited error': EXPORTERS });
  });

  test('counts matches per rule and evaluation errors as events', () => {
    const p = route('errors=severity_number >= 17;audit=attributes.audit == true');
    runBatch(p, input());
    // Only "info" reaches the second rule without the attribute (first match stops the others).
    expect(Object.fromEntries(p.counts!)).toEqual({ evaluation_errors: 1, 'matched:errors': 2, 'matched:audit': 1 });
  });

  test.each([
    ['errors=severity_number >= 17', [{ exporters: ['errors'], when: 'severity_number >= 17' }]],
    ['errors, audit = body == "a;b" ; otlp=true;', [{ exporters: ['errors', 'audit'], when: 'body == "a;b"' }, { exporters: ['otlp'], when: 'true' }]],
    ["audit=body.startsWith('x;y') && severity_number == 9", [{ exporters: ['audit'], when: "body.startsWith('x;y') && severity_number == 9" }]],
  ])('parses the env form %s', (text, want) => {
    expect(parseRouteRules(text)).toEqual(want);
  });

  test.each([
    [{ rules: [] }, 'rules'],
    [{ rules: [{ exporters: ['nosuch'], when: 'true' }] }, 'rules'],
    [{ rules: [{ exporters: ['errors'], when: 'severity_number >' }] }, 'rules'],
    [{ rules: [{ exporters: ['errors'], when: 'true' }], default: ['nosuch'] }, 'default'],
  ])('refuses %j', (o, option) => {
    expectOptionError(() => routeProcessor.create({ mode: 'first', default: [], ...o } as never, ctx), option);
  });
});

describe('encoding a routed batch per exporter', () => {
  test('sends the batch as it came to every exporter when no record is marked', () => {
    const bytes = encodeLogsData(request([record('a'), record('b')]));
    const batch = new RecordBatch(bytes);
    for (let i = 0; i < EXPORTERS.length; i++) expect(batch.encode(ALL, i)).toEqual([{ bytes, records: 2 }]);
  });

  test('gives each exporter its records under their resource, all when it gets all, and nothing when it gets none', () => {
    const batch = new RecordBatch(encodeLogsData(request([record('a'), record('b'), record('c')], { 'service.name': 's' })));
    const [a, b, c] = batch.records();
    setRecordRoutes(a!, 0b001);
    setRecordRoutes(b!, 0b011);
    setRecordRoutes(c!, 0b011);
    expect(sentTo(batch, 0)).toEqual(['a', 'b', 'c']);
    expect(sentTo(batch, 1)).toEqual(['b', 'c']);
    const second = decodeLogsData(batch.encode(ALL, 1)[0]!.bytes).resourceLogs[0]!;
    expect(second.resource!.attributes.map((kv) => [kv.key, kv.value?.stringValue])).toEqual([['service.name', 's']]);
    expect(batch.encode(ALL, 2)).toEqual([]);
    expect(batch.countFor(1)).toBe(2);
    expect(batch.size).toBe(3);
  });
});

describe('route configuration names the env var', () => {
  const processors = builtinProcessors;
  const problems = (env: Record<string, string>): string[] => {
    try {
      createStages(resolveConfig(env, processors), processors, { logger: pino({ level: 'silent' }), clock: { now: () => 0 }, env });
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      return [...(e as ConfigError).problems];
    }
    return [];
  };

  test.each([
    [{ OLP_PROCESSORS: 'route' }, /^OLP_ROUTE_RULES: required/],
    [{ OLP_PROCESSORS: 'route', OLP_ROUTE_RULES: 'errors=true', OLP_EXPORTERS: 'otlp' }, /^OLP_ROUTE_RULES: rule 1 names exporter "errors", which is not in OLP_EXPORTERS \(otlp\)/],
    [{ OLP_PROCESSORS: 'route', OLP_ROUTE_RULES: 'otlp=level > 3' }, /^OLP_ROUTE_RULES: rule 1 \(otlp\): unknown variable "level"/],
    [{ OLP_PROCESSORS: 'route', OLP_ROUTE_RULES: 'otlp=true', OLP_ROUTE_DEFAULT: 'elsewhere' }, /^OLP_ROUTE_DEFAULT: default names exporter "elsewhere"/],
  ])('%j', (env, message) => {
    const found = problems({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1', ...env });
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(message);
  });

  test('explain shows the exporters each record goes to', () => {
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1', OLP_EXPORTERS: 'otlp,errors', OLP_EXPORTER_ERRORS_ENDPOINT: 'http://127.0.0.1:2', OLP_PROCESSORS: 'route', OLP_ROUTE_RULES: 'errors=severity_number >= 17', OLP_ROUTE_DEFAULT: 'otlp' };
    const config = resolveConfig(env, processors);
    const stages = createStages(config, processors, { logger: pino({ level: 'silent' }), clock: { now: () => 0 }, env });
    const text = formatText(explainBatches(stages, [request([sev('fine', 9), sev('broken', 17)])], config.exporters), ['route']);
    expect(text).toContain('record 1: "fine"\n  route      unchanged\n  →          kept, to otlp');
    expect(text).toContain('record 2: "broken"\n  route      unchanged\n  →          kept, to errors');
  });
});

describe('route end to end', () => {
  const f = useServiceFixture();

  test('sends errors to one backend and the rest to another, encoding once per exporter', async () => {
    const errors = await new OtlpTestServer().start();
    try {
      const s = await f.start({
        OLP_EXPORTERS: 'otlp,errors',
        OLP_EXPORTER_ERRORS_ENDPOINT: errors.endpoint,
        OLP_PROCESSORS: 'route',
        OLP_ROUTE_RULES: 'errors=severity_number >= 17',
        OLP_ROUTE_DEFAULT: 'otlp',
      });
      await exportLogs(s.endpoint, request([sev('ok 1', 9), sev('bad 1', 17), sev('ok 2', 9), sev('bad 2', 21)]));
      // All four sent (two per exporter), so nothing else can still arrive at either sink.
      await eventually(async () => {
        expect(await s.metrics.total(s.metrics.exporterSent, { exporter: 'errors' })).toBe(2);
        expect(await s.metrics.total(s.metrics.exporterSent, { exporter: 'otlp' })).toBe(2);
      });
      expect(bodies(f.sink.records())).toEqual(['ok 1', 'ok 2']);
      expect(bodies(errors.records())).toEqual(['bad 1', 'bad 2']);
      expect(await s.metrics.total(s.metrics.processorEvents, { processor: 'route', event: 'matched:errors' })).toBe(2);
    } finally {
      await errors.stop();
    }
  });
});
