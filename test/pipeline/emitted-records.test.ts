/**
 * Records a processor emits on its own (aggregate's window summaries and anomalies) are the
 * service's accounting, not traffic: processors that thin the stream after it pass them on, and
 * they carry the service's own resource.
 */
import Long from 'long';
import pino from 'pino';
import { resolveConfig } from '../../src/config/resolve';
import { countRecords, type LogsData } from '../../src/otlp/model';
import { ProcessingChain } from '../../src/pipeline/chain';
import { builtinProcessors } from '../../src/processors/registry';
import { createStages } from '../../src/pipeline/stages';
import { Metrics } from '../../src/telemetry/metrics';
import { plainAttributes } from '../helpers/values';
import { flushChain, runChain } from '../helpers/processors';
import { record, request } from '../helpers/builders';

const T0 = 1_700_000_040_000; // a whole minute

function chainOf(env: Record<string, string>, clock: { t: number }): ProcessingChain {
  const full = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1', OLP_WORKERS: '0', ...env };
  const config = resolveConfig(full, builtinProcessors);
  const logger = pino({ level: 'silent' });
  return new ProcessingChain(createStages(config, builtinProcessors, { logger, clock: { now: () => clock.t }, env: full }), new Metrics(), logger);
}

const traffic = (n: number): LogsData => request(Array.from({ length: n }, () => record('GET /health 200', { timeUnixNano: Long.fromNumber(T0 * 1e6 + 1, true) })), { 'service.name': 'api' });

describe('records emitted by a processor', () => {
  test.each<[string, Record<string, string>]>([
    ['sample', { OLP_SAMPLE_RATE: '0', OLP_SAMPLE_KEEP_SEVERITY: 'none' }],
    ['rate_limit', { OLP_RATE_LIMIT_RATE: '0.001', OLP_RATE_LIMIT_BURST: '1' }],
    ['dedup', {}],
  ])('pass %s placed after aggregate, which still thins the traffic', (thinner, env) => {
    const clock = { t: T0 };
    const chain = chainOf({ OLP_PROCESSORS: `aggregate,${thinner}`, OLP_AGGREGATE_WINDOW: '60s', ...env }, clock);
    const out = runChain(chain, traffic(5));
    expect(countRecords(out)).toBeLessThan(5);
    clock.t = T0 + 60_000;
    const summaries = flushChain(chain, 0, clock.t);
    expect(summaries && countRecords(summaries)).toBe(1);
  });

  test('dedup after aggregate ignores the first-seen template flag: duplicates are still dropped', () => {
    const clock = { t: T0 };
    const chain = chainOf({ OLP_PROCESSORS: 'classify,aggregate,dedup' }, clock);
    const out = runChain(chain, traffic(3));
    expect(countRecords(out)).toBe(1);
    const only = out.resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!;
    expect(plainAttributes(only.attributes)['log.template.new']).toBe(true);
  });

  test('window summaries carry the service resource (Kubernetes and OTEL_RESOURCE_ATTRIBUTES) under the group-by attributes', () => {
    const clock = { t: T0 };
    const chain = chainOf(
      { OLP_PROCESSORS: 'aggregate', K8S_POD_NAME: 'sidecar-0', K8S_NAMESPACE_NAME: 'shop', OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=prod,service.name=olp' },
      clock,
    );
    runChain(chain, traffic(2));
    clock.t = T0 + 60_000;
    const out = flushChain(chain, 0, clock.t)!;
    expect(plainAttributes(out.resourceLogs[0]!.resource!.attributes)).toEqual({
      'k8s.pod.name': 'sidecar-0',
      'k8s.namespace.name': 'shop',
      'deployment.environment': 'prod',
      'service.name': 'api',
    });
  });
});
