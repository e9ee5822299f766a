/**
 * Conditions: CEL expressions evaluated against one log record (with its resource and scope),
 * used by `OLP_<PROCESSOR>_WHERE` and by the `filter` processor.
 *
 * Compilation catches syntax errors, unknown variables, unknown functions, comparisons of a
 * typed variable with a literal of an incompatible type, and top-level expressions that cannot
 * be a bool. Evaluation never throws: a runtime error (a missing map key read without `has()`,
 * a bad regex, a type mismatch on a structured value) or a non-bool result counts as "no match".
 *
 * Variables (only those the expression references are built per record):
 *   body                     string for string bodies; int, double, bool, bytes, list or map for
 *                            other bodies (int values as CEL int); null when the record has none
 *   severity_number          int
 *   severity_text            string
 *   attributes               map(string, dyn): the record attributes
 *   resource                 map(string, dyn): the resource attributes
 *   scope_name               string ("" without a scope)
 *   event_name               string
 *   trace_id, span_id        lowercase hex strings ("" when unset)
 *   time_unix_nano,
 *   observed_time_unix_nano  int (exact 64-bit; values past 2^63-1 are clamped)
 */
import type * as CelLib from '@bufbuild/cel';
import type { CelInput } from '@bufbuild/cel';
import { LRUCache } from 'lru-cache';
import { RE2JS } from 're2js';
import { opt } from '../config/options';
import type { AnyValue, Attributes, KeyValue, LogRecord, Resource } from '../records/types';
import { anyValueKind } from '../records/values';

export interface Condition {
  /** The expression as written. */
  readonly expression: string;
  /** True when the record (with its resource and scope) matches; false on no match and on any evaluation error. */
  matches(record: LogRecord): boolean;
  /** Evaluations that ended in a runtime error (and so counted as no match). */
  readonly errors: number;
  /**
   * Forgets the resource attributes converted for the last resource. Call once per batch: the
   * cache is keyed by the resource object, and a processor may change its attributes.
   */
  reset(): void;
}

/** The `where` option every processor gets (OLP_<PROCESSOR>_WHERE, YAML `<processor>.where`). */
export const whereOption = opt.string(
  '',
  'CEL condition: the processor only sees records for which it is true; other records pass through unchanged. Empty: all records.',
);

/** The variables and their CEL types. */
function variables(cel: typeof CelLib): Record<VariableName, CelLib.CelType> {
  const { CelScalar, mapType } = cel;
  return {
    body: CelScalar.DYN,
    severity_number: CelScalar.INT,
    severity_text: CelScalar.STRING,
    attributes: mapType(CelScalar.STRING, CelScalar.DYN),
    resource: mapType(CelScalar.STRING, CelScalar.DYN),
    scope_name: CelScalar.STRING,
    event_name: CelScalar.STRING,
    trace_id: CelScalar.STRING,
    span_id: CelScalar.STRING,
    time_unix_nano: CelScalar.INT,
    observed_time_unix_nano: CelScalar.INT,
  };
}
const VARIABLE_NAMES = [
  'body',
  'severity_number',
  'severity_text',
  'attributes',
  'resource',
  'scope_name',
  'event_name',
  'trace_id',
  'span_id',
  'time_unix_nano',
  'observed_time_unix_nano',
] as const;
type VariableName = (typeof VARIABLE_NAMES)[number];
export const CONDITION_VARIABLES: readonly string[] = VARIABLE_NAMES;
/** Scalar type of each typed variable, for compile-time comparison checks. */
const SCALAR_OF: Partial<Record<VariableName, 'int' | 'string'>> = {
  severity_number: 'int',
  severity_text: 'string',
  scope_name: 'string',
  event_name: 'string',
  trace_id: 'string',
  span_id: 'string',
  time_unix_nano: 'int',
  observed_time_unix_nano: 'int',
};

/** Distinct `matches` patterns kept compiled; patterns usually are literals, so a few per condition. */
export const MATCHES_CACHE_SIZE = 256;

