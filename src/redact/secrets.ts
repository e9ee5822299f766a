/**
 * Credentials: `bearer` (Authorization headers and `Bearer <token>`), `secret_kv` (values of
 * password/secret/token/API-key style keys) and `jwt` (JSON Web Tokens). Each keeps the key or
 * scheme and hides only the credential itself.
 */
import { isAlnum, type Detector, type Spans } from './spans';

const SPACE = 32;
const TAB = 9;
const QUOTE = 34;
const APOS = 39;
const BACKSLASH = 92;

/**
 * Secret key names, matched case-insensitively as the end of a key (`db_password`,
 * `X-Api-Key`, `aws_secret_access_key`, `clientSecret`, `http.request.header.authorization`),
 * so that `tokens`, `token_count` or `password_hint` are not secrets.
 */
const KEYWORDS = 'passw(?:or)?d|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|authorization';
const SECRET_KEY_NAME = new RegExp(`(?:${KEYWORDS})$`, 'i');

/** Whether an attribute or map key names a secret (its whole value is then redacted). */
export function isSecretKeyName(key: string): boolean {
  return SECRET_KEY_NAME.test(key);
}

/** Whether an already redacted value (mask or hash text) starts at `a`: redacting twice changes nothing. */
function startsWithAny(s: string, a: number, prefixes: readonly string[]): boolean {
  for (let i = 0; i < prefixes.length; i++) if (s.startsWith(prefixes[i]!, a)) return true;
  return false;
}

/** Base64url characters, as in JWT segments. */
function isB64UrlChar(c: number): boolean {
  return isAlnum(c) || c === 45 || c === 95;
}

function isBlank(c: number): boolean {
  return c === SPACE || c === TAB;
}

/** Ends an unquoted secret value: whitespace, quotes, `, ; &` and closing brackets. */
function endsValue(c: number): boolean {
  // \t \n \r space " ' , ; & ) > ] }
  return c <= SPACE || c === QUOTE || c === APOS || c === 44 || c === 59 || c === 38 || c === 41 || c === 62 || c === 93 || c === 125;
}

const AUTH_SCHEMES: ReadonlySet<string> = new Set(['basic', 'bearer', 'digest', 'negotiate', 'ntlm', 'token', 'apikey', 'hoba', 'mutual', 'aws4-hmac-sha256']);
const SCHEMES = `(?:${[...AUTH_SCHEMES].join('|')})`;

/**
 * Length of an authorization scheme word and the blanks after it at `pos` (`Bearer `,
 * `Basic `), or 0 when there is none or nothing follows it before `end`.
 */
function schemeLength(s: string, pos: number, end: number): number {
  let i = pos;
  while (i < end && i - pos < 16 && (isAlnum(s.charCodeAt(i)) || s.charCodeAt(i) === 45)) i++;
  if (i === pos || i >= end || !isBlank(s.charCodeAt(i))) return 0;
  if (!AUTH_SCHEMES.has(s.slice(pos, i).toLowerCase())) return 0;
  while (i < end && isBlank(s.charCodeAt(i))) i++;
  return i < end && !endsValue(s.charCodeAt(i)) ? i - pos : 0;
}

/**
 * A standalone `Bearer xyz` only counts when xyz looks generated: at least 8 characters with
 * a digit, a symbol, or an upper-case letter after the first — so that prose such as
 * "Bearer authentication failed" is left alone.
 */
function plausibleToken(s: string, a: number, b: number): boolean {
  if (b - a < 8) return false;
  for (let i = a; i < b; i++) {
    const c = s.charCodeAt(i);
    if (c < 65 || (c > 90 && c < 97) || c > 122) return true;
    if (i > a && c <= 90) return true;
  }
  return false;
}

export class BearerDetector implements Detector {
  readonly name = 'bearer';

  /** @param skipPrefixes credentials starting with one of these are already redacted (mask or hash text). */
  constructor(private readonly skipPrefixes: readonly string[]) {}

  // `Bearer <token>`, or an Authorization header/field with an optional scheme word; a scheme
  // word is never taken as the credential itself (`Authorization: Bearer [REDACTED:jwt]`).
  // Scheme and token are separated by blanks, which the token cannot contain: no backtracking.
  private readonly re = new RegExp(
    `(?:\\b(bearer)[ \\t]+|authorization["']?[ \\t]*[:=][ \\t]*["']?(?:${SCHEMES}[ \\t]+|(?!${SCHEMES}[ \\t])))([A-Za-z0-9._~+/-]+=*)`,
    'gi',
  );

