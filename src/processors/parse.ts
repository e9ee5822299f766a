/**
 * `parse`: parses the body (or an attribute) into attributes: JSON, logfmt, key/value pairs,
 * a user's regex (re2js: linear time), or a preset (access logs, syslog, klog, the common
 * "timestamp level [thread] logger: message" header). Takes the record's time from a parsed
 * field (exact nanoseconds), its severity text from a parsed level, and optionally its body
 * from the parsed message.
 *
 * A record that does not parse is passed on unchanged (never dropped): parse failures are not
 * drops. They are counted per reason in `counts` (exported as olp_processor_events_total) and, with on_error=tag, marked with the
 * `log.parse.error` attribute. A record that parsed but whose time could not be read keeps
 * the parsed fields and its time, and counts as `invalid_time`.
 */
import { opt } from '../config/options';
import { OptionError, defineProcessor, type Processor, type ProcessorContext } from './contract';
import type { AnyValue, Attributes, KeyValue, LogBatch, LogRecord } from '../records/types';
import { anyValueKind } from '../records/values';
import { ACCESS_LOG_FIELDS, AccessLogParser } from '../parse/access-log';
import { HEADER_FIELDS, HeaderParser } from '../parse/header';
import { JsonParser } from '../parse/json';
import { KLOG_FIELDS, KlogParser } from '../parse/klog';
import { KeyValueParser, LogfmtParser } from '../parse/key-value';
import { RegexParser } from '../parse/regex';
import { SYSLOG_FIELDS, SyslogParser } from '../parse/syslog';
import { parseTimeZone, type TimeZone } from '../parse/time-zone';
import { TimestampParser } from '../parse/timestamp';
import { fieldIndex, type LineParser, type WellKnownFields } from '../parse/types';

/** Attribute set by on_error=tag to the reason a record was not (fully) parsed. */
export const PARSE_ERROR_ATTRIBUTE = 'log.parse.error';

export const PARSE_FORMATS = ['json', 'logfmt', 'keyvalue', 'regex', 'clf', 'apache', 'nginx', 'syslog', 'klog', 'header'] as const;
export type ParseFormat = (typeof PARSE_FORMATS)[number];

/** Keys looked for in self-describing formats (json, logfmt, keyvalue), first present wins. */
const KEY_VALUE_FIELDS: WellKnownFields = {
  time: ['time', 'timestamp', 'ts', '@timestamp', 'datetime'],
  level: ['level', 'lvl', 'severity', 'loglevel', 'log_level', 'log.level', 'levelname'],
  message: ['msg', 'message', 'log'],
};
const REGEX_FIELDS: WellKnownFields = { time: ['timestamp', 'time', 'ts'], level: ['level', 'severity', 'lvl'], message: ['message', 'msg'] };

const BODY_SOURCE = 'body';
const ATTRIBUTE_SOURCE = 'attributes.';

/**
 * The processor instance. `counts` counts records not (fully) parsed, by reason, since start:
 * the owner can export it as a metric.
 */
export class ParseProcessorInstance implements Processor {
  readonly counts = new Map<string, number>();
  /** Field keys of the well-known fields, as configured. */
  private readonly timeKeys: readonly string[];
  private readonly levelKeys: readonly string[];
  private readonly messageKeys: readonly string[];
  /** Prefix for attribute keys, or the attribute to nest under. */
  private readonly prefix: string;
  private readonly nestKey: string | undefined;
  private readonly sourceKey: string | undefined;
  private readonly replaceBody: boolean;
  private readonly tag: boolean;
  private readonly structuredBody: boolean;
  private readonly stripEol: boolean;
  private nowMs = 0;

