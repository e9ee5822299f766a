/**
 * `explain`: runs the configured processing chain over sample input without exporting, and
 * shows per record what each processor changed, dropped or added.
 *
 * The whole input goes through each stage in order, as the service would run it (stateful
 * processors such as dedup or rate limits see the records in their real order), on the same
 * record batches the service uses. Between stages the batch is written as it would be exported
 * and decoded again: those pictures are compared field by field, each record followed by its
 * place among the batch's live records. A record gone after a stage was dropped by it, with
 * the reason it gave.
 */
import * as fs from 'node:fs';
import * as readline from 'node:readline';
import { parseArgs } from 'node:util';
import Long from 'long';
import pino from 'pino';
import { ConfigError } from '../config/load';
import { parseKeyValueMap } from '../config/values';
import { decodeLogsData, encodeLogsData } from '../otlp/codec';
import { decodeLogsDataJson } from '../otlp/json';
import type { AnyValue, InstrumentationScope, KeyValue, LogRecord, LogsData, Resource, ResourceLogs, ScopeLogs } from '../otlp/model';
import { anyValueKind, anyValueToString, newLogRecord, stringValue, unixNanosFromMillis } from '../otlp/values';
import { processWhere, type ChainStage } from '../pipeline/chain';
import { RecordBatch, type RecordImpl } from '../records/batch';
import type { Scope } from '../records/types';
import { resolveServiceConfig } from '../processors/custom';
import { explainSeverity, type SeverityBefore } from '../processors/severity';
import { createStages } from '../pipeline/stages';

export const EXPLAIN_HELP = `Usage: otlp-log-processor explain --input FILE [options]

Runs the configured processors (the same env vars and OLP_CONFIG file as 'run'; see 'run --help')
over sample records without exporting them, and prints per record what each processor changed
(fields and attributes added, changed or removed), which processor dropped it and why, the rule that
set each severity the 'severity' processor filled in, and the records processors added. Resource and scope changes are shown once per resource (on its first
record). Processors start with empty state; nothing is persisted or exported.

Input:
  --input FILE          Log lines, one record per line (body = line, as 'send' does); "-" for stdin
  --json-input          FILE holds OTLP/JSON ExportLogsServiceRequests (one document, or JSON lines);
                        each request is processed as one batch, in order
  --service NAME        Sets resource attribute service.name on line input
  --attributes K=V,...  More resource attributes on line input

Options:
  --processors a,b      Use this chain instead of OLP_PROCESSORS ("" for none)
  --limit N             Explain only the first N records
  --format text|json    Output: readable text [default], or one JSON object per line and record
                        (values in OTLP/JSON form, 64-bit integers as strings)
  -h, --help            Show this help

Exit code 0; 1 when the configuration is invalid; 2 on bad arguments or unreadable input.
`;

// ---------------------------------------------------------------------------------------------
// Snapshots and diffs

/** A value as it appears in JSON output: OTLP/JSON AnyValue form, or a plain scalar for record fields; int64 as strings. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export type ChangeOp = 'added' | 'changed' | 'removed';

export interface Change {
  /** Display path: `severity_number`, `attributes["k"]`, `resource["k"]`, `scope.name`, … */
  readonly field: string;
  readonly op: ChangeOp;
  readonly before?: JsonValue;
  readonly after?: JsonValue;
  /** Text rendering of before / after. */
  readonly beforeText?: string;
  readonly afterText?: string;
}

export interface StepExplanation {
  readonly processor: string;
  /** Changes to the record's own fields and attributes. */
  readonly changes: readonly Change[];
  /** Changes to the record's resource and scope, listed on the first record of that resource only. */
  resourceChanges: readonly Change[];
  /** Number of explained records sharing the resource / scope changes (when listed here). */
  resourceRecords?: number;
  /** The resource / scope changes of this step were listed on this earlier record. */
  resourceSameAs?: number;
  /** Set when the processor removed the record. */
  readonly dropped?: { readonly reason: string };
  /** Set when the processor threw (the batch was passed on as it was before it, like the service does). */
  readonly error?: string;
  /** `severity` steps: the rule that set the record's severity (sent, alias, which locator rule, default). */
  severityRule?: string;
}

