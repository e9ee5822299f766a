/**
 * The OpenTelemetry JS SDK's OTLP/HTTP log exporters (http/json and http/protobuf) send to the
 * service's OTLP/HTTP receiver; records go through the service and arrive at an OTLP/gRPC test server.
 *
 * The SDK side runs in a child Node process: the SDK's node-http transport loads `http` with a
 * dynamic import(), which Jest's VM refuses without --experimental-vm-modules.
 */
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { anyValueToString, getAttribute } from '../../src/otlp/values';
import { useSharedService } from '../helpers/service-fixture';

type Protocol = 'http/json' | 'http/protobuf';

const ROOT = path.resolve(__dirname, '../..');
const PACKAGES: Record<Protocol, string> = {
  'http/json': '@opentelemetry/exporter-logs-otlp-http',
  'http/protobuf': '@opentelemetry/exporter-logs-otlp-proto',
};
/**
 * Emits two records with an SDK LoggerProvider through an OTLP/HTTP exporter, then prints the
 * export results. argv[1]: {"url", "package"}.
 */
const SENDER = String.raw`
const { context, trace, TraceFlags } = require('@opentelemetry/api');
const { SeverityNumber } = require('@opentelemetry/api-logs');
const { resourceFromAttributes } = require('@opentelemetry/resources');
const { BatchLogRecordProcessor, LoggerProvider } = require('@opentelemetry/sdk-logs');
const { url, package: pkg } = JSON.parse(process.argv[1]);

(async () => {
  const inner = new (require(pkg).OTLPLogExporter)({ url });
  const results = [];
  const exporter = {
    export: (records, done) => inner.export(records, (r) => (results.push({ code: r.code, error: r.error && String(r.error) }), done(r))),
    forceFlush: () => (inner.forceFlush ? inner.forceFlush() : Promise.resolve()),
    shutdown: () => inner.shutdown(),
  };
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({ 'service.name': 'checkout', 'service.version': '1.2.3' }),
    processors: [new BatchLogRecordProcessor({ exporter, scheduledDelayMillis: 10 })],
  });
  const logger = provider.getLogger('interop-http', '0.0.2');
  const spanContext = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: TraceFlags.SAMPLED };
  logger.emit({
    severityNumber: SeverityNumber.WARN,
    severityText: 'WARN',
    body: 'disk 91% full',
    timestamp: [1700000000, 123456789],
    attributes: { 'disk.path': '/var', attempt: 3, ratio: 0.91, retry: true, tags: ['a', 'b'] },
    context: trace.setSpanContext(context.active(), spanContext),
  });
  logger.emit({ severityNumber: SeverityNumber.ERROR, severityText: 'ERROR', body: { event: 'login', user: 'u1', n: 2 } });
  await provider.forceFlush();
  await provider.shutdown();
  process.stdout.write(JSON.stringify(results));
  process.exit(results.length > 0 && results.every((r) => r.code === 0) ? 0 : 1);
})().catch((e) => {
  process.stderr.write(String(e && e.stack || e));
  process.exit(2);
});
`;

function runSender(args: { url: string; package: string }): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['-e', SENDER, JSON.stringify(args)], { cwd: ROOT, timeout: 20_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

describe.each(['http/json', 'http/protobuf'] as const)('interop with the OpenTelemetry JS SDK over OTLP/HTTP (%s)', (protocol) => {
  const f = useSharedService();

  test(`records from an SDK logger (${PACKAGES[protocol]}) arrive with content, severity, attributes, ids, timestamps and resource intact`, async () => {
    const url = `http://127.0.0.1:${f.service.httpPort}/v1/logs`;
    const sent = await runSender({ url, package: PACKAGES[protocol] });
    expect({ code: sent.code, stderr: sent.stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(sent.stdout)).toEqual([{ code: 0 }]);
    await f.sink.waitForRecords(2);

    const rl = f.sink.requests.flatMap((r) => r.resourceLogs);
    const resource = rl[0]!.resource!.attributes;
    expect(getAttribute(resource, 'service.name')?.stringValue).toBe('checkout');
    expect(getAttribute(resource, 'service.version')?.stringValue).toBe('1.2.3');
    expect(rl[0]!.scopeLogs[0]!.scope!.name).toBe('interop-http');
    expect(rl[0]!.scopeLogs[0]!.scope!.version).toBe('0.0.2');

    const [warn, error] = f.sink.records();
    expect([warn!.severityNumber, warn!.severityText, warn!.body?.stringValue]).toEqual([13, 'WARN', 'disk 91% full']);
    expect(warn!.timeUnixNano.toString()).toBe('1700000000123456789');
    expect(warn!.observedTimeUnixNano.isZero()).toBe(false);
    expect(Buffer.from(warn!.traceId).toString('hex')).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(Buffer.from(warn!.spanId).toString('hex')).toBe('b7ad6b7169203331');
    expect(warn!.flags & 0xff).toBe(1);
    expect(getAttribute(warn!.attributes, 'disk.path')?.stringValue).toBe('/var');
    expect(getAttribute(warn!.attributes, 'attempt')?.intValue?.toString()).toBe('3');
    expect(getAttribute(warn!.attributes, 'ratio')?.doubleValue).toBe(0.91);
    expect(getAttribute(warn!.attributes, 'retry')?.boolValue).toBe(true);
    expect(anyValueToString(getAttribute(warn!.attributes, 'tags'))).toBe('[a, b]');

    expect([error!.severityNumber, error!.severityText]).toEqual([17, 'ERROR']);
    expect(anyValueToString(error!.body)).toBe('{event: login, user: u1, n: 2}');
    expect(await f.service.metrics.total(f.service.metrics.receiverAccepted, { transport: 'http' })).toBe(2);
  });
});
