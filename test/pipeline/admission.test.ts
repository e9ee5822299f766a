/**
 * Admission is one path whichever thread processes the request: record limit before anything
 * retryable, memory limiter and queue reservation before processing, and bytes a decoder skips
 * (unknown fields, empty groups) cannot get a request past any of them.
 */
import type { LogBatch } from '../../src/records/types';
import pino from 'pino';
import { PipelineError } from '../../src/errors';
import type { QueuedExporter } from '../../src/exporters/queued-exporter';
import type { EncodedBatch } from '../../src/otlp/encoded-batch';
import { encodeLogsData } from '../../src/otlp/codec';
import { ProcessingChain } from '../../src/pipeline/chain';
import { MemoryLimiter } from '../../src/pipeline/memory-limiter';
import { Pipeline, type PipelineSettings } from '../../src/pipeline/pipeline';
import { RequestProcessor, type RequestRunner } from '../../src/pipeline/request-processor';
import { WorkerPool } from '../../src/pipeline/worker-pool';
import { Metrics } from '../../src/telemetry/metrics';
import { record, request } from '../helpers/builders';
import { varint } from '../helpers/wire';

const silent = pino({ level: 'silent' });
const MAX_RECORDS = 4;

/** An exporter queue of `capacity` records, with the reservation bookkeeping of the real one. */
class FakeQueue {
  readonly name = 'fake';
  size = 0;
  held = 0;
  offered: EncodedBatch[] = [];
  constructor(private readonly capacity: number) {}
  hasRoomFor(records: number): boolean {
    return this.size + this.held === 0 || this.size + this.held + records <= this.capacity;
  }
  reserve(records: number): { release(): void } | undefined {
    if (!this.hasRoomFor(records)) return undefined;
    this.held += records;
    let held = true;
    return {
      release: () => {
        if (held) this.held -= records;
        held = false;
      },
    };
  }
  offer(b: EncodedBatch): Promise<void> {
    this.offered.push(b);
    this.size += b.records;
    return Promise.resolve();
  }
}

const bytesOf = (n: number): Buffer => Buffer.from(encodeLogsData(request(Array.from({ length: n }, (_, i) => record(`r${i}`)))));
/** Bytes a protobuf decoder skips: an empty group of field 15, and an unknown varint field 127. */
const SKIPPED = [Buffer.from([0x7b, 0x7c]), Buffer.from([0xf8, 0x07, 0x01])];

