import pino from 'pino';
import { resolveConfig } from '../../src/config/resolve';
import { ConfigError } from '../../src/config/load';
import type { LogsData } from '../../src/otlp/model';
import { filterProcessor } from '../../src/processors/filter';
import { builtinProcessors } from '../../src/processors/registry';
import { createStages } from '../../src/pipeline/stages';
import { getAttribute } from '../../src/otlp/values';
import { bodies, record, request } from '../helpers/builders';
import { exportLogs } from '../helpers/grpc-client';
import { createProcessor, runProcessor } from '../helpers/processors';
import { useServiceFixture } from '../helpers/service-fixture';
import { eventually } from '../helpers/eventually';

// Until the registry lists it; allSections rejects duplicate names, so add it only once.
const processors = builtinProcessors;

const sev = (body: string, n: number) => record(body, { severityNumber: n, severityText: n >= 17 ? 'ERROR' : 'INFO' });

describe('filter processor', () => {
  test.each([
    { drop: 'severity_number < 13', input: [sev('a', 9), sev('b', 17), sev('c', 5), sev('d', 21)], kept: ['b', 'd'] },
    { drop: 'body.contains("health")', input: [sev('GET /health', 9), sev('GET /pay', 9)], kept: ['GET /pay'] },
    { drop: 'attributes.missing == "x"', input: [sev('a', 9)], kept: ['a'] },
    { drop: 'false', input: [sev('a', 9), sev('b', 9)], kept: ['a', 'b'] },
  ])('drop $drop keeps $kept', ({ drop, input, kept }) => {
    const { out, drops } = runProcessor(createProcessor(filterProcessor, { drop }), request(input));
    expect(bodies(out.resourceLogs[0]!.scopeLogs[0]!.logRecords)).toEqual(kept);
    expect(drops.filtered ?? 0).toBe(input.length - kept.length);
  });

  test('removes scopes and resources it empties', () => {
    const batch: LogsData = {
      resourceLogs: [...request([sev('a', 9)], { 'service.name': 'x' }).resourceLogs, ...request([sev('b', 9), sev('c', 17)], { 'service.name': 'y' }).resourceLogs],
    };
    const { out, drops } = runProcessor(createProcessor(filterProcessor, { drop: 'severity_number < 13' }), batch);
    expect(out.resourceLogs).toHaveLength(1);
    expect(out.resourceLogs[0]!.scopeLogs).toHaveLength(1);
    expect(bodies(out.resourceLogs[0]!.scopeLogs[0]!.logRecords)).toEqual(['c']);
    expect(drops).toEqual({ filtered: 2 });
  });

  test('counts evaluation errors as an event and keeps those records', () => {
    const p = createProcessor(filterProcessor, { drop: 'attributes.level == "debug"' });
    const { out } = runProcessor(p, request([sev('a', 9), sev('b', 9)]));
    expect(p.counts?.get('evaluation_errors')).toBe(2);
    expect(bodies(out.resourceLogs[0]!.scopeLogs[0]!.logRecords)).toEqual(['a', 'b']);
  });
});

describe('start-up errors for conditions name the env var', () => {
  const ctx = { logger: pino({ level: 'silent' }), clock: { now: () => 0 }, env: {} };
  const problems = (env: Record<string, string>): string[] => {
    const config = resolveConfig(env, processors);
    try {
      createStages(config, processors, ctx);
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      return (e as ConfigError).problems as string[];
    }
    return [];
  };

  test.each([
    [{ OLP_PROCESSORS: 'filter' }, /^OLP_FILTER_DROP: required/],
    [{ OLP_PROCESSORS: 'filter', OLP_FILTER_DROP: 'severity_number <' }, /^OLP_FILTER_DROP: syntax error/],
    [{ OLP_PROCESSORS: 'filter', OLP_FILTER_DROP: 'level == 3' }, /^OLP_FILTER_DROP: unknown variable "level"/],
    [{ OLP_PROCESSORS: 'attributes', OLP_ATTRIBUTES_WHERE: 'resource["a"] ==' }, /^OLP_ATTRIBUTES_WHERE: syntax error/],
    [{ OLP_PROCESSORS: 'severity', OLP_SEVERITY_WHERE: 'nosuch(body)' }, /^OLP_SEVERITY_WHERE: unknown function "nosuch"/],
  ])('%j', (env, message) => {
    const found = problems(env);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(message);
  });

  test('a valid where is compiled onto the stage', () => {
    const config = resolveConfig({ OLP_PROCESSORS: 'attributes', OLP_ATTRIBUTES_WHERE: 'severity_number >= 17' }, processors);
    const [stage] = createStages(config, processors, ctx);
    expect(stage!.where?.expression).toBe('severity_number >= 17');
  });
});

describe('filter and where end to end', () => {
  const f = useServiceFixture();

  test('severity, filter and attributes with a where condition over OTLP', async () => {
    const service = await f.start(
      {
        OLP_PROCESSORS: 'severity,filter,attributes',
        OLP_FILTER_DROP: 'severity_number < 13',
        OLP_ATTRIBUTES_ACTIONS: 'insert team=core',
        OLP_ATTRIBUTES_WHERE: 'resource["service.name"] == "checkout"',
      },
      processors,
    );
    const batch: LogsData = {
      resourceLogs: [
        ...request([sev('checkout error', 17), sev('checkout info', 9)], { 'service.name': 'checkout' }).resourceLogs,
        ...request([sev('cart error', 17), sev('cart info', 9)], { 'service.name': 'cart' }).resourceLogs,
      ],
    };
    await exportLogs(service.endpoint, batch);
    // All four accounted for — two filtered, two exported — so no other record can still arrive.
    await eventually(async () => {
      expect(await service.metrics.total(service.metrics.dropped, { reason: 'filtered' })).toBe(2);
      expect(await service.metrics.total(service.metrics.exporterSent)).toBe(2);
    });
    const got = f.sink.records();
    expect(bodies(got)).toEqual(['checkout error', 'cart error']);
    expect(getAttribute(got[0]!.attributes, 'team')?.stringValue).toBe('core');
    expect(getAttribute(got[1]!.attributes, 'team')).toBeUndefined();
  });
});
