import fc from 'fast-check';
import { parseTimeZone } from '../../src/parse/time-zone';
import { NAMED_LAYOUTS, TimestampParser, compileLayout, epochNanos } from '../../src/parse/timestamp';

const UTC = parseTimeZone('UTC');
const NOW = Date.UTC(2024, 6, 1, 12, 0, 0); // 2024-07-01T12:00:00Z

/** Exact ns of a UTC wall time plus a fraction, via BigInt (independent of the code under test). */
function ns(iso: string, fractionNanos = 0n): string {
  return (BigInt(Date.parse(iso)) * 1_000_000n + fractionNanos).toString();
}

/** A record without an observed time: times without a year or date are placed near `now`. */
const UNOBSERVED = { observedTimeUnixNano: 0n };

function parse(text: string, layout = 'auto', zone = 'UTC', ref: { observed?: bigint; now?: number } = {}): string | undefined {
  const p = new TimestampParser(layout, parseTimeZone(zone));
  return p.parse(text, { observedTimeUnixNano: ref.observed ?? 0n }, ref.now ?? NOW)?.toString();
}

describe('auto layout', () => {
  it.each([
    // RFC 3339 / ISO 8601
    ['2024-01-02T03:04:05Z', ns('2024-01-02T03:04:05Z')],
    ['2024-01-02t03:04:05z', ns('2024-01-02T03:04:05Z')],
    ['2024-01-02T03:04:05.123456789Z', ns('2024-01-02T03:04:05Z', 123456789n)],
    ['2024-01-02T03:04:05.1Z', ns('2024-01-02T03:04:05Z', 100000000n)],
    ['2024-01-02T03:04:05.123456789987Z', ns('2024-01-02T03:04:05Z', 123456789n)],
    ['2024-01-02T03:04:05+01:00', ns('2024-01-02T02:04:05Z')],
    ['2024-01-02T03:04:05.5-0530', ns('2024-01-02T08:34:05Z', 500000000n)],
    ['2024-01-02T03:04:05+01', ns('2024-01-02T02:04:05Z')],
    ['2024-01-02 03:04:05', ns('2024-01-02T03:04:05Z')],
    ['2024-01-02 03:04', ns('2024-01-02T03:04:00Z')],
    ['2024-01-02', ns('2024-01-02T00:00:00Z')],
    ['2024/01/02 03:04:05', ns('2024-01-02T03:04:05Z')],
    ['20240102T030405Z', ns('2024-01-02T03:04:05Z')],
    ['20240102T030405.25+0100', ns('2024-01-02T02:04:05Z', 250000000n)],
    ['2024-01-02 03:04:05 +0200', ns('2024-01-02T01:04:05Z')],
    ['2024-01-02 03:04:05.123 UTC', ns('2024-01-02T03:04:05Z', 123000000n)],
    // log4j / python comma and dot milliseconds
    ['2015-10-18 18:01:47,978', ns('2015-10-18T18:01:47Z', 978000000n)],
    ['2015-10-18 18:01:47.978', ns('2015-10-18T18:01:47Z', 978000000n)],
    // leap second rolls into the next minute
    ['2016-12-31T23:59:60Z', ns('2017-01-01T00:00:00Z')],
    // CLF
    ['10/Oct/2000:13:55:36 -0700', ns('2000-10-10T20:55:36Z')],
    ['10/Oct/2000:13:55:36', ns('2000-10-10T13:55:36Z')],
    // Loghub HDFS yyMMdd HHmmss
    ['081109 203615', ns('2008-11-09T20:36:15Z')],
    // surrounding whitespace
    ['  2024-01-02T03:04:05Z\r\n', ns('2024-01-02T03:04:05Z')],
  ])('%j', (text, expected) => {
    expect(parse(text)).toBe(expected);
  });

  it.each([
    // epoch by magnitude: ≤ 11 digits s, 12–14 ms, 15–17 µs, more ns
    ['1700000000', '1700000000000000000'],
    ['1700000000.5', '1700000000500000000'],
    ['1700000000.123456789', '1700000000123456789'],
    ['1700000000.1234567891', '1700000000123456789'],
    ['1700000000123', '1700000000123000000'],
    ['1700000000123.456', '1700000000123456000'],
    ['1700000000123456', '1700000000123456000'],
    ['1700000000123456789', '1700000000123456789'],
    ['18446744073709551615', '18446744073709551615'],
    ['0', '0'],
    ['00001700000000', '1700000000000000000'],
  ])('epoch %s', (text, expected) => {
    expect(parse(text)).toBe(expected);
  });

  it.each([
    '', 'garbage', '2024-13-01T00:00:00Z', '2024-02-30 00:00:00', '2023-02-29T00:00:00Z', '2024-01-01T25:00:00Z', '2024-01-01T10:60:00Z',
    '1969-12-31T23:59:59Z', '2600-01-01T00:00:00Z', '18446744073709551616', '123456789012345678901', '2024-01-02T03:04:05Zjunk',
    '2024-01-02T03:04:05+25:00', '1.2.3', '-1700000000', '2024-01-02T', '32/Oct/2000:13:55:36 -0700', '10/Foo/2000:13:55:36 -0700',
  ])('rejects %j', (text) => {
    expect(parse(text)).toBeUndefined();
  });

  it('accepts Feb 29 of a leap year', () => {
    expect(parse('2024-02-29T00:00:00Z')).toBe(ns('2024-02-29T00:00:00Z'));
  });
});

