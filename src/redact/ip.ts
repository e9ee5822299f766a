/**
 * `ipv4` and `ipv6`: address literals. Candidates come from a bounded regex; the structure
 * (octet ranges, group counts, `::`) is checked in code, which is both cheaper and clearer
 * than encoding it in one alternation.
 *
 * IPv4 and version strings: a dotted quad whose octets are all 0–255 is an address, even
 * 1.2.3.4 — the text alone cannot tell, and a redactor should err towards hiding. It is not an
 * address when glued to a letter, digit, `_` or `.` (v1.2.3.4, 1.2.3.4.5, lib1.2.3.4), when an
 * octet exceeds 255 (2024.1.15.3), or when the word just before it is v, ver, version, release
 * or build (`version 10.0.19041.1`, `"app_version":"1.2.3.4"`). A trailing `:port` or sentence
 * dot is fine and is kept.
 *
 * IPv6: full, `::`-compressed and IPv4-suffixed forms (::ffff:10.0.0.1). To keep C++/Rust
 * paths (`Abc::Def`, `std::vector`) and clock times (12:00:00) out, a match must contain a
 * decimal digit, must not be glued to a letter, digit, `_` or `.`, and must have exactly eight
 * groups, or fewer with one `::`. Bare `::` is not matched; a zone (`%eth0`) and a `:port`
 * after brackets stay. MAC addresses (six groups) are not addresses.
 */
import { isDigit, isWordChar, type Detector, type Spans } from './spans';

const DOT = 46;
const COLON = 58;

const VERSION_BEFORE = /(?:^|[^A-Za-z])(?:v|ver|version|release|build)[ \t:="'/]{0,3}$/i;

/** Octet text (1–3 digits, per the candidate regex) → whether it is 0–255. */
function octetOk(s: string, a: number, b: number): boolean {
  let n = 0;
  for (let i = a; i < b; i++) n = n * 10 + (s.charCodeAt(i) - 48);
  return b > a && b - a <= 3 && n <= 255;
}

/** Four dot-separated decimal octets exactly covering [a, b). */
function dottedQuadOk(s: string, a: number, b: number): boolean {
  let parts = 0;
  let start = a;
  for (let i = a; i <= b; i++) {
    if (i === b || s.charCodeAt(i) === DOT) {
      if (!octetOk(s, start, i)) return false;
      parts++;
      start = i + 1;
    } else if (!isDigit(s.charCodeAt(i))) {
      return false;
    }
  }
  return parts === 4;
}

export class Ipv4Detector implements Detector {
  readonly name = 'ipv4';
  // Anchored on the first dot (".b.c.d"): V8 scans for a literal first character far faster
  // than for a digit class. The first octet is read backwards in code.
  private readonly candidate = /\.\d{1,3}\.\d{1,3}\.\d{1,3}/g;

  find(s: string, out: Spans, id: number): void {
    if (s.length < 7 || s.indexOf('.') < 0) return;
    const re = this.candidate;
    re.lastIndex = 0;
    for (let m = re.exec(s); m !== null; m = re.exec(s)) {
      let a = m.index;
      while (a > 0 && m.index - a < 3 && isDigit(s.charCodeAt(a - 1))) a--;
      // No first octet: the quad would follow a dot, which is not an address either.
      if (a === m.index) continue;
      const b = m.index + m[0].length;
      if (a > 0) {
        const c = s.charCodeAt(a - 1);
        if (isWordChar(c) || c === DOT) continue;
      }
      if (b < s.length) {
        const c = s.charCodeAt(b);
        if (isWordChar(c) || (c === DOT && b + 1 < s.length && isDigit(s.charCodeAt(b + 1)))) continue;
      }
      if (!dottedQuadOk(s, a, b)) continue;
      if (a > 0 && VERSION_BEFORE.test(s.slice(a > 16 ? a - 16 : 0, a))) continue;
      out.add(a, b, id);
    }
  }
}

/** Whether [a, b) is one IPv6 address (no zone, no brackets). */
export function ipv6Ok(s: string, a: number, b: number): boolean {
  let colons = 0;
  let double = -1;
  let digit = false;
  let dots = 0;
  for (let i = a; i < b; i++) {
    const c = s.charCodeAt(i);
    if (c === COLON) {
      colons++;
      if (i + 1 < b && s.charCodeAt(i + 1) === COLON) {
        if (double >= 0) return false; // two '::' (or ':::')
        double = i;
      }
    } else if (c === DOT) {
      dots++;
    } else if (isDigit(c)) {
      digit = true;
    }
  }
  if (!digit) return false;
  // Cheap exits before splitting: 12:00:00 and MAC addresses end here.
  if (double < 0 && colons !== 7 && !(colons === 6 && dots === 3)) return false;
  if (colons > 8) return false;
  let groups = 0;
  let start = a;
  for (let i = a; i <= b; i++) {
    if (i < b && s.charCodeAt(i) !== COLON) continue;
    // A group [start, i): empty only at the edges of '::'.
    if (i === start) {
      const atDouble = (i === double || i === double + 1 || i === double + 2) && double >= 0;
      if (!atDouble) return false;
    } else if (i === b && dots > 0) {
      if (!dottedQuadOk(s, start, i)) return false;
      groups += 2;
    } else {
      for (let k = start; k < i; k++) if (s.charCodeAt(k) === DOT) return false;
      if (i - start > 4) return false;
      groups++;
    }
    start = i + 1;
  }
  return double >= 0 ? groups <= 7 : groups === 8;
}

/** An address has a `::` or at least six colons (a full form with an IPv4 tail); clock times have two. */
function mayHoldIpv6(s: string): boolean {
  if (s.indexOf('::') >= 0) return true;
  let colons = 0;
  for (let i = s.indexOf(':'); i >= 0; i = s.indexOf(':', i + 1)) if (++colons >= 6) return true;
  return false;
}

export class Ipv6Detector implements Detector {
  readonly name = 'ipv6';
  // Never empty (two colons at least) and bounded per start: linear.
  private readonly candidate = /[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,8}(?:\.\d{1,3}){0,3}/g;

  find(s: string, out: Spans, id: number): void {
    if (s.length < 3 || !mayHoldIpv6(s)) return;
    const re = this.candidate;
    re.lastIndex = 0;
    for (let m = re.exec(s); m !== null; m = re.exec(s)) {
      const a = m.index;
      let b = a + m[0].length;
      if (a > 0) {
        const c = s.charCodeAt(a - 1);
        if (isWordChar(c) || c === DOT || c === COLON) continue;
      }
      if (b < s.length) {
        const c = s.charCodeAt(b);
        if (isWordChar(c) || (c === DOT && b + 1 < s.length && isDigit(s.charCodeAt(b + 1)))) continue;
      }
      // "fe80::1: connection refused": the colon ends the sentence, not the address.
      if (s.charCodeAt(b - 1) === COLON && s.charCodeAt(b - 2) !== COLON) b--;
      if (ipv6Ok(s, a, b)) out.add(a, b, id);
    }
  }
}