describe.each<[string, boolean]>([
  ['on the event-loop thread', false],
  ['through a worker thread', true],
])('admission %s', (_name, pooled) => {
  let pool: WorkerPool | undefined;
  beforeAll(async () => {
    if (!pooled) return;
    pool = new WorkerPool(
      { size: 1, env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1', OLP_PROCESSORS: 'severity', OLP_LIMITS_MAX_RECORDS: String(MAX_RECORDS) }, logLevel: 'silent', maxInFlightPerThread: 8, busyRetryAfterMs: 1000 },
      new Metrics(),
      silent,
    );
    await pool.start();
  });
  afterAll(() => pool?.close(Date.now() + 2000));

  function service(queue: FakeQueue, extra: Partial<PipelineSettings> = {}): { pipeline: Pipeline; metrics: Metrics } {
    const metrics = new Metrics();
    const processor = new RequestProcessor(
      new ProcessingChain([], metrics, silent),
      { limits: { maxBodyBytes: 1024, maxAttributes: 8, maxAttributeKeyBytes: 64, maxAttributeValueBytes: 1024, maxDepth: 8, maxCollectionLength: 64 }, maxRecordsPerRequest: MAX_RECORDS, batchMaxRecords: 100, exporterCount: 1 },
      silent,
    );
    const runner: RequestRunner | undefined = pool;
    const pipeline = new Pipeline(processor, [queue as unknown as QueuedExporter], { queueFullRetryAfterMs: 1000, pool: runner, ...extra }, metrics, silent);
    return { pipeline, metrics };
  }

  const refusedBy = async (p: Promise<unknown>): Promise<PipelineError> => {
    const e = await p.then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(PipelineError);
    return e as PipelineError;
  };

  test.each(['plain', 'with an empty unknown group appended', 'with an unknown field appended'])('the memory limiter refuses a request %s', async (variant) => {
    const limiter = new MemoryLimiter({ limitMib: 100, spikeMib: 20, retryAfterMs: 500 }, { metrics: new Metrics(), logger: silent, measure: () => 1e12, gc: null });
    limiter.check();
    const queue = new FakeQueue(100);
    const { pipeline, metrics } = service(queue, { memoryLimiter: limiter });
    const suffix = variant === 'plain' ? Buffer.alloc(0) : variant.includes('group') ? SKIPPED[0]! : SKIPPED[1]!;
    const err = await refusedBy(pipeline.consume(Buffer.concat([bytesOf(2), suffix]), 'grpc'));
    expect(err.kind).toBe('overloaded');
    expect(err.retryAfterMs).toBe(500);
    expect(queue.offered).toHaveLength(0);
    expect(await metrics.total(metrics.receiverRefused)).toBe(2);
  });

  test('a request over OLP_LIMITS_MAX_RECORDS is refused permanently even when the queue is full', async () => {
    const queue = new FakeQueue(3);
    queue.size = 3;
    const { pipeline, metrics } = service(queue);
    const err = await refusedBy(pipeline.consume(bytesOf(MAX_RECORDS + 1), 'grpc'));
    expect(err.kind).toBe('too_large');
    expect(err.retryAfterMs).toBeUndefined();
    expect(err.message).toContain('OLP_LIMITS_MAX_RECORDS');
    expect((await metrics.receiverRefused.get()).values).toEqual([expect.objectContaining({ labels: { transport: 'grpc', reason: 'too_many_records' }, value: MAX_RECORDS + 1 })]);
  });

  test('requests processed at the same time cannot overfill the queue: room is reserved at admission', async () => {
    const queue = new FakeQueue(6);
    queue.size = 1;
    const { pipeline } = service(queue);
    const outcomes = await Promise.allSettled([pipeline.consume(bytesOf(3), 'grpc'), pipeline.consume(bytesOf(3), 'grpc')]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected']);
    expect(((outcomes[1] as PromiseRejectedResult).reason as PipelineError).kind).toBe('overloaded');
    expect(queue.size).toBe(4);
    expect(queue.held).toBe(0);
  });

  test('a request with no records but a huge resource is answered without reading the resource', async () => {
    const attribute = [0x0a, 0x03, 0x0a, 0x01, 0x6b]; // KeyValue{key: "k"}
    const resource = Buffer.concat([Buffer.from([0x0a]), Buffer.from(varint(attribute.length * 200_000)), Buffer.from(Array.from({ length: 200_000 }, () => attribute).flat())]);
    const rl = Buffer.concat([Buffer.from([0x0a]), Buffer.from(varint(resource.length)), resource]);
    const queue = new FakeQueue(10);
    const { pipeline } = service(queue);
    await expect(pipeline.consume(rl, 'grpc')).resolves.toEqual({ rejected: 0, message: '' });
    expect(queue.offered).toHaveLength(0);
  });

  test('a request with no records is still refused when malformed', async () => {
    // A resource whose attribute key is not UTF-8, and no records.
    const resource = [0x0a, 0x05, 0x0a, 0x03, 0x0a, 0x01, 0xff];
    const { pipeline } = service(new FakeQueue(10));
    const err = await refusedBy(pipeline.consume(Buffer.from([0x0a, resource.length, ...resource]), 'grpc'));
    expect(err.kind).toBe('invalid_input');
  });

  test('an undecodable request is refused as invalid input before any retryable check', async () => {
    const limiter = new MemoryLimiter({ limitMib: 100, spikeMib: 20, retryAfterMs: 500 }, { metrics: new Metrics(), logger: silent, measure: () => 1e12, gc: null });
    limiter.check();
    const { pipeline } = service(new FakeQueue(10), { memoryLimiter: limiter });
    const err = await refusedBy(pipeline.consume(bytesOf(2).subarray(0, 20), 'grpc'));
    expect(err.kind).toBe('invalid_input');
  });
});

describe('delivery after the chain', () => {
  /** A chain that turns every record into five: its output is larger than the reservation. */
  function growing(queue: FakeQueue): { pipeline: Pipeline; metrics: Metrics } {
    const metrics = new Metrics();
    const grow = {
      process(batch: LogBatch): void {
        for (const r of batch) for (let i = 0; i < 4; i++) batch.add({ body: r.bodyString }, r);
      },
    };
    const processor = new RequestProcessor(
      new ProcessingChain([{ name: 'grow', processor: grow }], metrics, silent),
      { limits: { maxBodyBytes: 1024, maxAttributes: 8, maxAttributeKeyBytes: 64, maxAttributeValueBytes: 1024, maxDepth: 8, maxCollectionLength: 64 }, maxRecordsPerRequest: MAX_RECORDS, batchMaxRecords: 100, exporterCount: 1 },
      silent,
    );
    return { pipeline: new Pipeline(processor, [queue as unknown as QueuedExporter], { queueFullRetryAfterMs: 1000 }, metrics, silent), metrics };
  }

  test('a request admitted into its reservation is delivered even when the chain grew it past the queue bound (processors saw it)', async () => {
    const queue = new FakeQueue(6);
    queue.size = 2;
    const { pipeline, metrics } = growing(queue);
    await expect(pipeline.consume(bytesOf(3), 'grpc')).resolves.toMatchObject({ rejected: 0 });
    expect(queue.size).toBe(2 + 15);
    expect(await metrics.total(metrics.receiverRefused)).toBe(0);
    expect(await metrics.total(metrics.receiverAccepted)).toBe(3);
  });

  test('records are counted accepted only once delivered: a failed queue write counts them refused, not both', async () => {
    const queue = new FakeQueue(100);
    queue.offer = () => Promise.reject(new PipelineError('overloaded', 'disk full', 1000));
    const { pipeline, metrics } = growing(queue);
    await expect(pipeline.consume(bytesOf(2), 'grpc')).rejects.toMatchObject({ kind: 'overloaded' });
    expect(await metrics.total(metrics.receiverAccepted)).toBe(0);
    expect(await metrics.total(metrics.receiverRefused)).toBeGreaterThan(0);
  });
});
