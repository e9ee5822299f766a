import pino from 'pino';
import { ProcessingChain } from '../../src/pipeline/chain';
import type { Processor } from '../../src/processors/contract';
import { Metrics } from '../../src/telemetry/metrics';
import { countRecords, type LogsData } from '../../src/otlp/model';
import { bodies, record, request } from '../helpers/builders';
import { compileCondition } from '../../src/conditions';

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

describe('processing chain with a where condition', () => {
  // Uppercases bodies, drops records whose body is "drop", and adds one record per scope.
  const mutating: Processor = {
    process(batch, drops) {
      for (const rl of batch.resourceLogs)
        for (const sl of rl.scopeLogs) {
          const before = sl.logRecords.length;
          sl.logRecords = sl.logRecords.filter((r) => r.body?.stringValue !== 'drop');
          drops.drop('filtered', before - sl.logRecords.length);
          for (const r of sl.logRecords) r.body = { stringValue: r.body!.stringValue!.toUpperCase() };
          sl.logRecords.push(record('added'));
        }
      return batch;
    },
  };
  const sev = (body: string, n: number) => record(body, { severityNumber: n });

  test.each([
    {
      name: 'only matching records change; others keep their positions',
      records: [sev('a', 9), sev('b', 17), sev('c', 9), sev('d', 17)],
      expected: ['a', 'B', 'c', 'D', 'added'],
    },
    {
      name: 'removed matching records are gone and counted',
      records: [sev('a', 9), sev('drop', 17), sev('c', 17), sev('drop', 9)],
      expected: ['a', 'C', 'drop', 'added'],
      dropped: 1,
    },
    {
      name: 'no matching record: the processor does not run',
      records: [sev('a', 9), sev('b', 9)],
      expected: ['a', 'b'],
    },
  ])('$name', async ({ records, expected, dropped }) => {
    const metrics = new Metrics();
    const chain = new ProcessingChain([{ name: 'm', processor: mutating, where: compileCondition('severity_number >= 17') }], metrics, pino({ level: 'silent' }));
    const out = chain.run(request(records), records.length);
    expect(bodies(out.resourceLogs[0]!.scopeLogs[0]!.logRecords)).toEqual(expected);
    expect(await metrics.total(metrics.dropped, { component: 'processor/m', reason: 'filtered' })).toBe(dropped ?? 0);
    expect(await metrics.total(metrics.processorOutgoing, { processor: 'm' })).toBe(expected.length);
  });

  test('scopes emptied by the processor are removed, other resources untouched', () => {
    const dropAll: Processor = {
      process(batch, drops) {
        for (const rl of batch.resourceLogs)
          for (const sl of rl.scopeLogs) {
            drops.drop('filtered', sl.logRecords.length);
            sl.logRecords = [];
          }
        batch.resourceLogs = [];
        return batch;
      },
    };
    const batch: LogsData = {
      resourceLogs: [...request([record('x')], { 'service.name': 'checkout' }).resourceLogs, ...request([record('y')], { 'service.name': 'cart' }).resourceLogs],
    };
    const chain = new ProcessingChain([{ name: 'all', processor: dropAll, where: compileCondition('resource["service.name"] == "checkout"') }], new Metrics(), pino({ level: 'silent' }));
    const out = chain.run(batch, 2);
    expect(out.resourceLogs).toHaveLength(1);
    expect(bodies(out.resourceLogs[0]!.scopeLogs[0]!.logRecords)).toEqual(['y']);
  });

  test('records in scopes the processor creates are appended to the record resource', () => {
    const newScope: Processor = {
      process(batch) {
        batch.resourceLogs[0]!.scopeLogs.push({ scope: null, schemaUrl: '', logRecords: [record('new')] });
        return batch;
      },
    };
    const chain = new ProcessingChain([{ name: 'n', processor: newScope, where: compileCondition('body == "b"') }], new Metrics(), pino({ level: 'silent' }));
    const out = chain.run(request([record('a'), record('b')]), 2);
    expect(out.resourceLogs[0]!.scopeLogs.map((sl) => bodies(sl.logRecords))).toEqual([['a', 'b'], ['new']]);
  });

  test('without a where condition the processor gets the batch object itself', () => {
    let seen: LogsData | undefined;
    const spy: Processor = {
      process(batch) {
        seen = batch;
        return batch;
      },
    };
    const batch = request([record('a')]);
    new ProcessingChain([{ name: 's', processor: spy }], new Metrics(), pino({ level: 'silent' })).run(batch, 1);
    expect(seen).toBe(batch);
  });
});
