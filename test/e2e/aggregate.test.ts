/** aggregate through the running service: the runner's timer closes windows and what they emit is exported. */
import { getAttribute } from '../../src/otlp/values';
import type { LogRecord } from '../../src/otlp/model';
import { ANOMALY_EVENT, WINDOW_EVENT } from '../../src/processors/aggregate';
import { exportLogs } from '../helpers/grpc-client';
import { OtlpTestServer } from '../helpers/otlp-test-server';
import { record, request } from '../helpers/builders';
import { plainValue } from '../helpers/values';
import { useServiceFixture } from '../helpers/service-fixture';
import { eventually } from '../helpers/eventually';

const sev = (body: string, n: number): LogRecord => record(body, { severityNumber: n });
const summaries = (records: readonly LogRecord[]): LogRecord[] => records.filter((r) => r.eventName === WINDOW_EVENT);

describe('aggregate end to end', () => {
  const f = useServiceFixture();

  test('emits a summary record per closed window through the exporter and publishes the window as metrics', async () => {
    const s = await f.start({ OLP_PROCESSORS: 'severity,classify,aggregate', OLP_AGGREGATE_WINDOW: '1s' });
    await exportLogs(s.endpoint, request([sev('disk full on /dev/sda1', 17), sev('user 42 logged in', 9), sev('user 43 logged in', 9)], { 'service.name': 'shop' }));
    await eventually(() => expect(summaries(f.sink.records())).toHaveLength(1), 5000);
    const [summary] = summaries(f.sink.records());
    expect(plainValue(getAttribute(summary!.attributes, 'log.aggregate.records'))).toBe(3n);
    expect(plainValue(getAttribute(summary!.attributes, 'log.aggregate.errors'))).toBe(1n);
    expect(plainValue(getAttribute(summary!.attributes, 'log.aggregate.by.severity'))).toEqual({ INFO: 2n, ERROR: 1n });
    const resource = f.sink.requests.flatMap((r) => r.resourceLogs).find((rl) => rl.scopeLogs.some((sl) => sl.logRecords.includes(summary!)))!;
    expect(plainValue(getAttribute(resource.resource!.attributes, 'service.name'))).toBe('shop');
    // The three input records were forwarded too, the first of each template flagged.
    const inputs = f.sink.records().filter((r) => r.eventName === '');
    expect(inputs).toHaveLength(3);
    expect(inputs.map((r) => plainValue(getAttribute(r.attributes, 'log.template.new')))).toEqual([true, true, undefined]);
    await eventually(async () => expect(await s.metrics.total(s.metrics.processorWindowRecords, { processor: 'aggregate', dimension: 'severity', value: 'INFO' })).toBe(2));
    expect(await s.metrics.total(s.metrics.processorEvents, { processor: 'aggregate', event: 'windows' })).toBeGreaterThanOrEqual(1);
  });

  test('closes the open window at shutdown and exports its summary before stopping', async () => {
    const s = await f.start({ OLP_PROCESSORS: 'aggregate', OLP_AGGREGATE_WINDOW: '1h' });
    await exportLogs(s.endpoint, request([sev('a', 9), sev('b', 13)]));
    await f.sink.waitForRecords(2);
    expect(summaries(f.sink.records())).toHaveLength(0);
    await s.shutdown();
    const [summary] = summaries(f.sink.records());
    expect(plainValue(getAttribute(summary!.attributes, 'log.aggregate.records'))).toBe(2n);
  });

  test('summary and anomaly records can be routed to their own exporter', async () => {
    const alerts = await new OtlpTestServer().start();
    try {
      const s = await f.start({
        OLP_PROCESSORS: 'aggregate,route',
        OLP_AGGREGATE_WINDOW: '1h',
        OLP_EXPORTERS: 'otlp,alerts',
        OLP_EXPORTER_ALERTS_ENDPOINT: alerts.endpoint,
        OLP_ROUTE_RULES: `alerts=event_name == "${WINDOW_EVENT}" || event_name == "${ANOMALY_EVENT}"`,
        OLP_ROUTE_DEFAULT: 'otlp',
      });
      await exportLogs(s.endpoint, request([sev('a', 9)]));
      await f.sink.waitForRecords(1);
      await s.shutdown();
      expect(alerts.records().map((r) => r.eventName)).toEqual([WINDOW_EVENT]);
      expect(f.sink.records().map((r) => r.eventName)).toEqual(['']);
    } finally {
      await alerts.stop();
    }
  });
});
