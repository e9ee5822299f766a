/**
 * `clf` (aliases `apache`, `nginx`): access logs in the Common Log Format
 *   host ident user [dd/Mmm/yyyy:HH:mm:ss ±hhmm] "request" status size
 * and the Combined format, which adds "referer" "user-agent" (nginx's default `combined`,
 * Apache's `combined`); a third quoted field (nginx's "$http_x_forwarded_for") is read too,
 * and anything after that is ignored.
 *
 * Fields: host, ident, user, timestamp, method, path, protocol (or request, when the request
 * line is not `METHOD target [HTTP/x]`), status and size (integers), referer, agent,
 * forwarded_for. `-` means absent: such fields are left out.
 */
import type { KeyValue } from '../records/types';
import { QuotedReader } from './key-value';
import { setField, trimmedEnd, type LineParser, type WellKnownFields } from './types';

const QUOTE = 34;
const NO_MATCH = 'no_match';

export const ACCESS_LOG_FIELDS: WellKnownFields = { time: ['timestamp'], level: [], message: [] };

export class AccessLogParser implements LineParser {
  private readonly quoted = new QuotedReader();
  private s = '';
  private i = 0;
  private n = 0;

  parse(text: string, out: KeyValue[]): string | undefined {
    this.s = text;
    this.i = 0;
    this.n = trimmedEnd(text);
    const host = this.token();
    const ident = this.token();
    const user = this.token();
    if (host === '' || ident === '' || user === '') return NO_MATCH;
    const s = text;
    if (s.charCodeAt(this.i) !== 91) return NO_MATCH;
    const close = s.indexOf(']', this.i);
    if (close < 0 || close >= this.n) return NO_MATCH;
    const time = s.slice(this.i + 1, close);
    this.i = close + 1;
    this.spaces();
    const request = this.quotedField();
    if (request === undefined) return NO_MATCH;
    const status = this.token();
    const size = this.token();
    if (!isDigits(status) || !(isDigits(size) || size === '-')) return NO_MATCH;
    // Combined: two more quoted fields (and nginx's optional X-Forwarded-For).
    let referer: string | undefined;
    let agent: string | undefined;
    let forwarded: string | undefined;
    if (s.charCodeAt(this.i) === QUOTE) {
      referer = this.quotedField();
      if (referer === undefined || s.charCodeAt(this.i) !== QUOTE) return NO_MATCH;
      agent = this.quotedField();
      if (agent === undefined) return NO_MATCH;
      if (s.charCodeAt(this.i) === QUOTE) forwarded = this.quotedField();
    }

    setField(out, 'host', { stringValue: host });
    if (ident !== '-') setField(out, 'ident', { stringValue: ident });
    if (user !== '-') setField(out, 'user', { stringValue: user });
    setField(out, 'timestamp', { stringValue: time });
    splitRequest(request, out);
    setField(out, 'status', { intValue: int64(status) });
    if (size !== '-') setField(out, 'size', { intValue: int64(size) });
    if (referer !== undefined && referer !== '-') setField(out, 'referer', { stringValue: referer });
    if (agent !== undefined && agent !== '-') setField(out, 'agent', { stringValue: agent });
    if (forwarded !== undefined && forwarded !== '-') setField(out, 'forwarded_for', { stringValue: forwarded });
    return undefined;
  }

  /** A space-delimited token and the spaces after it ('' at the end of the line). */
  private token(): string {
    const s = this.s;
    const start = this.i;
    let i = start;
    while (i < this.n && s.charCodeAt(i) !== 32) i++;
    this.i = i;
    this.spaces();
    return s.slice(start, i);
  }

  private spaces(): void {
    while (this.i < this.n && this.s.charCodeAt(this.i) === 32) this.i++;
  }

  /** `"…"` with backslash escapes (Apache writes \" and \\), then the spaces after it. */
  private quotedField(): string | undefined {
    if (this.s.charCodeAt(this.i) !== QUOTE) return undefined;
    const v = this.quoted.read(this.s, this.i + 1, this.n, QUOTE, false);
    if (v === undefined) return undefined;
    this.i = this.quoted.end;
    if (this.i < this.n && this.s.charCodeAt(this.i) !== 32) return undefined;
    this.spaces();
    return v;
  }
}

/** Up to 19 digits: wraps to int64 as the wire would, so the value read back is the one sent. */
function int64(digits: string): bigint {
  return BigInt.asIntN(64, BigInt(digits));
}

function isDigits(t: string): boolean {
  if (t === '' || t.length > 19) return false;
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** `GET /path HTTP/1.1` → method, path, protocol; anything else stays whole as `request`. */
function splitRequest(request: string, out: KeyValue[]): void {
  const sp = request.indexOf(' ');
  let upper = sp > 0;
  for (let i = 0; upper && i < sp; i++) {
    const c = request.charCodeAt(i);
    upper = (c >= 65 && c <= 90) || c === 45 || c === 95;
  }
  if (!upper) {
    if (request !== '' && request !== '-') setField(out, 'request', { stringValue: request });
    return;
  }
  setField(out, 'method', { stringValue: request.slice(0, sp) });
  const last = request.lastIndexOf(' ');
  if (last > sp && request.startsWith('HTTP/', last + 1)) {
    setField(out, 'path', { stringValue: request.slice(sp + 1, last) });
    setField(out, 'protocol', { stringValue: request.slice(last + 1) });
  } else {
    setField(out, 'path', { stringValue: request.slice(sp + 1) });
  }
}
