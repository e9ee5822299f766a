/**
 * `transform`: an ordered list of field operations beyond `attributes` — copy, move/rename,
 * delete, hash, truncate, limit, convert and set-from-template — over record body, attributes,
 * typed record fields, scope attributes and resource attributes.
 *
 * Each action runs over every record of a ResourceLogs before the next action starts, so a
 * later action sees the effect of an earlier one on the shared resource and scope. Writing a
 * resource (or scope) field from record values happens only when every record of that
 * ResourceLogs (ScopeLogs) has the value and all values are equal: the resource describes all
 * of its records, and picking one record's value would mislabel the others. Otherwise nothing
 * changes and the conflict is counted.
 */
import { z } from 'zod';
import { opt } from '../config/options';
import { defineProcessor, type DropSink, type Processor } from './contract';
import type { AnyValue, LogRecord, LogsData, ResourceLogs, ScopeLogs } from '../otlp/model';
import { parseTransformActions, transformActionSchema, type TransformAction } from '../transform/actions';
import { deleteField, getField, parseFieldPath, setField, type FieldPath } from '../transform/fields';
import { compileTemplate, renderTemplate, type Template } from '../transform/template';
import { cloneValue, convertValue, hashValue, truncateValue, valuesEqual, type ConvertType } from '../transform/values';

type Compiled =
  | { readonly op: 'copy' | 'move'; readonly from: FieldPath; readonly to: FieldPath }
  | { readonly op: 'set'; readonly to: FieldPath; readonly template: Template }
  | { readonly op: 'delete' | 'hash'; readonly field: FieldPath }
  | { readonly op: 'truncate'; readonly field: FieldPath; readonly maxBytes: number }
  | { readonly op: 'convert'; readonly field: FieldPath; readonly type: ConvertType }
  | { readonly op: 'limit'; readonly max: number };

type Assign = Extract<Compiled, { op: 'copy' | 'move' | 'set' }>;
type Modify = Extract<Compiled, { op: 'delete' | 'hash' | 'truncate' | 'convert' }>;

/** Event names in `counts`. */
export const TRANSFORM_EVENTS = {
  convertFailed: 'convert_failed',
  resourceConflict: 'resource_conflict',
  scopeConflict: 'scope_conflict',
  invalidSeverityNumber: 'invalid_severity_number',
} as const;

function compile(a: TransformAction): Compiled | undefined {
  switch (a.action) {
    case 'copy':
    case 'move':
    case 'rename': {
      const from = parseFieldPath(a.from);
      const to = parseFieldPath(a.to);
      if (from.text === to.text) return undefined; // moving a field onto itself would delete it
      return { op: a.action === 'copy' ? 'copy' : 'move', from, to };
    }
    case 'set':
      return { op: 'set', to: parseFieldPath(a.field), template: compileTemplate(a.template) };
    case 'delete':
    case 'hash':
      return { op: a.action, field: parseFieldPath(a.field) };
    case 'truncate':
      return { op: 'truncate', field: parseFieldPath(a.field), maxBytes: a.max_bytes };
    case 'convert':
      return { op: 'convert', field: parseFieldPath(a.field), type: a.type };
    case 'limit':
      return { op: 'limit', max: a.max };
  }
}

export class TransformProcessor implements Processor {
  /** Cumulative events since start, by TRANSFORM_EVENTS name (exported as olp_processor_events_total). */
  readonly counts = new Map<string, number>();
  private readonly actions: readonly Compiled[];

  constructor(actions: readonly TransformAction[]) {
    this.actions = actions.map(compile).filter((a): a is Compiled => a !== undefined);
  }

  /** Never drops records, so `drops` is unused. */
  process(batch: LogsData, _drops?: DropSink): LogsData {
    if (this.actions.length === 0) return batch;
    for (const rl of batch.resourceLogs) {
      for (const a of this.actions) {
        switch (a.op) {
          case 'copy':
          case 'move':
          case 'set':
            if (a.to.level === 'record') this.assignRecords(a, rl);
            else if (a.to.level === 'scope') for (const sl of rl.scopeLogs) this.assignGroup(a, rl, sl, [sl]);
            else this.assignGroup(a, rl, undefined, rl.scopeLogs);
            break;
          case 'limit':
            for (const sl of rl.scopeLogs) for (const rec of sl.logRecords) limitAttributes(rec, a.max);
            break;
          default:
            // Scope and resource fields are modified once per holder, not once per record.
            if (a.field.level === 'resource') this.modify(a, rl, undefined, undefined);
            else if (a.field.level === 'scope') for (const sl of rl.scopeLogs) this.modify(a, rl, sl, undefined);
            else for (const sl of rl.scopeLogs) for (const rec of sl.logRecords) this.modify(a, rl, sl, rec);
        }
      }
    }
    return batch;
  }