/**
 * The RE2 engine behind `matches` (still RE2: linear time), with compiled patterns cached:
 * CEL's own compiles the pattern on every call, about 20 times the cost of the match.
 * A pattern that does not compile is cached as its error, thrown on each use (a CEL error: no match).
 */
const matchesEngine = {
  compiled: new LRUCache<string, RE2JS | Error>({ max: MATCHES_CACHE_SIZE }),
  compile(pattern: string): RE2JS {
    let m = this.compiled.get(pattern);
    if (m === undefined) {
      try {
        m = RE2JS.compile(pattern);
      } catch (e) {
        m = e as Error;
      }
      this.compiled.set(pattern, m);
    }
    if (m instanceof Error) throw m;
    return m;
  },
};

/**
 * The CEL library and environment, loaded by the first condition compiled: a service whose
 * chain has no condition never loads them (about 20 MiB of memory and 0.2 s of start-up).
 */
const celRuntime = (() => {
  let loaded: { readonly lib: typeof CelLib; readonly env: ReturnType<typeof CelLib.celEnv> } | undefined;
  return () => {
    if (!loaded) {
      const lib = require('@bufbuild/cel') as typeof CelLib;
      loaded = { lib, env: lib.celEnv({ variables: variables(lib), re2: matchesEngine }) };
    }
    return loaded;
  };
})();

/** Functions the planner handles itself (logic, macros, indexing), not found in the resolver. */
const BUILTIN_CALLS = new Set(['_&&_', '_||_', '_?_:_', '@not_strictly_false', 'not_strictly_false', '_[_]', '_[?_]', '_?._']);
/** Type names usable as identifiers (`type(x) == string`). */
const TYPE_IDENTS = new Set(['int', 'uint', 'double', 'bool', 'string', 'bytes', 'list', 'map', 'null_type', 'type', 'dyn']);
const ORDERING = new Set(['_<_', '_<=_', '_>_', '_>=_', '_==_', '_!=_']);
const NON_BOOL_RESULTS = new Set(['_+_', '_-_', '_*_', '_/_', '_%_', '-_', 'size', 'int', 'uint', 'double', 'string', 'bytes', 'type', 'duration', 'timestamp']);

type Parsed = ReturnType<typeof CelLib.parse>;
type Expr = Parsed['expr'];

function constKind(e: Expr): 'int' | 'string' | 'double' | 'bool' | 'bytes' | 'null' | undefined {
  if (e.exprKind.case !== 'constExpr') return undefined;
  switch (e.exprKind.value.constantKind.case) {
    case 'int64Value':
    case 'uint64Value':
      return 'int';
    case 'doubleValue':
      return 'double';
    case 'stringValue':
      return 'string';
    case 'boolValue':
      return 'bool';
    case 'bytesValue':
      return 'bytes';
    case 'nullValue':
      return 'null';
    default:
      return undefined;
  }
}