export interface RecordExplanation {
  /** 1-based, in input order; records added by processors are numbered after the input. */
  readonly index: number;
  /** The processor that added this record, when it was not in the input. */
  readonly addedBy?: string;
  /** The body as it entered (or was added). */
  readonly body: string;
  readonly steps: StepExplanation[];
  /** Processor that dropped the record, if any. */
  droppedBy?: string;
  /** Exporters a kept record goes to. */
  exporters?: readonly string[];
}

interface Entry {
  key: string;
  json: JsonValue;
  text: string;
}

/** Field-by-field picture of a record, resource or scope; nothing shared with the live objects. */
type Snapshot = Entry[];

function long(v: Long | number | string | null | undefined, unsigned: boolean): Long {
  if (v === null || v === undefined) return unsigned ? Long.UZERO : Long.ZERO;
  const l = Long.fromValue(v);
  return unsigned ? l.toUnsigned() : l.toSigned();
}

function isoTime(nanos: Long): string {
  const ms = nanos.divide(1_000_000).toNumber();
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return '';
  const frac = nanos.modulo(1_000_000_000).toString().padStart(9, '0');
  return d.toISOString().replace(/\.\d{3}Z$/, `.${frac}Z`);
}

function hex(b: Uint8Array | null | undefined): string {
  // Decoded empty bytes may be a plain array (protobufjs' default where it found no Buffer).
  return b && b.length > 0 ? Buffer.from(b).toString('hex') : '';
}

/** AnyValue in OTLP/JSON form (int64 as string, bytes as base64). */
export function anyValueJsonForm(v: AnyValue | null | undefined): JsonValue {
  if (v === null || v === undefined) return null;
  switch (anyValueKind(v)) {
    case 'stringValue':
      return { stringValue: v.stringValue! };
    case 'boolValue':
      return { boolValue: v.boolValue! };
    case 'intValue':
      return { intValue: long(v.intValue, false).toString() };
    case 'doubleValue': {
      const d = v.doubleValue!;
      return { doubleValue: Number.isFinite(d) ? d : String(d) };
    }
    case 'bytesValue':
      return { bytesValue: Buffer.from(v.bytesValue!).toString('base64') };
    case 'arrayValue':
      return { arrayValue: { values: (v.arrayValue!.values ?? []).map(anyValueJsonForm) } };
    case 'kvlistValue':
      return { kvlistValue: { values: (v.kvlistValue!.values ?? []).map((kv) => ({ key: kv.key, value: anyValueJsonForm(kv.value) })) } };
    default:
      return {};
  }
}

/** AnyValue for humans: strings quoted, numbers and booleans bare, 64-bit integers exact. */
export function anyValueText(v: AnyValue | null | undefined): string {
  if (v === null || v === undefined) return '(none)';
  switch (anyValueKind(v)) {
    case 'stringValue':
      return JSON.stringify(v.stringValue);
    case 'intValue':
      return long(v.intValue, false).toString();
    case 'boolValue':
      return String(v.boolValue);
    case 'doubleValue': {
      const d = v.doubleValue!;
      return Number.isInteger(d) ? d.toFixed(1) : String(d);
    }
    case 'bytesValue':
      return `bytes(${Buffer.from(v.bytesValue!).toString('base64')})`;
    case 'arrayValue':
      return `[${(v.arrayValue!.values ?? []).map(anyValueText).join(', ')}]`;
    case 'kvlistValue':
      return `{${(v.kvlistValue!.values ?? []).map((kv) => `${JSON.stringify(kv.key)}: ${anyValueText(kv.value)}`).join(', ')}}`;
    default:
      return '(empty)';
  }
}