describe('times without year or date', () => {
  const at = (iso: string) => ({ now: Date.parse(iso) });

  it('gives syslog times the reference year', () => {
    expect(parse('Jun 14 15:16:01', 'auto', 'UTC', at('2024-07-01T00:00:00Z'))).toBe(ns('2024-06-14T15:16:01Z'));
    expect(parse('Jun  4 15:16:01', 'auto', 'UTC', at('2024-07-01T00:00:00Z'))).toBe(ns('2024-06-04T15:16:01Z'));
    expect(parse('Jun 4 15:16:01.25', 'auto', 'UTC', at('2024-07-01T00:00:00Z'))).toBe(ns('2024-06-04T15:16:01Z', 250000000n));
  });

  it('rolls over the year boundary both ways', () => {
    // Read in early January: December lines are from last year.
    expect(parse('Dec 31 23:59:59', 'auto', 'UTC', at('2025-01-01T00:05:00Z'))).toBe(ns('2024-12-31T23:59:59Z'));
    // A clock slightly ahead of the reference across New Year.
    expect(parse('Jan  1 00:00:30', 'auto', 'UTC', at('2024-12-31T23:59:50Z'))).toBe(ns('2025-01-01T00:00:30Z'));
    // Up to 7 days ahead stays in the reference year.
    expect(parse('Jul  7 00:00:00', 'auto', 'UTC', at('2024-07-01T00:00:00Z'))).toBe(ns('2024-07-07T00:00:00Z'));
    expect(parse('Jul  9 00:00:00', 'auto', 'UTC', at('2024-07-01T00:00:00Z'))).toBe(ns('2023-07-09T00:00:00Z'));
  });

  it('prefers the observed time over the clock as reference', () => {
    const observed = BigInt(ns('2019-03-01T00:00:00Z'));
    expect(parse('Feb 28 10:00:00', 'auto', 'UTC', { observed, now: NOW })).toBe(ns('2019-02-28T10:00:00Z'));
  });

  it('places Feb 29 in the last leap year when the reference year has none', () => {
    expect(parse('Feb 29 10:00:00', 'auto', 'UTC', at('2025-03-10T00:00:00Z'))).toBe(ns('2024-02-29T10:00:00Z'));
  });

  it('reads klog MMdd times with microseconds', () => {
    expect(parse('0102 15:04:05.123456', 'auto', 'UTC', at('2024-06-01T00:00:00Z'))).toBe(ns('2024-01-02T15:04:05Z', 123456000n));
  });

  it('puts a time of day on the reference date, at most an hour ahead', () => {
    expect(parse('10:00:00.5', 'auto', 'UTC', at('2024-01-02T12:00:00Z'))).toBe(ns('2024-01-02T10:00:00Z', 500000000n));
    expect(parse('10:00:00', 'auto', 'UTC', at('2024-01-02T09:30:00Z'))).toBe(ns('2024-01-02T10:00:00Z'));
    expect(parse('10:00:00', 'auto', 'UTC', at('2024-01-02T08:00:00Z'))).toBe(ns('2024-01-01T10:00:00Z'));
    expect(parse('23:59:00', 'auto', 'UTC', at('2024-01-02T00:05:00Z'))).toBe(ns('2024-01-01T23:59:00Z'));
    expect(parse('00:01:00', 'auto', 'Europe/Berlin', at('2024-01-01T23:30:00Z'))).toBe(ns('2024-01-01T23:01:00Z'));
  });
});