/** Walks the AST: rejects unknown names, returns the top-level variables used. */
function analyse(parsed: Parsed, expression: string): Set<VariableName> {
  const used = new Set<VariableName>();
  const positions = parsed.sourceInfo?.positions ?? {};
  const at = (e: Expr): string => {
    const offset = (positions as Record<string, number>)[String(e.id)];
    return offset === undefined ? '' : ` at column ${offset + 1}`;
  };
  const fail = (e: Expr, msg: string): never => {
    throw new Error(`${msg}${at(e)} in "${expression}"`);
  };
  const visit = (e: Expr | undefined, locals: ReadonlySet<string>): void => {
    if (!e) return;
    const k = e.exprKind;
    switch (k.case) {
      case 'identExpr': {
        const name = k.value.name;
        if (locals.has(name) || TYPE_IDENTS.has(name)) return;
        if ((CONDITION_VARIABLES as readonly string[]).includes(name)) used.add(name as VariableName);
        else fail(e, `unknown variable "${name}" (known: ${CONDITION_VARIABLES.join(', ')})`);
        return;
      }
      case 'selectExpr':
        visit(k.value.operand, locals);
        return;
      case 'callExpr': {
        const fn = k.value.function;
        if (!BUILTIN_CALLS.has(fn) && !celRuntime().env.funcs.find(fn)) fail(e, `unknown function "${fn}"`);
        if (ORDERING.has(fn) && k.value.args.length === 2) {
          const [a, b] = k.value.args as [Expr, Expr];
          for (const [v, c] of [
            [a, b],
            [b, a],
          ] as const) {
            if (v.exprKind.case !== 'identExpr' || locals.has(v.exprKind.value.name)) continue;
            const want = SCALAR_OF[v.exprKind.value.name as VariableName];
            const got = constKind(c);
            if (!want || !got) continue;
            const ok = want === got || (want === 'int' && got === 'double');
            if (!ok) fail(e, `${v.exprKind.value.name} is ${want}, compared with a ${got} literal`);
          }
        }
        visit(k.value.target, locals);
        for (const arg of k.value.args) visit(arg, locals);
        return;
      }
      case 'listExpr':
        for (const el of k.value.elements) visit(el, locals);
        return;
      case 'structExpr':
        for (const entry of k.value.entries) {
          if (entry.keyKind.case === 'mapKey') visit(entry.keyKind.value, locals);
          visit(entry.value, locals);
        }
        return;
      case 'comprehensionExpr': {
        const c = k.value;
        visit(c.iterRange, locals);
        visit(c.accuInit, locals);
        const inner = new Set(locals);
        inner.add(c.iterVar);
        if (c.iterVar2) inner.add(c.iterVar2);
        inner.add(c.accuVar);
        visit(c.loopCondition, inner);
        visit(c.loopStep, inner);
        visit(c.result, inner);
        return;
      }
      default:
        return;
    }
  };
  visit(parsed.expr, new Set());

  // Top-level expressions that can never be a bool.
  const top = parsed.expr;
  const kind = constKind(top);
  if (kind && kind !== 'bool') fail(top, `the condition must be a bool, not a ${kind} literal`);
  if (top.exprKind.case === 'identExpr' && SCALAR_OF[top.exprKind.value.name as VariableName]) {
    fail(top, `the condition must be a bool, not ${top.exprKind.value.name} (a ${SCALAR_OF[top.exprKind.value.name as VariableName]})`);
  }
  if (top.exprKind.case === 'listExpr' || top.exprKind.case === 'structExpr') fail(top, 'the condition must be a bool, not a list or map');
  if (top.exprKind.case === 'callExpr' && NON_BOOL_RESULTS.has(top.exprKind.value.function)) {
    fail(top, `the condition must be a bool, not the result of ${top.exprKind.value.function.replace(/_/g, ' ').trim()}`);
  }
  return used;
}

const INT64_MAX = (1n << 63n) - 1n;

/** Unsigned timestamps as CEL int, exactly; values past int64 are clamped. */
function timeToInt(t: bigint): bigint {
  return t > INT64_MAX ? INT64_MAX : t;
}

/** OTLP AnyValue → CEL value. An empty value becomes null. */
export function anyValueToCel(v: AnyValue | undefined): CelInput {
  switch (anyValueKind(v)) {
    case 'stringValue':
      return v!.stringValue!;
    case 'boolValue':
      return v!.boolValue!;
    case 'intValue':
      return v!.intValue!;
    case 'doubleValue':
      return v!.doubleValue!;
    case 'bytesValue':
      return v!.bytesValue!;
    case 'arrayValue':
      return v!.arrayValue!.values.map(anyValueToCel);
    case 'kvlistValue':
      return keyValuesToCel(v!.kvlistValue!.values);
    default:
      return null;
  }
}

function keyValuesToCel(kvs: readonly KeyValue[]): Map<string, CelInput> {
  const m = new Map<string, CelInput>();
  for (const kv of kvs) m.set(kv.key, anyValueToCel(kv.value));
  return m;
}

/** An attribute map as a CEL map; a repeated key keeps its first value, as `Attributes.get` does. */
export function attributesToCel(attrs: Attributes): Map<string, CelInput> {
  const m = new Map<string, CelInput>();
  if (attrs.size === 0) return m;
  for (const [key, value] of attrs) if (!m.has(key)) m.set(key, anyValueToCel(value));
  return m;
}

