/**
 * Taps (src/pipeline/tap.ts) in one process: the chain looks up its tap points once per stage and
 * does nothing else while no tap is attached; a tap sees the records as they leave its point,
 * filtered by its condition, capped by its rate and queue, serialized to one JSON line each; the
 * hub writes them to the client, drops (and counts) what a client does not read, and ends a
 * stream at its limit or at shutdown.
 */
import Long from 'long';
import pino from 'pino';
import { ProcessingChain } from '../../src/pipeline/chain';
import { TAP_CLIENT_BUFFER_BYTES, TAP_QUEUE_LINES, TapHub, TapPoints, recordJson, type TapClient, type TapOutput, type TapSpec } from '../../src/pipeline/tap';
import type { Processor } from '../../src/processors/contract';
import { Metrics } from '../../src/telemetry/metrics';
import { encodeLogsData } from '../../src/otlp/codec';
import { intValue, stringValue } from '../../src/otlp/values';
import { RecordBatch } from '../../src/records/batch';
import { record, request } from '../helpers/builders';

const silent = pino({ level: 'silent' });

const batchOf = (bodies: string[], fields: Parameters<typeof record>[1] = {}): RecordBatch => new RecordBatch(encodeLogsData(request(bodies.map((b) => record(b, fields)))));

/** Sets attribute `key` = `value` on every record. */
const setting = (key: string, value: string): Processor => ({
  process(batch) {
    for (const r of batch) r.attributes.set(key, value);
  },
});

/** A chain of `stages` with TapPoints attached; `outputs` collects what the taps hand on. */
function tapped(stages: { name: string; processor: Processor }[], now = () => 0): { chain: ProcessingChain; points: TapPoints; outputs: TapOutput[]; metrics: Metrics } {
  const metrics = new Metrics();
  const chain = new ProcessingChain(stages, metrics, silent);
  const outputs: TapOutput[] = [];
  const points = new TapPoints(chain.length, (o) => outputs.push(...o), metrics.tapDropped, now);
  chain.attachTaps(points);
  return { chain, points, outputs, metrics };
}

const spec = (over: Partial<TapSpec>): TapSpec => ({ id: 1, point: 0, where: '', rate: 1000, limit: 0, ...over });
const lines = (outputs: TapOutput[], id = 1): any[] => outputs.filter((o) => o.id === id).flatMap((o) => o.lines.map((l) => JSON.parse(l)));

