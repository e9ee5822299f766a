import pino from 'pino';
import { resolveConfig } from '../../src/config/resolve';
import { ConfigError } from '../../src/config/load';
import { countRecords, routeMark, type LogRecord, type LogsData } from '../../src/otlp/model';
import { parseRouteRules, routeProcessor, type RouteRule } from '../../src/processors/route';
import { builtinProcessors } from '../../src/processors/registry';
import { partitionByRoute } from '../../src/pipeline/routes';
import { createStages } from '../../src/pipeline/stages';
import { explainBatches, formatText } from '../../src/cli/explain';
import { bodies, record, request } from '../helpers/builders';
import { exportLogs } from '../helpers/grpc-client';
import { OtlpTestServer } from '../helpers/otlp-test-server';
import { RecordingDrops, expectOptionError } from '../helpers/processors';
import { useServiceFixture } from '../helpers/service-fixture';
import { eventually } from '../helpers/eventually';

const EXPORTERS = ['otlp', 'errors', 'audit'];
const ctx = { logger: pino({ level: 'silent' }), clock: { now: () => 0 }, env: {}, exporters: EXPORTERS };

function route(rules: RouteRule[] | string, extra: { mode?: 'first' | 'all'; default?: string[] } = {}) {
  return routeProcessor.create({ rules: typeof rules === 'string' ? parseRouteRules(rules) : rules, mode: extra.mode ?? 'first', default: extra.default ?? [] }, ctx);
}

const sev = (body: string, n: number, attributes: LogRecord['attributes'] = []) => record(body, { severityNumber: n, attributes });
const audited = (body: string, n: number) => sev(body, n, [{ key: 'audit', value: { boolValue: true } }]);

/** Exporter names per record body, from the marks route set. */
function destinations(batch: LogsData): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const rl of batch.resourceLogs) {
    for (const sl of rl.scopeLogs) {
      for (const r of sl.logRecords) {
        const mask = r[routeMark];
        out[r.body!.stringValue as string] = mask === undefined ? ['*'] : EXPORTERS.filter((_, i) => mask & (1 << i));
      }
    }
  }
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
    const drops = new RecordingDrops();
    const out = route(rules, { mode, default: def }).process(input(), drops);
    expect(destinations(out)).toEqual(want);
    expect(drops.counts).toEqual({});
  });

  test('drops records matching no rule when the default is none, and counts them as unrouted', () => {
    const drops = new RecordingDrops();
    const out = route(rules, { default: ['none'] }).process(input(), drops);
    expect(bodies(out.resourceLogs[0]!.scopeLogs[0]!.logRecords)).toEqual(['error', 'audited info', 'audited error']);
    expect(drops.counts).toEqual({ unrouted: 1 });
  });

  test('counts matches per rule and evaluation errors as events', () => {
    const p = route('errors=severity_number >= 17;audit=attributes.audit == true');
    p.process(input(), new RecordingDrops());
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

describe('partitionByRoute', () => {
  test('returns nothing to split when every record goes everywhere', () => {
    expect(partitionByRoute(request([record('a'), record('b')]), 3)).toBeUndefined();
  });

  test('gives each exporter its records, the whole batch when it gets all, and nothing when it gets none', () => {
    const batch = request([record('a'), record('b'), record('c')], { 'service.name': 's' });
    const [a, b, c] = batch.resourceLogs[0]!.scopeLogs[0]!.logRecords;
    a![routeMark] = 0b001;
    b![routeMark] = 0b011;
    c![routeMark] = 0b011;
    const parts = partitionByRoute(batch, 3)!;
    expect(parts[0]).toBe(batch);
    expect(bodies(parts[1]!.resourceLogs[0]!.scopeLogs[0]!.logRecords)).toEqual(['b', 'c']);
    expect(parts[1]!.resourceLogs[0]!.resource).toBe(batch.resourceLogs[0]!.resource);
    expect(parts[2]).toBeUndefined();
    expect(countRecords(batch)).toBe(3);
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
