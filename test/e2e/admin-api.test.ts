/**
 * The admin API on the metrics port: /api/status and /api/templates answer JSON built from the
 * merged metrics and the classify miners of every thread; with bearer authentication configured
 * they need the token, while /metrics and the health probes stay open.
 */
import * as grpc from '@grpc/grpc-js';
import { record, request } from '../helpers/builders';
import { eventually } from '../helpers/eventually';
import { exportLogs } from '../helpers/grpc-client';
import { httpRequest } from '../helpers/http-client';
import { useSharedService, type SharedService } from '../helpers/service-fixture';
import type { StatusReport } from '../../src/telemetry/admin';
import type { TemplateSummary } from '../../src/processors/contract';

async function get(f: SharedService, path: string, headers: Record<string, string> = {}): Promise<{ status: number; json: any; headers: Record<string, unknown> }> {
  const res = await httpRequest(`http://127.0.0.1:${f.service.metricsPort}${path}`, undefined, { method: 'GET', headers });
  const text = res.body.toString();
  return { status: res.status, json: res.headers['content-type']?.startsWith('application/json') ? JSON.parse(text) : text, headers: res.headers };
}

const ERROR = 17;
const INFO = 9;

async function sendLogins(f: SharedService, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const answer = await exportLogs(
      f.service.endpoint,
      request([record(`user u${i} logged in from 10.0.0.${i}`, { severityNumber: INFO }), record(`disk /dev/sd${i} failed with code ${i}`, { severityNumber: ERROR })]),
    );
    expect(answer.code).toBe(grpc.status.OK);
  }
}

function templatesOf(body: { processors: { processor: string; templates: TemplateSummary[] }[] }): TemplateSummary[] {
  return body.processors.find((p) => p.processor === 'classify')?.templates ?? [];
}