describe('tap points in the chain', () => {
  test('no tap attached: the chain never calls the per-record path, nothing is serialized or handed on', () => {
    const { chain, points, outputs } = tapped([{ name: 'a', processor: setting('a', '1') }]);
    const offer = jest.spyOn(points, 'offer');
    const records = jest.spyOn(RecordBatch.prototype, 'records');
    chain.run(batchOf(['x', 'y']));
    expect(points.wanted).toBeUndefined();
    expect(offer).not.toHaveBeenCalled();
    // The processor iterates the batch (records() once); nothing for a tap.
    const callsWithoutTap = records.mock.calls.length;
    // A tap attached then removed leaves it as before.
    points.set([spec({ point: 1 })]);
    points.set([]);
    chain.run(batchOf(['x', 'y']));
    expect(offer).not.toHaveBeenCalled();
    expect(records.mock.calls.length).toBe(callsWithoutTap * 2);
    expect(outputs).toEqual([]);
    records.mockRestore();
  });

  test('a tap at the end sees records as exported; a tap after a processor sees them as they were after it', async () => {
    const { chain, points, outputs } = tapped([
      { name: 'first', processor: setting('first', 'yes') },
      { name: 'second', processor: setting('second', 'yes') },
    ]);
    points.set([spec({ id: 1, point: 1 }), spec({ id: 2, point: 2 }), spec({ id: 3, point: 0 })]);
    expect(Array.from(points.wanted!)).toEqual([1, 1, 1]);
    chain.run(batchOf(['x']));
    points.flush();
    expect(lines(outputs, 3)[0].attributes).toEqual({});
    expect(lines(outputs, 1)[0].attributes).toEqual({ first: 'yes' });
    expect(lines(outputs, 2)[0].attributes).toEqual({ first: 'yes', second: 'yes' });
  });

  test('records a processor emits on flush reach the taps after it', () => {
    const emitting: Processor = {
      process() {},
      flush(_now, _final, out) {
        out.add({ body: 'window summary' });
      },
      flushIntervalMs: 1000,
    };
    const { chain, points, outputs } = tapped([
      { name: 'agg', processor: emitting },
      { name: 'after', processor: setting('after', 'yes') },
    ]);
    points.set([spec({ id: 1, point: 1 }), spec({ id: 2, point: 2 })]);
    chain.flush(0, 0, false);
    points.flush();
    expect(lines(outputs, 1).map((r) => [r.body, r.attributes])).toEqual([['window summary', {}]]);
    expect(lines(outputs, 2).map((r) => [r.body, r.attributes])).toEqual([['window summary', { after: 'yes' }]]);
  });

  test('where: only matching records are shown', () => {
    const { chain, points, outputs } = tapped([]);
    points.set([spec({ where: 'body.startsWith("disk")' })]);
    chain.run(batchOf(['disk full', 'all good', 'disk ok']));
    points.flush();
    expect(lines(outputs).map((r) => r.body)).toEqual(['disk full', 'disk ok']);
  });

  test('rate: at most `rate` records per second; the rest is counted as dropped (rate) without being matched', async () => {
    let t = 0;
    const { chain, points, outputs, metrics } = tapped([], () => t);
    points.set([spec({ rate: 3, where: 'body != "never"' })]);
    chain.run(batchOf(['1', '2', '3', '4', '5']));
    points.flush();
    expect(lines(outputs).map((r) => r.body)).toEqual(['1', '2', '3']);
    expect(outputs.at(-1)!.rate).toBe(2);
    t += 1000; // a second later: 3 more
    chain.run(batchOf(['6', '7', '8', '9']));
    points.flush();
    expect(lines(outputs).map((r) => r.body)).toEqual(['1', '2', '3', '6', '7', '8']);
    expect(await metrics.total(metrics.tapDropped, { reason: 'rate' })).toBe(3);
  });

  test('queue: more lines than a tap holds in one turn of the event loop are dropped (full) and counted', async () => {
    const { chain, points, outputs, metrics } = tapped([]);
    points.set([spec({ rate: 10_000 })]);
    chain.run(batchOf(Array.from({ length: TAP_QUEUE_LINES + 5 }, (_, i) => `r${i}`)));
    points.flush();
    expect(outputs[0]!.lines).toHaveLength(TAP_QUEUE_LINES);
    expect(outputs[0]!.full).toBe(5);
    expect(await metrics.total(metrics.tapDropped, { reason: 'full' })).toBe(5);
  });

  test('a thread takes at most `limit` lines for a tap', () => {
    const { chain, points, outputs } = tapped([]);
    points.set([spec({ limit: 2 })]);
    chain.run(batchOf(['a', 'b', 'c']));
    chain.run(batchOf(['d']));
    points.flush();
    expect(lines(outputs).map((r) => r.body)).toEqual(['a', 'b']);
  });

  test('what the taps took is handed on once per turn of the event loop', async () => {
    const { chain, points, outputs } = tapped([]);
    points.set([spec({})]);
    chain.run(batchOf(['a']));
    chain.run(batchOf(['b']));
    expect(outputs).toEqual([]);
    await new Promise((r) => setImmediate(r));
    expect(outputs).toHaveLength(1);
    expect(outputs[0]!.lines).toHaveLength(2);
  });

  test('an empty chain is looked at when tapped', () => {
    const { chain, points } = tapped([]);
    expect(chain.tapped).toBe(false);
    points.set([spec({})]);
    expect(chain.tapped).toBe(true);
  });
});