describe('explicit layouts', () => {
  it.each([
    // Java-style
    ['yyyy-MM-dd-HH.mm.ss.SSSSSS', '2005-06-03-15.42.50.675872', ns('2005-06-03T15:42:50Z', 675872000n)],
    ['yyyyMMdd-HH:mm:ss:SSS', '20171223-22:15:29:606', ns('2017-12-23T22:15:29Z', 606000000n)],
    ['yy/MM/dd HH:mm:ss', '17/06/09 20:10:40', ns('2017-06-09T20:10:40Z')],
    ["yyyy-MM-dd'T'HH:mm:ss.SSSXXX", '2024-01-02T03:04:05.123+01:00', ns('2024-01-02T02:04:05Z', 123000000n)],
    ['EEE, dd MMM yyyy HH:mm:ss Z', 'Tue, 02 Jan 2024 03:04:05 +0000', ns('2024-01-02T03:04:05Z')],
    ['EEE, dd MMM yyyy HH:mm:ss z', 'Tue, 02 Jan 2024 03:04:05 GMT', ns('2024-01-02T03:04:05Z')],
    ['MM/dd/yyyy hh:mm:ss a', '01/02/2024 03:04:05 PM', ns('2024-01-02T15:04:05Z')],
    ['MM/dd/yyyy hh:mm:ss a', '01/02/2024 12:04:05 am', ns('2024-01-02T00:04:05Z')],
    ['d MMMM yyyy H:mm', '2 January 2024 3:04', ns('2024-01-02T03:04:00Z')],
    ['MMM d HH:mm:ss', 'Jan  2 03:04:05', ns('2024-01-02T03:04:05Z')],
    ["yyyy-MM-dd''HH", "2024-01-02'03", ns('2024-01-02T03:00:00Z')],
    ['HH:mm:ss', '11:04:05', ns('2024-07-01T11:04:05Z')],
    // strftime
    ['%d/%b/%Y:%H:%M:%S %z', '10/Oct/2000:13:55:36 -0700', ns('2000-10-10T20:55:36Z')],
    ['%Y-%m-%dT%H:%M:%S.%f%z', '2024-01-02T03:04:05.123456789Z', ns('2024-01-02T03:04:05Z', 123456789n)],
    ['%F %T,%L', '2024-01-02 03:04:05,678', ns('2024-01-02T03:04:05Z', 678000000n)],
    ['%Y%m%d %H%M%S', '20240102 030405', ns('2024-01-02T03:04:05Z')],
    ['%b %e %T', 'Jan  2 03:04:05', ns('2024-01-02T03:04:05Z')],
    ['%a %b %e %H:%M:%S %Y', 'Tue Jan  2 03:04:05 2024', ns('2024-01-02T03:04:05Z')],
    ['%D %I:%M %p', '01/02/24 03:04 PM', ns('2024-01-02T15:04:00Z')],
    ['%Y-%m-%d %H:%M:%S %Z', '2024-01-02 03:04:05 UTC', ns('2024-01-02T03:04:05Z')],
    ['%Y-%m-%d %H:%M:%S%%', '2024-01-02 03:04:05%', ns('2024-01-02T03:04:05Z')],
    // no year: inferred from the reference
    ['MM.dd HH:mm:ss', '10.30 16:49:06', ns('2023-10-30T16:49:06Z')],
  ])('%s reads %j', (layout, text, expected) => {
    expect(parse(text, layout)).toBe(expected);
  });

  it.each([
    ['yyyy-MM-dd HH:mm:ss,SSS', '2024-01-02 03:04:05,12'],
    ['yyyy-MM-dd HH:mm:ss,SSS', '2024-01-02 03:04:05,1234'],
    ['MM/dd/yyyy hh:mm:ss a', '01/02/2024 13:04:05 PM'],
    ['yyyy-MM-dd', '2024-01-0x'],
    ['%Y-%m-%d', '24-01-02'],
  ])('%s rejects %j', (layout, text) => {
    expect(parse(text, layout)).toBeUndefined();
  });

  it.each(['yyyy-qq', '%Q', 'hh:mm', 'yyyy', 'MM-yyyy', 'dd HH', "yyyy-MM-dd'T", 'abc', 'HHH:mm', '%Y-%m-%d %'])('rejects the layout %j', (layout) => {
    expect(() => compileLayout(layout)).toThrow();
  });

  it('lists the named layouts', () => {
    expect(NAMED_LAYOUTS).toEqual(['auto', 'rfc3339', 'epoch', 'epoch_s', 'epoch_ms', 'epoch_us', 'epoch_ns']);
  });

  it('reads epoch units when named, fractions included', () => {
    expect(parse('1700000000', 'epoch_ms')).toBe('1700000000000000');
    expect(parse('1700000000.5', 'epoch_us')).toBe('1700000000500');
    expect(parse('1700000000123456789', 'epoch_ns')).toBe('1700000000123456789');
    expect(parse('17', 'epoch_s')).toBe('17000000000');
    expect(parse('2024-01-01', 'epoch_s')).toBeUndefined();
  });
});

