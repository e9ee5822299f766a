import { splitBatch } from '../../src/pipeline/split';
import { countRecords } from '../../src/otlp/model';
import { bodies, record, request } from '../helpers/builders';

describe('splitBatch', () => {
  test('returns the batch itself when it fits', () => {
    const data = request([record('a'), record('b')]);
    expect(splitBatch(data, 2, 2)).toEqual([data]);
  });

  test('splits into pieces of at most max records, keeping order, resource and scope', () => {
    const data = request(Array.from({ length: 7 }, (_, i) => record(`r${i}`)));
    data.resourceLogs.push(request([record('s0'), record('s1')], { 'service.name': 'other' }).resourceLogs[0]!);
    const pieces = splitBatch(data, 9, 4);
    expect(pieces.map(countRecords)).toEqual([4, 4, 1]);
    const all = pieces.flatMap((p) => p.resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords)));
    expect(bodies(all)).toEqual(['r0', 'r1', 'r2', 'r3', 'r4', 'r5', 'r6', 's0', 's1']);
    expect(pieces[1]!.resourceLogs.map((rl) => rl.resource)).toEqual([data.resourceLogs[0]!.resource, data.resourceLogs[1]!.resource]);
    expect(pieces[1]!.resourceLogs[0]!.scopeLogs[0]!.scope).toBe(data.resourceLogs[0]!.scopeLogs[0]!.scope);
  });
});
