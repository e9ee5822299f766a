/**
 * A cheap necessary condition for a regular expression to match somewhere in a text, so that
 * most rules are skipped without running their regex on most lines.
 *
 * From a pattern's source, `requiredLiterals` derives for each top-level alternative the
 * literal runs any match of it must contain (a conjunction of clauses, each a disjunction of
 * literals): literal characters not under a quantifier, runs broken at everything else. It
 * reads the syntax the built-in rules use (groups, non-capturing groups, look-aheads,
 * classes, escapes, quantifiers) and gives up (undefined: no filter) on anything else.
 *
 * A text is summarised by the set of its character bigrams (`BigramSet`, case-folded, so it
 * serves case-insensitive patterns too); a literal is possible when all its bigrams occur. A
 * rule whose every alternative is impossible cannot match; otherwise its regex decides, so a
 * filter only ever skips work, never changes a result. Texts with characters beyond ASCII are
 * not filtered (case-insensitive matching rules for them are not worth reasoning about here).
 */

/** Per alternative: clauses (all needed), each a list of literals (one of them needed). */
export type RequiredLiterals = string[][][];

const BIGRAMS = 64 * 64;
/** Stamps stay small integers (Smis); the table is cleared when they run out. */
const MAX_STAMP = 0x3fffffff;

/** Case-folded 6-bit key of an ASCII character: both cases of a letter share a key. */
function key(c: number): number {
  return (c | 32) & 63;
}

/** The bigrams of one text, kept as a generation stamp per bigram (no clearing between texts). */
export class BigramSet {
  /** @internal */ readonly stamps = new Int32Array(BIGRAMS);
  /** @internal */ stamp = 0;

  private readonly encoder = new TextEncoder();
  private bytes = new Uint8Array(1024);

  /** Records the bigrams of `text`; returns false (nothing usable recorded) when it has a character beyond ASCII. */
  load(text: string): boolean {
    if (this.stamp === MAX_STAMP) {
      this.stamps.fill(0);
      this.stamp = 0;
    }
    const stamp = ++this.stamp;
    const n = text.length;
    if (n === 0) return true;
    if (this.bytes.length < n) this.bytes = new Uint8Array(n);
    // One native call reads the characters and tells whether they are all ASCII (one byte each).
    const bytes = this.bytes;
    const r = this.encoder.encodeInto(text, bytes);
    if (r.read !== n || r.written !== n) return false;
    const stamps = this.stamps;
    let prev = key(bytes[0]!) << 6;
    for (let i = 1; i < n; i++) {
      const k = key(bytes[i]!);
      stamps[prev | k] = stamp;
      prev = k << 6;
    }
    return true;
  }
}

/**
 * Rough rarity of a character in log text (higher: rarer), so that a literal's rarest bigram
 * is looked up first and most alternatives are ruled out by one lookup.
 */
function rarity(c: number): number {
  const lower = c | 32;
  if (lower >= 97 && lower <= 122) return 'etaoinsrhldcumfpgwybvkxjqz'.indexOf(String.fromCharCode(lower));
  if (c === 32) return 0;
  if (c >= 48 && c <= 57) return 10;
  return 20;
}

/**
 * Compiled RequiredLiterals. `program`, flat: per alternative [size, clauses…], per clause
 * [size, literals…], per literal [count, bigram keys…] (rarest first); sizes count the ints
 * after them. A 1-character literal has no bigram: always possible. `gates`: per alternative,
 * one bigram it cannot match without (the rarest of its single-literal clauses), or -1, so
 * that most alternatives are ruled out by one lookup before their program is read.
 */
export class LiteralFilter {
  private constructor(
    private readonly program: Int32Array,
    private readonly starts: Int32Array,
    private readonly gates: Int32Array,
  ) {}

  /** A filter for the pattern source, or undefined when it cannot be derived or would never skip anything. */
  static of(source: string): LiteralFilter | undefined {
    const required = requiredLiterals(source);
    if (required === undefined) return undefined;
    // An alternative with no clause can match anything: no filtering possible.
    if (required.some((clauses) => clauses.length === 0)) return undefined;
    const out: number[] = [];
    const starts: number[] = [];
    const gates: number[] = [];
    for (const clauses of required) {
      starts.push(out.length);
      const altAt = out.push(0) - 1;
      let gate = -1;
      let gateRarity = -1;
      for (const literals of clauses) {
        const clauseAt = out.push(0) - 1;
        for (const literal of literals) {
          const keys = bigramKeys(literal);
          out.push(keys.length, ...keys.map((k) => k.key));
          if (literals.length === 1 && keys.length > 0 && keys[0]!.rarity > gateRarity) {
            gate = keys[0]!.key;
            gateRarity = keys[0]!.rarity;
          }
        }
        out[clauseAt] = out.length - clauseAt - 1;
      }
      out[altAt] = out.length - altAt - 1;
      gates.push(gate);
    }
    return new LiteralFilter(Int32Array.from(out), Int32Array.from(starts), Int32Array.from(gates));
  }

  /** False when the pattern cannot match the text `set` was loaded with (`load` returned true). */
  possible(set: BigramSet): boolean {
    const stamps = set.stamps;
    const stamp = set.stamp;
    const gates = this.gates;
    for (let a = 0; a < gates.length; a++) {
      const gate = gates[a]!;
      if (gate >= 0 && stamps[gate] !== stamp) continue;
      if (this.alternative(this.starts[a]!, stamps, stamp)) return true;
    }
    return false;
  }

