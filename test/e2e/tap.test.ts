/**
 * GET /api/tap against the real service, records sent by a real OTLP/gRPC client: records as
 * they leave the chain or one processor, filtered, limited, several taps at once, on the
 * event-loop thread and across worker threads; a client that does not read loses lines (counted)
 * while the pipeline goes on exporting everything; refusals (bad parameters, too many taps,
 * authentication, OLP_METRICS_TAP); and shutdown ends every stream, even one nobody reads.
 */
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as grpc from '@grpc/grpc-js';
import { record, request } from '../helpers/builders';
import { eventually } from '../helpers/eventually';
import { exportLogs } from '../helpers/grpc-client';
import { useServiceFixture, useSharedService } from '../helpers/service-fixture';
import { registryTotal } from '../../src/telemetry/metrics';
import type { TestService } from '../helpers/service';

const INFO = 9;
const ERROR = 17;

/** A tap stream read line by line; waits are for lines, never for time. */
class TapStream {
  header: any;
  stats: any;
  readonly records: any[] = [];
  ended = false;
  private readonly waiters: (() => void)[] = [];

  constructor(
    private readonly req: http.ClientRequest,
    res: http.IncomingMessage,
  ) {
    let rest = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      rest += chunk;
      let nl: number;
      while ((nl = rest.indexOf('\n')) >= 0) {
        const obj = JSON.parse(rest.slice(0, nl));
        rest = rest.slice(nl + 1);
        if ('tap' in obj) this.header = obj.tap;
        else if ('stats' in obj) this.stats = obj.stats;
        else this.records.push(obj);
      }
      this.wake();
    });
    res.on('end', () => {
      this.ended = true;
      this.wake();
    });
    res.on('error', () => undefined);
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves once `check` holds (re-checked on every chunk and at the end); rejects after timeoutMs. */
  async until(check: (s: this) => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check(this)) {
      if (this.ended) throw new Error(`the stream ended before ${what} (${this.records.length} records)`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what} (${this.records.length} records)`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => (clearTimeout(timer), resolve()));
      });
    }
  }

  waitRecords(n: number): Promise<void> {
    return this.until((s) => s.records.length >= n, `${n} records`);
  }

  close(): void {
    this.req.destroy();
  }
}

type Opened = { status: number; stream?: TapStream; error?: string; headers: http.IncomingHttpHeaders };

/** Opens a tap; for a 200 resolves once its header line arrived (the tap is attached to every thread by then). */
function openTap(host: string, port: number, query: string, headers: Record<string, string> = {}): Promise<Opened> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host, port, path: `/api/tap${query ? `?${query}` : ''}`, headers, agent: false }, (res) => {
      if (res.statusCode !== 200) {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode!, error: JSON.parse(body).error, headers: res.headers }));
        return;
      }
      const stream = new TapStream(req, res);
      stream.until((s) => s.header !== undefined, 'the header line').then(() => resolve({ status: 200, stream, headers: res.headers }), reject);
    });
    req.on('error', reject);
  });
}

const tapOf = async (service: TestService, query = ''): Promise<TapStream> => {
  const o = await openTap('127.0.0.1', service.metricsPort!, query);
  if (!o.stream) throw new Error(`tap refused: ${o.status} ${o.error}`);
  return o.stream;
};

async function send(service: TestService, bodies: string[], fields: Parameters<typeof record>[1] = {}): Promise<void> {
  const answer = await exportLogs(service.endpoint, request(bodies.map((b) => record(b, fields))));
  expect(answer.code).toBe(grpc.status.OK);
}

async function openTaps(service: TestService): Promise<number> {
  return registryTotal(await service.collectMetrics(), 'olp_taps');
}

describe.each([
  ['on the event-loop thread', '0'],
  ['across 2 worker threads', '2'],
])('tap %s', (_name, workers) => {
  const f = useSharedService({
    OLP_PROCESSORS: 'severity,attributes',
    OLP_ATTRIBUTES_ACTIONS: 'insert deployment.environment.name=prod',
    OLP_WORKERS: workers,
    OLP_BATCH_MAX_DELAY: '1ms',
  });
  const streams: TapStream[] = [];
  const tap = async (query = ''): Promise<TapStream> => {
    const s = await tapOf(f.service, query);
    streams.push(s);
    return s;
  };
  afterEach(async () => {
    for (const s of streams.splice(0)) s.close();
    await eventually(async () => expect(await openTaps(f.service)).toBe(0));
  });

  test('records reach a tap at the end of the chain as they are exported', async () => {
    const s = await tap();
    expect(s.header).toEqual({ id: expect.any(Number), at: 'end', where: '', limit: 0, rate: 100, processors: ['severity', 'attributes'] });
    await send(f.service, ['ERROR disk full', 'all good']);
    await s.waitRecords(2);
    const [a, b] = [...s.records].sort((x, y) => x.body.localeCompare(y.body));
    expect(b).toEqual({
      time: '1700000000123456789',
      observedTime: '0',
      severityNumber: ERROR,
      severityText: 'ERROR',
      body: 'ERROR disk full',
      attributes: { 'log.severity.inferred': true, 'deployment.environment.name': 'prod' },
      resource: { 'service.name': 'test' },
      scope: 'test-scope',
      traceId: '',
      spanId: '',
      eventName: '',
    });
    expect(a).toMatchObject({ body: 'all good', severityText: 'INFO' });
  });

  test('at=severity shows records as they left severity, before attributes ran', async () => {
    const s = await tap('at=severity');
    await send(f.service, ['WARN cache miss']);
    await s.waitRecords(1);
    expect(s.records[0]).toMatchObject({ severityText: 'WARN', attributes: { 'log.severity.inferred': true } });
    expect(s.records[0].attributes).not.toHaveProperty('deployment.environment.name');
  });

  test('at=start shows records as received', async () => {
    const s = await tap('at=start');
    await send(f.service, ['as sent']);
    await s.waitRecords(1);
    expect(s.records[0]).toMatchObject({ body: 'as sent', severityNumber: 0, severityText: '', attributes: {} });
  });

  test('where: only the matching records are shown', async () => {
    const s = await tap(`where=${encodeURIComponent('severity_number >= 17 && attributes["deployment.environment.name"] == "prod"')}`);
    await send(f.service, ['fine 1', 'fine 2'], { severityNumber: INFO });
    await send(f.service, ['broken'], { severityNumber: ERROR });
    await s.waitRecords(1);
    // The two INFO records went through the chain before `broken` was sent; none was shown.
    expect(s.records.map((r) => r.body)).toEqual(['broken']);
  });

  test('limit: the stream ends after that many records, with its counts, and the tap is withdrawn', async () => {
    const s = await tap('limit=3');
    await send(f.service, ['1', '2', '3', '4', '5']);
    await s.until((x) => x.ended, 'the end of the stream');
    expect(s.records).toHaveLength(3);
    expect(s.stats).toEqual({ sent: 3, dropped: { rate: 0, full: 0, slow_client: 0 }, end: 'limit' });
    await eventually(async () => expect(await openTaps(f.service)).toBe(0));
  });

  test('several taps at once each get what they ask for; /api/status counts them', async () => {
    const all = await tap();
    const errors = await tap('where=severity_number%20%3E%3D%2017');
    const early = await tap('at=severity&limit=1');
    const status = await new Promise<any>((resolve, reject) =>
      http.get(`http://127.0.0.1:${f.service.metricsPort}/api/status`, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve(JSON.parse(body)));
      }).on('error', reject),
    );
    expect(status.taps).toBe(3);
    await send(f.service, ['ERROR one', 'two', 'ERROR three']);
    await all.waitRecords(3);
    await errors.waitRecords(2);
    await early.until((x) => x.ended, 'the end of the limited stream');
    expect(all.records.map((r) => r.body).sort()).toEqual(['ERROR one', 'ERROR three', 'two']);
    expect(errors.records.map((r) => r.body).sort()).toEqual(['ERROR one', 'ERROR three']);
    expect(early.records).toHaveLength(1);
    expect(early.records[0].attributes).not.toHaveProperty('deployment.environment.name');
  });

  test('a tap that does not read loses lines (slow_client, counted) and never holds up the pipeline: every record is exported, other taps go on', async () => {
    // A raw connection that sends the request and then reads nothing.
    const paused = net.connect(f.service.metricsPort!, '127.0.0.1');
    paused.pause();
    paused.write(`GET /api/tap?rate=10000 HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n`);
    await eventually(async () => expect(await openTaps(f.service)).toBe(1));
    const marker = await tap('where=body%20%3D%3D%20%22marker%22');
    const exportedBefore = f.sink.records().length;
    const big = 'x'.repeat(20_000);
    let sent = 0;
    let slow = 0;
    // 2 MB per request until the service stops writing to the unread connection (its socket
    // buffers are full): bounded, and every request must still be answered OK.
    for (let i = 0; i < 60 && slow === 0; i++) {
      await send(f.service, Array.from({ length: 100 }, (_, k) => `${big} ${i}.${k}`));
      sent += 100;
      slow = await registryTotal(await f.service.collectMetrics(), 'olp_tap_dropped_log_records_total', { reason: 'slow_client' });
    }
    expect(slow).toBeGreaterThan(0);
    await f.sink.waitForRecords(exportedBefore + sent);
    await send(f.service, ['marker']);
    await marker.waitRecords(1);
    expect(marker.records[0].body).toBe('marker');
    paused.destroy();
  }, 60_000);
});

