/** Custom processors: the example in examples/custom-processor, loading rules, and the failure policy. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { LogsData } from '../../src/otlp/model';
import { getAttribute } from '../../src/otlp/values';
import { ConfigError } from '../../src/config/load';
import { loadProcessorModule, resolveServiceConfig } from '../../src/processors/custom';
import { startTestService } from '../helpers/service';
import { useServiceFixture } from '../helpers/service-fixture';
import { startServiceProcess, runCli } from '../helpers/cli';
import { exportLogs } from '../helpers/grpc-client';
import { bodies, record, request } from '../helpers/builders';
import { eventually } from '../helpers/eventually';
import { createProcessor, runProcessor } from '../helpers/processors';

const EXAMPLE = './examples/custom-processor/tenant-processor.js';
const ROOT = path.resolve(__dirname, '../..');

/** Marks every record, then fails when a body is "boom": by throwing, or by returning a Promise. */
const FAULTY_JS = `const { defineProcessor, opt } = require('otlp-log-processor');
exports.processor = defineProcessor({
  name: 'faulty',
  summary: 'Marks records, then fails on "boom".',
  options: { mode: opt.enum(['throw', 'promise'], 'throw', 'How to fail.') },
  create(options) {
    return {
      process(batch) {
        let boom = false;
        for (const r of batch) {
          r.attributes.set('touched', 'yes');
          if (r.bodyString === 'boom') boom = true;
        }
        if (boom && options.mode === 'promise') return Promise.resolve();
        if (boom) throw new Error('boom seen');
      },
    };
  },
});
`;
const FAULTY = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'olp-faulty-')), 'faulty.js');
fs.writeFileSync(FAULTY, FAULTY_JS);

describe('the example tenant processor', () => {
  const tenant = createProcessor(loadProcessorModule(EXAMPLE, ROOT));
  const resources = (...namespaces: (string | undefined)[]): LogsData => ({
    resourceLogs: namespaces.flatMap((ns, i) => request([record(`r${i}a`), record(`r${i}b`)], ns === undefined ? {} : { 'k8s.namespace.name': ns }).resourceLogs),
  });
  const tenants = (out: LogsData): (string | undefined)[] =>
    out.resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords.map((r) => getAttribute(r.attributes, 'tenant')?.stringValue ?? undefined)));

  test('derives the tenant from each resource namespace, prefix removed, "unknown" without one', () => {
    const { out, drops } = runProcessor(tenant, resources('team-payments', 'search', undefined));
    expect(tenants(out)).toEqual(['payments', 'payments', 'search', 'search', 'unknown', 'unknown']);
    expect(drops).toEqual({});
  });

  test('replaces a tenant attribute the record already has rather than adding a second one', () => {
    const data = request([record('a', { attributes: [{ key: 'tenant', value: { stringValue: 'spoofed' } }] })], { 'k8s.namespace.name': 'team-search' });
    const { out } = runProcessor(tenant, data);
    expect(out.resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!.attributes.filter((kv) => kv.key === 'tenant').map((kv) => kv.value?.stringValue)).toEqual(['search']);
  });

  test('its options are its own: attribute, prefix and unknown tenant', () => {
    const custom = createProcessor(loadProcessorModule(EXAMPLE, ROOT), { attribute: 'team', prefix: 'ns-', unknown: 'none' });
    const { out } = runProcessor(custom, resources('ns-a', undefined));
    expect(out.resourceLogs.map((rl) => getAttribute(rl.scopeLogs[0]!.logRecords[0]!.attributes, 'team')?.stringValue)).toEqual(['a', 'none']);
  });
});

