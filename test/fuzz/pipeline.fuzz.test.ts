/**
 * Property-based fuzzing of the request path (wire reader → chain → encode) on the event-loop
 * thread and through worker threads, and of every built-in processor. FUZZ_RUNS raises the count (`npm run fuzz`); the regular suite runs
 * 10,000 payloads per path. Properties: no exception other than a classified PipelineError,
 * no hang, and no valid record lost.
 */
import fc from 'fast-check';
import pino from 'pino';
import { PipelineError } from '../../src/errors';
import { decodeLogsData, encodeLogsData } from '../../src/otlp/codec';
import { countRecords, type LogsData } from '../../src/otlp/model';
import { ProcessingChain } from '../../src/pipeline/chain';
import { Pipeline } from '../../src/pipeline/pipeline';
import { RequestProcessor } from '../../src/pipeline/request-processor';
import { WorkerPool } from '../../src/pipeline/worker-pool';
import type { QueuedExporter } from '../../src/exporters/queued-exporter';
import type { EncodedBatch } from '../../src/otlp/encoded-batch';
import { Metrics } from '../../src/telemetry/metrics';
import { builtinProcessors } from '../../src/processors/registry';
import { anySeverity, logsDataArb } from '../helpers/arbitraries';
import { createProcessor, runProcessor } from '../helpers/processors';
import { MalformedRequest, readRequest } from '../../src/otlp/wire-reader';

const RUNS = Number(process.env.FUZZ_RUNS ?? 10_000);
/** Through worker threads each payload is a message round trip: a tenth as many by default. */
const POOLED_RUNS = Math.max(100, Math.floor(RUNS / 10));
/** Options a processor cannot do without (everything else stays at its default). */
const REQUIRED: Record<string, Record<string, unknown>> = {
  filter: { drop: 'severity_number < 9 || body.contains("x")' },
  sample: { rate: 0.5, random_seed: 7 },
  rate_limit: { rate: 1000 },
  route: { rules: [{ exporters: ['otlp'], when: 'severity_number >= 17' }], default: ['none'] },
};
/** The service's context as far as processors see it: one exporter, every built-in in the chain. */
const CTX = { exporters: ['otlp'], chain: builtinProcessors.map((f) => f.name) };
const silent = pino({ level: 'silent' });

/** Collects what the pipeline hands to exporters. */
class CapturingExporter {
  readonly name = 'capture';
  readonly size = 0;
  records = 0;
  batches: EncodedBatch[] = [];
  hasRoomFor(): boolean {
    return true;
  }
  reserve(): { release(): void } {
    return { release: () => undefined };
  }
  offer(b: EncodedBatch): void {
    this.records += b.records;
    this.batches.push(b);
  }
}

function pipelineWithAllProcessors(): { pipeline: Pipeline; out: CapturingExporter; metrics: Metrics } {
  const metrics = new Metrics();
  const stages = builtinProcessors.map((f) => ({ name: f.name, processor: createProcessor(f, REQUIRED[f.name] ?? {}, {}, CTX) }));
  const out = new CapturingExporter();
  const requests = new RequestProcessor(
    new ProcessingChain(stages, metrics, silent),
    {
      limits: { maxBodyBytes: 4096, maxAttributes: 64, maxAttributeKeyBytes: 256, maxAttributeValueBytes: 1024, maxDepth: 8, maxCollectionLength: 64 },
      maxRecordsPerRequest: 10_000,
      batchMaxRecords: 8192,
      exporterCount: 1,
    },
    silent,
  );
  const pipeline = new Pipeline(requests, [out as unknown as QueuedExporter], { queueFullRetryAfterMs: 1000 }, metrics, silent);
  return { pipeline, out, metrics };
}

/** Byte-level mutations of a valid encoding: flips, truncation, insertion, duplication. */
const mutatedEncoding = fc
  .tuple(logsDataArb(anySeverity), fc.array(fc.tuple(fc.nat(), fc.nat({ max: 255 }), fc.constantFrom('flip', 'cut', 'insert', 'dup')), { minLength: 1, maxLength: 4 }))
  .map(([data, edits]) => {
    let b = Buffer.from(encodeLogsData(data));
    for (const [pos, byte, op] of edits) {
      if (b.length === 0) break;
      const i = pos % b.length;
      if (op === 'flip') b[i] = byte;
      else if (op === 'cut') b = b.subarray(0, i);
      else if (op === 'insert') b = Buffer.concat([b.subarray(0, i), Buffer.from([byte]), b.subarray(i)]);
      else b = Buffer.concat([b, b.subarray(i)]);
    }
    return b;
  });

