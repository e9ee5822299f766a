/**
 * `tap`: its arguments, the text rendering of a record line, and the built CLI against a running
 * service (records sent with a real OTLP/gRPC client once the tap is attached): it prints what
 * the service streams, stops at --limit, and exits non-zero with a clear message when the service
 * is not reachable or refuses the tap.
 */
import * as net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { runCli } from '../helpers/cli';
import { record, request } from '../helpers/builders';
import { eventually } from '../helpers/eventually';
import { exportLogs } from '../helpers/grpc-client';
import { useSharedService } from '../helpers/service-fixture';
import { registryTotal } from '../../src/telemetry/metrics';
import { parseTapArgs, renderTapRecord, type TapRecord } from '../../src/cli/tap';

describe('tap arguments and rendering', () => {
  test.each([
    [[], {}, { endpoint: 'http://127.0.0.1:8888', token: undefined, query: '', format: 'text' }],
    [['--at', 'severity', '--where', 'severity_number >= 17', '-n', '3', '--rate', '10', '--format', 'json'], { OLP_METRICS_ENDPOINT: '0.0.0.0:9999' }, { endpoint: 'http://127.0.0.1:9999', token: undefined, query: 'at=severity&where=severity_number+%3E%3D+17&limit=3&rate=10', format: 'json' }],
    [['--limit', '0'], {}, { error: '--limit: expected a positive integer, got "0"' }],
    [['--format', 'yaml'], {}, { error: '--format: expected text or json, got "yaml"' }],
  ])('arguments %j with env %j', (argv, env, want) => {
    const got = parseTapArgs(argv as string[], env);
    expect(typeof got === 'object' && 'query' in got ? { ...got, query: got.query.toString() } : got).toEqual(want);
  });

  test('text: time SEVERITY body key=value…, values quoted when they need it', () => {
    const r: TapRecord = {
      time: '1700000000123456789',
      observedTime: '0',
      severityNumber: 17,
      severityText: '',
      body: 'disk full\non sda',
      attributes: { host: 'web-1', 'log.severity.inferred': true, note: 'two words', n: '42' },
      resource: {},
      scope: '',
      traceId: '',
      spanId: '',
      eventName: '',
    };
    expect(renderTapRecord(r)).toBe('2023-11-14T22:13:20.123456Z ERROR disk full\\non sda host=web-1 log.severity.inferred=true note="two words" n=42');
    expect(renderTapRecord({ ...r, time: '0', observedTime: '0', severityNumber: 0, body: { msg: 'x' }, attributes: {} })).toBe('- - {"msg":"x"}');
  });
});

describe('tap against a running service', () => {
  const f = useSharedService({ OLP_PROCESSORS: 'severity', OLP_BATCH_MAX_DELAY: '1ms' });
  const url = (): string => `http://127.0.0.1:${f.service.metricsPort}`;
  const taps = async (): Promise<number> => registryTotal(await f.service.collectMetrics(), 'olp_taps');

  /** Runs the CLI, and once its tap is attached sends `bodies`. */
  async function tapWhileSending(args: string[], bodies: string[]): Promise<Awaited<ReturnType<typeof runCli>>> {
    const run = runCli(['tap', '--endpoint', url(), ...args]);
    await eventually(async () => expect(await taps()).toBe(1), 10_000);
    const answer = await exportLogs(f.service.endpoint, request(bodies.map((b) => record(b))));
    expect(answer.code).toBe(grpc.status.OK);
    return run;
  }

  test('tap --limit 3 --format json prints 3 lines, one record each, and the drop counts on stderr', async () => {
    const res = await tapWhileSending(['--limit', '3', '--format', 'json'], ['one', 'two', 'three', 'four', 'five']);
    expect(res.code).toBe(0);
    const lines = res.stdout.trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines.map((l) => JSON.parse(l).body)).toEqual(['one', 'two', 'three']);
    expect(JSON.parse(lines[0]!)).toMatchObject({ severityText: 'INFO', attributes: { 'log.severity.inferred': true }, resource: { 'service.name': 'test' } });
    expect(res.stderr).toContain('tap: records at the end of the chain, at most 100/s, stops after 3; Ctrl-C stops');
    expect(res.stderr).toContain('tap: 3 records shown; not shown: 0 (0 over the rate, 0 queue full, 0 while this client was not reading)');
    await eventually(async () => expect(await taps()).toBe(0));
  });

  test('text format after a processor, filtered', async () => {
    const res = await tapWhileSending(['--at', 'severity', '--where', 'body.startsWith("ERROR")', '-n', '1'], ['fine', 'ERROR broken']);
    expect(res.code).toBe(0);
    expect(res.stdout).toBe('2023-11-14T22:13:20.123456Z ERROR ERROR broken log.severity.inferred=true\n');
    await eventually(async () => expect(await taps()).toBe(0));
  });

  test('a refused tap (unknown processor) exits 1 with the service\'s reason', async () => {
    const res = await runCli(['tap', '--endpoint', url(), '--at', 'parse']);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('HTTP 400: at: unknown processor "parse" (the chain has processors: severity; or start, end)');
  });

  test('a service that is not reachable: exit 1 naming the address and the reason', async () => {
    // A port that was free a moment ago: nothing listens there.
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise((resolve) => server.close(resolve));
    const res = await runCli(['tap', '--endpoint', `http://127.0.0.1:${port}`]);
    expect(res.code).toBe(1);
    expect(res.stderr).toBe(`otlp-log-processor tap: cannot reach http://127.0.0.1:${port}/api/tap: connect ECONNREFUSED 127.0.0.1:${port}\n`);
  });
});
