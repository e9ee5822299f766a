/**
 * `syslog`: RFC 5424 and RFC 3164 (BSD) lines, with or without the `<PRI>` prefix.
 *
 *   <165>1 2003-10-11T22:14:15.003Z host app 1234 ID47 [id@32473 k="v"] message   (5424)
 *   <34>Oct 11 22:14:15 host app[1234]: message                                    (3164)
 *   Jun 14 15:16:01 combo sshd(pam_unix)[19939]: message       (a syslog file: no PRI)
 *   2024-01-02T03:04:05.123+01:00 host app[1]: message        (rsyslog's precise format)
 *
 * Fields: facility and severity (names, from PRI: kern…local7, emerg…debug), version (int),
 * timestamp, hostname, appname, procid, msgid, structured_data (a kvlist of SD-ID → kvlist of
 * params), message. 5424's `-` (nil) leaves a field out. In 3164 the tag runs to `[`, `:` or
 * whitespace; a first token that ends in `:` or holds `[` is read as the tag of a line
 * without hostname.
 */
import type { KeyValue } from '../records/types';
import { setField, trimmedEnd, type LineParser, type WellKnownFields } from './types';

const FACILITIES = [
  'kern', 'user', 'mail', 'daemon', 'auth', 'syslog', 'lpr', 'news', 'uucp', 'cron', 'authpriv', 'ftp', 'ntp', 'security', 'console', 'solaris-cron',
  'local0', 'local1', 'local2', 'local3', 'local4', 'local5', 'local6', 'local7',
];
/** Names the `severity` processor maps (emerg → FATAL … debug → DEBUG). */
const SEVERITIES = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

const NO_MATCH = 'no_match';

export const SYSLOG_FIELDS: WellKnownFields = { time: ['timestamp'], level: ['severity'], message: ['message'] };

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

export class SyslogParser implements LineParser {
  private s = '';
  private i = 0;
  private n = 0;

  parse(text: string, out: KeyValue[]): string | undefined {
    this.s = text;
    this.i = 0;
    this.n = trimmedEnd(text);
    const s = text;
    if (s.charCodeAt(0) === 60) {
      let i = 1;
      let pri = 0;
      while (i < 4 && isDigit(s.charCodeAt(i))) pri = pri * 10 + s.charCodeAt(i++) - 48;
      if (i === 1 || s.charCodeAt(i) !== 62 || pri > 191) return NO_MATCH;
      this.i = i + 1;
      setField(out, 'facility', { stringValue: FACILITIES[pri >> 3]! });
      setField(out, 'severity', { stringValue: SEVERITIES[pri & 7]! });
    }
    // 5424: a 1–3 digit VERSION and a space; 3164 starts with a month name or a 4-digit year.
    let v = this.i;
    while (v < this.i + 3 && isDigit(s.charCodeAt(v))) v++;
    if (v > this.i && s.charCodeAt(v) === 32) return this.rfc5424(v, out);
    return this.rfc3164(out);
  }

  private rfc5424(versionEnd: number, out: KeyValue[]): string | undefined {
    const s = this.s;
    setField(out, 'version', { intValue: BigInt(s.slice(this.i, versionEnd)) });
    this.i = versionEnd + 1;
    const timestamp = this.header();
    const hostname = this.header();
    const appname = this.header();
    const procid = this.header();
    const msgid = this.header();
    if (msgid === undefined) return NO_MATCH;
    if (timestamp !== '-') setField(out, 'timestamp', { stringValue: timestamp! });
    if (hostname !== '-') setField(out, 'hostname', { stringValue: hostname! });
    if (appname !== '-') setField(out, 'appname', { stringValue: appname! });
    if (procid !== '-') setField(out, 'procid', { stringValue: procid! });
    if (msgid !== '-') setField(out, 'msgid', { stringValue: msgid });
    if (this.i >= this.n) return NO_MATCH;
    if (s.charCodeAt(this.i) === 45) {
      this.i++;
    } else {
      const sd = this.structuredData();
      if (sd === undefined) return 'invalid_structured_data';
      setField(out, 'structured_data', { kvlistValue: { values: sd } });
    }
    if (this.i < this.n) {
      if (s.charCodeAt(this.i) !== 32) return NO_MATCH;
      let m = this.i + 1;
      if (s.charCodeAt(m) === 0xfeff) m++; // the BOM that marks a UTF-8 MSG
      setField(out, 'message', { stringValue: s.slice(m, this.n) });
    }
    return undefined;
  }

