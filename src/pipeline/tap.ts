/**
 * Taps: live copies of records as they leave the chain, or as they leave one processor
 * (GET /api/tap on the metrics port, `otlp-log-processor tap`). A tap never holds up or changes
 * the pipeline: it looks at a bounded number of records per second, serializes the ones that
 * match its condition into JSON lines, and what it cannot take is dropped and counted.
 *
 * Two owners:
 *   TapPoints  one per thread that runs a chain (the event-loop thread, or each worker thread):
 *              the chain asks it, once per stage, whether a tap looks at that point (one array
 *              lookup; `wanted` is undefined while no tap is attached, so an untapped chain
 *              does nothing else). A tap looking there takes records up to its rate (a token
 *              bucket, checked before anything else so a busy service spends at most `rate`
 *              condition checks that match and serializations per second on it), keeps the
 *              lines in a bounded queue and hands them on once per turn of the event loop.
 *   TapHub     on the event-loop thread: the open tap streams. It validates a request, tells
 *              the threads the current taps (their rate shared among them), writes the lines
 *              the threads hand on to each tap's client — dropped while the client leaves more
 *              than TAP_CLIENT_BUFFER_BYTES unread in this process (the socket's buffers are
 *              full), so at most that plus one hand-over is ever buffered — and ends a stream
 *              at its limit or at shutdown.
 */
import type { Counter } from 'prom-client';
import { compileCondition, type Condition } from '../conditions';
import type { Metrics } from '../telemetry/metrics';
import type { AnyValue, Attributes, LogRecord, Resource } from '../records/types';

/** Records per second a tap shows unless it asks otherwise, and the most it may ask for. */
export const TAP_DEFAULT_RATE = 100;
export const TAP_MAX_RATE = 10_000;
/** Lines (and characters) a tap holds per thread between two hand-overs; more in one turn of the event loop are dropped (`full`). */
export const TAP_QUEUE_LINES = 1000;
export const TAP_QUEUE_CHARS = 4 * 1024 * 1024;
/** Bytes a client may leave unread in the service's buffers (beyond what the socket holds); lines beyond are dropped (`slow_client`). */
export const TAP_CLIENT_BUFFER_BYTES = 256 * 1024;
/** Taps open at once; more are refused (429). */
export const TAP_MAX_OPEN = 8;
/** Longest `where` accepted. */
export const TAP_MAX_WHERE_CHARS = 4096;
/** A stream's counters are written at most this often (when they changed and the client keeps up). */
const STATS_INTERVAL_MS = 1000;
/** At shutdown, a stream's last lines get this long to leave before its connection is closed. */
const SHUTDOWN_GRACE_MS = 1000;

export type TapDropReason = 'rate' | 'full' | 'slow_client';
export type TapDrops = Record<TapDropReason, number>;

/** What every thread that runs the chain knows of a tap. */
export interface TapSpec {
  readonly id: number;
  /** Stages run before the tap looks: 0 = as received, i + 1 = after stage i, stages = end of chain. */
  readonly point: number;
  /** CEL condition (src/conditions); empty: every record. */
  readonly where: string;
  /** This thread's share of the tap's records per second. */
  readonly rate: number;
  /** Lines this thread hands on at most (the stream's limit); 0: no limit. */
  readonly limit: number;
}

/** What a thread hands on for one tap since the last hand-over. */
export interface TapOutput {
  readonly id: number;
  readonly lines: readonly string[];
  readonly rate: number;
  readonly full: number;
}

/** The records a tap point sees: a RecordBatch (its live records, in order). */
export interface TappedBatch {
  records(): readonly LogRecord[];
}

// ---- one record as a JSON line ----