function problems(env: Record<string, string>): string {
  try {
    resolveServiceConfig(env, ROOT);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems.join('\n');
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('custom processors', () => {
  const f = useServiceFixture();

  test('the example tenant processor runs in the chain, configured by its own env vars', async () => {
    f.service = await startTestService({
      OTEL_EXPORTER_OTLP_ENDPOINT: f.sink.endpoint,
      OLP_PROCESSORS: `severity,${EXAMPLE}`,
      OLP_TENANT_ATTRIBUTE: 'team',
    });
    await exportLogs(f.service.endpoint, request([record('hello')], { 'k8s.namespace.name': 'team-payments' }));
    await f.sink.waitForRecords(1);
    expect(getAttribute(f.sink.records()[0]!.attributes, 'team')?.stringValue).toBe('payments');
  });

  test('a processor that throws leaves its batch exactly as before it ran (on_error=pass), counted', async () => {
    f.service = await startTestService({ OTEL_EXPORTER_OTLP_ENDPOINT: f.sink.endpoint, OLP_PROCESSORS: FAULTY });
    await exportLogs(f.service.endpoint, request([record('fine')]));
    await exportLogs(f.service.endpoint, request([record('boom'), record('neighbour')]));
    await f.sink.waitForRecords(3);
    const [fine, boom, neighbour] = f.sink.records();
    expect(getAttribute(fine!.attributes, 'touched')?.stringValue).toBe('yes');
    expect(getAttribute(boom!.attributes, 'touched')).toBeUndefined();
    expect(getAttribute(neighbour!.attributes, 'touched')).toBeUndefined();
    expect(await f.service.metrics.total(f.service.metrics.processorEvents, { processor: 'faulty', event: 'error' })).toBe(1);
  });

  test('with on_error=drop the failing batch is dropped and counted as processor_error', async () => {
    f.service = await startTestService({ OTEL_EXPORTER_OTLP_ENDPOINT: f.sink.endpoint, OLP_PROCESSORS: FAULTY, OLP_FAULTY_ON_ERROR: 'drop' });
    await exportLogs(f.service.endpoint, request([record('boom'), record('neighbour')]));
    await exportLogs(f.service.endpoint, request([record('after')]));
    await f.sink.waitForRecords(1);
    expect(bodies(f.sink.records())).toEqual(['after']);
    expect(await f.service.metrics.total(f.service.metrics.dropped, { component: 'processor/faulty', reason: 'processor_error' })).toBe(2);
  });

  test('a processor returning a Promise is a failure, not a hang', async () => {
    f.service = await startTestService({ OTEL_EXPORTER_OTLP_ENDPOINT: f.sink.endpoint, OLP_PROCESSORS: FAULTY, OLP_FAULTY_MODE: 'promise' });
    await exportLogs(f.service.endpoint, request([record('boom')]));
    await f.sink.waitForRecords(1);
    expect(getAttribute(f.sink.records()[0]!.attributes, 'touched')).toBeUndefined();
  });

  test.each([
    ['a missing module', { OLP_PROCESSORS: './test/fixtures/processors/missing.js' }, 'OLP_PROCESSORS: cannot load processor "./test/fixtures/processors/missing.js"'],
    ['a module without a factory', { OLP_PROCESSORS: './test/fixtures/processors/not-a-processor.js' }, 'exports no processor factory'],
    ['a processor named like a built-in one', { OLP_PROCESSORS: './test/fixtures/processors/named-like-builtin.js' }, 'is named "severity", which is already taken'],
    ['an invalid option of the processor', { OLP_PROCESSORS: FAULTY, OLP_FAULTY_MODE: 'explode' }, 'OLP_FAULTY_MODE:'],
    ['an invalid on_error', { OLP_PROCESSORS: FAULTY, OLP_FAULTY_ON_ERROR: 'retry' }, 'OLP_FAULTY_ON_ERROR:'],
  ])('refuses %s with a message naming the variable', (_what, env, message) => {
    expect(problems(env)).toContain(message);
  });

  // Written outside the checkout, where no node_modules holds the package: the loader must resolve it.
  const OUTSIDE_JS = `const { defineProcessor, opt, stringValue } = require('otlp-log-processor');
exports.processor = defineProcessor({
  name: 'outside_js', summary: 'Marks records.', options: { mark: opt.string('js', 'Mark.') },
  create(o) { const mark = stringValue(o.mark); return { process(b) { for (const r of b) r.attributes.set('mark', mark); } }; },
});
`;
  const OUTSIDE_TS = `import { defineProcessor, opt, type LogBatch } from 'otlp-log-processor';
export const processor = defineProcessor({
  name: 'outside_ts', summary: 'Marks records.', options: { mark: opt.string('ts', 'Mark.') },
  create(o) { return { process(b: LogBatch): void { for (const r of b) r.attributes.set('mark', o.mark); } }; },
});
`;

  // Node strips types by default from 22.18 and 23.6 (README says how to compile for older ones).
  const stripsTypes = Boolean((process.features as { typescript?: string | false }).typescript);
  test.each([
    ['a .js file', 'processor.js', OUTSIDE_JS, '0', 'js'],
    ...(stripsTypes
      ? [
          ['a .ts file (types stripped by Node)', 'processor.ts', OUTSIDE_TS, '0', 'ts'],
          ['a .ts file in worker threads', 'processor.ts', OUTSIDE_TS, '1', 'ts'],
        ]
      : []),
  ])('`run` loads %s from a folder outside the checkout that imports the package by name', async (_what, file, source, workers, mark) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'olp-custom-'));
    fs.writeFileSync(path.join(dir, file), source);
    const svc = await startServiceProcess({ OTEL_EXPORTER_OTLP_ENDPOINT: f.sink.endpoint, OLP_PROCESSORS: path.join(dir, file), OLP_WORKERS: workers });
    try {
      await runCli(['send', '--endpoint', `http://127.0.0.1:${svc.port}`, '--quiet'], {}, 'hello\n');
      await f.sink.waitForRecords(1, 10_000);
      expect(getAttribute(f.sink.records()[0]!.attributes, 'mark')?.stringValue).toBe(mark);
    } finally {
      expect(await svc.stop()).toBe(0);
    }
  });

  test('`run` loads the example through the published package entry point', async () => {
    const svc = await startServiceProcess({ OTEL_EXPORTER_OTLP_ENDPOINT: f.sink.endpoint, OLP_PROCESSORS: EXAMPLE, K8S_NAMESPACE_NAME: 'team-search' });
    try {
      await runCli(['send', '--endpoint', `http://127.0.0.1:${svc.port}`, '--quiet'], {}, 'hello\n');
      await eventually(() => expect(f.sink.recordCount).toBe(1), 10_000);
    } finally {
      expect(await svc.stop()).toBe(0);
    }
  });
});
