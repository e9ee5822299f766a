/**
 * Protobuf wire primitives for the record model: reading fields of a message the wire reader
 * already admitted (so malformed input is a bug here, thrown as such), and a writer for the
 * fields a processor changed. 64-bit values are read and written as bigint, never as numbers.
 */

export const WT_VARINT = 0;
export const WT_I64 = 1;
export const WT_LEN = 2;
export const WT_SGROUP = 3;
export const WT_EGROUP = 4;
export const WT_I32 = 5;

function corrupt(): Error {
  return new Error('record model: bytes not as admitted (truncated or malformed field)');
}

/** A cursor over `b` bounded by `end`. Positions are absolute offsets. */
export class WireCursor {
  pos: number;
  constructor(
    readonly b: Uint8Array,
    start: number,
    public end: number,
  ) {
    this.pos = start;
  }

  /** A varint as a number: exact for lengths, tags and 32-bit fields. */
  varint(): number {
    const b = this.b;
    let pos = this.pos;
    let byte = b[pos++]!;
    if (byte < 0x80) {
      this.pos = pos;
      return byte;
    }
    let value = byte & 0x7f;
    let scale = 128;
    for (let k = 1; k < 10; k++) {
      if (pos >= this.end) throw corrupt();
      byte = b[pos++]!;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) {
        this.pos = pos;
        return value;
      }
      scale *= 128;
    }
    throw corrupt();
  }

  /** A varint as an unsigned 64-bit bigint. */
  varint64(): bigint {
    const b = this.b;
    let lo = 0;
    let hi = 0;
    let shift = 0;
    let pos = this.pos;
    for (let k = 0; k < 10; k++) {
      if (pos >= this.end) throw corrupt();
      const byte = b[pos++]!;
      if (k < 4) lo |= (byte & 0x7f) << shift;
      else if (k === 4) {
        lo |= (byte & 0x0f) << 28;
        hi |= (byte & 0x7f) >> 4;
      } else hi |= (byte & 0x7f) << (shift - 32);
      shift += 7;
      if (byte < 0x80) {
        this.pos = pos;
        return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
      }
    }
    throw corrupt();
  }

  /** A varint truncated to 32 bits as protobuf does for int32/uint32/enum (as a signed or unsigned number). */
  varint32(signed: boolean): number {
    const b = this.b;
    let pos = this.pos;
    let lo = 0;
    for (let shift = 0; shift < 70; shift += 7) {
      if (pos >= this.end) throw corrupt();
      const byte = b[pos++]!;
      // Bits past the 32nd fall off the 32-bit shift, which is the truncation wanted.
      if (shift < 32) lo |= (byte & 0x7f) << shift;
      if (byte < 0x80) {
        this.pos = pos;
        return signed ? lo | 0 : lo >>> 0;
      }
    }
    throw corrupt();
  }

  fixed64(): bigint {
    const b = this.b;
    const p = this.pos;
    if (p + 8 > this.end) throw corrupt();
    this.pos = p + 8;
    const lo = (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
    const hi = (b[p + 4]! | (b[p + 5]! << 8) | (b[p + 6]! << 16) | (b[p + 7]! << 24)) >>> 0;
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  fixed32(): number {
    const b = this.b;
    const p = this.pos;
    if (p + 4 > this.end) throw corrupt();
    this.pos = p + 4;
    return (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
  }

  double(): number {
    const p = this.pos;
    if (p + 8 > this.end) throw corrupt();
    this.pos = p + 8;
    const b = this.b;
    return Buffer.isBuffer(b) ? b.readDoubleLE(p) : new DataView(b.buffer, b.byteOffset + p, 8).getFloat64(0, true);
  }

  /** Length of a LEN field; leaves pos at its content. */
  length(): number {
    const len = this.varint();
    if (len > this.end - this.pos) throw corrupt();
    return len;
  }

  /** Skips a field's value (after its tag). */
  skip(tag: number): void {
    switch (tag & 7) {
      case WT_VARINT:
        this.varint64();
        return;
      case WT_I64:
        this.pos += 8;
        break;
      case WT_LEN: {
        const n = this.length();
        this.pos += n;
        return;
      }
      case WT_I32:
        this.pos += 4;
        break;
      case WT_SGROUP: {
        const field = tag >>> 3;
        for (;;) {
          if (this.pos >= this.end) throw corrupt();
          const t = this.varint();
          if ((t & 7) === WT_EGROUP) {
            if (t >>> 3 !== field) throw corrupt();
            return;
          }
          this.skip(t);
        }
      }
      default:
        throw corrupt();
    }
    if (this.pos > this.end) throw corrupt();
  }
}

const decoder = new TextDecoder('utf-8');

/** UTF-8 text of b[start, end): the wire reader checked it. */
export function utf8(b: Uint8Array, start: number, end: number): string {
  if (end - start < 16) {
    // Short ASCII strings are the common case (keys, levels): no native call.
    let s = '';
    for (let i = start; i < end; i++) {
      const c = b[i]!;
      if (c >= 0x80) return slow(b, start, end);
      s += String.fromCharCode(c);
    }
    return s;
  }
  return slow(b, start, end);
}

function slow(b: Uint8Array, start: number, end: number): string {
  return Buffer.isBuffer(b) ? b.toString('utf8', start, end) : decoder.decode(b.subarray(start, end));
}


/** Encoded size of a varint holding a non-negative number below 2^53. */
export function varintSize(n: number): number {
  if (n < 0x80) return 1;
  if (n < 0x4000) return 2;
  if (n < 0x200000) return 3;
  if (n < 0x10000000) return 4;
  let size = 4;
  n = Math.floor(n / 0x10000000);
  while (n > 0) {
    size++;
    n = Math.floor(n / 128);
  }
  return size;
}

/** A growable byte buffer for encoding the parts a processor changed. */
export class WireWriter {
  buf: Buffer;
  len = 0;

  /** `exact`: the buffer will hold exactly `capacity` bytes, its own memory (not a slice of Node's pool), so it can be transferred. */
  constructor(capacity = 256, exact = false) {
    this.buf = exact ? Buffer.allocUnsafeSlow(capacity) : Buffer.allocUnsafe(capacity);
  }

  reset(): void {
    this.len = 0;
  }

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const next = Buffer.allocUnsafe(cap);
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  /** A copy of what was written. */
  finish(): Uint8Array {
    return Uint8Array.prototype.slice.call(this.buf, 0, this.len);
  }

  varint(n: number): void {
    this.ensure(n < 0x80 ? 1 : varintSize(n));
    const b = this.buf;
    let p = this.len;
    while (n >= 0x80) {
      b[p++] = (n % 128) | 0x80;
      n = Math.floor(n / 128);
    }
    b[p++] = n;
    this.len = p;
  }

  /** An int64/uint64 varint from a bigint (negative values as 10-byte two's complement). */
  varint64(v: bigint): void {
    let u = BigInt.asUintN(64, v);
    this.ensure(10);
    const b = this.buf;
    let p = this.len;
    while (u >= 0x80n) {
      b[p++] = Number(u & 0x7fn) | 0x80;
      u >>= 7n;
    }
    b[p++] = Number(u);
    this.len = p;
  }

  tag(field: number, wireType: number): void {
    this.varint(field * 8 + wireType);
  }

  fixed64(v: bigint): void {
    this.ensure(8);
    const u = BigInt.asUintN(64, v);
    const lo = Number(u & 0xffffffffn);
    const hi = Number(u >> 32n);
    this.fixed32raw(lo);
    this.fixed32raw(hi);
  }

  fixed32(v: number): void {
    this.ensure(4);
    this.fixed32raw(v >>> 0);
  }

  private fixed32raw(v: number): void {
    const b = this.buf;
    const p = this.len;
    b[p] = v & 0xff;
    b[p + 1] = (v >>> 8) & 0xff;
    b[p + 2] = (v >>> 16) & 0xff;
    b[p + 3] = (v >>> 24) & 0xff;
    this.len = p + 4;
  }

  double(v: number): void {
    this.ensure(8);
    this.len = this.buf.writeDoubleLE(v, this.len);
  }

  bytes(src: Uint8Array, start = 0, end = src.length): void {
    const n = end - start;
    this.ensure(n);
    if (n <= 32) {
      // A native call costs more than a short loop.
      const b = this.buf;
      let p = this.len;
      for (let i = start; i < end; i++) b[p++] = src[i]!;
    } else if (Buffer.isBuffer(src)) src.copy(this.buf, this.len, start, end);
    else this.buf.set(src.subarray(start, end), this.len);
    this.len += n;
  }

  /** A LEN field holding `s` as UTF-8, written in place (no intermediate encoding). */
  stringField(field: number, s: string): void {
    this.tag(field, WT_LEN);
    const n = s.length;
    if (n < 0x80) {
      // Short ASCII, the usual case: one pass, the one-byte length first; undone at the first other unit.
      this.ensure(1 + n);
      const b = this.buf;
      const start = this.len;
      let p = start + 1;
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        b[p++] = c;
      }
      if (i === n) {
        b[start] = n;
        this.len = p;
        return;
      }
    }
    const size = Buffer.byteLength(s, 'utf8');
    this.varint(size);
    this.ensure(size);
    this.len += this.buf.write(s, this.len, size, 'utf8');
  }

  bytesField(field: number, v: Uint8Array): void {
    this.tag(field, WT_LEN);
    this.varint(v.length);
    this.bytes(v);
  }

  /**
   * Starts a length-delimited field whose size is not known yet: returns a mark for `endLen`.
   * Reserves one length byte and moves the content when it turns out longer.
   */
  beginLen(field: number): number {
    this.tag(field, WT_LEN);
    this.ensure(1);
    this.len += 1;
    return this.len;
  }

  endLen(mark: number): void {
    const size = this.len - mark;
    const extra = varintSize(size) - 1;
    if (extra > 0) {
      this.ensure(extra);
      this.buf.copyWithin(mark + extra, mark, this.len);
      this.len += extra;
    }
    let p = mark - 1;
    let n = size;
    const b = this.buf;
    while (n >= 0x80) {
      b[p++] = (n % 128) | 0x80;
      n = Math.floor(n / 128);
    }
    b[p] = n;
  }
}