describe('a record as a JSON line', () => {
  test('times as decimal strings of the nanoseconds, ints as strings, bytes base64, ids hex, a string body plain', () => {
    const batch = new RecordBatch(
      encodeLogsData(
        request([
          record('hello "world"', {
            severityNumber: 17,
            severityText: 'ERROR',
            observedTimeUnixNano: Long.fromString('1700000000999999999', true),
            traceId: Uint8Array.from({ length: 16 }, (_, i) => i),
            spanId: Uint8Array.from({ length: 8 }, (_, i) => 255 - i),
            attributes: [
              { key: 'n', value: intValue(Long.fromString('9007199254740993')) },
              { key: 's', value: stringValue('x') },
              { key: 'b', value: { bytesValue: Uint8Array.from([1, 2, 3]) } },
              { key: 'd', value: { doubleValue: 1.5 } },
              { key: 'ok', value: { boolValue: true } },
              { key: 'list', value: { arrayValue: { values: [stringValue('a'), intValue(2)] } } },
              { key: 'map', value: { kvlistValue: { values: [{ key: '__proto__', value: stringValue('v') }] } } },
            ],
          }),
          record('', { body: { kvlistValue: { values: [{ key: 'msg', value: stringValue('structured') }, { key: 'code', value: intValue(7) }] } } }),
        ]),
      ),
    );
    const [a, b] = batch.records();
    expect(JSON.parse(recordJson(a!))).toEqual({
      time: '1700000000123456789',
      observedTime: '1700000000999999999',
      severityNumber: 17,
      severityText: 'ERROR',
      body: 'hello "world"',
      attributes: { n: '9007199254740993', s: 'x', b: 'AQID', d: 1.5, ok: true, list: ['a', '2'], map: JSON.parse('{"__proto__":"v"}') },
      resource: { 'service.name': 'test' },
      scope: 'test-scope',
      traceId: '000102030405060708090a0b0c0d0e0f',
      spanId: 'fffefdfcfbfaf9f8',
      eventName: '',
    });
    expect(JSON.parse(recordJson(b!)).body).toEqual({ msg: 'structured', code: '7' });
  });
});

/** A client whose unread bytes the test sets. */
class FakeClient implements TapClient {
  readonly chunks: string[] = [];
  writableLength = 0;
  ended = false;
  destroyed = false;
  private readonly closeListeners: (() => void)[] = [];
  write(chunk: string): boolean {
    this.chunks.push(chunk);
    return true;
  }
  end(): void {
    this.ended = true;
  }
  destroy(): void {
    this.destroyed = true;
    this.close();
  }
  once(_event: 'close', listener: () => void): this {
    this.closeListeners.push(listener);
    return this;
  }
  close(): void {
    for (const l of this.closeListeners.splice(0)) l();
  }
  get json(): any[] {
    return this.chunks.join('').trim().split('\n').map((l) => JSON.parse(l));
  }
}

function hub(maxOpen?: number): { hub: TapHub; published: (readonly TapSpec[])[]; metrics: Metrics } {
  const metrics = new Metrics();
  const published: (readonly TapSpec[])[] = [];
  return { hub: new TapHub({ processors: ['severity', 'attributes'], metrics, threads: 2, publish: (s) => published.push(s), maxOpen }), published, metrics };
}

const open = (h: TapHub, query: string, client: TapClient): number => {
  const req = h.request(new URLSearchParams(query));
  if ('error' in req) throw new Error(req.error);
  return h.attach(req, client);
};