describe('tap refusals', () => {
  const f = useSharedService({ OLP_PROCESSORS: 'severity,attributes' });
  const port = (): number => f.service.metricsPort!;

  test.each([
    ['at=parse', /^at: unknown processor "parse" \(the chain has processors: severity, attributes; or start, end\)$/],
    ['where=severity_number%20%3D%3D', /^where: /],
    ['where=nope%20%3D%3D%201', /^where: unknown variable "nope"/],
    ['where=severity_number%20%3D%3D%20%22x%22', /^where: severity_number is int, compared with a string literal/],
    ['limit=0', /^limit: /],
    ['rate=x', /^rate: /],
  ])('?%s is a 400 naming the parameter', async (query, error) => {
    const o = await openTap('127.0.0.1', port(), query);
    expect(o.status).toBe(400);
    expect(o.error).toMatch(error);
  });

  test('at most 8 taps at once: the 9th gets 429', async () => {
    const open = await Promise.all(Array.from({ length: 8 }, () => openTap('127.0.0.1', port(), '')));
    expect(open.map((o) => o.status)).toEqual(Array(8).fill(200));
    const ninth = await openTap('127.0.0.1', port(), '');
    expect(ninth.status).toBe(429);
    for (const o of open) o.stream!.close();
    await eventually(async () => expect(await openTaps(f.service)).toBe(0));
    const again = await openTap('127.0.0.1', port(), '');
    expect(again.status).toBe(200);
    again.stream!.close();
  });
});

