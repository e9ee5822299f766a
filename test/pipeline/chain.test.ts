import pino from 'pino';
import { ProcessingChain } from '../../src/pipeline/chain';
import type { Processor } from '../../src/processors/contract';
import { Metrics } from '../../src/telemetry/metrics';
import { decodeLogsData, encodeLogsData } from '../../src/otlp/codec';
import type { LogsData } from '../../src/otlp/model';
import { RecordBatch } from '../../src/records/batch';
import type { LogBatch } from '../../src/records/types';
import { bodies, record, request } from '../helpers/builders';
import { batchToLogsData } from '../helpers/processors';
import { compileCondition } from '../../src/conditions';

/** Drops every other record of the batch (the first, third, …kept). */
const dropOdd: Processor = {
  process(batch) {
    let i = 0;
    for (const r of batch) if (i++ % 2 === 1) r.drop('filtered');
  },
};

const throws: Processor = {
  process() {
    throw new Error('boom');
  },
};

const silent = pino({ level: 'silent' });

function run(chain: ProcessingChain, data: LogsData): LogsData {
  const batch = new RecordBatch(encodeLogsData(data));
  chain.run(batch);
  return batchToLogsData(batch);
}

describe('processing chain', () => {
  test('runs processors in order and counts records in, out and dropped per processor', async () => {
    const metrics = new Metrics();
    const chain = new ProcessingChain([{ name: 'odd', processor: dropOdd }, { name: 'odd2', processor: dropOdd }], metrics, silent);
    const out = run(chain, request(['a', 'b', 'c', 'd', 'e'].map((b) => record(b))));
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
      process() {
        counts.set('match', (counts.get('match') ?? 0) + 2);
      },
    };
    const chain = new ProcessingChain([{ name: 'counting', processor: counting }], metrics, silent);
    run(chain, request([record('a')]));
    run(chain, request([record('b')]));
    expect(await metrics.total(metrics.processorEvents, { processor: 'counting', event: 'match' })).toBe(4);
  });

  test('passes the batch on as it was before a processor that throws after changing, dropping and adding, and counts the error', async () => {
    const metrics = new Metrics();
    const partial: Processor = {
      process(batch) {
        const [a, b] = [...batch];
        a!.severityNumber = 21;
        a!.attributes.set('half', 'done');
        a!.resource.attributes.set('changed', true);
        b!.drop('filtered');
        batch.add({ body: 'extra' }, a);
        throw new Error('boom halfway');
      },
    };
    const chain = new ProcessingChain([{ name: 'bad', processor: partial }, { name: 'odd', processor: dropOdd }], metrics, silent);
    const data = request([record('a'), record('b'), record('c')]);
    const out = run(chain, data);
    const expected = decodeLogsData(encodeLogsData(request([record('a'), record('c')])));
    expect(out).toEqual(expected);
    expect(await metrics.total(metrics.processorErrors, { processor: 'bad' })).toBe(1);
    expect(await metrics.total(metrics.dropped, { component: 'processor/bad', reason: 'filtered' })).toBe(0);
    expect(await metrics.total(metrics.processorOutgoing, { processor: 'bad' })).toBe(3);
  });

  test('a processor that throws keeps the batch object usable by the next one', async () => {
    const metrics = new Metrics();
    const chain = new ProcessingChain([{ name: 'bad', processor: throws }], metrics, silent);
    const out = run(chain, request([record('a'), record('b')]));
    expect(bodies(out.resourceLogs[0]!.scopeLogs[0]!.logRecords)).toEqual(['a', 'b']);
    expect(await metrics.total(metrics.processorErrors, { processor: 'bad' })).toBe(1);
  });
});

describe('processing chain with a where condition', () => {
  // Uppercases bodies, drops records whose body is "drop", and adds one record after the last it saw.
  const mutating: Processor = {
    process(batch: LogBatch) {
      let last;
      for (const r of batch) {
        if (r.bodyString === 'drop') {
          r.drop('filtered');
          continue;
        }
        r.body = { stringValue: r.bodyString!.toUpperCase() };
        last = r;
      }
      if (last) batch.add({ body: 'added' }, last);
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
    const chain = new ProcessingChain([{ name: 'm', processor: mutating, where: compileCondition('severity_number >= 17') }], metrics, silent);
    const out = run(chain, request(records));
    expect(bodies(out.resourceLogs[0]!.scopeLogs[0]!.logRecords)).toEqual(expected);
    expect(await metrics.total(metrics.dropped, { component: 'processor/m', reason: 'filtered' })).toBe(dropped ?? 0);
    expect(await metrics.total(metrics.processorOutgoing, { processor: 'm' })).toBe(expected.length);
  });

  test('scopes and resources emptied by the processor are removed, other resources untouched', () => {
    const dropAll: Processor = {
      process(batch) {
        for (const r of batch) r.drop('filtered');
      },
    };
    const data: LogsData = {
      resourceLogs: [...request([record('x')], { 'service.name': 'checkout' }).resourceLogs, ...request([record('y')], { 'service.name': 'cart' }).resourceLogs],
    };
    const chain = new ProcessingChain([{ name: 'all', processor: dropAll, where: compileCondition('resource["service.name"] == "checkout"') }], new Metrics(), silent);
    const out = run(chain, data);
    expect(out.resourceLogs).toHaveLength(1);
    expect(bodies(out.resourceLogs[0]!.scopeLogs[0]!.logRecords)).toEqual(['y']);
  });

  test('records a processor adds under an origin of its own follow the received resources', () => {
    const newScope: Processor = {
      process(batch) {
        batch.add({ body: 'new' }, { scope: { name: 'mine' } });
      },
    };
    const chain = new ProcessingChain([{ name: 'n', processor: newScope, where: compileCondition('body == "b"') }], new Metrics(), silent);
    const out = run(chain, request([record('a'), record('b')]));
    expect(out.resourceLogs.map((rl) => rl.scopeLogs.map((sl) => bodies(sl.logRecords)))).toEqual([[['a', 'b']], [['new']]]);
    expect(out.resourceLogs[1]!.scopeLogs[0]!.scope!.name).toBe('mine');
  });

  test('without a where condition the processor gets the batch object itself', () => {
    let seen: LogBatch | undefined;
    const spy: Processor = {
      process(batch) {
        seen = batch;
      },
    };
    const batch = new RecordBatch(encodeLogsData(request([record('a')])));
    new ProcessingChain([{ name: 's', processor: spy }], new Metrics(), silent).run(batch);
    expect(seen).toBe(batch);
  });
});
