/**
 * Lossless: every field no processor touches leaves the service exactly as it came in —
 * 64-bit timestamps and ints, flags, ids, nested AnyValues, schema URLs, scope, entity refs.
 */
import fc from 'fast-check';
import Long from 'long';
import { decodeLogsData, encodeLogsData } from '../../src/otlp/codec';
import type { LogsData } from '../../src/otlp/model';
import { useSharedService } from '../helpers/service-fixture';
import { exportRaw } from '../helpers/grpc-client';
import { logsDataArb, setSeverity } from '../helpers/arbitraries';
import { record, request } from '../helpers/builders';
import { UNKNOWN_IN_RECORD, withFieldsInRecords } from '../helpers/wire';

/** Encodes and decodes, so that expected and received values have the same shape. */
const canonical = (d: LogsData): LogsData => decodeLogsData(encodeLogsData(d));

describe('codec', () => {
  test('encode → decode → encode reproduces the same bytes', () => {
    fc.assert(
      fc.property(logsDataArb(), (data) => {
        const bytes = encodeLogsData(data);
        expect(Buffer.from(encodeLogsData(decodeLogsData(bytes)))).toEqual(Buffer.from(bytes));
      }),
      { numRuns: 1000 },
    );
  });

  test('64-bit values survive exactly at the extremes', () => {
    const data = request([
      record('x', {
        timeUnixNano: Long.MAX_UNSIGNED_VALUE,
        observedTimeUnixNano: Long.fromString('1700000000000000001', true),
        attributes: [
          { key: 'min', value: { intValue: Long.MIN_VALUE } },
          { key: 'max', value: { intValue: Long.MAX_VALUE } },
        ],
      }),
    ]);
    const back = canonical(data).resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!;
    expect(back.timeUnixNano.toString()).toBe('18446744073709551615');
    expect(back.observedTimeUnixNano.toString()).toBe('1700000000000000001');
    expect(back.attributes.map((a) => a.value!.intValue!.toString())).toEqual(['-9223372036854775808', '9223372036854775807']);
  });
});

describe.each([
  ['passthrough (no processors)', '', '0', 150],
  ['the default chain', 'severity,resource', '0', 150],
  ['passthrough in 2 worker threads', '', '2', 60],
  ['the default chain in 2 worker threads', 'severity,resource', '2', 60],
])('through the service with %s', (_name, processors, workers, runs) => {
  const f = useSharedService({ OLP_PROCESSORS: processors, OLP_BATCH_MAX_DELAY: '1ms', OLP_WORKERS: workers });

  test('records arrive bit-identical', async () => {
    await fc.assert(
      fc.asyncProperty(logsDataArb(setSeverity), async (data) => {
        f.sink.requests.length = 0;
        const expected = canonical(data);
        const res = await exportRaw(f.service.endpoint, encodeLogsData(data));
        expect(res.code).toBe(0);
        const n = expected.resourceLogs.reduce((a, rl) => a + rl.scopeLogs.reduce((b, sl) => b + sl.logRecords.length, 0), 0);
        await f.sink.waitForRecords(n);
        expect({ resourceLogs: f.sink.requests.flatMap((r) => r.resourceLogs) }).toEqual(expected);
      }),
      { numRuns: runs },
    );
  });

  test('unknown fields and groups inside records arrive with them, also on records a processor changed', async () => {
    f.sink.requests.length = 0;
    f.sink.rawRequests.length = 0;
    // No severity: the default chain infers one and adds an attribute to every record.
    const bytes = withFieldsInRecords(encodeLogsData(request([record('ERROR disk full'), record('user logged in'), record('WARN slow')])));
    expect((await exportRaw(f.service.endpoint, bytes)).code).toBe(0);
    await f.sink.waitForRecords(3);
    const received = Buffer.concat(f.sink.rawRequests);
    let markers = 0;
    for (let i = received.indexOf(Buffer.from(UNKNOWN_IN_RECORD)); i >= 0; i = received.indexOf(Buffer.from(UNKNOWN_IN_RECORD), i + 1)) markers++;
    expect(markers).toBe(3);
    const severities = f.sink.requests.flatMap((r) => r.resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords.map((x) => x.severityNumber))));
    expect(severities).toEqual(processors ? [17, 9, 13] : [0, 0, 0]);
  });
});