  constructor(
    private readonly parser: LineParser,
    private readonly time: TimestampParser,
    private readonly clock: ProcessorContext['clock'],
    settings: {
      readonly fields: WellKnownFields;
      readonly target: string;
      readonly nest: boolean;
      readonly sourceKey: string | undefined;
      readonly replaceBody: boolean;
      readonly tag: boolean;
      readonly json: boolean;
      readonly regex: boolean;
    },
  ) {
    this.timeKeys = settings.fields.time;
    this.levelKeys = settings.fields.level;
    this.messageKeys = settings.fields.message;
    this.nestKey = settings.nest ? settings.target.replace(/\.$/, '') : undefined;
    this.prefix = settings.nest ? '' : settings.target;
    this.sourceKey = settings.sourceKey;
    this.replaceBody = settings.replaceBody;
    this.tag = settings.tag;
    this.structuredBody = settings.json;
    this.stripEol = settings.regex;
  }

  /** Never drops: records that do not parse pass on unchanged (see `counts`). */
  process(batch: LogBatch): void {
    this.nowMs = this.clock.now();
    for (const rec of batch) this.record(rec);
  }

  private record(rec: LogRecord): void {
    // A string body is read without building a value; any other source is decoded.
    let text = this.sourceKey === undefined ? rec.bodyString : undefined;
    let source: AnyValue | undefined;
    if (text === undefined) {
      source = this.sourceKey === undefined ? rec.body : rec.attributes.get(this.sourceKey);
      text = source?.stringValue;
    }
    let fields: KeyValue[];
    if (text !== undefined) {
      if (this.stripEol) text = withoutEol(text);
      fields = [];
      const reason = this.parser.parse(text, fields);
      if (reason !== undefined) return this.fail(rec, reason);
    } else if (source?.kvlistValue !== undefined && this.structuredBody) {
      // Already structured: nothing to parse, but time, level and message are still read from it.
      fields = source.kvlistValue.values.slice();
    } else {
      return this.fail(rec, anyValueKind(source) === undefined ? 'source_missing' : 'source_not_string');
    }
    const parsed = text !== undefined;

    const level = pick(fields, this.levelKeys);
    if (level >= 0) {
      const v = fields[level]!.value.stringValue;
      if (v !== undefined && rec.severityNumber === 0) rec.severityText = v;
    }

    let timeOk = true;
    const t = pick(fields, this.timeKeys);
    // A null time (`"time": null`) is no time, not a bad one.
    if (t >= 0 && anyValueKind(fields[t]!.value) !== undefined) {
      // The record is the reference for times without a year: its observed time is read only then.
      const nanos = this.time.parseValue(fields[t]!.value, rec, this.nowMs);
      if (nanos === undefined) timeOk = false;
      else rec.timeUnixNano = nanos;
    }

    if (this.replaceBody && this.structuredBody) {
      // A structured body stays as it is; a JSON text (from the body or an attribute) becomes the map.
      if (parsed || this.sourceKey !== undefined) rec.body = { kvlistValue: { values: fields } };
    } else {
      if (this.replaceBody) {
        const m = pick(fields, this.messageKeys);
        if (m >= 0) {
          rec.body = fields[m]!.value;
          fields.splice(m, 1);
        }
      }
      this.write(rec.attributes, fields, parsed);
    }
    if (!timeOk) this.fail(rec, 'invalid_time');
  }

  /** `fresh`: the values were made by the parser for this record, so they can become the attributes' values themselves. */
  private write(attrs: Attributes, fields: KeyValue[], fresh: boolean): void {
    if (this.nestKey !== undefined) {
      attrs.set(this.nestKey, { kvlistValue: { values: fields } });
      return;
    }
    const prefix = this.prefix;
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i]!;
      // Values read from a structured body are copied, so that a value built from the attribute later leaves the body alone.
      attrs.set(prefix === '' ? f.key : prefix + f.key, fresh ? f.value : { ...f.value });
    }
  }

  private fail(rec: LogRecord, reason: string): void {
    this.counts.set(reason, (this.counts.get(reason) ?? 0) + 1);
    if (this.tag) rec.attributes.set(PARSE_ERROR_ATTRIBUTE, reason);
  }
}