describe.each([
  ['on the event-loop thread', '0'],
  ['across 2 worker threads', '2'],
])('admin API %s', (_name, workers) => {
  const f = useSharedService({ OLP_PROCESSORS: 'severity,classify', OLP_WORKERS: workers, OLP_BATCH_MAX_DELAY: '1ms' });

  test('templates are merged across threads: one entry per template with every record counted', async () => {
    const before = Date.now();
    // 20 requests: the pool spreads them over both threads, each mining the same templates.
    await sendLogins(f, 20);
    await f.sink.waitForRecords(40);
    const { status, json } = await get(f, '/api/templates');
    expect(status).toBe(200);
    const templates = templatesOf(json);
    expect(templates.map((t) => [t.text, t.count]).sort()).toEqual([
      ['disk <*> failed with code <*>', 20],
      ['user <*> logged in from <*>', 20],
    ]);
    const disk = templates.find((t) => t.text.startsWith('disk'))!;
    expect(disk.id).toMatch(/^[0-9a-f]{16}$/);
    expect(disk.severities).toEqual({ unspecified: 0, trace: 0, debug: 0, info: 0, warn: 0, error: 20, fatal: 0 });
    expect(disk.example).toMatch(/^disk \/dev\/sd\d+ failed with code \d+$/);
    expect(disk.firstSeen).toBeGreaterThanOrEqual(before);
    expect(disk.lastSeen).toBeGreaterThanOrEqual(disk.firstSeen);
    expect(json.now).toBeGreaterThanOrEqual(disk.lastSeen);
  });

  test('?limit= bounds the list to the most frequent; an invalid limit is a 400', async () => {
    await sendLogins(f, 1);
    const one = await get(f, '/api/templates?limit=1');
    expect(templatesOf(one.json)).toHaveLength(1);
    for (const bad of ['0', '-1', 'x', '1e3']) expect((await get(f, `/api/templates?limit=${bad}`)).status).toBe(400);
  });

  test('status reports config, counters, rates over two requests, queues, workers and memory', async () => {
    await get(f, '/api/status'); // the first sample rates are measured against
    await sendLogins(f, 5);
    await f.sink.waitForRecords(10);
    let s: StatusReport | undefined;
    await eventually(async () => {
      s = (await get(f, '/api/status')).json as StatusReport;
      expect(s.exporters[0]!.sent.perSecond).toBeGreaterThan(0);
    });
    expect(s!.config).toEqual({
      receivers: [
        { transport: 'grpc', endpoint: `127.0.0.1:${f.service.grpcPort}` },
        { transport: 'http', endpoint: `127.0.0.1:${f.service.httpPort}` },
      ],
      processors: ['severity', 'classify'],
      exporters: ['otlp'],
      workers: Number(workers),
    });
    expect(s!.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(s!.rateWindowSeconds).toBeGreaterThan(0);
    const grpcRx = s!.receivers.find((r) => r.transport === 'grpc')!;
    expect(grpcRx.accepted.total).toBeGreaterThanOrEqual(10);
    expect(grpcRx.accepted.perSecond).toBeGreaterThan(0);
    expect(s!.processors.map((p) => p.name)).toEqual(['severity', 'classify']);
    expect(s!.processors[1]!.incoming.total).toBe(grpcRx.accepted.total);
    expect(s!.exporters[0]).toMatchObject({ name: 'otlp', queue: { capacity: expect.any(Number), size: expect.any(Number) } });
    expect(s!.exporters[0]!.queue.capacity).toBeGreaterThan(0);
    expect(s!.drops).toEqual([]);
    expect(s!.workers).toEqual({ threads: Number(workers), restarts: 0 });
    expect(s!.memory.rssBytes).toBeGreaterThan(0);
    expect(s!.memory.heapUsedBytes).toBeGreaterThan(0);
  });
});

describe('admin API with bearer authentication', () => {
  const f = useSharedService({ OLP_PROCESSORS: 'classify', OLP_AUTH_BEARER_TOKENS: 'admin-secret' });

  test.each([
    ['/api/status', {}, 401],
    ['/api/templates', {}, 401],
    ['/api/status', { authorization: 'Bearer wrong' }, 401],
    ['/api/status', { authorization: 'Bearer admin-secret' }, 200],
    ['/api/templates', { authorization: 'Bearer admin-secret' }, 200],
    ['/metrics', {}, 200],
    ['/healthz', {}, 200],
    ['/readyz', {}, 200],
    ['/', {}, 200],
  ])('GET %s with %j answers %i', async (path, headers, want) => {
    const res = await get(f, path, headers as Record<string, string>);
    expect(res.status).toBe(want);
    if (want === 401) expect(res.headers['www-authenticate']).toBe('Bearer');
  });
});

describe('status page files', () => {
  const f = useSharedService({ OLP_PROCESSORS: 'classify' });

  test.each([
    ['/', 'text/html', '<title>otlp-log-processor</title>'],
    ['/status.js', 'text/javascript', "'use strict'"],
    ['/status.css', 'text/css', '.pipeline'],
  ])('%s is served as %s with a same-origin-only policy', async (path, type, snippet) => {
    const res = await get(f, path);
    expect(res.status).toBe(200);
    expect(String(res.headers['content-type'])).toContain(type);
    expect(res.json).toContain(snippet);
    expect(String(res.headers['content-security-policy'])).toContain("default-src 'none'");
  });
});

describe('template examples after redact', () => {
  const f = useSharedService({ OLP_PROCESSORS: 'redact,classify', OLP_BATCH_MAX_DELAY: '1ms' });

  test('the example is the body as classify saw it: redacted when redact runs first', async () => {
    const answer = await exportLogs(f.service.endpoint, request([record('password reset mailed to alice@example.com')]));
    expect(answer.code).toBe(grpc.status.OK);
    await f.sink.waitForRecords(1);
    const [t] = templatesOf((await get(f, '/api/templates')).json);
    expect(t!.example).toBe('password reset mailed to [REDACTED:email]');
  });
});
