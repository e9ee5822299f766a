/**
 * `email`: addresses of the form local@domain.tld. Local part: letters, digits and
 * `. _ % + -` (RFC 5322 quoted local parts are not matched); domain: one or more labels of
 * letters, digits and `-`, then a top-level label of 2–63 letters or a punycode one (`xn--…`;
 * raw Unicode domains and IP literals are not matched). A trailing sentence dot is not taken.
 *
 * Search starts at each '@' (indexOf), walks left over the local part and runs a sticky,
 * bounded domain regex rightwards, so a line without '@' costs one indexOf.
 */
import type { Detector, Spans } from './spans';

const AT = 64;
const DOT = 46;
/** Longer than RFC 5321's 64 so that an over-long local part is still hidden whole. */
const MAX_LOCAL = 256;

function isLocalChar(c: number): boolean {
  // A-Z a-z 0-9 . _ % + -
  return (c >= 48 && c <= 57) || ((c | 32) >= 97 && (c | 32) <= 122) || c === 46 || c === 95 || c === 37 || c === 43 || c === 45;
}

export class EmailDetector implements Detector {
  readonly name = 'email';
  // Labels end at '.', so the only backtracking is over label count and TLD length: bounded.
  private readonly domain = /(?:[A-Za-z0-9-]{1,63}\.){1,16}(?:[A-Za-z]{2,63}|xn--[A-Za-z0-9-]{1,59})(?![A-Za-z0-9-])/y;

  find(s: string, out: Spans, id: number): void {
    let at = s.indexOf('@');
    while (at >= 0) {
      let a = at;
      while (a > 0 && at - a < MAX_LOCAL && isLocalChar(s.charCodeAt(a - 1))) a--;
      while (a < at && s.charCodeAt(a) === DOT) a++;
      let next = at + 1;
      if (a < at && s.charCodeAt(at - 1) !== DOT && at + 1 < s.length && s.charCodeAt(at + 1) !== AT) {
        const re = this.domain;
        re.lastIndex = at + 1;
        const m = re.exec(s);
        if (m !== null) {
          next = at + 1 + m[0].length;
          out.add(a, next, id);
        }
      }
      at = s.indexOf('@', next);
    }
  }
}