/** Index of the first field whose key is in `keys` (in the order of `keys`), or -1. */
function pick(fields: readonly KeyValue[], keys: readonly string[]): number {
  for (let k = 0; k < keys.length; k++) {
    const i = fieldIndex(fields, keys[k]!);
    if (i >= 0) return i;
  }
  return -1;
}

function withoutEol(s: string): string {
  let end = s.length;
  while (end > 0) {
    const c = s.charCodeAt(end - 1);
    if (c !== 10 && c !== 13) break;
    end--;
  }
  return end === s.length ? s : s.slice(0, end);
}

/** `auto` → the format's keys; `none` or empty → none; else a comma-separated list of keys. */
function fieldKeys(option: string, auto: readonly string[]): readonly string[] {
  const v = option.trim();
  if (v.toLowerCase() === 'auto') return auto;
  if (v === '' || v.toLowerCase() === 'none') return [];
  return v.split(',').map((k) => k.trim()).filter((k) => k !== '');
}

function formatParser(format: ParseFormat, o: { pattern: string; pair_delimiter: string; kv_delimiter: string }, headerTime: () => TimestampParser): { parser: LineParser; fields: WellKnownFields } {
  switch (format) {
    case 'json':
      return { parser: new JsonParser(), fields: KEY_VALUE_FIELDS };
    case 'logfmt':
      return { parser: new LogfmtParser(), fields: KEY_VALUE_FIELDS };
    case 'keyvalue': {
      if (o.kv_delimiter.trim() === '') throw new OptionError('kv_delimiter', 'must not be empty or blank');
      if (o.kv_delimiter === o.pair_delimiter) throw new OptionError('kv_delimiter', 'must differ from pair_delimiter');
      return { parser: new KeyValueParser(o.pair_delimiter, o.kv_delimiter), fields: KEY_VALUE_FIELDS };
    }
    case 'regex':
      try {
        return { parser: new RegexParser(o.pattern), fields: REGEX_FIELDS };
      } catch (e) {
        throw new OptionError('pattern', (e as Error).message);
      }
    case 'clf':
    case 'apache':
    case 'nginx':
      return { parser: new AccessLogParser(), fields: ACCESS_LOG_FIELDS };
    case 'syslog':
      return { parser: new SyslogParser(), fields: SYSLOG_FIELDS };
    case 'klog':
      return { parser: new KlogParser(), fields: KLOG_FIELDS };
    case 'header':
      return { parser: new HeaderParser(headerTime()), fields: HEADER_FIELDS };
  }
}