describe('time zones', () => {
  it.each([
    ['2024-07-01 12:00:00', 'Europe/Berlin', '2024-07-01T10:00:00Z'],
    ['2024-01-01 12:00:00', 'Europe/Berlin', '2024-01-01T11:00:00Z'],
    ['2024-07-01 12:00:00', 'Asia/Kolkata', '2024-07-01T06:30:00Z'],
    ['2024-07-01 12:00:00', '+05:30', '2024-07-01T06:30:00Z'],
    ['2024-07-01 12:00:00', '-0800', '2024-07-01T20:00:00Z'],
    ['2024-07-01 12:00:00', 'UTC+2', '2024-07-01T10:00:00Z'],
    ['2024-07-01 12:00:00', 'Etc/GMT+2', '2024-07-01T14:00:00Z'],
    // America/New_York spring-forward gap: 02:30 does not exist, read as 03:30 EDT (java.time's rule)
    ['2024-03-10 02:30:00', 'America/New_York', '2024-03-10T07:30:00Z'],
    ['2024-03-10 01:59:59', 'America/New_York', '2024-03-10T06:59:59Z'],
    ['2024-03-10 03:00:00', 'America/New_York', '2024-03-10T07:00:00Z'],
    // fall-back overlap: 01:30 happens twice, the earlier (EDT) wins
    ['2024-11-03 01:30:00', 'America/New_York', '2024-11-03T05:30:00Z'],
    ['2024-11-03 02:00:00', 'America/New_York', '2024-11-03T07:00:00Z'],
    // Lord Howe shifts by 30 minutes
    ['2024-01-15 12:00:00', 'Australia/Lord_Howe', '2024-01-15T01:00:00Z'],
    ['2024-07-15 12:00:00', 'Australia/Lord_Howe', '2024-07-15T01:30:00Z'],
    // BGL's Pacific time
    ['2005-06-03-15.42.50', 'America/Los_Angeles', '2005-06-03T22:42:50Z'],
  ])('%s in %s', (text, zone, iso) => {
    const layout = text.includes('.') ? 'yyyy-MM-dd-HH.mm.ss' : 'auto';
    expect(parse(text, layout, zone)).toBe(ns(iso));
  });

  it('lets an offset in the text win over the zone', () => {
    expect(parse('2024-07-01T12:00:00Z', 'auto', 'Europe/Berlin')).toBe(ns('2024-07-01T12:00:00Z'));
    expect(parse('10/Oct/2000:13:55:36 -0700', 'auto', 'Asia/Tokyo')).toBe(ns('2000-10-10T20:55:36Z'));
  });

  it('does not apply the zone to epoch values', () => {
    expect(parse('1700000000', 'auto', 'Europe/Berlin')).toBe('1700000000000000000');
  });

  it.each(['Mars/Olympus', '+25:00', 'UTC+99', 'not a zone'])('rejects %j', (zone) => {
    expect(() => parseTimeZone(zone)).toThrow(/zone|offset/);
  });

  it('agrees with Intl for every hour of a year in a DST zone', () => {
    const zone = parseTimeZone('Europe/London');
    const p = new TimestampParser('auto', zone);
    const fmt = new Intl.DateTimeFormat('sv-SE', { timeZone: 'Europe/London', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
    for (let t = Date.UTC(2023, 0, 1); t < Date.UTC(2024, 0, 1); t += 3_600_000 + 17_000) {
      const wall = fmt.format(t); // "2023-03-26 00:00:17"
      const got = p.parse(wall, UNOBSERVED, NOW)!;
      // Overlap hours read as the earlier instant: the same wall time one hour earlier.
      const diff = Number(got - BigInt(t) * 1_000_000n);
      expect([0, -3_600_000_000_000]).toContain(diff);
      if (diff !== 0) expect(fmt.format(t - 3_600_000)).toBe(wall);
    }
  });
});

describe('parseValue', () => {
  const p = new TimestampParser('auto', UTC);
  it('reads numbers as epoch by magnitude, big ones exactly', () => {
    expect(p.parseValue({ intValue: 1700000000123456789n }, UNOBSERVED, NOW)?.toString()).toBe('1700000000123456789');
    expect(p.parseValue({ intValue: 1700000000n }, UNOBSERVED, NOW)?.toString()).toBe('1700000000000000000');
    expect(p.parseValue({ doubleValue: 1700000000.25 }, UNOBSERVED, NOW)?.toString()).toBe('1700000000250000000');
    expect(p.parseValue({ doubleValue: 1700000000123.5 }, UNOBSERVED, NOW)?.toString()).toBe('1700000000123500000');
    expect(p.parseValue({ intValue: -5n }, UNOBSERVED, NOW)).toBeUndefined();
    expect(p.parseValue({ doubleValue: Number.NaN }, UNOBSERVED, NOW)).toBeUndefined();
    expect(p.parseValue({ boolValue: true }, UNOBSERVED, NOW)).toBeUndefined();
    expect(p.parseValue(undefined, UNOBSERVED, NOW)).toBeUndefined();
  });

  it('reads the observed time only for a time without a year or date', () => {
    let reads = 0;
    const record = {
      get observedTimeUnixNano(): bigint {
        reads++;
        return BigInt(ns('2019-03-01T00:00:00Z'));
      },
    };
    expect(p.parseValue({ stringValue: '2024-01-02T03:04:05Z' }, record, NOW)?.toString()).toBe(ns('2024-01-02T03:04:05Z'));
    expect(p.parseValue({ intValue: 1700000000n }, record, NOW)?.toString()).toBe('1700000000000000000');
    expect(reads).toBe(0);
    expect(p.parseValue({ stringValue: 'Feb 28 10:00:00' }, record, NOW)?.toString()).toBe(ns('2019-02-28T10:00:00Z'));
    expect(reads).toBe(1);
  });

  it('does not read numbers with an explicit layout', () => {
    const q = new TimestampParser('yyyyMMdd', UTC);
    expect(q.parseValue({ intValue: 20240102n }, UNOBSERVED, NOW)).toBeUndefined();
    expect(q.parseValue({ stringValue: '20240102' }, UNOBSERVED, NOW)?.toString()).toBe(ns('2024-01-02T00:00:00Z'));
  });
});

describe('scan', () => {
  it('finds where a timestamp at the start of a line ends', () => {
    const p = new TimestampParser('auto', UTC);
    expect(p.scan('2015-10-18 18:01:47,978 INFO x', 0)).toBe(23);
    expect(p.scan('[2015-10-18T18:01:47.978Z] INFO', 1)).toBe(25);
    expect(p.scan('081109 203615 148 INFO', 0)).toBe(13);
    expect(p.scan('2024-01-01 10:00:00 - name', 0)).toBe(19);
    expect(p.scan('INFO hello', 0)).toBe(-1);
    expect(new TimestampParser('yy/MM/dd HH:mm:ss', UTC).scan('17/06/09 20:10:40 INFO x', 0)).toBe(17);
    expect(new TimestampParser('epoch', UTC).scan('1700000000.5 x', 0)).toBe(12);
  });
});

describe('exactness', () => {
  it('round-trips any nanosecond instant through RFC 3339', () => {
    const p = new TimestampParser('auto', UTC);
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 18446744073709551615n }), (n) => {
        const ms = Number(n / 1_000_000_000n) * 1000;
        const frac = (n % 1_000_000_000n).toString().padStart(9, '0');
        const text = new Date(ms).toISOString().replace('.000Z', `.${frac}Z`);
        expect(p.parse(text, UNOBSERVED, NOW)?.toString()).toBe(n.toString());
      }),
      { numRuns: 2000 },
    );
  });

  it('rejects the first nanosecond past the unsigned 64-bit range', () => {
    expect(parse('2554-07-21T23:34:33.709551615Z')).toBe('18446744073709551615');
    expect(parse('2554-07-21T23:34:33.709551616Z')).toBeUndefined();
  });

  it('round-trips any epoch value through every unit', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 18446744073709551615n }), (n) => {
        expect(epochNanos(n.toString(), 0, n.toString().length, 0)?.toString()).toBe(n.toString());
        const s = `${n / 1_000_000_000n}.${(n % 1_000_000_000n).toString().padStart(9, '0')}`;
        expect(epochNanos(s, 0, s.length, 9)?.toString()).toBe(n.toString());
      }),
    );
  });
});
