import { countRecords, pruneEmptied } from '../../src/otlp/model';
import { record, request } from '../helpers/builders';

describe('pruneEmptied', () => {
  test('removes the scopes a processor emptied and resources left without scopes, keeping containers that arrived empty', () => {
    const emptiedHere = request([]).resourceLogs[0]!;
    const arrivedEmpty = request([]).resourceLogs[0]!;
    const mixed = request([record('kept')]).resourceLogs[0]!;
    const emptiedScope = request([]).resourceLogs[0]!.scopeLogs[0]!;
    mixed.scopeLogs.push(emptiedScope);
    const noScopes = { ...request([]).resourceLogs[0]!, scopeLogs: [] };
    const data = { resourceLogs: [emptiedHere, arrivedEmpty, mixed, noScopes] };
    pruneEmptied(data, [emptiedHere.scopeLogs[0]!, emptiedScope]);
    expect(data.resourceLogs).toEqual([arrivedEmpty, mixed, noScopes]);
    expect(mixed.scopeLogs).toHaveLength(1);
    expect(countRecords(data)).toBe(1);
  });
});