describe('tap hub', () => {
  test('a request is checked: at names a processor, start or end; where compiles; limit and rate are positive integers; unknown parameters refused', () => {
    const { hub: h } = hub();
    expect(h.request(new URLSearchParams('at=parse'))).toEqual({ status: 400, error: 'at: unknown processor "parse" (the chain has processors: severity, attributes; or start, end)' });
    expect(h.request(new URLSearchParams('where=nope%20%3D%3D%201'))).toMatchObject({ status: 400, error: expect.stringMatching(/^where: unknown variable "nope"/) });
    expect(h.request(new URLSearchParams('limit=0'))).toMatchObject({ status: 400, error: expect.stringMatching(/^limit:/) });
    expect(h.request(new URLSearchParams('rate=100001'))).toMatchObject({ status: 400, error: expect.stringMatching(/^rate:/) });
    expect(h.request(new URLSearchParams('filter=x'))).toMatchObject({ status: 400, error: expect.stringMatching(/unknown parameter "filter"/) });
    expect(h.request(new URLSearchParams('at=severity&limit=5'))).toEqual({ at: 'severity', point: 1, where: '', limit: 5, rate: 100 });
    expect(h.request(new URLSearchParams(''))).toEqual({ at: 'end', point: 2, where: '', limit: 0, rate: 100 });
    expect(h.request(new URLSearchParams('at=start'))).toMatchObject({ point: 0 });
  });

  test('taps are published to the threads with the rate shared among them, and withdrawn when their client leaves', () => {
    const { hub: h, published } = hub();
    const client = new FakeClient();
    const id = open(h, 'at=severity&rate=50&where=severity_number%20%3E%3D%2017', client);
    expect(published.at(-1)).toEqual([{ id, point: 1, where: 'severity_number >= 17', rate: 25, limit: 0 }]);
    expect(client.json[0]).toEqual({ tap: { id, at: 'severity', where: 'severity_number >= 17', limit: 0, rate: 50, processors: ['severity', 'attributes'] } });
    expect(h.size).toBe(1);
    client.close();
    expect(h.size).toBe(0);
    expect(published.at(-1)).toEqual([]);
  });

  test('at most maxOpen taps at once (429)', () => {
    const { hub: h } = hub(2);
    open(h, '', new FakeClient());
    open(h, '', new FakeClient());
    expect(h.request(new URLSearchParams(''))).toMatchObject({ status: 429 });
  });

  test('a client that leaves too much unread loses lines (slow_client, counted) until it catches up; the pipeline side is never told', async () => {
    const { hub: h, metrics } = hub();
    const client = new FakeClient();
    const id = open(h, '', client);
    const line = (s: string): string => JSON.stringify({ body: s });
    h.deliver([{ id, lines: [line('a')], rate: 0, full: 0 }]);
    client.writableLength = TAP_CLIENT_BUFFER_BYTES;
    h.deliver([{ id, lines: [line('b'), line('c')], rate: 1, full: 0 }]);
    client.writableLength = 0;
    h.deliver([{ id, lines: [line('d')], rate: 0, full: 2 }]);
    expect(client.json.slice(1).map((l) => l.body)).toEqual(['a', 'd']);
    expect(await metrics.total(metrics.tapDropped, { reason: 'slow_client' })).toBe(2);
    expect(await metrics.total(metrics.tapSent)).toBe(2);
    h.close();
    expect(client.json.at(-1)).toEqual({ stats: { sent: 2, dropped: { rate: 1, full: 2, slow_client: 2 }, end: 'shutdown' } });
    expect(client.ended).toBe(true);
  });

  test('limit: the stream ends after `limit` lines with its counts, and the tap is withdrawn', () => {
    const { hub: h, published } = hub();
    const client = new FakeClient();
    const id = open(h, 'limit=3', client);
    h.deliver([{ id, lines: ['{"n":1}', '{"n":2}'], rate: 0, full: 0 }]);
    h.deliver([{ id, lines: ['{"n":3}', '{"n":4}'], rate: 0, full: 0 }]);
    h.deliver([{ id, lines: ['{"n":5}'], rate: 0, full: 0 }]);
    expect(client.json.slice(1)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }, { stats: { sent: 3, dropped: { rate: 0, full: 0, slow_client: 0 }, end: 'limit' } }]);
    expect(client.ended).toBe(true);
    expect(h.size).toBe(0);
    expect(published.at(-1)).toEqual([]);
  });

  test('at shutdown a client that is not reading is disconnected at once', () => {
    const { hub: h } = hub();
    const slow = new FakeClient();
    open(h, '', slow);
    slow.writableLength = TAP_CLIENT_BUFFER_BYTES + 1;
    h.close();
    expect(slow.destroyed).toBe(true);
    expect(h.request(new URLSearchParams(''))).toMatchObject({ status: 503 });
  });
});