function attributeEntries(prefix: string, attrs: readonly KeyValue[] | null | undefined): Entry[] {
  const seen = new Map<string, number>();
  return (attrs ?? []).map((kv) => {
    const n = (seen.get(kv.key) ?? 0) + 1;
    seen.set(kv.key, n);
    // A repeated key (possible in received data) is followed per occurrence.
    return { key: `${prefix}[${JSON.stringify(kv.key)}]${n > 1 ? `#${n}` : ''}`, json: anyValueJsonForm(kv.value), text: anyValueText(kv.value) };
  });
}

function scalar(key: string, json: string | number, text = typeof json === 'string' ? JSON.stringify(json) : String(json)): Entry {
  return { key, json, text };
}

function timeEntry(key: string, v: Long | null | undefined): Entry {
  const l = long(v, true);
  const s = l.toString();
  return { key, json: s, text: l.isZero() ? '0' : `${s} (${isoTime(l)})` };
}

function snapshotRecord(r: LogRecord): Snapshot {
  return [
    scalar('severity_number', r.severityNumber ?? 0),
    scalar('severity_text', r.severityText ?? ''),
    { key: 'body', json: anyValueJsonForm(r.body), text: anyValueText(r.body) },
    timeEntry('time_unix_nano', r.timeUnixNano),
    timeEntry('observed_time_unix_nano', r.observedTimeUnixNano),
    scalar('event_name', r.eventName ?? ''),
    scalar('flags', r.flags ?? 0),
    scalar('trace_id', hex(r.traceId), hex(r.traceId) || '(none)'),
    scalar('span_id', hex(r.spanId), hex(r.spanId) || '(none)'),
    scalar('dropped_attributes_count', r.droppedAttributesCount ?? 0),
    ...attributeEntries('attributes', r.attributes),
  ];
}

function snapshotResource(rl: ResourceLogs | undefined, sl: ScopeLogs | undefined): Snapshot {
  const res: Resource | null | undefined = rl?.resource;
  const scope: InstrumentationScope | null | undefined = sl?.scope;
  return [
    ...attributeEntries('resource', res?.attributes),
    scalar('resource.dropped_attributes_count', res?.droppedAttributesCount ?? 0),
    scalar('resource.schema_url', rl?.schemaUrl ?? ''),
    scalar('scope.name', scope?.name ?? ''),
    scalar('scope.version', scope?.version ?? ''),
    ...attributeEntries('scope', scope?.attributes),
    scalar('scope.dropped_attributes_count', scope?.droppedAttributesCount ?? 0),
    scalar('scope.schema_url', sl?.schemaUrl ?? ''),
  ];
}

const ATTRIBUTE_KEY = /^(attributes|resource|scope)\[/;

/** Entries that differ: attribute entries are added / removed, the fixed fields only change. */
export function diffSnapshots(before: Snapshot, after: Snapshot): Change[] {
  const a = new Map(after.map((e) => [e.key, e]));
  const b = new Map(before.map((e) => [e.key, e]));
  const changes: Change[] = [];
  for (const e of before) {
    const now = a.get(e.key);
    if (!now) {
      changes.push({ field: e.key, op: 'removed', before: e.json, beforeText: e.text });
    } else if (JSON.stringify(now.json) !== JSON.stringify(e.json)) {
      changes.push({ field: e.key, op: 'changed', before: e.json, after: now.json, beforeText: e.text, afterText: now.text });
    }
  }
  for (const e of after) {
    if (!b.has(e.key)) changes.push({ field: e.key, op: ATTRIBUTE_KEY.test(e.key) ? 'added' : 'changed', after: e.json, afterText: e.text });
  }
  return changes;
}

// ---------------------------------------------------------------------------------------------
// Running the chain

interface Located {
  /** The record in the batch. */
  live: RecordImpl;
  /** Its picture: as written out and decoded again, with its resource and scope. */
  record: LogRecord;
  rl: ResourceLogs;
  sl: ScopeLogs;
}

/** The batch's records as they would be exported, decoded, each next to the record it is. */
function locate(batch: RecordBatch): Located[] {
  const live = batch.records();
  const parts = batch.encode(Number.MAX_SAFE_INTEGER);
  const data = parts.length === 0 ? { resourceLogs: [] } : decodeLogsData(parts[0]!.bytes);
  // Written in batch order (resource, scope, record), the order records() lists them in.
  const out: Located[] = [];
  for (const rl of data.resourceLogs) for (const sl of rl.scopeLogs) for (const record of sl.logRecords) out.push({ live: live[out.length]!, record, rl, sl });
  if (out.length !== live.length) throw new Error(`explain: ${out.length} records written for ${live.length} in the batch`);
  return out;
}

interface Tracked {
  explanation: RecordExplanation;
  snapshot: Snapshot;
}

/**
 * Runs each batch through every stage in order (state carries over, as in the service) and
 * explains per record what each stage did.
 */
export function explainBatches(stages: readonly ChainStage[], batches: readonly LogsData[], exporters: readonly string[] = []): RecordExplanation[] {
  const all: RecordExplanation[] = [];
  const tracked = new Map<RecordImpl, Tracked>();
  /** `addedBy`: the batch is what that stage emitted at its flush. */
  const run = (batch: RecordBatch, from: number, addedBy?: string): void => {
    tracked.clear();
    for (const { live, record } of locate(batch)) {
      const explanation: RecordExplanation = { index: all.length + 1, body: anyValueToString(record.body), steps: [], ...(addedBy ? { addedBy } : {}) };
      all.push(explanation);
      tracked.set(live, { explanation, snapshot: snapshotRecord(record) });
    }
    for (const stage of stages.slice(from)) {
      // As the runner does: emitted records (window summaries) skip processors that thin the stream.
      if (addedBy !== undefined && stage.processor.thins) continue;
      const before = locate(batch);
      // Records of a group share one scope object: resource and scope pictures are taken per group.
      const resourceBefore = new Map<Scope, Snapshot>();
      for (const l of before) if (!resourceBefore.has(l.live.scope)) resourceBefore.set(l.live.scope, snapshotResource(l.rl, l.sl));
      // The severity fields before a `severity` stage, to tell afterwards which rule set them.
      const severityBefore = stage.name === 'severity' ? new Map<RecordImpl, SeverityBefore>(before.map((l) => [l.live, { severityNumber: l.live.severityNumber, severityText: l.live.severityText, body: l.live.body }])) : undefined;
      let error: string | undefined;
      batch.begin();
      try {
        if (stage.where) processWhere(stage.processor, stage.where, batch);
        else stage.processor.process(batch);
        batch.commit();
      } catch (e) {
        // As the runner does: the batch goes on as it was before the processor.
        batch.rollback();
        error = e instanceof Error ? e.message : String(e);
      }
      const after = locate(batch);
      const afterByRecord = new Map(after.map((l) => [l.live, l]));
      // Resource / scope changes are listed once per scope, on the first record of it.
      const sharedSteps = new Map<Scope, { step: StepExplanation; index: number; count: number }>();

      for (const was of before) {
        const t = tracked.get(was.live);
        if (!t) continue;
        const now = afterByRecord.get(was.live);
        if (!now) {
          tracked.delete(was.live);
          t.explanation.steps.push({ processor: stage.name, changes: [], resourceChanges: [], dropped: { reason: was.live.dropReason ?? 'dropped' } });
          t.explanation.droppedBy = stage.name;
          continue;
        }
        const record = snapshotRecord(now.record);
        const step: StepExplanation = { processor: stage.name, changes: diffSnapshots(t.snapshot, record), resourceChanges: [], ...(error ? { error } : {}) };
        const sev = severityBefore?.get(was.live);
        // Only where this step set the number: otherwise there is no decision to explain.
        if (sev && now.live.severityNumber !== sev.severityNumber) step.severityRule = explainSeverity(sev, now.live.severityNumber);
        t.snapshot = record;
        const scope = was.live.scope;
        const resChanges = diffSnapshots(resourceBefore.get(scope)!, snapshotResource(now.rl, now.sl));
        if (resChanges.length > 0) {
          const first = sharedSteps.get(scope);
          if (first) {
            first.count++;
            step.resourceSameAs = first.index;
          } else {
            step.resourceChanges = resChanges;
            sharedSteps.set(scope, { step, index: t.explanation.index, count: 1 });
          }
        }
        t.explanation.steps.push(step);
      }
      for (const s of sharedSteps.values()) if (s.count > 1) s.step.resourceRecords = s.count;
      const known = new Set(before.map((l) => l.live));
      for (const l of after) {
        if (known.has(l.live)) continue;
        const explanation: RecordExplanation = { index: all.length + 1, addedBy: stage.name, body: anyValueToString(l.record.body), steps: [] };
        all.push(explanation);
        tracked.set(l.live, { explanation, snapshot: snapshotRecord(l.record) });
      }
    }
    for (const [record, t] of tracked) t.explanation.exporters = routedTo(record, exporters);
  };
  for (const input of batches) run(new RecordBatch(encodeLogsData(input)), 0);
  // As at shutdown: windowed processors emit what they hold, through the stages after them.
  const now = Date.now();
  stages.forEach((stage, i) => {
    if (!stage.processor.flush) return;
    const out = new RecordBatch();
    stage.processor.flush(now, true, out);
    if (out.size > 0) run(out, i + 1, stage.name);
  });
  return all;
}

/** Exporter names a record goes to: those `route` chose, or all of them. */
function routedTo(record: RecordImpl, exporters: readonly string[]): readonly string[] {
  const mask = record.routes;
  return mask === undefined ? exporters : exporters.filter((_, i) => mask & (1 << i));
}

// ---------------------------------------------------------------------------------------------
// Output

function clip(s: string, max = 200): string {
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

function changeText(c: Change): string {
  if (ATTRIBUTE_KEY.test(c.field)) {
    if (c.op === 'added') return `+ ${c.field} = ${clip(c.afterText!)}`;
    if (c.op === 'removed') return `- ${c.field} (was ${clip(c.beforeText!)})`;
  }
  return `${c.field}: ${clip(c.beforeText ?? '(none)')} → ${clip(c.afterText ?? '(none)')}`;
}

/** The readable report: one block per record, one line per processor. */
export function formatText(explanations: readonly RecordExplanation[], stageNames: readonly string[]): string {
  const width = Math.max(8, ...stageNames.map((n) => n.length)) + 2;
  const out: string[] = [];
  if (stageNames.length === 0) out.push('no processors configured: records pass through unchanged');
  for (const e of explanations) {
    const head = `record ${e.index}${e.addedBy ? ` (added by ${e.addedBy})` : ''}: ${e.body === '' ? '(no body)' : clip(JSON.stringify(e.body))}`;
    out.push(head);
    for (const s of e.steps) {
      const parts: string[] = [];
      if (s.error) parts.push(`error: ${s.error} (batch passed on as it was before it)`);
      if (s.dropped) parts.push(`dropped (${s.dropped.reason})`);
      parts.push(...s.changes.map(changeText));
      if (s.resourceChanges.length > 0) {
        parts.push(...s.resourceChanges.map(changeText));
        if (s.resourceRecords) parts[parts.length - 1] += ` (resource of ${s.resourceRecords} records)`;
      }
      if (s.resourceSameAs !== undefined) parts.push(`resource changed (see record ${s.resourceSameAs})`);
      out.push(`  ${s.processor.padEnd(width)} ${parts.length > 0 ? parts.join('; ') : 'unchanged'}`);
      if (s.severityRule) out.push(`  ${''.padEnd(width)} rule: ${s.severityRule}`);
    }
    if (!e.droppedBy && (e.steps.length > 0 || e.addedBy)) out.push(`  ${'→'.padEnd(width)} kept${e.exporters ? `, to ${e.exporters.length > 0 ? e.exporters.join(', ') : 'no exporter'}` : ''}`);
  }
  const dropped = explanations.filter((e) => e.droppedBy).length;
  const added = explanations.filter((e) => e.addedBy).length;
  out.push(`${explanations.length - added} records in, ${explanations.length - dropped} out (${dropped} dropped, ${added} added)`);
  return out.join('\n') + '\n';
}

function changeJson(c: Change): JsonValue {
  const o: Record<string, JsonValue> = { field: c.field, op: c.op };
  if (c.before !== undefined) o.before = c.before;
  if (c.after !== undefined) o.after = c.after;
  return o;
}

/** One JSON object per record; values in OTLP/JSON form with 64-bit integers as strings. */
export function explanationJson(e: RecordExplanation): JsonValue {
  const o: Record<string, JsonValue> = { record: e.index, body: e.body };
  if (e.addedBy) o.addedBy = e.addedBy;
  o.steps = e.steps.map((s) => {
    const step: Record<string, JsonValue> = { processor: s.processor, changes: s.changes.map(changeJson) };
    if (s.resourceChanges.length > 0) step.resourceChanges = s.resourceChanges.map(changeJson);
    if (s.resourceRecords) step.resourceRecords = s.resourceRecords;
    if (s.resourceSameAs !== undefined) step.resourceSameAs = s.resourceSameAs;
    if (s.dropped) step.dropped = { reason: s.dropped.reason };
    if (s.error) step.error = s.error;
    if (s.severityRule) step.severityRule = s.severityRule;
    return step;
  });
  o.outcome = e.droppedBy ? 'dropped' : 'kept';
  if (e.droppedBy) o.droppedBy = e.droppedBy;
  else if (e.exporters) o.exporters = [...e.exporters];
  return o;
}

// ---------------------------------------------------------------------------------------------
// Input

class UsageError extends Error {}

async function readText(file: string, stdin: NodeJS.ReadableStream): Promise<string> {
  if (file !== '-') return fs.promises.readFile(file, 'utf8');
  let text = '';
  for await (const chunk of stdin) text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
  return text;
}

async function readLineRecords(file: string, stdin: NodeJS.ReadableStream, limit: number): Promise<LogRecord[]> {
  const stream = file === '-' ? undefined : fs.createReadStream(file);
  const rl = readline.createInterface({ input: stream ?? stdin, crlfDelay: Infinity });
  const records: LogRecord[] = [];
  const fileAttr = file === '-' ? undefined : file.split('/').pop()!;
  try {
    for await (const raw of rl) {
      const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      if (line === '') continue;
      records.push(
        newLogRecord({
          observedTimeUnixNano: unixNanosFromMillis(Date.now()),
          body: stringValue(line),
          attributes: fileAttr ? [{ key: 'log.file.name', value: stringValue(fileAttr) }] : [],
        }),
      );
      if (records.length >= limit) break;
    }
  } finally {
    rl.close();
    stream?.destroy();
  }
  return records;
}

/** One request, or JSON lines of requests. */
export function parseJsonRequests(text: string): LogsData[] {
  try {
    return [decodeLogsDataJson(text)];
  } catch (whole) {
    const lines = text.split('\n');
    if (lines.filter((l) => l.trim() !== '').length < 2) throw new UsageError((whole as Error).message);
    const out: LogsData[] = [];
    lines.forEach((line, i) => {
      if (line.trim() === '') return;
      try {
        out.push(decodeLogsDataJson(line));
      } catch (e) {
        throw new UsageError(`line ${i + 1}: ${(e as Error).message}`);
      }
    });
    return out;
  }
}

/** Keeps the first `limit` records across the batches. */
function truncate(batches: LogsData[], limit: number): LogsData[] {
  let left = limit;
  const out: LogsData[] = [];
  for (const b of batches) {
    if (left <= 0) break;
    for (const rl of b.resourceLogs) {
      for (const sl of rl.scopeLogs) {
        sl.logRecords = sl.logRecords.slice(0, Math.max(left, 0));
        left -= sl.logRecords.length;
      }
      rl.scopeLogs = rl.scopeLogs.filter((sl) => sl.logRecords.length > 0);
    }
    b.resourceLogs = b.resourceLogs.filter((rl) => rl.scopeLogs.length > 0);
    if (b.resourceLogs.length > 0) out.push(b);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Command

export interface ExplainIo {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  readonly stdin: NodeJS.ReadableStream;
}

interface ExplainOptions {
  input: string;
  jsonInput: boolean;
  format: 'text' | 'json';
  limit: number;
  processors: string | undefined;
  resource: KeyValue[];
}

function parseExplainArgs(argv: string[]): ExplainOptions | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        input: { type: 'string', short: 'i' },
        'json-input': { type: 'boolean' },
        format: { type: 'string', default: 'text' },
        limit: { type: 'string' },
        processors: { type: 'string' },
        service: { type: 'string' },
        attributes: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const v = parsed.values;
  if (v.help) return 'help';
  if (v.input === undefined || v.input === '') throw new UsageError('--input FILE is required ("-" for stdin)');
  if (v.format !== 'text' && v.format !== 'json') throw new UsageError(`--format must be text or json, got "${v.format}"`);
  let limit = Infinity;
  if (v.limit !== undefined) {
    if (!/^\d+$/.test(v.limit) || Number(v.limit) < 1) throw new UsageError(`--limit: expected a positive integer, got "${v.limit}"`);
    limit = Number(v.limit);
  }
  let attrs: Record<string, string> = {};
  try {
    if (v.attributes) attrs = parseKeyValueMap(v.attributes);
  } catch (e) {
    throw new UsageError(`--attributes: ${(e as Error).message}`);
  }
  if (v.service) attrs['service.name'] = v.service;
  if (v['json-input'] && (v.service !== undefined || v.attributes !== undefined)) throw new UsageError('--service and --attributes apply to line input only');
  return {
    input: v.input,
    jsonInput: v['json-input'] ?? false,
    format: v.format,
    limit,
    processors: v.processors,
    resource: Object.entries(attrs).map(([key, value]) => ({ key, value: stringValue(value) })),
  };
}

async function readInput(o: ExplainOptions, stdin: NodeJS.ReadableStream): Promise<LogsData[]> {
  try {
    if (o.jsonInput) return truncate(parseJsonRequests(await readText(o.input, stdin)), o.limit);
    const records = await readLineRecords(o.input, stdin, o.limit);
    if (records.length === 0) return [];
    return [
      {
        resourceLogs: [
          {
            resource: { attributes: o.resource, droppedAttributesCount: 0, entityRefs: [] },
            schemaUrl: '',
            scopeLogs: [{ scope: { name: 'otlp-log-processor/explain', version: '', attributes: [], droppedAttributesCount: 0 }, schemaUrl: '', logRecords: records }],
          },
        ],
      },
    ];
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`--input ${o.input}: ${(e as Error).message}`);
  }
}

export async function explainCommand(
  argv: string[],
  env: NodeJS.ProcessEnv,
  io: ExplainIo = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin },
): Promise<number> {
  let o: ExplainOptions | 'help';
  try {
    o = parseExplainArgs(argv);
  } catch (e) {
    io.stderr.write(`otlp-log-processor explain: ${(e as Error).message}\n\n${EXPLAIN_HELP}`);
    return 2;
  }
  if (o === 'help') {
    io.stdout.write(EXPLAIN_HELP);
    return 0;
  }
  const effectiveEnv: NodeJS.ProcessEnv = o.processors === undefined ? env : { ...env, OLP_PROCESSORS: o.processors };
  let stages: ChainStage[];
  let exporters: readonly string[];
  try {
    // Custom processors named in the chain are loaded as `run` loads them.
    const { config, processors } = resolveServiceConfig(effectiveEnv);
    exporters = config.exporters;
    stages = createStages(config, processors, { logger: pino({ level: 'silent' }), clock: { now: () => Date.now() }, env: effectiveEnv });
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    io.stderr.write(`otlp-log-processor: ${e.message}\n`);
    return 1;
  }
  let batches: LogsData[];
  try {
    batches = await readInput(o, io.stdin);
  } catch (e) {
    io.stderr.write(`otlp-log-processor explain: ${(e as Error).message}\n`);
    return 2;
  }
  const explanations = explainBatches(stages, batches, exporters);
  if (o.format === 'json') {
    io.stdout.write(explanations.map((e) => JSON.stringify(explanationJson(e)) + '\n').join(''));
  } else {
    io.stdout.write(formatText(explanations, stages.map((s) => s.name)));
  }
  return 0;
}
