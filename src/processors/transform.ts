/**
 * `transform`: an ordered list of field operations beyond `attributes` — copy, move/rename,
 * delete, hash, truncate, limit, convert and set-from-template — over record body, attributes,
 * typed record fields, scope attributes and resource attributes.
 *
 * Each action runs over every record of a resource before the next action starts, so a later
 * action sees the effect of an earlier one on the shared resource and scope. Writing a resource
 * (or scope) field from record values happens only when every record of that resource (scope)
 * the processor sees has the value and all values are equal: the resource describes all of its
 * records, and picking one record's value would mislabel the others. Otherwise nothing changes
 * and the conflict is counted.
 */
import { z } from 'zod';
import { opt } from '../config/options';
import { defineProcessor, type Processor } from './contract';
import type { AnyValue, LogBatch, LogRecord } from '../records/types';
import { anyValueEquals } from '../records/values';
import { parseTransformActions, transformActionSchema, type TransformAction } from '../transform/actions';
import { deleteField, getField, parseFieldPath, setField, type FieldPath } from '../transform/fields';
import { compileTemplate, renderTemplate, type Template } from '../transform/template';
import { cloneValue, convertValue, hashValue, truncateValue, type ConvertType } from '../transform/values';

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

  process(batch: LogBatch): void {
    if (this.actions.length === 0) return;
    // Records of one resource (and of one scope) are adjacent in a batch and in a `where` view.
    const recs = Array.from(batch);
    for (let start = 0; start < recs.length; ) {
      const end = runEnd(recs, start, recs.length, false);
      this.processResource(recs, start, end);
      start = end;
    }
  }

  /** Runs every action over `recs[start, end)`, the records of one resource. */
  private processResource(recs: readonly LogRecord[], start: number, end: number): void {
    for (const a of this.actions) {
      switch (a.op) {
        case 'copy':
        case 'move':
        case 'set':
          if (a.to.level === 'record') this.assignRecords(a, recs, start, end);
          else if (a.to.level === 'scope') {
            for (let s = start; s < end; ) {
              const scopeEnd = runEnd(recs, s, end, true);
              this.assignGroup(a, recs, s, scopeEnd, true);
              s = scopeEnd;
            }
          } else this.assignGroup(a, recs, start, end, false);
          break;
        case 'limit':
          for (let i = start; i < end; i++) limitAttributes(recs[i]!, a.max);
          break;
        default:
          // Scope and resource fields are modified once per holder (through its first record), not once per record.
          if (a.field.level === 'resource') this.modify(a, recs[start]!);
          else if (a.field.level === 'scope') for (let s = start; s < end; s = runEnd(recs, s, end, true)) this.modify(a, recs[s]!);
          else for (let i = start; i < end; i++) this.modify(a, recs[i]!);
      }
    }
  }

  private value(a: Assign, rec: LogRecord): AnyValue | undefined {
    return a.op === 'set' ? { stringValue: renderTemplate(a.template, rec) } : getField(a.from, rec);
  }

  /** Copy, move or set into a record field, record by record, over the records of one resource. */
  private assignRecords(a: Assign, recs: readonly LogRecord[], start: number, end: number): void {
    const from = a.op === 'set' ? undefined : a.from;
    // A value taken from a scope or resource field lands in many records: each gets its own copy.
    const clone = a.op === 'copy' || (from !== undefined && from.level !== 'record');
    let movedAny = false;
    for (let s = start; s < end; ) {
      const scopeEnd = runEnd(recs, s, end, true);
      let movedHere = false;
      for (let i = s; i < scopeEnd; i++) {
        const rec = recs[i]!;
        const v = this.value(a, rec);
        if (v === undefined) continue;
        if (!setField(a.to, rec, clone ? cloneValue(v) : v)) {
          this.count(TRANSFORM_EVENTS.invalidSeverityNumber);
          continue;
        }
        if (a.op !== 'move') continue;
        movedHere = true;
        if (a.from.level === 'record') deleteField(a.from, rec);
      }
      if (movedHere && a.op === 'move' && a.from.level === 'scope') deleteField(a.from, recs[s]!);
      movedAny ||= movedHere;
      s = scopeEnd;
    }
    if (movedAny && a.op === 'move' && a.from.level === 'resource') deleteField(a.from, recs[start]!);
  }

  /**
   * Copy, move or set into the scope (`scope` true) or the resource of `recs[start, end)`, the
   * records of that scope or resource: only when every record yields a value and all are equal.
   */
  private assignGroup(a: Assign, recs: readonly LogRecord[], start: number, end: number, scope: boolean): void {
    let first: AnyValue | undefined;
    let present = 0;
    let equal = true;
    for (let i = start; i < end; i++) {
      const v = this.value(a, recs[i]!);
      if (v === undefined) continue;
      present++;
      if (first === undefined) first = v;
      else if (equal && !anyValueEquals(first, v)) equal = false;
    }
    if (present === 0) return;
    if (present < end - start || !equal) {
      this.count(scope ? TRANSFORM_EVENTS.scopeConflict : TRANSFORM_EVENTS.resourceConflict);
      return;
    }
    setField(a.to, recs[start]!, cloneValue(first!));
    if (a.op !== 'move') return;
    const from = a.from;
    if (from.level === 'resource') deleteField(from, recs[start]!);
    else if (from.level === 'scope') for (let s = start; s < end; s = runEnd(recs, s, end, true)) deleteField(from, recs[s]!);
    else for (let i = start; i < end; i++) deleteField(from, recs[i]!);
  }

  /** Applies a delete, hash, truncate or convert to the field of `rec` (or of its scope or resource). */
  private modify(a: Modify, rec: LogRecord): void {
    if (a.op === 'delete') {
      deleteField(a.field, rec);
      return;
    }
    const v = getField(a.field, rec);
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
    if (out !== undefined && out !== v) setField(a.field, rec, out);
  }

  private count(event: string): void {
    this.counts.set(event, (this.counts.get(event) ?? 0) + 1);
  }
}

/** End of the run of records from `start` (before `end`) that share the first one's scope (`scope` true) or resource. */
function runEnd(recs: readonly LogRecord[], start: number, end: number, scope: boolean): number {
  let i = start + 1;
  if (scope) {
    const holder = recs[start]!.scope;
    while (i < end && recs[i]!.scope === holder) i++;
  } else {
    const holder = recs[start]!.resource;
    while (i < end && recs[i]!.resource === holder) i++;
  }
  return i;
}

/**
 * Keeps the first `max` attributes and adds the number removed to dropped_attributes_count, as
 * SDK attribute limits do.
 */
function limitAttributes(rec: LogRecord, max: number): void {
  const attrs = rec.attributes;
  const before = attrs.size;
  if (before <= max) return;
  const keys = Array.from(attrs.keys());
  // `delete` removes every entry of a key: a repeated key both kept and cut needs a rebuild.
  let repeated = false;
  for (let i = max; i < keys.length && !repeated; i++) repeated = keys.indexOf(keys[i]!) < max;
  if (repeated) {
    const kept: [string, AnyValue][] = [];
    for (const entry of attrs) {
      if (kept.length === max) break;
      kept.push(entry);
    }
    attrs.clear();
    // The first entry of a repeated key is the one `get` answers: that one stays.
    for (const [key, value] of kept) if (!attrs.has(key)) attrs.set(key, value);
  } else {
    for (let i = max; i < keys.length; i++) attrs.delete(keys[i]!);
  }
  rec.droppedAttributesCount += before - attrs.size;
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
