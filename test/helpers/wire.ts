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