const HEX: string[] = Array.from({ length: 256 }, (_v, i) => i.toString(16).padStart(2, '0'));
function hex(b: Uint8Array): string {
  if (b.length === 0) return '';
  let s = '';
  for (let i = 0; i < b.length; i++) s += HEX[b[i]!];
  return s;
}

const EMPTY_MAP: ReadonlyMap<string, CelInput> = new Map();

/**
 * Compiles a CEL condition. Throws an Error naming the problem (and its column when known) for
 * syntax errors, unknown variables or functions and obviously ill-typed comparisons.
 */
export function compileCondition(expression: string): Condition {
  if (expression.trim() === '') throw new Error('the condition is empty');
  const { lib, env } = celRuntime();
  let parsed: Parsed;
  try {
    parsed = lib.parse(expression);
  } catch (e) {
    throw new Error(`syntax error: ${(e as Error).message.replace(/^<input>:/, 'line:column ')}`, { cause: e });
  }
  const used = analyse(parsed, expression);
  let program: (ctx: Record<string, CelInput>) => unknown;
  try {
    program = lib.plan(env, parsed) as unknown as typeof program;
  } catch (e) {
    throw new Error(`${(e as Error).message} in "${expression}"`, { cause: e });
  }

  const needs = (n: VariableName): boolean => used.has(n);
  const wantBody = needs('body');
  const wantSevNum = needs('severity_number');
  const wantSevText = needs('severity_text');
  const wantAttrs = needs('attributes');
  const wantResource = needs('resource');
  const wantScope = needs('scope_name');
  const wantEvent = needs('event_name');
  const wantTrace = needs('trace_id');
  const wantSpan = needs('span_id');
  const wantTime = needs('time_unix_nano');
  const wantObserved = needs('observed_time_unix_nano');

  // One activation reused for every record: evaluation is synchronous.
  const activation: Record<string, CelInput> = {};
  // Resource attributes are shared by all records of a group: convert once per resource object
  // (its attribute count catches most changes between resets).
  let lastResource: Resource | undefined = undefined;
  let lastResourceSize = -1;
  let resourceMap: ReadonlyMap<string, CelInput> = EMPTY_MAP;
  let errors = 0;

  return {
    expression,
    get errors() {
      return errors;
    },
    matches(record) {
      if (wantBody) {
        // The string read avoids building a value object for the usual string body.
        const s = record.bodyString;
        activation.body = s !== undefined ? s : anyValueToCel(record.body);
      }
      if (wantSevNum) activation.severity_number = BigInt(record.severityNumber);
      if (wantSevText) activation.severity_text = record.severityText;
      if (wantAttrs) activation.attributes = attributesToCel(record.attributes);
      if (wantResource) {
        const resource = record.resource;
        const attrs = resource.attributes;
        if (resource !== lastResource || attrs.size !== lastResourceSize) {
          resourceMap = attrs.size > 0 ? attributesToCel(attrs) : EMPTY_MAP;
          lastResource = resource;
          lastResourceSize = attrs.size;
        }
        activation.resource = resourceMap;
      }
      if (wantScope) activation.scope_name = record.scope.name;
      if (wantEvent) activation.event_name = record.eventName;
      if (wantTrace) activation.trace_id = hex(record.traceId);
      if (wantSpan) activation.span_id = hex(record.spanId);
      if (wantTime) activation.time_unix_nano = timeToInt(record.timeUnixNano);
      if (wantObserved) activation.observed_time_unix_nano = timeToInt(record.observedTimeUnixNano);
      let result: unknown;
      try {
        result = program(activation);
      } catch {
        errors++;
        return false;
      }
      if (result === true) return true;
      if (result !== false && lib.isCelError(result)) errors++;
      return false;
    },
    reset() {
      lastResource = undefined;
      lastResourceSize = -1;
      resourceMap = EMPTY_MAP;
    },
  };
}
