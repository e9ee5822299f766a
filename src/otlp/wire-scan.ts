/**
 * Wire scan of an ExportLogsServiceRequest: the number of log records, without decoding them.
 * Lets the event-loop thread admit a request and check queue room with the real count before
 * a worker thread decodes it.
 */

const MALFORMED = new Error('malformed');

/** Undefined when the bytes are not well-formed at the levels walked (a full decode then says why). */
export function scanRecordCount(bytes: Uint8Array): number | undefined {
  try {
    return new WireScanner(bytes).countRecords();
  } catch {
    return undefined;
  }
}

class WireScanner {
  private pos = 0;

  constructor(private readonly b: Uint8Array) {}

  countRecords(): number {
    const end = this.b.length;
    let records = 0;
    while (this.pos < end) {
      const tag = this.varint(end);
      // ExportLogsServiceRequest.resource_logs = 1
      if (tag !== 0x0a) {
        this.skip(tag, end);
        continue;
      }
      const rlEnd = this.enter(end);
      while (this.pos < rlEnd) {
        const t = this.varint(rlEnd);
        // ResourceLogs.scope_logs = 2
        if (t !== 0x12) {
          this.skip(t, rlEnd);
          continue;
        }
        const slEnd = this.enter(rlEnd);
        while (this.pos < slEnd) {
          const u = this.varint(slEnd);
          // ScopeLogs.log_records = 2
          if (u === 0x12) records++;
          this.skip(u, slEnd);
        }
      }
    }
    return records;
  }

  private varint(end: number): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= end) throw MALFORMED;
      const byte = this.b[this.pos++]!;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
      scale *= 128;
    }
    throw MALFORMED;
  }

  private skip(tag: number, end: number): void {
    switch (tag & 7) {
      case 0:
        this.varint(end);
        return;
      case 1:
        this.pos += 8;
        break;
      case 2: {
        const len = this.varint(end);
        this.pos += len;
        break;
      }
      case 5:
        this.pos += 4;
        break;
      default:
        throw MALFORMED;
    }
    if (this.pos > end) throw MALFORMED;
  }

  /** Enters a length-delimited field: returns its end. */
  private enter(end: number): number {
    const len = this.varint(end);
    const inner = this.pos + len;
    if (inner > end) throw MALFORMED;
    return inner;
  }
}
