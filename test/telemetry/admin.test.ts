/** The admin API's pure parts: merging templates of several threads, rates between requests, the limit parameter. */
import { mergeTemplates, RateWindow, templateLimit } from '../../src/telemetry/admin';
import { SEVERITY_BUCKETS, type SeverityMix, type TemplateSummary } from '../../src/processors/contract';

const mix = (m: Partial<Record<string, number>>): SeverityMix => Object.fromEntries(SEVERITY_BUCKETS.map((b) => [b, m[b] ?? 0])) as unknown as SeverityMix;
const t = (id: string, count: number, firstSeen: number, lastSeen: number, severities: Partial<Record<string, number>>, example = `ex ${id}`): TemplateSummary => ({
  id,
  text: `text ${id}`,
  count,
  firstSeen,
  lastSeen,
  severities: mix(severities),
  example,
});

describe('mergeTemplates', () => {
  test('sums counts and severities per id, keeps the earliest first and latest last seen', () => {
    const merged = mergeTemplates(
      [
        [{ processor: 'classify', templates: [t('a', 3, 100, 200, { info: 3 }), t('b', 1, 150, 150, { error: 1 })] }],
        [{ processor: 'classify', templates: [t('a', 4, 50, 180, { info: 2, warn: 2 }, 'other example')] }],
      ],
      10,
    );
    expect(merged).toEqual([
      { processor: 'classify', templates: [{ ...t('a', 7, 50, 200, { info: 5, warn: 2 }) }, t('b', 1, 150, 150, { error: 1 })] },
    ]);
  });

  test.each([
    ['a thread restored from a snapshot (first seen 0) does not hide the other', [0, 0], [70, 90], 70],
    ['both seen', [60, 90], [70, 90], 60],
  ])('%s', (_name, [f1, l1], [f2, l2], first) => {
    const [m] = mergeTemplates([[{ processor: 'c', templates: [t('a', 1, f1!, l1!, {})] }], [{ processor: 'c', templates: [t('a', 1, f2!, l2!, {})] }]], 5);
    expect(m!.templates[0]!.firstSeen).toBe(first);
  });

  test('keeps processors apart and the most frequent `limit` of each', () => {
    const merged = mergeTemplates([[{ processor: 'c1', templates: [t('x', 1, 1, 1, {}), t('y', 5, 1, 1, {}), t('z', 3, 1, 1, {})] }, { processor: 'c2', templates: [t('x', 9, 1, 1, {})] }]], 2);
    expect(merged.map((p) => [p.processor, p.templates.map((x) => x.id)])).toEqual([
      ['c1', ['y', 'z']],
      ['c2', ['x']],
    ]);
  });
});

describe('RateWindow', () => {
  test('the first sample has no rates; later ones are per second against the oldest sample within the window', () => {
    const w = new RateWindow(10_000, 500);
    expect(w.sample(0, new Map([['a', 0]]))).toEqual({ rates: new Map(), seconds: 0 });
    expect(w.sample(2_000, new Map([['a', 20]]))).toEqual({ rates: new Map([['a', 10]]), seconds: 2 });
    expect(w.sample(4_000, new Map([['a', 60]]))).toEqual({ rates: new Map([['a', 15]]), seconds: 4 });
    // At 13 s the sample at 2 s is the latest one at least 10 s old: 0 s is dropped.
    expect(w.sample(13_000, new Map([['a', 130]]))).toEqual({ rates: new Map([['a', 10]]), seconds: 11 });
  });

  test('a counter that went down (worker thread replaced) gives 0, not a negative rate', () => {
    const w = new RateWindow();
    w.sample(0, new Map([['a', 100]]));
    expect(w.sample(1_000, new Map([['a', 10]])).rates.get('a')).toBe(0);
  });

  test('requests closer than the minimum gap keep no sample, so frequent polling stays bounded', () => {
    const w = new RateWindow(10_000, 500);
    w.sample(0, new Map([['a', 0]]));
    for (let i = 1; i <= 100; i++) w.sample(i, new Map([['a', i]]));
    // Still measured against the sample at 0.
    expect(w.sample(1_000, new Map([['a', 50]])).seconds).toBe(1);
  });
});

describe('templateLimit', () => {
  test.each([
    [null, 50],
    ['1', 1],
    ['20', 20],
    ['5000', 1000],
    ['0', undefined],
    ['-3', undefined],
    ['abc', undefined],
    ['2.5', undefined],
    ['', undefined],
  ])('%j → %j', (raw, want) => {
    expect(templateLimit(raw)).toBe(want);
  });
});
