/**
 * Grouping accuracy (GA) as computed by the Loghub benchmark (Zhu et al., ICSE-SEIP 2019,
 * logparser's evaluator.get_accuracy): a line is correct when the set of lines that share its
 * parsed template is exactly the set that shares its ground-truth event.
 */

export interface GroupingReport {
  readonly accuracy: number;
  readonly correct: number;
  readonly total: number;
  /** Ground-truth groups not reproduced: their lines were split across parsed groups and/or merged with others. */
  readonly misses: readonly GroupMiss[];
}

export interface GroupMiss {
  readonly truth: string;
  readonly lines: number;
  /** Parsed groups holding this group's lines, with how many of its lines and how many lines in all. */
  readonly parsed: readonly { readonly label: string; readonly ofThisGroup: number; readonly size: number }[];
}

export function groupingAccuracy(truth: readonly string[], parsed: readonly string[]): GroupingReport {
  if (truth.length !== parsed.length) throw new Error(`ground truth has ${truth.length} lines, parsed ${parsed.length}`);
  const truthSize = countBy(truth);
  const byParsed = new Map<string, number[]>();
  parsed.forEach((p, i) => {
    const list = byParsed.get(p);
    if (list) list.push(i);
    else byParsed.set(p, [i]);
  });
  let correct = 0;
  const correctTruth = new Set<string>();
  for (const lines of byParsed.values()) {
    const t = truth[lines[0]!]!;
    if (lines.every((i) => truth[i] === t) && truthSize.get(t) === lines.length) {
      correct += lines.length;
      correctTruth.add(t);
    }
  }
  const misses: GroupMiss[] = [];
  const parsedSize = countBy(parsed);
  for (const [t, size] of truthSize) {
    if (correctTruth.has(t)) continue;
    const here = new Map<string, number>();
    truth.forEach((tt, i) => {
      if (tt === t) here.set(parsed[i]!, (here.get(parsed[i]!) ?? 0) + 1);
    });
    misses.push({
      truth: t,
      lines: size,
      parsed: [...here].map(([label, n]) => ({ label, ofThisGroup: n, size: parsedSize.get(label)! })).sort((a, b) => b.ofThisGroup - a.ofThisGroup),
    });
  }
  misses.sort((a, b) => b.lines - a.lines);
  return { accuracy: truth.length === 0 ? 1 : correct / truth.length, correct, total: truth.length, misses };
}

function countBy(values: readonly string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const v of values) m.set(v, (m.get(v) ?? 0) + 1);
  return m;
}