  private value(a: Assign, rl: ResourceLogs, sl: ScopeLogs, rec: LogRecord): AnyValue | undefined {
    return a.op === 'set' ? { stringValue: renderTemplate(a.template, rl, sl, rec) } : getField(a.from, rl, sl, rec);
  }

  /** Copy, move or set into a record field, record by record. */
  private assignRecords(a: Assign, rl: ResourceLogs): void {
    const from = a.op === 'set' ? undefined : a.from;
    // A value taken from a scope or resource field lands in many records: each gets its own copy.
    const clone = a.op === 'copy' || (from !== undefined && from.level !== 'record');
    let movedAny = false;
    for (const sl of rl.scopeLogs) {
      let movedHere = false;
      for (const rec of sl.logRecords) {
        const v = this.value(a, rl, sl, rec);
        if (v === undefined) continue;
        if (!setField(a.to, rl, sl, rec, clone ? cloneValue(v) : v)) {
          this.count(TRANSFORM_EVENTS.invalidSeverityNumber);
          continue;
        }
        if (a.op !== 'move') continue;
        movedHere = true;
        if (a.from.level === 'record') deleteField(a.from, rl, sl, rec);
      }
      if (movedHere && a.op === 'move' && a.from.level === 'scope') deleteField(a.from, rl, sl, undefined);
      movedAny ||= movedHere;
    }
    if (movedAny && a.op === 'move' && a.from.level === 'resource') deleteField(a.from, rl, undefined, undefined);
  }

  /**
   * Copy, move or set into the scope `target` (or the resource when undefined) from the records
   * of `groups`: only when every record yields a value and all are equal.
   */
  private assignGroup(a: Assign, rl: ResourceLogs, target: ScopeLogs | undefined, groups: readonly ScopeLogs[]): void {
    let first: AnyValue | undefined;
    let present = 0;
    let total = 0;
    let equal = true;
    for (const sl of groups) {
      for (const rec of sl.logRecords) {
        total++;
        const v = this.value(a, rl, sl, rec);
        if (v === undefined) continue;
        present++;
        if (first === undefined) first = v;
        else if (equal && !valuesEqual(first, v)) equal = false;
      }
    }
    if (present === 0) return;
    if (present < total || !equal) {
      this.count(target ? TRANSFORM_EVENTS.scopeConflict : TRANSFORM_EVENTS.resourceConflict);
      return;
    }
    setField(a.to, rl, target, undefined, cloneValue(first!));
    if (a.op !== 'move') return;
    const from = a.from;
    if (from.level === 'resource') deleteField(from, rl, undefined, undefined);
    else if (from.level === 'scope') for (const sl of groups) deleteField(from, rl, sl, undefined);
    else for (const sl of groups) for (const rec of sl.logRecords) deleteField(from, rl, sl, rec);
  }

  private modify(a: Modify, rl: ResourceLogs, sl: ScopeLogs | undefined, rec: LogRecord | undefined): void {
    if (a.op === 'delete') {
      deleteField(a.field, rl, sl, rec);
      return;
    }
    const v = getField(a.field, rl, sl, rec);
    if (v === undefined) return;
    let out: AnyValue | undefined;
    if (a.op === 'hash') out = { stringValue: hashValue(v) };
    else if (a.op === 'truncate') out = truncateValue(v, a.maxBytes);
    else if (a.op === 'convert') {
      out = convertValue(v, a.type);
      if (out === undefined) {
        this.count(TRANSFORM_EVENTS.convertFailed);
        return;
      }
    }
    if (out !== undefined && out !== v) setField(a.field, rl, sl, rec, out);
  }

  private count(event: string): void {
    this.counts.set(event, (this.counts.get(event) ?? 0) + 1);
  }
}

/** Keeps the first `max` attributes and adds the number removed to dropped_attributes_count, as SDK attribute limits do. */
function limitAttributes(rec: LogRecord, max: number): void {
  const removed = rec.attributes.length - max;
  if (removed <= 0) return;
  rec.attributes.length = max;
  rec.droppedAttributesCount += removed;
}

export const transformProcessor = defineProcessor({
  name: 'transform',
  summary: 'Copies, moves, deletes, hashes, truncates, converts or sets fields of records, scopes and resources; limits attribute counts.',
  options: {
    actions: opt.custom<readonly TransformAction[]>(
      'actions',
      parseTransformActions,
      z.array(transformActionSchema).readonly(),
      [],
      'Actions applied in order. Env: `copy a=b; move attributes.msg=body; delete x; hash user.email; truncate message=256; limit 64; convert http.status=int; set summary={severity_text} {body}`. YAML: list of `{action: copy|move|rename, from, to}`, `{action: delete|hash, field}`, `{action: truncate, field, max_bytes}`, `{action: limit, max}`, `{action: convert, field, type}`, `{action: set, field, template}`.',
    ),
  },
  create(o) {
    return new TransformProcessor(o.actions);
  },
});
