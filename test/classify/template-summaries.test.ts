/** What the miner reports for /api/templates: counts, first / last seen, severity mix and one example per template. */
import { TemplateMiner } from '../../src/classify/template-miner';

function learn(miner: TemplateMiner, lines: readonly [number, number, string][]): void {
  for (const [now, severity, line] of lines) miner.note(miner.add(line), now, severity, line);
}

describe('TemplateMiner summaries', () => {
  test('a template reports its count, first and last seen, severity buckets and its first line', () => {
    const miner = new TemplateMiner();
    learn(miner, [
      [1000, 9, 'user alice logged in from 10.0.0.1'],
      [2000, 17, 'user bob logged in from 10.0.0.2'],
      [3000, 0, 'user carol logged in from 10.0.0.3'],
      [3500, 24, 'cache miss for key k1'],
    ]);
    expect(miner.summaries(10)).toEqual([
      {
        id: expect.stringMatching(/^[0-9a-f]{16}$/),
        text: 'user <*> logged in from <*>',
        count: 3,
        firstSeen: 1000,
        lastSeen: 3000,
        severities: { unspecified: 1, trace: 0, debug: 0, info: 1, warn: 0, error: 1, fatal: 0 },
        example: 'user alice logged in from 10.0.0.1',
      },
      expect.objectContaining({ text: 'cache miss for key <*>', count: 1, firstSeen: 3500, severities: expect.objectContaining({ fatal: 1 }) }),
    ]);
  });

  test.each([
    [1, 'trace'],
    [4, 'trace'],
    [5, 'debug'],
    [12, 'info'],
    [13, 'warn'],
    [20, 'error'],
    [21, 'fatal'],
    [25, 'unspecified'],
    [-1, 'unspecified'],
  ])('severity_number %i counts as %s', (n, bucket) => {
    const miner = new TemplateMiner();
    learn(miner, [[1, n, 'one line']]);
    expect(miner.summaries(1)[0]!.severities[bucket as 'info']).toBe(1);
  });

  test('the limit keeps the most frequent templates', () => {
    const miner = new TemplateMiner();
    learn(miner, [
      [1, 9, 'rare event happened'],
      [1, 9, 'job 1 done in 3 ms'],
      [1, 9, 'job 2 done in 4 ms'],
    ]);
    expect(miner.summaries(1).map((s) => [s.text, s.count])).toEqual([['job <*> done in <*>', 2]]);
    expect(miner.summaries(0)).toEqual([]);
  });

  test('a family of shapes with different token counts reports their figures summed', () => {
    const miner = new TemplateMiner();
    learn(miner, [
      [10, 9, 'Component \\042alt0\\042 is unavailable'],
      [20, 17, 'Component \\042SCSI-WWID:01000010:6005-08b4\\042 is unavailable'],
      [30, 9, 'Component \\042alt1\\042 is unavailable'],
    ]);
    expect(miner.summaries(5)).toHaveLength(1);
    const [s] = miner.summaries(5);
    expect(s).toMatchObject({ count: 3, firstSeen: 10, lastSeen: 30, severities: expect.objectContaining({ info: 2, error: 1 }) });
  });
});