describe('tap with bearer authentication', () => {
  const f = useSharedService({ OLP_AUTH_BEARER_TOKENS: 'tap-secret', OLP_BATCH_MAX_DELAY: '1ms' });

  test('without the token: 401; with it, the stream', async () => {
    const none = await openTap('127.0.0.1', f.service.metricsPort!, '');
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Bearer');
    expect((await openTap('127.0.0.1', f.service.metricsPort!, '', { authorization: 'Bearer wrong' })).status).toBe(401);
    const ok = await openTap('127.0.0.1', f.service.metricsPort!, 'limit=1', { authorization: 'Bearer tap-secret' });
    expect(ok.status).toBe(200);
    expect(ok.headers['content-type']).toBe('application/x-ndjson');
    const answer = await exportLogs(f.service.endpoint, request([record('secret stuff')]), { metadata: { authorization: 'Bearer tap-secret' } });
    expect(answer.code).toBe(grpc.status.OK);
    await ok.stream!.until((s) => s.ended, 'the end of the stream');
    expect(ok.stream!.records.map((r) => r.body)).toEqual(['secret stuff']);
  });
});

describe('who may tap (OLP_METRICS_TAP)', () => {
  const f = useServiceFixture();
  const external = Object.values(os.networkInterfaces())
    .flat()
    .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;

  test('off: 403', async () => {
    await f.start({ OLP_METRICS_TAP: 'off' });
    const o = await openTap('127.0.0.1', f.service!.metricsPort!, '');
    expect(o.status).toBe(403);
    expect(o.error).toContain('OLP_METRICS_TAP=off');
  });

  (external ? test : test.skip)('loopback (the default): a connection from another address gets 403, a loopback one the stream; any: both', async () => {
    await f.start({ OLP_METRICS_ENDPOINT: '0.0.0.0:0' });
    const port = f.service!.metricsPort!;
    const refused = await openTap(external!, port, '');
    expect(refused.status).toBe(403);
    expect(refused.error).toContain('loopback connections only');
    const local = await openTap('127.0.0.1', port, '');
    expect(local.status).toBe(200);
    local.stream!.close();
    await f.service!.shutdown();
    await f.start({ OLP_METRICS_ENDPOINT: '0.0.0.0:0', OLP_METRICS_TAP: 'any' });
    const remote = await openTap(external!, f.service!.metricsPort!, '');
    expect(remote.status).toBe(200);
    remote.stream!.close();
  });
});

describe('tap at shutdown', () => {
  const f = useServiceFixture();

  test('shutdown ends every stream, one nobody reads included, and is not held up by them', async () => {
    const service = await f.start({ OLP_PROCESSORS: '' });
    const reading = await tapOf(service);
    await send(service, ['no processors: still tapped']);
    await reading.waitRecords(1);
    const paused = net.connect(service.metricsPort!, '127.0.0.1');
    paused.pause();
    paused.write(`GET /api/tap HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n`);
    const closed = new Promise<void>((resolve) => paused.on('close', () => resolve()));
    paused.on('error', () => undefined);
    await eventually(async () => expect(await openTaps(service)).toBe(2));
    await service.shutdown();
    f.service = undefined;
    await reading.until((s) => s.ended, 'the end of the stream');
    expect(reading.stats).toMatchObject({ sent: 1, end: 'shutdown' });
    paused.resume();
    await closed;
  });
});
