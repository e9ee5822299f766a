import fc from 'fast-check';
import { BigramSet, LiteralFilter, requiredLiterals } from '../../src/classify/literal-filter';
import { DEFAULT_RULES, RuleEngine } from '../../src/classify/rules';

const NONE = new Map();

describe('requiredLiterals', () => {
  test.each([
    ['plain alternation', 'disk|no space left', [[['disk']], [['no space left']]]],
    ['optional characters break runs', 'timed? ?out\\b', [[['time'], ['out']]]],
    ['quantified groups are not required', '\\boom(?:[- _]?kill(?:er|ed)?)?\\b', [[['oom']]]],
    ['inner alternation of literals', 'memory (?:exhausted|limit)', [[['memory '], ['exhausted', 'limit']]]],
    ['classes and escapes', 'unauthori[sz]ed|\\bi\\/?o error', [[['unauthori'], ['ed']], [['i'], ['o error']]]],
    ['escaped punctuation is literal', 'a\\.b\\(c', [[['a.b(c']]]],
    ['look-aheads add nothing', 'x(?=yz)w', [[['x'], ['w']]]],
    ['an empty class ends where JavaScript ends it', '[]ab', [[['ab']]]],
  ])('%s', (_name, source, expected) => {
    expect(requiredLiterals(source)).toEqual(expected);
  });

  test.each([['(?<name>x)'], ['(?<=a)b'], ['a{,3}'], ['unclosed(group'], ['a]b'], ['é']])('gives up on %s', (source) => {
    expect(requiredLiterals(source)).toBeUndefined();
  });

  test('no filter when an alternative requires nothing', () => {
    expect(LiteralFilter.of('abc|.')).toBeUndefined();
    expect(LiteralFilter.of('abc|x?')).toBeUndefined();
  });
});

describe('LiteralFilter', () => {
  const set = new BigramSet();
  const possible = (source: string, text: string): boolean => {
    expect(set.load(text)).toBe(true);
    return LiteralFilter.of(source)!.possible(set);
  };

  test('rules out texts missing every alternative', () => {
    expect(possible('out of memory|heap space', 'request served in 3 ms')).toBe(false);
    expect(possible('out of memory|heap space', 'java.lang.OutOfMemoryError: Java HEAP SPACE')).toBe(true);
    expect(possible('connection (?:refused|reset)', 'connection closed')).toBe(false);
    expect(possible('connection (?:refused|reset)', 'Connection Reset by peer')).toBe(true);
  });

  test('texts beyond ASCII are not filtered', () => {
    expect(set.load('Kerberos \u212a')).toBe(false);
  });

  test('built-in rules with filters classify exactly as without them', () => {
    const plain = new RuleEngine(
      DEFAULT_RULES.map((r) => ({ category: r.category, attribute: r.attribute, source: r.source, test: r.test })),
      'other',
    );
    const filtered = new RuleEngine(DEFAULT_RULES, 'other');
    expect(DEFAULT_RULES.filter((r) => r.filter !== undefined).length).toBeGreaterThan(8);
    const words = [
      ...new Set(
        DEFAULT_RULES.flatMap((r) =>
          r.source
            .replace(/\\[bBwdsWDS]/g, ' ')
            .replace(/\(\?:|\)\??/g, '')
            .split(/[|[\]{}()?*+\\^$]+/),
        ).filter((w) => w.length > 0),
      ),
    ];
    const piece = fc.tuple(
      fc.constantFrom(' ', '', '-', '_', '.', ':', '(', '/', '\n  at ', 'İ', 'é'),
      fc.constantFrom(...words),
      fc.constantFrom('lower', 'upper', 'capital'),
    );
    fc.assert(
      fc.property(fc.array(piece, { minLength: 1, maxLength: 6 }), (pieces) => {
        const text = pieces
          .map(([sep, w, c]) => sep + (c === 'upper' ? w.toUpperCase() : c === 'capital' ? w[0]!.toUpperCase() + w.slice(1) : w))
          .join('');
        expect(filtered.classify(text, NONE)).toBe(plain.classify(text, NONE));
      }),
      { numRuns: 5000 },
    );
  });
});
