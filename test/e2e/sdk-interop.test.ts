/** A real OpenTelemetry JS SDK (sdk-logs + OTLP gRPC log exporter) sends through the service. */
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-grpc';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { anyValueToString, getAttribute } from '../../src/otlp/values';
import { useSharedService } from '../helpers/service-fixture';

describe('interop with the OpenTelemetry JS SDK', () => {
  const f = useSharedService({
    OLP_PROCESSORS: 'severity,resource,attributes',
    K8S_NAMESPACE_NAME: 'shop',
    OLP_ATTRIBUTES_ACTIONS: 'insert pipeline=olp;delete secret',
  });

  test('records emitted by an SDK logger arrive downstream with content, severity and resource intact and enriched', async () => {
    const exporter = new OTLPLogExporter({ url: f.service.endpoint });
    const provider = new LoggerProvider({
      resource: resourceFromAttributes({ 'service.name': 'checkout', 'service.version': '1.2.3' }),
      processors: [new BatchLogRecordProcessor({ exporter, scheduledDelayMillis: 10 })],
    });
    const logger = provider.getLogger('interop-test', '0.0.1');
    logger.emit({ severityNumber: SeverityNumber.WARN, severityText: 'WARN', body: 'disk 91% full', attributes: { 'disk.path': '/var', secret: 'x' } });
    logger.emit({ body: 'java.lang.IllegalStateException: boom', attributes: { attempt: 3 } });
    logger.emit({ severityText: 'notice', body: { event: 'login', user: 'u1' } });
    await provider.forceFlush();
    await provider.shutdown();
    await f.sink.waitForRecords(3);

    const rl = f.sink.requests.flatMap((r) => r.resourceLogs);
    const resource = rl[0]!.resource!.attributes;
    expect(getAttribute(resource, 'service.name')?.stringValue).toBe('checkout');
    expect(getAttribute(resource, 'service.version')?.stringValue).toBe('1.2.3');
    expect(getAttribute(resource, 'k8s.namespace.name')?.stringValue).toBe('shop');
    expect(rl[0]!.scopeLogs[0]!.scope!.name).toBe('interop-test');
    expect(rl[0]!.scopeLogs[0]!.scope!.version).toBe('0.0.1');

    const [warn, exception, notice] = f.sink.records();
    expect([warn!.severityNumber, warn!.severityText, warn!.body?.stringValue]).toEqual([13, 'WARN', 'disk 91% full']);
    expect(getAttribute(warn!.attributes, 'disk.path')?.stringValue).toBe('/var');
    expect(getAttribute(warn!.attributes, 'pipeline')?.stringValue).toBe('olp');
    expect(getAttribute(warn!.attributes, 'secret')).toBeUndefined();
    expect(warn!.timeUnixNano.isZero()).toBe(false);
    expect(warn!.observedTimeUnixNano.isZero()).toBe(false);

    expect([exception!.severityNumber, exception!.severityText]).toEqual([17, 'ERROR']);
    expect(getAttribute(exception!.attributes, 'log.severity.inferred')?.boolValue).toBe(true);
    expect(getAttribute(exception!.attributes, 'attempt')?.intValue?.toNumber()).toBe(3);

    expect([notice!.severityNumber, notice!.severityText]).toEqual([10, 'INFO2']);
    expect(anyValueToString(notice!.body)).toBe('{event: login, user: u1}');
  });
});
