/** Hand-built protobuf bytes for tests that need exact wire shapes (unknown fields, groups, malformed input). */

export function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

/** A length-delimited field. */
export function lenField(field: number, content: number[]): number[] {
  return [...varint(field * 8 + 2), ...varint(content.length), ...content];
}

/** UTF-8 bytes of a string. */
export function utf8(s: string): number[] {
  return [...Buffer.from(s)];
}

/** An unknown varint field (1000 = 42) and an empty unknown group (1001): what a newer sender may add to a record. */
export const UNKNOWN_IN_RECORD = [0xc0, 0x3e, 0x2a, 0xcb, 0x3e, 0xcc, 0x3e];

/** Re-writes an encoded ExportLogsServiceRequest with `extra` appended inside every log record. */
export function withFieldsInRecords(request: Uint8Array, extra: readonly number[] = UNKNOWN_IN_RECORD): Buffer {
  const path = [1, 2, 2]; // resource_logs → scope_logs → log_records
  const rewrite = (start: number, end: number, depth: number): number[] => {
    const out: number[] = [];
    let pos = start;
    while (pos < end) {
      const at = pos;
      let tag = 0;
      for (let shift = 1; ; shift *= 128) {
        const b = request[pos++]!;
        tag += (b & 0x7f) * shift;
        if (b < 0x80) break;
      }
      if ((tag & 7) !== 2) throw new Error('withFieldsInRecords: only length-delimited fields expected on the path');
      let len = 0;
      for (let shift = 1; ; shift *= 128) {
        const b = request[pos++]!;
        len += (b & 0x7f) * shift;
        if (b < 0x80) break;
      }
      const field = Math.floor(tag / 8);
      if (field === path[depth]) {
        const inner = depth + 1 === path.length ? [...request.subarray(pos, pos + len), ...extra] : rewrite(pos, pos + len, depth + 1);
        out.push(...lenField(field, inner));
      } else out.push(...request.subarray(at, pos + len));
      pos += len;
    }
    return out;
  };
  return Buffer.from(rewrite(0, request.length, 0));
}