export const parseProcessor = defineProcessor({
  name: 'parse',
  summary: 'Parses the body (or an attribute) as JSON, logfmt, key=value pairs, a regex or a preset (access log, syslog, klog, log header) into attributes, and takes time, severity text and message from the parsed fields.',
  options: {
    format: opt.enum(
      PARSE_FORMATS,
      'json',
      'Format: `json`, `logfmt`, `keyvalue`, `regex` (needs `pattern`), `clf` (= `apache`, `nginx`: common and combined access logs), `syslog` (RFC 5424 / 3164), `klog`, `header` ("timestamp level [thread] logger: message").',
    ),
    source: opt.string(BODY_SOURCE, 'What to parse: `body`, or `attributes.<key>`.', { nonEmpty: true }),
    target: opt.string('', 'Prefix for the attribute keys of the parsed fields (e.g. `parsed.`); empty: the keys as parsed. With `nest`: the attribute to nest them under.'),
    nest: opt.bool(false, 'Write the parsed fields as one kvlist attribute named `target` instead of one attribute each.'),
    body: opt.enum(
      ['keep', 'replace'] as const,
      'keep',
      '`replace`: the body becomes the parsed message (and the message field is not written as an attribute); for `json`, the body becomes the parsed map instead of attributes. `keep`: the body is left as it is.',
    ),
    on_error: opt.enum(
      ['keep', 'tag'] as const,
      'keep',
      'A record that does not parse (or whose time does not) is passed on unchanged and counted; `tag` also sets the attribute `log.parse.error` to the reason.',
    ),
    pattern: opt.string('', 'For `format=regex`: an RE2 pattern whose named groups `(?P<name>…)` become fields (searched anywhere: anchor with `^…$`).'),
    pair_delimiter: opt.string('', 'For `format=keyvalue`: the delimiter between pairs; empty: any run of whitespace.'),
    kv_delimiter: opt.string('=', 'For `format=keyvalue`: the delimiter between key and value.'),
    time_field: opt.string('auto', 'Parsed field holding the record time (comma-separated: the first present); `auto`: the format\'s (`time`, `timestamp`, `ts`, `@timestamp`, `datetime` for json/logfmt/keyvalue; `timestamp`, `time`, `ts` for regex; the preset\'s timestamp); `none`: keep the record time.'),
    time_layout: opt.string('auto', 'Layout of the time field: `auto` (RFC 3339/ISO 8601, epoch s/ms/µs/ns by magnitude, syslog, CLF, `yyMMdd HHmmss`, klog), `epoch_s`, `epoch_ms`, `epoch_us`, `epoch_ns`, or an explicit strftime (`%Y-%m-%d %H:%M:%S,%L`) or Java-style (`yyyy-MM-dd HH:mm:ss,SSS`) layout. Also used by `header` to find the timestamp.', { nonEmpty: true }),
    time_zone: opt.string('UTC', 'Zone for times without an offset: `UTC`, an offset (`+02:00`), or an IANA name (`Europe/Berlin`).', { nonEmpty: true }),
    level_field: opt.string('auto', 'Parsed field whose (string) value becomes the severity text of records without a severity number; `auto`: `level`, `lvl`, `severity`, `loglevel`, `log_level`, `log.level`, `levelname` (json/logfmt/keyvalue), `level`, `severity`, `lvl` (regex), the preset\'s level; `none`: off.'),
    message_field: opt.string('auto', 'Parsed field that becomes the body with `body=replace`; `auto`: `msg`, `message`, `log` (json/logfmt/keyvalue), `message`, `msg` (regex), the preset\'s message.'),
  },
  create(o, ctx) {
    const source = o.source.trim();
    let sourceKey: string | undefined;
    if (source.startsWith(ATTRIBUTE_SOURCE) && source.length > ATTRIBUTE_SOURCE.length) sourceKey = source.slice(ATTRIBUTE_SOURCE.length);
    else if (source !== BODY_SOURCE) throw new OptionError('source', `must be "body" or "attributes.<key>", not "${o.source}"`);
    if (o.nest && o.target.replace(/\.$/, '').trim() === '') throw new OptionError('target', 'nest=true needs target: the attribute to nest the parsed fields under');
    if (o.pattern !== '' && o.format !== 'regex') throw new OptionError('pattern', `is only used with format=regex (format is ${o.format})`);

    let zone: TimeZone;
    try {
      zone = parseTimeZone(o.time_zone);
    } catch (e) {
      throw new OptionError('time_zone', (e as Error).message);
    }
    const timeParser = (): TimestampParser => {
      try {
        return new TimestampParser(o.time_layout, zone);
      } catch (e) {
        throw new OptionError('time_layout', (e as Error).message);
      }
    };
    const time = timeParser();
    const { parser, fields } = formatParser(o.format, o, timeParser);
    return new ParseProcessorInstance(parser, time, ctx.clock, {
      fields: {
        time: fieldKeys(o.time_field, fields.time),
        level: fieldKeys(o.level_field, fields.level),
        message: fieldKeys(o.message_field, fields.message),
      },
      target: o.target,
      nest: o.nest,
      sourceKey,
      replaceBody: o.body === 'replace',
      tag: o.on_error === 'tag',
      json: o.format === 'json',
      regex: o.format === 'regex',
    });
  },
});