/** Where the wire reader refuses what protobufjs reads, on purpose (see src/otlp/wire-reader.ts). */
const STRICTER = ['wire_type', 'field_number', 'group', 'utf8', 'varint'];
const LIMITS = { maxBodyBytes: 1 << 20, maxAttributes: 1000, maxAttributeKeyBytes: 1024, maxAttributeValueBytes: 65536, maxDepth: 32, maxCollectionLength: 10_000 };

function refusalKind(bytes: Uint8Array): string | undefined {
  try {
    readRequest(bytes, LIMITS);
    return undefined;
  } catch (e) {
    return e instanceof MalformedRequest ? e.kind : 'other';
  }
}

async function consumeSafely(pipeline: Pipeline, bytes: Uint8Array): Promise<void> {
  try {
    await pipeline.consume(bytes, 'fuzz');
  } catch (e) {
    if (!(e instanceof PipelineError)) throw e;
    expect(['invalid_input', 'too_large']).toContain(e.kind);
  }
}

describe(`fuzzing the receive path (${RUNS} payloads per property)`, () => {
  const { pipeline, out, metrics } = pipelineWithAllProcessors();

  test('random bytes are decoded or refused as invalid input, never crash', async () => {
    await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 2048 }), (bytes) => consumeSafely(pipeline, bytes)), { numRuns: RUNS });
  });

  test('mutated valid payloads are decoded or refused as invalid input, never crash', async () => {
    await fc.assert(fc.asyncProperty(mutatedEncoding, (bytes) => consumeSafely(pipeline, bytes)), { numRuns: RUNS });
  });

  test('valid payloads lose no record: every record is exported, rejected or counted as dropped, and the output decodes', async () => {
    await fc.assert(
      fc.asyncProperty(logsDataArb(anySeverity), async (data: LogsData) => {
        const before = countRecords(data);
        out.records = 0;
        out.batches = [];
        const droppedBefore = await metrics.total(metrics.dropped);
        const result = await pipeline.consume(encodeLogsData(data), 'fuzz');
        const dropped = (await metrics.total(metrics.dropped)) - droppedBefore;
        expect(out.records + result.rejected + dropped).toBe(before);
        for (const b of out.batches) expect(countRecords(decodeLogsData(b.bytes))).toBe(b.records);
      }),
      { numRuns: RUNS },
    );
  });

  test('a body nested 100,000 levels deep is rejected as too deep, not a stack overflow crash', async () => {
    const varint = (n: number): number[] => {
      const out: number[] = [];
      for (; n > 127; n >>>= 7) out.push((n & 127) | 128);
      out.push(n);
      return out;
    };
    // Built outside-in from precomputed lengths: wrapping a growing buffer 100,000 times would be quadratic.
    const leaf = Buffer.from([0x0a, 4, ...Buffer.from('leaf')]); // AnyValue{string_value: "leaf"}
    const tags = [(1 << 3) | 2, (5 << 3) | 2]; // ArrayValue.values, AnyValue.array_value
    const headers: number[][] = [];
    let length = leaf.length;
    for (let level = 0; level < 100_000; level++) {
      for (const tag of tags) {
        const h = [tag, ...varint(length)];
        headers.push(h);
        length += h.length;
      }
    }
    for (const tag of [(5 << 3) | 2, (2 << 3) | 2, (2 << 3) | 2, (1 << 3) | 2]) {
      // LogRecord.body, ScopeLogs.log_records, ResourceLogs.scope_logs, request.resource_logs
      const h = [tag, ...varint(length)];
      headers.push(h);
      length += h.length;
    }
    const request = Buffer.concat([Buffer.from(headers.reverse().flat()), leaf]);
    // The reader stops at OLP_LIMITS_MAX_DEPTH instead of descending: the record is rejected alone.
    await expect(pipeline.consume(request, 'fuzz')).resolves.toMatchObject({ rejected: 1, message: expect.stringContaining('OLP_LIMITS_MAX_DEPTH') });
  });
});