  find(s: string, out: Spans, id: number): void {
    if (s.length < 8) return;
    const re = this.re;
    re.lastIndex = 0;
    for (let m = re.exec(s); m !== null; m = re.exec(s)) {
      const b = m.index + m[0].length;
      const a = b - m[2]!.length;
      if (m[1] !== undefined && !plausibleToken(s, a, b)) continue;
      if (!startsWithAny(s, a, this.skipPrefixes)) out.add(a, b, id);
    }
  }
}

export class SecretKvDetector implements Detector {
  readonly name = 'secret_kv';
  // Keyword at the end of a key, an optional closing quote (also JSON-in-JSON `\"`), then
  // `:` or `=`. Bounded blanks; the value is read in code.
  private readonly key = new RegExp(`(?:${KEYWORDS})(?:\\\\?["'])?[ \\t]{0,4}[:=][ \\t]{0,4}`, 'gi');

  /** @param skipPrefixes values starting with one of these are already redacted (mask or hash text). */
  constructor(private readonly skipPrefixes: readonly string[]) {}

  find(s: string, out: Spans, id: number): void {
    if (s.length < 4) return;
    const re = this.key;
    re.lastIndex = 0;
    for (let m = re.exec(s); m !== null; m = re.exec(s)) {
      const end = this.value(s, m.index + m[0].length, out, id);
      if (end > re.lastIndex) re.lastIndex = end;
    }
  }

  /** Adds the value starting at `pos`; returns where scanning may resume. */
  private value(s: string, pos: number, out: Spans, id: number): number {
    const n = s.length;
    if (pos >= n) return pos;
    let a: number;
    let b: number;
    const c = s.charCodeAt(pos);
    if (c === BACKSLASH && pos + 1 < n && s.charCodeAt(pos + 1) === QUOTE) {
      // JSON inside a JSON string: \"password\":\"value\"
      a = pos + 2;
      b = s.indexOf('\\"', a);
      if (b < 0) b = n;
    } else if (c === QUOTE || c === APOS) {
      // Up to the closing quote, or to the end when it is missing (fail closed).
      a = pos + 1;
      b = a;
      while (b < n && s.charCodeAt(b) !== c) b += s.charCodeAt(b) === BACKSLASH ? 2 : 1;
      if (b > n) b = n;
    } else {
      a = pos;
      b = a;
      while (b < n && !endsValue(s.charCodeAt(b))) b++;
      // JSON null: nothing to hide.
      if (b - a === 4 && s.startsWith('null', a)) return b;
      // An unquoted scheme word ends at the blank: the credential is the next word.
      const k = b < n && isBlank(s.charCodeAt(b)) ? schemeLength(s, a, n) : 0;
      if (k > 0) {
        a += k;
        b = a;
        while (b < n && !endsValue(s.charCodeAt(b))) b++;
      }
      if (!startsWithAny(s, a, this.skipPrefixes)) out.add(a, b, id);
      return b;
    }
    // `"Authorization": "Bearer abc"`: keep the scheme, hide the credential after it.
    if (b > a) a += schemeLength(s, a, b);
    if (!startsWithAny(s, a, this.skipPrefixes)) out.add(a, b, id);
    return b;
  }

}

export class JwtDetector implements Detector {
  readonly name = 'jwt';

  /**
   * `eyJ…` (base64url of `{"`), then at least two more `.`-separated base64url segments (the
   * last may be empty: unsigned tokens); JWE's five segments are taken whole. Each scan moves
   * past the run it read, so a run of repeated `eyJ` stays linear.
   */
  find(s: string, out: Spans, id: number): void {
    let i = s.indexOf('eyJ');
    while (i >= 0) {
      const n = s.length;
      let p = i;
      while (p < n && isB64UrlChar(s.charCodeAt(p))) p++;
      if (i > 0 && isB64UrlChar(s.charCodeAt(i - 1))) {
        i = s.indexOf('eyJ', p);
        continue;
      }
      let segments = 1;
      let end = p;
      const headerOk = p - i >= 8;
      while (headerOk && segments < 5 && p < n && s.charCodeAt(p) === 46) {
        let q = p + 1;
        while (q < n && isB64UrlChar(s.charCodeAt(q))) q++;
        // The signature may be empty, but a dot that ends a sentence does not start one.
        if (q === p + 1 && segments !== 2) break;
        if (segments === 1 && q - p - 1 < 2) break;
        segments++;
        p = q;
        end = q;
      }
      if (segments >= 3) out.add(i, end, id);
      i = s.indexOf('eyJ', segments >= 3 ? end : p);
    }
  }
}
