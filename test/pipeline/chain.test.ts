import pino from 'pino';
import { ProcessingChain } from '../../src/pipeline/chain';
import type { Processor } from '../../src/pipeline/processor';
import { Metrics } from '../../src/telemetry/metrics';
import { countRecords, type LogsData } from '../../src/otlp/model';
import { bodies, record, request } from '../helpers/builders';

const dropOdd: Processor = {
  process(batch: LogsData, drops) {
    for (const rl of batch.resourceLogs)
      for (const sl of rl.scopeLogs) {
        const before = sl.logRecords.length;
        sl.logRecords = sl.logRecords.filter((_r, i) => i % 2 === 0);
        drops.drop('filtered', before - sl.logRecords.length);
      }
    return batch;
  },
};

const throws: Processor = {
  process() {
    throw new Error('boom');
  },
};

describe('processing chain', () => {
  test('runs processors in order and counts records in, out and dropped per processor', async () => {
    const metrics = new Metrics();
    const chain = new ProcessingChain([{ name: 'odd', processor: dropOdd }, { name: 'odd2', processor: dropOdd }], metrics, pino({ level: 'silent' }));
    const out = chain.run(request(['a', 'b', 'c', 'd', 'e'].map((b) => record(b))), 5);
    expect(bodies(out.resourceLogs[0]!.scopeLogs[0]!.logRecords)).toEqual(['a', 'e']);
    expect(await metrics.total(metrics.processorIncoming, { processor: 'odd' })).toBe(5);
    expect(await metrics.total(metrics.processorOutgoing, { processor: 'odd' })).toBe(3);
    expect(await metrics.total(metrics.processorOutgoing, { processor: 'odd2' })).toBe(2);
    expect(await metrics.total(metrics.dropped, { component: 'processor/odd', reason: 'filtered' })).toBe(2);
    expect(await metrics.total(metrics.dropped, { component: 'processor/odd2', reason: 'filtered' })).toBe(1);
  });

  test('exports the counts a processor keeps as olp_processor_events_total', async () => {
    const metrics = new Metrics();
    const counts = new Map<string, number>();
    const counting: Processor = {
      counts,
      process(batch) {
        counts.set('match', (counts.get('match') ?? 0) + 2);
        return batch;
      },
    };
    const chain = new ProcessingChain([{ name: 'counting', processor: counting }], metrics, pino({ level: 'silent' }));
    chain.run(request([record('a')]), 1);
    chain.run(request([record('b')]), 1);
    expect(await metrics.total(metrics.processorEvents, { processor: 'counting', event: 'match' })).toBe(4);
  });

  test('passes the batch on when a processor throws, and counts the error', async () => {
    const metrics = new Metrics();
    const chain = new ProcessingChain([{ name: 'bad', processor: throws }], metrics, pino({ level: 'silent' }));
    const out = chain.run(request([record('a'), record('b')]), 2);
    expect(countRecords(out)).toBe(2);
    expect(await metrics.total(metrics.processorErrors, { processor: 'bad' })).toBe(1);
  });
});