  /** Whether every clause of the alternative at `p` has a literal whose bigrams are all present. */
  private alternative(p: number, stamps: Int32Array, stamp: number): boolean {
    const prog = this.program;
    const altEnd = p + 1 + prog[p]!;
    p++;
    while (p < altEnd) {
      const clauseEnd = p + 1 + prog[p]!;
      p++;
      let any = false;
      while (p < clauseEnd) {
        const litEnd = p + 1 + prog[p]!;
        p++;
        let present = true;
        for (; p < litEnd; p++) {
          if (stamps[prog[p]!] !== stamp) {
            present = false;
            break;
          }
        }
        p = litEnd;
        if (present) {
          any = true;
          break;
        }
      }
      if (!any) return false;
      p = clauseEnd;
    }
    return true;
  }
}

/** The bigram keys of a literal, rarest first. */
function bigramKeys(literal: string): { key: number; rarity: number }[] {
  const pairs: { key: number; rarity: number }[] = [];
  for (let i = 1; i < literal.length; i++) {
    const a = literal.charCodeAt(i - 1);
    const b = literal.charCodeAt(i);
    pairs.push({ key: (key(a) << 6) | key(b), rarity: rarity(a) + rarity(b) });
  }
  return pairs.sort((x, y) => y.rarity - x.rarity);
}

/**
 * The literals every match of `source` contains, per top-level alternative; undefined when
 * the source uses syntax this reader does not know (or has a character beyond ASCII).
 */
export function requiredLiterals(source: string): RequiredLiterals | undefined {
  // eslint-disable-next-line no-control-regex
  if (/[^\x00-\x7f]/.test(source)) return undefined;
  try {
    const r = alternatives(source, 0);
    return r.end === source.length ? r.alts : undefined;
  } catch {
    return undefined;
  }
}

function isQuantifier(src: string, j: number): boolean {
  const c = src[j];
  return c === '?' || c === '*' || c === '+' || c === '{';
}

function skipQuantifier(src: string, j: number): number {
  if (src[j] === '{') {
    const close = src.indexOf('}', j);
    if (close < 0 || !/^\{\d+(?:,\d*)?\}$/.test(src.slice(j, close + 1))) throw new Error('unsupported quantifier');
    j = close + 1;
  } else {
    j++;
  }
  return src[j] === '?' ? j + 1 : j; // lazy
}

/** Reads alternatives from i up to an unmatched `)` or the end. */
function alternatives(src: string, i: number): { alts: RequiredLiterals; end: number } {
  const alts: RequiredLiterals = [];
  let clauses: string[][] = [];
  let run = '';
  const flush = (): void => {
    if (run.length > 0) clauses.push([run]);
    run = '';
  };
  while (i < src.length) {
    const c = src[i]!;
    if (c === '|') {
      flush();
      alts.push(clauses);
      clauses = [];
      i++;
      continue;
    }
    if (c === ')') break;
    if (c === '(') {
      flush();
      let j = i + 1;
      let lookaround = false;
      if (src[j] === '?') {
        const k = src[j + 1];
        if (k === ':') j += 2;
        else if (k === '=' || k === '!') {
          j += 2;
          lookaround = true;
        } else throw new Error('unsupported group');
      }
      const inner = alternatives(src, j);
      if (src[inner.end] !== ')') throw new Error('unclosed group');
      j = inner.end + 1;
      if (isQuantifier(src, j)) {
        // Possibly absent (or repeated): nothing required from it.
        i = skipQuantifier(src, j);
        continue;
      }
      i = j;
      if (lookaround) continue;
      if (inner.alts.length === 1) {
        clauses.push(...inner.alts[0]!);
        continue;
      }
      // One literal per inner alternative (its longest single-literal clause), or no clause.
      const pick: string[] = [];
      for (const alt of inner.alts) {
        let best: string | undefined;
        for (const clause of alt) if (clause.length === 1 && (best === undefined || clause[0]!.length > best.length)) best = clause[0];
        if (best === undefined) {
          pick.length = 0;
          break;
        }
        pick.push(best);
      }
      if (pick.length > 0) clauses.push(pick);
      continue;
    }
    let literal: string | undefined;
    let j = i + 1;
    if (c === '\\') {
      const e = src[i + 1];
      if (e === undefined) throw new Error('trailing backslash');
      j = i + 2;
      // \b \w \d \s \n \x.. \u.. \cX and back-references: not a literal here.
      if (/[A-Za-z0-9]/.test(e)) literal = undefined;
      else literal = e;
    } else if (c === '[') {
      j = i + 1;
      if (src[j] === '^') j++;
      // As in JavaScript, a `]` right after `[` or `[^` closes the class (`[]`, `[^]`).
      while (j < src.length && src[j] !== ']') j += src[j] === '\\' ? 2 : 1;
      if (j >= src.length) throw new Error('unclosed class');
      j++;
    } else if (c === '.' || c === '^' || c === '$') {
      literal = undefined;
    } else if (isQuantifier(src, i) || c === ']' || c === '}') {
      throw new Error('unexpected character');
    } else {
      literal = c;
    }
    if (isQuantifier(src, j)) {
      flush();
      i = skipQuantifier(src, j);
      continue;
    }
    if (literal === undefined) flush();
    else run += literal;
    i = j;
  }
  flush();
  alts.push(clauses);
  return { alts, end: i };
}