const hex = (b: Uint8Array): string => (b.length === 0 ? '' : Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex'));
const base64 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');

/** An AnyValue as JSON: ints as decimal strings (exact), bytes as base64, non-finite doubles as strings, empty as null. */
export function valueJson(v: AnyValue | undefined): string {
  if (v === undefined) return 'null';
  if (v.stringValue !== undefined) return JSON.stringify(v.stringValue);
  if (v.intValue !== undefined) return `"${v.intValue}"`;
  if (v.boolValue !== undefined) return v.boolValue ? 'true' : 'false';
  if (v.doubleValue !== undefined) return Number.isFinite(v.doubleValue) ? String(v.doubleValue) : `"${v.doubleValue}"`;
  if (v.kvlistValue !== undefined) return pairsJson(v.kvlistValue.values.map((kv) => [kv.key, kv.value]));
  if (v.arrayValue !== undefined) return `[${v.arrayValue.values.map(valueJson).join(',')}]`;
  if (v.bytesValue !== undefined) return `"${base64(v.bytesValue)}"`;
  return 'null';
}

function pairsJson(pairs: Iterable<readonly [string, AnyValue]>): string {
  let out = '';
  for (const [k, v] of pairs) out += `${out === '' ? '' : ','}${JSON.stringify(k)}:${valueJson(v)}`;
  return `{${out}}`;
}

const attributesJson = (a: Attributes): string => (a.size === 0 ? '{}' : pairsJson(a));

/** The JSON of the last resource serialized, for the records of one batch that share it (their resource cannot change meanwhile). */
export interface ResourceMemo {
  resource?: Resource;
  json?: string;
}

/**
 * One record as a JSON line (no newline): times as decimal strings of the nanoseconds, the body
 * a plain string when it is one (else valueJson), attributes and resource attributes as objects,
 * trace and span ids as hex ("" when unset).
 */
export function recordJson(r: LogRecord, memo: ResourceMemo = {}): string {
  const body = r.bodyString;
  if (memo.resource !== r.resource) {
    memo.resource = r.resource;
    memo.json = attributesJson(r.resource.attributes);
  }
  return (
    `{"time":"${r.timeUnixNano}","observedTime":"${r.observedTimeUnixNano}","severityNumber":${r.severityNumber},"severityText":${JSON.stringify(r.severityText)}` +
    `,"body":${body !== undefined ? JSON.stringify(body) : valueJson(r.body)},"attributes":${attributesJson(r.attributes)}` +
    `,"resource":${memo.json},"scope":${JSON.stringify(r.scope.name)}` +
    `,"traceId":"${hex(r.traceId)}","spanId":"${hex(r.spanId)}","eventName":${JSON.stringify(r.eventName)}}`
  );
}

// ---- per thread ----

class LocalTap {
  private tokens: number;
  private last: number;
  private remaining: number;
  readonly lines: string[] = [];
  chars = 0;
  rateDrops = 0;
  fullDrops = 0;

  constructor(
    public spec: TapSpec,
    private readonly where: Condition | undefined,
    now: number,
  ) {
    // A second's worth to start with: the first records show at once.
    this.tokens = Math.max(1, spec.rate);
    this.last = now;
    this.remaining = spec.limit > 0 ? spec.limit : Infinity;
  }

  /** The same tap with a new rate share or limit (the bucket and what was taken are kept). */
  update(spec: TapSpec): void {
    this.spec = spec;
  }

  get pending(): boolean {
    return this.lines.length > 0 || this.rateDrops > 0 || this.fullDrops > 0;
  }

  take(records: readonly LogRecord[], now: number, drops: { rate: { inc(n: number): void }; full: { inc(n: number): void } }): void {
    if (this.remaining <= 0) return;
    const rate = this.spec.rate;
    this.tokens = Math.min(Math.max(1, rate), this.tokens + ((now - this.last) / 1000) * rate);
    this.last = now;
    const where = this.where;
    where?.reset();
    const memo: ResourceMemo = {};
    const n = records.length;
    for (let i = 0; i < n; i++) {
      if (this.tokens < 1) {
        // At the cap: the rest is not looked at (not even matched against `where`).
        this.rateDrops += n - i;
        drops.rate.inc(n - i);
        return;
      }
      const r = records[i]!;
      if (r.dropped || (where !== undefined && !where.matches(r))) continue;
      this.tokens -= 1;
      if (this.lines.length >= TAP_QUEUE_LINES || this.chars >= TAP_QUEUE_CHARS) {
        this.fullDrops++;
        drops.full.inc(1);
        continue;
      }
      const line = recordJson(r, memo);
      this.lines.push(line);
      this.chars += line.length;
      if (--this.remaining <= 0) return;
    }
  }
}

/**
 * The taps of one thread's chain. `hand` receives, once per turn of the event loop in which
 * a tap took something, the lines and drop counts of every tap since the last hand-over.
 */
export class TapPoints {
  /** wanted[p] is 1 when a tap looks at point p (0 … stages); undefined while no tap is attached. */
  wanted: Uint8Array | undefined;
  private taps = new Map<number, LocalTap>();
  private byPoint: LocalTap[][] = [];
  private scheduled = false;
  private readonly drops: { rate: { inc(n: number): void }; full: { inc(n: number): void } };

  constructor(
    /** Stages of the chain. */
    readonly stages: number,
    private readonly hand: (outputs: TapOutput[]) => void,
    dropped?: Counter<'reason'>,
    private readonly now: () => number = () => performance.now(),
  ) {
    const none = { inc: () => undefined };
    this.drops = { rate: dropped?.labels('rate') ?? none, full: dropped?.labels('full') ?? none };
  }

  /** Replaces the set of taps; a tap kept (same id and condition) keeps its bucket and queue. */
  set(specs: readonly TapSpec[]): void {
    const next = new Map<number, LocalTap>();
    for (const spec of specs) {
      if (!Number.isInteger(spec.point) || spec.point < 0 || spec.point > this.stages) continue;
      const had = this.taps.get(spec.id);
      if (had && had.spec.where === spec.where) {
        had.update(spec);
        next.set(spec.id, had);
        continue;
      }
      let where: Condition | undefined;
      try {
        where = spec.where ? compileCondition(spec.where) : undefined;
      } catch {
        continue; // validated where the tap was opened; a thread that cannot compile it shows nothing
      }
      next.set(spec.id, new LocalTap(spec, where, this.now()));
    }
    this.taps = next;
    this.byPoint = Array.from({ length: this.stages + 1 }, () => []);
    for (const tap of next.values()) this.byPoint[tap.spec.point]!.push(tap);
    this.wanted = next.size === 0 ? undefined : Uint8Array.from(this.byPoint, (taps) => (taps.length > 0 ? 1 : 0));
  }

  get size(): number {
    return this.taps.size;
  }

  /** The records at `point` (the chain calls this only where `wanted` says a tap looks). */
  offer(point: number, batch: TappedBatch): void {
    const taps = this.byPoint[point];
    if (!taps || taps.length === 0) return;
    const records = batch.records();
    const now = this.now();
    for (const tap of taps) tap.take(records, now, this.drops);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Hands on what the taps took since the last hand-over. */
  flush(): void {
    this.scheduled = false;
    const outputs: TapOutput[] = [];
    for (const tap of this.taps.values()) {
      if (!tap.pending) continue;
      outputs.push({ id: tap.spec.id, lines: tap.lines.splice(0), rate: tap.rateDrops, full: tap.fullDrops });
      tap.chars = 0;
      tap.rateDrops = 0;
      tap.fullDrops = 0;
    }
    if (outputs.length > 0) this.hand(outputs);
  }
}

// ---- the open streams (event-loop thread) ----

/** Where a tap's lines go: an HTTP response. */
export interface TapClient {
  write(chunk: string): boolean;
  /** Bytes written and not yet taken by the socket: over TAP_CLIENT_BUFFER_BYTES, lines are dropped. */
  readonly writableLength: number;
  end(): void;
  /** Closes the connection at once (at shutdown, a client that is not reading). */
  destroy(): void;
  once(event: 'close', listener: () => void): unknown;
}

/** A validated tap request. */
export interface TapRequest {
  /** A processor name, "start" or "end". */
  readonly at: string;
  readonly point: number;
  readonly where: string;
  readonly limit: number;
  readonly rate: number;
}

export type TapRefusal = { readonly status: 400 | 429 | 503; readonly error: string };

interface OpenTap {
  readonly id: number;
  readonly request: TapRequest;
  readonly client: TapClient;
  sent: number;
  readonly dropped: TapDrops;
  /** Counters as last written to the client. */
  reported: string;
}

export interface TapHubDeps {
  /** Processor names of the chain, in order. */
  readonly processors: readonly string[];
  readonly metrics: Metrics;
  /** Threads running the chain (worker threads, or 1): each gets this share of a tap's rate. */
  readonly threads: number;
  /** Tells every thread running the chain the current taps (the local TapPoints, or the worker threads). */
  readonly publish: (specs: readonly TapSpec[]) => void;
  readonly maxOpen?: number;
}

const PARAMS = ['at', 'where', 'limit', 'rate'];

export class TapHub {
  private nextId = 1;
  private readonly open = new Map<number, OpenTap>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly slowClient: { inc(n: number): void };

  constructor(private readonly deps: TapHubDeps) {
    this.slowClient = deps.metrics.tapDropped.labels('slow_client');
  }

  get size(): number {
    return this.open.size;
  }

  /** The tap a query asks for (`at`, `where`, `limit`, `rate`), or why not. */
  request(query: URLSearchParams): TapRequest | TapRefusal {
    const bad = (error: string): TapRefusal => ({ status: 400, error });
    for (const k of query.keys()) if (!PARAMS.includes(k)) return bad(`unknown parameter "${k}" (known: ${PARAMS.join(', ')})`);
    const processors = this.deps.processors;
    const at = query.get('at') || 'end';
    const point = at === 'end' ? processors.length : at === 'start' ? 0 : processors.indexOf(at) + 1;
    if (point === 0 && at !== 'start' && at !== 'end') {
      const names = processors.length > 0 ? `processors: ${processors.join(', ')}` : 'no processors';
      return bad(`at: unknown processor "${at}" (the chain has ${names}; or start, end)`);
    }
    const where = query.get('where') ?? '';
    if (where.length > TAP_MAX_WHERE_CHARS) return bad(`where: longer than ${TAP_MAX_WHERE_CHARS} characters`);
    if (where) {
      try {
        compileCondition(where);
      } catch (e) {
        return bad(`where: ${(e as Error).message}`);
      }
    }
    const limit = positiveInt(query.get('limit'), 1_000_000_000);
    if (limit === undefined) return bad('limit: expected a positive integer');
    const rate = positiveInt(query.get('rate'), TAP_MAX_RATE);
    if (rate === undefined) return bad(`rate: expected a positive integer of at most ${TAP_MAX_RATE}`);
    if (this.closed) return { status: 503, error: 'the service is shutting down' };
    const max = this.deps.maxOpen ?? TAP_MAX_OPEN;
    if (this.open.size >= max) return { status: 429, error: `${max} taps are open, the most at once; close one first` };
    return { at, point, where, limit: limit ?? 0, rate: rate || TAP_DEFAULT_RATE };
  }

  /** Opens the tap on `client`: writes its header line, then its records until its limit, the client leaves, or close(). */
  attach(request: TapRequest, client: TapClient): number {
    const id = this.nextId++;
    const tap: OpenTap = { id, request, client, sent: 0, dropped: { rate: 0, full: 0, slow_client: 0 }, reported: '' };
    tap.reported = JSON.stringify({ stats: this.stats(tap) }); // nothing to report yet
    this.open.set(id, tap);
    this.deps.metrics.taps.set(this.open.size);
    client.once('close', () => this.remove(tap));
    const header = { id, at: request.at, where: request.where, limit: request.limit, rate: request.rate, processors: this.deps.processors };
    client.write(`${JSON.stringify({ tap: header })}\n`);
    this.publish();
    this.timer ??= setInterval(() => this.reportAll(), STATS_INTERVAL_MS).unref();
    return id;
  }

  /** Lines and drop counts a thread handed on. */
  deliver(outputs: readonly TapOutput[]): void {
    for (const o of outputs) {
      const tap = this.open.get(o.id);
      if (!tap) continue; // closed meanwhile
      tap.dropped.rate += o.rate;
      tap.dropped.full += o.full;
      let lines = o.lines;
      if (lines.length === 0) continue;
      if (!this.keepsUp(tap)) {
        tap.dropped.slow_client += lines.length;
        this.slowClient.inc(lines.length);
        continue;
      }
      const limit = tap.request.limit;
      if (limit > 0 && tap.sent + lines.length > limit) lines = lines.slice(0, limit - tap.sent);
      tap.sent += lines.length;
      this.deps.metrics.tapSent.inc(lines.length);
      tap.client.write(`${lines.join('\n')}\n`);
      if (limit > 0 && tap.sent >= limit) this.end(tap, 'limit');
    }
  }

  /** Ends every stream (shutdown) and refuses new ones. */
  close(): void {
    this.closed = true;
    for (const tap of [...this.open.values()]) this.end(tap, 'shutdown');
  }

  /** Whether the client reads what it is sent: what it left unread in this process stays under TAP_CLIENT_BUFFER_BYTES. */
  private keepsUp(tap: OpenTap): boolean {
    return tap.client.writableLength < TAP_CLIENT_BUFFER_BYTES;
  }

  private stats(tap: OpenTap): { sent: number; dropped: TapDrops } {
    return { sent: tap.sent, dropped: { ...tap.dropped } };
  }

  /** Writes each stream's counters when they changed and its client keeps up. */
  private reportAll(): void {
    for (const tap of this.open.values()) {
      const line = JSON.stringify({ stats: this.stats(tap) });
      if (line === tap.reported || !this.keepsUp(tap)) continue;
      tap.reported = line;
      tap.client.write(`${line}\n`);
    }
  }

  private end(tap: OpenTap, reason: 'limit' | 'shutdown'): void {
    if (!this.open.has(tap.id)) return;
    tap.client.write(`${JSON.stringify({ stats: { ...this.stats(tap), end: reason } })}\n`);
    this.remove(tap);
    tap.client.end();
    if (reason === 'shutdown') {
      // A client that is not reading must not hold the port (and the shutdown) open.
      if (!this.keepsUp(tap)) tap.client.destroy();
      else {
        const timer = setTimeout(() => tap.client.destroy(), SHUTDOWN_GRACE_MS).unref();
        tap.client.once('close', () => clearTimeout(timer));
      }
    }
  }

  private remove(tap: OpenTap): void {
    if (!this.open.delete(tap.id)) return;
    this.deps.metrics.taps.set(this.open.size);
    if (this.open.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
    this.publish();
  }

  private publish(): void {
    const threads = Math.max(1, this.deps.threads);
    this.deps.publish([...this.open.values()].map(({ id, request: r }) => ({ id, point: r.point, where: r.where, rate: r.rate / threads, limit: r.limit })));
  }
}

/** A positive integer up to `max`; 0 when absent; undefined when invalid. */
function positiveInt(raw: string | null, max: number): number | undefined {
  if (raw === null || raw === '') return 0;
  if (!/^\d{1,10}$/.test(raw)) return undefined;
  const n = Number(raw);
  return n >= 1 && n <= max ? n : undefined;
}
