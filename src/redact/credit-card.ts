/**
 * `credit_card`: 13–19 digit payment card numbers, written solid or in groups separated by
 * single spaces or dashes, that pass the Luhn check and start with a card network prefix.
 *
 * Prefix rule: the first digit is 3, 4, 5 or 6, or the first four are 2200–2204 (Mir) or
 * 2221–2720 (Mastercard's 2-series). Every major network issues within these, and the rule is
 * what keeps timestamps out: epoch milli/nanoseconds start with 1, and compact dates
 * (20240501123045123) start with 19 or 20. Airline (1), petroleum (7), health (8) and national
 * (9) cards are not matched.
 *
 * A candidate is a maximal run of digits and single separators; it must not be glued to a
 * letter, digit or underscore, nor be part of a decimal number. A run that is longer than a
 * card ("order 12 4111 1111 1111 1111", two cards side by side) is searched for cards aligned
 * on its groups, leftmost first, and from a start the longest that passes: hiding a few
 * digits too many is preferred to leaving some of a card behind. Digits right after an
 * already redacted prefix (a `sha256:` digest that happens to be all decimal) start no card,
 * so that redacting twice changes nothing.
 */
import { luhnValid } from './luhn';
import { isDigit, isWordChar, type Detector, type Spans } from './spans';

const MIN_DIGITS = 13;
const MAX_DIGITS = 19;
const DOT = 46;

/** First four digits → whether a network issues cards there. */
function plausiblePrefix(digits: string, from: number): boolean {
  const c = digits.charCodeAt(from);
  if (c >= 51 && c <= 54) return true; // 3–6
  if (c !== 50) return false; // 2: Mir and Mastercard 2-series only
  const p = Number(digits.slice(from, from + 4));
  return (p >= 2200 && p <= 2204) || (p >= 2221 && p <= 2720);
}

export class CreditCardDetector implements Detector {
  readonly name = 'credit_card';
  // At least 13 digits, single spaces or dashes between them; the match is the maximal run.
  // Linear: a failed start re-scans at most 25 characters, a match moves past the run. Written
  // out rather than as (?:[ -]?\d){12,}: V8 then skips ahead over text that cannot match,
  // which makes the pattern ten times faster on ordinary log lines.
  private readonly candidate = new RegExp(`\\d${'[ -]?\\d'.repeat(MIN_DIGITS - 1)}(?:[ -]?\\d)*`, 'g');
  // Scratch for one run: group bounds and digit offsets.
  private readonly groupStart: number[] = [];
  private readonly groupEnd: number[] = [];
  private readonly digitOffset: number[] = [];

  /** @param skipPrefixes text that starts an already redacted value (mask or hash text). */
  constructor(private readonly skipPrefixes: readonly string[] = []) {}

  find(s: string, out: Spans, id: number): void {
    if (s.length < MIN_DIGITS) return;
    const re = this.candidate;
    re.lastIndex = 0;
    for (let m = re.exec(s); m !== null; m = re.exec(s)) this.checkRun(s, m.index, m.index + m[0].length, out, id);
  }

  private checkRun(s: string, a: number, b: number, out: Spans, id: number): void {
    const left = a > 0 ? s.charCodeAt(a - 1) : -1;
    const right = b < s.length ? s.charCodeAt(b) : -1;
    // A run inside a decimal number (3.14159…, 4111….5) is not a card.
    if (left === DOT && a >= 2 && isDigit(s.charCodeAt(a - 2))) return;
    if (right === DOT && b + 1 < s.length && isDigit(s.charCodeAt(b + 1))) return;
    const leftOk = !isWordChar(left) && !this.afterRedacted(s, a);
    const rightOk = !isWordChar(right);

    const gs = this.groupStart;
    const ge = this.groupEnd;
    const off = this.digitOffset;
    let groups = 0;
    let digits = '';
    let g = a;
    for (let i = a; i <= b; i++) {
      if (i === b || !isDigit(s.charCodeAt(i))) {
        gs[groups] = g;
        ge[groups] = i;
        off[groups] = digits.length;
        digits += s.slice(g, i);
        groups++;
        g = i + 1;
      }
    }
    off[groups] = digits.length;

    // Leftmost start, longest card from it; then continue after it. A group of 13+ digits
    // is a solid card on its own and never joins its neighbours (two cards side by side).
    for (let i = 0; i < groups; i++) {
      if (i === 0 && !leftOk) continue;
      if (!plausiblePrefix(digits, off[i]!)) continue;
      const solid = off[i + 1]! - off[i]! >= MIN_DIGITS;
      let best = -1;
      for (let j = i; j < groups; j++) {
        const n = off[j + 1]! - off[i]!;
        if (n > MAX_DIGITS || (j > i && (solid || off[j + 1]! - off[j]! >= MIN_DIGITS))) break;
        if (n < MIN_DIGITS || (j === groups - 1 && !rightOk)) continue;
        if (luhnValid(digits.slice(off[i]!, off[j + 1]!))) best = j;
      }
      if (best >= 0) {
        out.add(gs[i]!, ge[best]!, id);
        i = best;
      }
    }
  }

  private afterRedacted(s: string, a: number): boolean {
    const ps = this.skipPrefixes;
    for (let i = 0; i < ps.length; i++) if (a >= ps[i]!.length && s.startsWith(ps[i]!, a - ps[i]!.length)) return true;
    return false;
  }
}
