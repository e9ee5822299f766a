/**
 * `klog`: the glog/klog header of Kubernetes components.
 *
 *   I0102 15:04:05.123456    1234 server.go:123] message
 *
 * Fields: level (info, warning, error, fatal), timestamp (`0102 15:04:05.123456`: no year,
 * which timestamp extraction infers), id (thread id, int), file, line (int), message.
 */
import type { KeyValue } from '../records/types';
import { setField, trimmedEnd, type LineParser, type WellKnownFields } from './types';

const LEVELS: Readonly<Record<string, string>> = { I: 'info', W: 'warning', E: 'error', F: 'fatal' };
const NO_MATCH = 'no_match';
/** Offsets of the hh, mm and ss digits. */
const CLOCK_DIGITS = [6, 7, 9, 10, 12, 13];

export const KLOG_FIELDS: WellKnownFields = { time: ['timestamp'], level: ['level'], message: ['message'] };

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

export class KlogParser implements LineParser {
  parse(s: string, out: KeyValue[]): string | undefined {
    const n = trimmedEnd(s);
    const level = LEVELS[s.charAt(0)];
    if (level === undefined) return NO_MATCH;
    // mmdd hh:mm:ss.frac
    for (let k = 1; k <= 4; k++) if (!isDigit(s.charCodeAt(k))) return NO_MATCH;
    if (s.charCodeAt(5) !== 32 || s.charCodeAt(8) !== 58 || s.charCodeAt(11) !== 58) return NO_MATCH;
    for (const k of CLOCK_DIGITS) if (!isDigit(s.charCodeAt(k))) return NO_MATCH;
    let i = 14;
    if (s.charCodeAt(i) === 46) {
      i++;
      while (isDigit(s.charCodeAt(i))) i++;
    }
    const tsEnd = i;
    if (s.charCodeAt(i) !== 32) return NO_MATCH;
    while (s.charCodeAt(i) === 32) i++;
    const idStart = i;
    while (isDigit(s.charCodeAt(i))) i++;
    if (i === idStart || i - idStart > 18 || s.charCodeAt(i) !== 32) return NO_MATCH;
    const id = s.slice(idStart, i);
    i++;
    const close = s.indexOf('] ', i);
    const end = close < 0 && s.charCodeAt(n - 1) === 93 ? n - 1 : close;
    if (end < 0 || end >= n) return NO_MATCH;
    const colon = s.lastIndexOf(':', end);
    if (colon < i) return NO_MATCH;
    const line = s.slice(colon + 1, end);
    for (let k = 0; k < line.length; k++) if (!isDigit(line.charCodeAt(k))) return NO_MATCH;
    if (line === '' || line.length > 9) return NO_MATCH;

    setField(out, 'level', { stringValue: level });
    setField(out, 'timestamp', { stringValue: s.slice(1, tsEnd) });
    setField(out, 'id', { intValue: BigInt(id) });
    setField(out, 'file', { stringValue: s.slice(i, colon) });
    setField(out, 'line', { intValue: BigInt(line) });
    setField(out, 'message', { stringValue: end + 2 <= n ? s.slice(end + 2, n) : '' });
    return undefined;
  }
}
