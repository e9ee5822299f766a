/** The guard around custom processors: on_error, the error count, and what it passes through. */
import pino from 'pino';
import { defineProcessor, type Processor, type ProcessorFactory } from '../../src/processors/contract';
import { guardFactory } from '../../src/processors/custom';
import { opt, type OptionShape } from '../../src/config/options';
import { ProcessingChain } from '../../src/pipeline/chain';
import { RecordBatch } from '../../src/records/batch';
import type { LogBatch } from '../../src/records/types';
import { Metrics } from '../../src/telemetry/metrics';
import { encodeLogsData } from '../../src/otlp/codec';
import { getAttribute } from '../../src/otlp/values';
import { bodies, record, request } from '../helpers/builders';
import { batchToLogsData, createProcessor, flushProcessor, runProcessor } from '../helpers/processors';

/** A user factory whose processor runs `body` on each batch. */
function userFactory(body: (batch: LogBatch) => unknown, extra: Partial<Processor> = {}): ProcessorFactory<OptionShape> {
  return defineProcessor({
    name: 'user',
    summary: 'Test processor.',
    options: {},
    create: () => ({ ...extra, process: body as (batch: LogBatch) => void }),
  });
}

function guarded(body: (batch: LogBatch) => unknown, onError: 'pass' | 'drop', extra: Partial<Processor> = {}): Processor {
  return createProcessor(guardFactory(userFactory(body, extra), './user.js'), { on_error: onError } as never);
}

const errors = (p: Processor): number | undefined => new Map(p.counts ?? []).get('error');

/** Marks every record, drops "b" as `mine`, then throws. */
function markDropThrow(batch: LogBatch): never {
  for (const r of batch) {
    r.attributes.set('touched', 'yes');
    if (r.bodyString === 'b') r.drop('mine');
  }
  batch.add({ body: 'added' });
  throw new Error('bug');
}

describe('custom processor guard', () => {
  test('on_error=pass: the failure reaches the runner, which passes the batch on as it was before the processor; counted', async () => {
    const metrics = new Metrics();
    const p = guarded(markDropThrow, 'pass');
    const chain = new ProcessingChain([{ name: 'user', processor: p }], metrics, pino({ level: 'silent' }));
    const batch = new RecordBatch(encodeLogsData(request([record('a'), record('b')])));
    chain.run(batch);
    const out = batchToLogsData(batch).resourceLogs[0]!.scopeLogs[0]!.logRecords;
    expect(bodies(out)).toEqual(['a', 'b']);
    expect(out.map((r) => getAttribute(r.attributes, 'touched'))).toEqual([undefined, undefined]);
    expect(errors(p)).toBe(1);
    expect(await metrics.total(metrics.processorEvents, { processor: 'user', event: 'error' })).toBe(1);
    expect(await metrics.total(metrics.processorErrors, { processor: 'user' })).toBe(1);
  });

  test('on_error=drop: every record of the batch is dropped as processor_error (what it dropped itself keeps its reason); counted', () => {
    const p = guarded(markDropThrow, 'drop');
    const { out, drops } = runProcessor(p, request([record('a'), record('b'), record('c')]));
    expect(out.resourceLogs).toEqual([]);
    expect(drops).toEqual({ mine: 1, processor_error: 3 });
    expect(errors(p)).toBe(1);
  });

  test('a batch that succeeds is left as the processor made it, and nothing is counted', () => {
    const p = guarded((batch) => {
      for (const r of batch) r.attributes.set('touched', 'yes');
    }, 'drop');
    const { out, drops } = runProcessor(p, request([record('a')]));
    expect(getAttribute(out.resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!.attributes, 'touched')?.stringValue).toBe('yes');
    expect(drops).toEqual({});
    expect(errors(p)).toBeUndefined();
  });

  test('a Promise from process() is a failure, and its later rejection is not left unhandled', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const p = guarded(async () => {
        throw new Error('async bug');
      }, 'drop');
      expect(runProcessor(p, request([record('a')])).drops).toEqual({ processor_error: 1 });
      expect(() => runProcessor(guarded(() => Promise.resolve(), 'pass'), request([record('a')]))).toThrow('process() returned a Promise');
      // Rejections are reported after the microtask queue drains: one macrotask later.
      await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  test('the processor own counts are exported alongside the error count', () => {
    const mine = new Map([['seen', 2]]);
    const p = guarded(markDropThrow, 'drop', { counts: mine });
    runProcessor(p, request([record('a')]));
    expect(new Map(p.counts)).toEqual(new Map([['seen', 2], ['error', 1]]));
  });

  test('passes on thins, flush and parallel, so a windowed custom processor emits', () => {
    const factory = guardFactory(
      { ...userFactory(() => undefined, { thins: true, flushIntervalMs: 1000, flush: (_now, _final, out) => void out.add({ body: 'summary' }) }), parallel: false },
      './user.js',
    );
    expect(factory.parallel).toBe(false);
    const p = createProcessor(factory);
    expect(p.thins).toBe(true);
    expect(p.flushIntervalMs).toBe(1000);
    expect(bodies(flushProcessor(p, 0)!.resourceLogs[0]!.scopeLogs[0]!.logRecords)).toEqual(['summary']);
  });

  test('a factory must not declare on_error itself: the service adds it', () => {
    const factory = defineProcessor({ name: 'user', summary: 'x', options: { on_error: opt.string('', 'Mine.') }, create: () => ({ process: () => undefined }) });
    // A module's export is untyped: the loader sees any factory.
    expect(() => guardFactory(factory as unknown as ProcessorFactory<OptionShape>, './user.js')).toThrow('must not declare an option named on_error');
  });
});