  /** A header field: non-empty, up to the next space, which must follow. */
  private header(): string | undefined {
    const s = this.s;
    const start = this.i;
    let i = start;
    while (i < this.n && s.charCodeAt(i) !== 32) i++;
    if (i === start || i >= this.n) return undefined;
    this.i = i + 1;
    return s.slice(start, i);
  }

  /** `[id k="v" …]…` → kvlist of SD-ID → kvlist of params; values unescape \" \\ \]. */
  private structuredData(): KeyValue[] | undefined {
    const s = this.s;
    const n = this.n;
    const elements: KeyValue[] = [];
    while (this.i < n && s.charCodeAt(this.i) === 91) {
      let i = this.i + 1;
      const idStart = i;
      while (i < n && s.charCodeAt(i) !== 32 && s.charCodeAt(i) !== 93) i++;
      if (i === idStart || i >= n) return undefined;
      const id = s.slice(idStart, i);
      const params: KeyValue[] = [];
      while (s.charCodeAt(i) === 32) {
        i++;
        const nameStart = i;
        while (i < n && s.charCodeAt(i) !== 61) i++;
        if (i === nameStart || s.charCodeAt(i + 1) !== 34) return undefined;
        const name = s.slice(nameStart, i);
        i += 2;
        let value = '';
        let run = i;
        for (;;) {
          if (i >= n) return undefined;
          const c = s.charCodeAt(i);
          if (c === 34) break;
          if (c === 92) {
            const e = s.charCodeAt(i + 1);
            if (e === 34 || e === 92 || e === 93) {
              value += s.slice(run, i);
              run = i + 1;
              i += 2;
              continue;
            }
          }
          i++;
        }
        value += s.slice(run, i);
        setField(params, name, { stringValue: value });
        i++;
      }
      if (s.charCodeAt(i) !== 93) return undefined;
      this.i = i + 1;
      setField(elements, id, { kvlistValue: { values: params } });
    }
    return elements.length === 0 ? undefined : elements;
  }

  private rfc3164(out: KeyValue[]): string | undefined {
    const s = this.s;
    const n = this.n;
    const tsStart = this.i;
    let i = tsStart;
    if (MONTHS.includes(s.slice(i, i + 3)) && s.charCodeAt(i + 3) === 32) {
      // Mmm dd HH:mm:ss[.frac], day space-padded or not.
      i += 4;
      if (s.charCodeAt(i) === 32) i++;
      const d = i;
      while (isDigit(s.charCodeAt(i))) i++;
      if (i === d || i - d > 2 || s.charCodeAt(i) !== 32) return NO_MATCH;
      i++;
      if (!(isDigit(s.charCodeAt(i)) && isDigit(s.charCodeAt(i + 1)) && s.charCodeAt(i + 2) === 58 && s.charCodeAt(i + 5) === 58)) return NO_MATCH;
      i += 8;
      if (s.charCodeAt(i) === 46) {
        i++;
        while (isDigit(s.charCodeAt(i))) i++;
      }
    } else if (isDigit(s.charCodeAt(i)) && s.charCodeAt(i + 4) === 45) {
      while (i < n && s.charCodeAt(i) !== 32) i++;
    } else {
      return NO_MATCH;
    }
    if (i >= n || s.charCodeAt(i) !== 32) return NO_MATCH;
    setField(out, 'timestamp', { stringValue: s.slice(tsStart, i) });
    i++;
    // Hostname, unless the first token is already the tag.
    let t = i;
    while (t < n && s.charCodeAt(t) !== 32 && s.charCodeAt(t) !== 91) t++;
    const firstIsTag = t === n || s.charCodeAt(t) === 91 || s.charCodeAt(t - 1) === 58;
    if (!firstIsTag) {
      setField(out, 'hostname', { stringValue: s.slice(i, t) });
      i = t + 1;
      while (i < n && s.charCodeAt(i) === 32) i++;
    }
    // Tag up to `[`, `:` or whitespace; then an optional [pid] and `:`.
    const tagStart = i;
    while (i < n) {
      const c = s.charCodeAt(i);
      if (c === 91 || c === 58 || c === 32) break;
      i++;
    }
    if (i > tagStart) setField(out, 'appname', { stringValue: s.slice(tagStart, i) });
    if (s.charCodeAt(i) === 91) {
      const close = s.indexOf(']', i);
      if (close > i && close < n) {
        setField(out, 'procid', { stringValue: s.slice(i + 1, close) });
        i = close + 1;
      }
    }
    if (s.charCodeAt(i) === 58) i++;
    while (i < n && s.charCodeAt(i) === 32) i++;
    setField(out, 'message', { stringValue: s.slice(i, n) });
    return undefined;
  }
}
