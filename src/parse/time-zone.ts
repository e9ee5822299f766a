/**
 * Time zones for timestamps that carry no offset: UTC, a fixed offset, or an IANA zone whose
 * offsets come from the runtime's Intl data (no tz library).
 */

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
/** Zone transitions happen at multiples of 15 minutes of local time, so one offset serves a whole bucket. */
const BUCKET_MS = 15 * MINUTE_MS;
const CACHE_MAX = 4096;

export interface TimeZone {
  readonly name: string;
  /**
   * Offset east of UTC, in ms, for a local wall-clock time given as ms "as if it were UTC":
   * the instant is `wallMs - offsetForWall(wallMs)`. In a gap (spring forward) the offset
   * before the transition applies, which moves the time forward by the gap; in an overlap
   * (fall back) the earlier instant wins, as java.time's ZonedDateTime.of does.
   */
  offsetForWall(wallMs: number): number;
}

class FixedZone implements TimeZone {
  constructor(
    readonly name: string,
    private readonly offsetMs: number,
  ) {}
  offsetForWall(): number {
    return this.offsetMs;
  }
}

class IanaZone implements TimeZone {
  private readonly format: Intl.DateTimeFormat;
  private readonly cache = new Map<number, number>();

  constructor(readonly name: string) {
    // Throws RangeError for an unknown zone, which the caller reports as an option error.
    this.format = new Intl.DateTimeFormat('en-US', {
      timeZone: name,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      era: 'short',
    });
  }

  offsetForWall(wallMs: number): number {
    const bucket = Math.floor(wallMs / BUCKET_MS);
    let off = this.cache.get(bucket);
    if (off === undefined) {
      off = this.resolve(bucket * BUCKET_MS);
      if (this.cache.size >= CACHE_MAX) this.cache.clear();
      this.cache.set(bucket, off);
    }
    return off;
  }

  /** Offsets a day either side bracket at most one transition (they are months apart). */
  private resolve(wallMs: number): number {
    const before = this.offsetAt(wallMs - DAY_MS);
    const after = this.offsetAt(wallMs + DAY_MS);
    if (before === after) return before;
    const beforeValid = this.offsetAt(wallMs - before) === before;
    const afterValid = this.offsetAt(wallMs - after) === after;
    if (beforeValid && afterValid) return wallMs - before <= wallMs - after ? before : after;
    if (afterValid) return after;
    return before;
  }

  /** Offset in ms at an instant: the zone's wall clock minus UTC, at second precision. */
  private offsetAt(utcMs: number): number {
    const seconds = Math.floor(utcMs / 1000) * 1000;
    let year = 0;
    let month = 0;
    let day = 0;
    let hour = 0;
    let minute = 0;
    let second = 0;
    let bc = false;
    for (const part of this.format.formatToParts(seconds)) {
      switch (part.type) {
        case 'year':
          year = Number(part.value);
          break;
        case 'month':
          month = Number(part.value);
          break;
        case 'day':
          day = Number(part.value);
          break;
        case 'hour':
          hour = Number(part.value);
          break;
        case 'minute':
          minute = Number(part.value);
          break;
        case 'second':
          second = Number(part.value);
          break;
        case 'era':
          bc = part.value.startsWith('B');
          break;
      }
    }
    const d = new Date(0);
    d.setUTCFullYear(bc ? 1 - year : year, month - 1, day);
    d.setUTCHours(hour, minute, second, 0);
    return d.getTime() - seconds;
  }
}

const UTC_NAMES: ReadonlySet<string> = new Set(['utc', 'z', 'gmt', 'etc/utc', 'etc/gmt', 'zulu', 'universal']);
const OFFSET_RE = /^(?:utc|gmt)?([+-])(\d{1,2})(?::?(\d{2}))?$/i;

/** `UTC`, an offset (`+02:00`, `-0530`, `+2`, `UTC+1`) or an IANA zone name; throws an Error naming what is wrong. */
export function parseTimeZone(spec: string): TimeZone {
  const name = spec.trim();
  if (name === '' || UTC_NAMES.has(name.toLowerCase())) return new FixedZone('UTC', 0);
  const m = OFFSET_RE.exec(name);
  if (m) {
    const hours = Number(m[2]);
    const minutes = m[3] === undefined ? 0 : Number(m[3]);
    if (hours > 18 || minutes > 59) throw new Error(`offset "${name}" is out of range (at most ±18:00)`);
    const ms = (hours * 60 + minutes) * MINUTE_MS;
    return new FixedZone(name, m[1] === '-' ? -ms : ms);
  }
  try {
    return new IanaZone(name);
  } catch {
    throw new Error(`unknown time zone "${name}": expected UTC, an offset like +02:00, or an IANA name like Europe/Berlin`);
  }
}