describe(`fuzzing the worker-thread request path (${POOLED_RUNS} payloads per property)`, () => {
  const metrics = new Metrics();
  const pool = new WorkerPool(
    {
      size: 2,
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1', OLP_PROCESSORS: 'parse,severity,resource,classify,redact,transform' },
      logLevel: 'silent',
      maxInFlightPerThread: 64,
      busyRetryAfterMs: 1000,
    },
    metrics,
    silent,
  );
  const out = new CapturingExporter();
  const requests = new RequestProcessor(
    new ProcessingChain([], metrics, silent),
    { limits: LIMITS, maxRecordsPerRequest: 100_000, batchMaxRecords: 8192, exporterCount: 1 },
    silent,
  );
  const pipeline = new Pipeline(requests, [out as unknown as QueuedExporter], { queueFullRetryAfterMs: 1000, pool }, metrics, silent);
  beforeAll(() => pool.start());
  afterAll(() => pool.close(Date.now() + 2000));

  test('random and mutated bytes are processed or refused as invalid input, never crash a thread', async () => {
    await fc.assert(fc.asyncProperty(fc.oneof(fc.uint8Array({ maxLength: 2048 }), mutatedEncoding), (bytes) => consumeSafely(pipeline, bytes)), { numRuns: POOLED_RUNS });
    expect(await metrics.total(metrics.workerRestarts)).toBe(0);
  });

  test('a request is admitted through the threads exactly when the reference decoder reads it (bar the documented stricter cases)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(mutatedEncoding, logsDataArb(anySeverity).map((d) => encodeLogsData(d))), async (bytes) => {
        let decodes = true;
        try {
          decodeLogsData(bytes);
        } catch {
          decodes = false;
        }
        let admitted = true;
        try {
          await pipeline.consume(bytes, 'fuzz');
        } catch (e) {
          if (!(e instanceof PipelineError) || e.kind !== 'invalid_input') throw e;
          admitted = false;
        }
        if (admitted) expect(decodes).toBe(true);
        else if (decodes) expect(STRICTER).toContain(refusalKind(bytes));
      }),
      { numRuns: POOLED_RUNS },
    );
  });

  test('valid payloads lose no record through the threads, and a request with an unknown group appended is admitted like the plain one', async () => {
    await fc.assert(
      fc.asyncProperty(logsDataArb(anySeverity), async (data: LogsData) => {
        const before = countRecords(data);
        out.records = 0;
        out.batches = [];
        const bytes = Buffer.concat([encodeLogsData(data), Buffer.from([0x7b, 0x7c])]);
        const result = await pipeline.consume(bytes, 'fuzz');
        expect(out.records + result.rejected).toBe(before);
        for (const b of out.batches) expect(countRecords(decodeLogsData(b.bytes))).toBe(b.records);
      }),
      { numRuns: POOLED_RUNS },
    );
  });
});

describe(`fuzzing every built-in processor (${RUNS} batches each)`, () => {
  // Bodies shaped like log lines exercise the parsers; arbitrary unicode exercises the rest.
  const lineish = fc.oneof(
    fc.string({ unit: 'grapheme', maxLength: 300 }),
    fc
      .tuple(
        fc.constantFrom('', '2024-01-01 10:00:00,123 ', 'E0501 10:00:02.000000 1 ', '<34>Oct 11 22:14:15 host ', '{"level":', 'level=', '[', 'Traceback (most recent call last)\n'),
        fc.constantFrom('INFO', 'WARN', 'error', 'crit', '"warn"}', 'x', ']', ''),
        fc.string({ maxLength: 120 }),
      )
      .map(([a, b, c]) => `${a}${b} ${c}`),
  );
  const batch = logsDataArb(anySeverity).chain((data) =>
    fc.array(lineish, { minLength: 1, maxLength: 8 }).map((lines) => {
      let i = 0;
      for (const rl of data.resourceLogs)
        for (const sl of rl.scopeLogs)
          for (const r of sl.logRecords) if (i < lines.length && r.body?.stringValue !== undefined) r.body = { stringValue: lines[i++]! };
      return data;
    }),
  );

  test.each(builtinProcessors.map((f) => [f.name, f] as const))('%s never throws and never invents records', (_name, factory) => {
    const processor = createProcessor(factory, REQUIRED[factory.name] ?? {}, {}, CTX);
    fc.assert(
      fc.property(batch, (data) => {
        const before = countRecords(data);
        const { out, drops } = runProcessor(processor, data);
        const dropped = Object.values(drops).reduce((a, b) => a + b, 0);
        expect(countRecords(out) + dropped).toBe(before);
      }),
      { numRuns: RUNS },
    );
  });
});
