/**
 * The record model: a batch is an index over the bytes of an admitted ExportLogsServiceRequest
 * (resource, scope and record byte ranges, found in one pass without decoding anything). A
 * record's fields are located the first time one is read and decoded when read; a change is kept
 * beside the bytes. Writing copies every resource, scope and record nothing changed as its
 * original bytes and writes a changed one as its original fields minus the ones replaced, plus
 * the new values — so unknown fields and groups survive everywhere.
 *
 * Singular fields repeated on the wire: the last occurrence is the one read (as protobufjs does).
 */
import { AttributeMap, attributesFrom, type ChangeListener } from './attributes';
import type { AnyValue, Attributes, LogBatch, LogRecord, NewOrigin, NewRecord, Resource, Scope } from './types';
import { decodeAnyValue, decodeStringValue, writeAnyValue } from './values';
import { WT_I32, WT_I64, WT_LEN, WT_VARINT, WireCursor, WireWriter, utf8, varintSize } from './wire';

const EMPTY: Buffer = Buffer.alloc(0);

// LogRecord field numbers (logs.proto).
const R_TIME = 1;
const R_SEV_NUM = 2;
const R_SEV_TEXT = 3;
const R_BODY = 5;
const R_ATTRS = 6;
const R_DROPPED = 7;
const R_FLAGS = 8;
const R_TRACE = 9;
const R_SPAN = 10;
const R_OBSERVED = 11;
const R_EVENT = 12;
const R_MAX = 13;
/** Field positions of a record that has no bytes (one a processor added). */
const NO_FIELDS = new Int32Array(R_MAX).fill(-1);
// Journal entries that are not a field (negative: never a field number).
const J_MASK = -1;
const J_DROP = -2;
const J_ROUTES = -3;
const J_BODY_LOADED = -4;

// InstrumentationScope and Resource (common.proto, resource.proto).
const S_NAME = 1;
const S_VERSION = 2;
const S_ATTRS = 3;
const S_DROPPED = 4;
const RES_ATTRS = 1;
const RES_DROPPED = 2;

/**
 * Locates a message's fields: `pos[f]` is the offset just after the tag of the last occurrence
 * of field f (f < pos.length), -1 when absent; content ranges of the repeated attribute field
 * go to `attrs`.
 */
function indexFields(b: Uint8Array, start: number, end: number, pos: Int32Array, base: number, count: number, attrField: number, attrs: number[]): void {
  pos.fill(-1, base, base + count);
  const c = new WireCursor(b, start, end);
  while (c.pos < end) {
    const tag = c.varint();
    const f = tag >>> 3;
    if (f === attrField && (tag & 7) === WT_LEN) {
      const n = c.length();
      attrs.push(c.pos, c.pos + n);
      c.pos += n;
      continue;
    }
    if (f < count) pos[base + f] = c.pos;
    c.skip(tag);
  }
}

/** Copies the fields of b[start, end) whose number is not in `skip` (a bit mask by field number < 32), as bytes. */
function copyFieldsExcept(w: WireWriter, b: Uint8Array, start: number, end: number, skip: number): void {
  const c = new WireCursor(b, start, end);
  let run = start;
  while (c.pos < end) {
    const at = c.pos;
    const tag = c.varint();
    const f = tag >>> 3;
    c.skip(tag);
    if (f < 32 && (skip >>> f) & 1) {
      if (at > run) w.bytes(b, run, at);
      run = c.pos;
    }
  }
  if (end > run) w.bytes(b, run, end);
}

function readString(b: Uint8Array, at: number): string {
  const c = new WireCursor(b, at, b.length);
  const n = c.length();
  return utf8(b, c.pos, c.pos + n);
}

function readBytes(b: Uint8Array, at: number): Uint8Array {
  const c = new WireCursor(b, at, b.length);
  const n = c.length();
  return b.slice(c.pos, c.pos + n);
}

function lenRange(b: Uint8Array, at: number): [number, number] {
  const c = new WireCursor(b, at, b.length);
  const n = c.length();
  return [c.pos, c.pos + n];
}

// ---------------------------------------------------------------------------------------------
// Resource and scope: shared by the records of their group, decoded on first read.

/**
 * What a resource and a scope share: attributes and dropped_attributes_count located on first
 * read, changes kept beside the bytes, journalled once per processor pass.
 */
abstract class SharedMessage implements ChangeListener {
  private pos: Int32Array | undefined;
  private attrRanges: number[] = [];
  protected attrs: AttributeMap | undefined;
  protected droppedValue = 0;
  /** Field bits replaced by a processor. */
  changedMask = 0;
  private savedAt = -1;

  constructor(
    protected readonly b: Uint8Array,
    /** Content of the (last) message field; start -1 when there is none. */
    protected readonly start: number,
    protected readonly end: number,
    private readonly fieldCount: number,
    private readonly attrField: number,
    private readonly droppedField: number,
    fresh: AttributeMap | undefined,
    freshMask: number,
  ) {
    if (fresh) {
      this.attrs = fresh;
      fresh.owner = this;
      this.changedMask = freshMask;
    }
  }

  protected abstract get batch(): RecordBatch;
  /** Marks the containers above as changed. */
  protected abstract markDirty(): void;
  /** The subclass's own changed values, and a way to put them back (journal). */
  protected abstract saveOwn(): () => void;

  protected index(): Int32Array {
    if (!this.pos) {
      this.pos = new Int32Array(this.fieldCount);
      if (this.start >= 0) indexFields(this.b, this.start, this.end, this.pos, 0, this.fieldCount, this.attrField, this.attrRanges);
      else this.pos.fill(-1);
    }
    return this.pos;
  }

  get attributes(): Attributes {
    if (!this.attrs) {
      this.index();
      this.attrs = new AttributeMap(this.b, this.attrRanges, this);
    }
    return this.attrs;
  }

  get droppedAttributesCount(): number {
    if (this.changedMask & (1 << this.droppedField)) return this.droppedValue;
    const at = this.index()[this.droppedField]!;
    return at < 0 ? 0 : new WireCursor(this.b, at, this.end).varint32(false);
  }

  set droppedAttributesCount(n: number) {
    this.replace(this.droppedField);
    this.droppedValue = n >>> 0;
    this.touch();
  }

  /** Before field `field` is set: journal, and mark it replaced. */
  protected replace(field: number): void {
    this.willChange();
    this.changedMask |= 1 << field;
  }

  willChange(): void {
    const batch = this.batch;
    if (!batch.journal || this.savedAt === batch.stage) return;
    this.savedAt = batch.stage;
    const attrs = this.attrs?.save();
    const mask = this.changedMask;
    const dropped = this.droppedValue;
    const own = this.saveOwn();
    batch.journal.push(
      () => {
        this.changedMask = mask;
        this.droppedValue = dropped;
        own();
        // A map made after the save is dropped: it is made again, from the bytes, when read.
        if (attrs) this.attrs!.restore(attrs);
        else this.attrs = undefined;
        this.savedAt = -1;
      },
      0,
      0,
    );
  }

  touch(): void {
    if (this.attrs?.changed) this.changedMask |= 1 << this.attrField;
    this.markDirty();
  }

  get changed(): boolean {
    return this.changedMask !== 0;
  }

  /** The received fields minus the replaced ones, then `writeOwn`, the attributes and the dropped count. */
  writeContent(w: WireWriter): void {
    const m = this.changedMask;
    if (this.start >= 0) copyFieldsExcept(w, this.b, this.start, this.end, m);
    this.writeOwn(w, m);
    if (m & (1 << this.attrField)) this.attrs!.write(w, this.attrField);
    if (m & (1 << this.droppedField) && this.droppedValue !== 0) {
      w.tag(this.droppedField, WT_VARINT);
      w.varint(this.droppedValue);
    }
  }

  protected writeOwn(_w: WireWriter, _mask: number): void {}
}

class ResourceImpl extends SharedMessage implements Resource {
  constructor(
    private readonly group: ResourceGroup,
    b: Uint8Array,
    start: number,
    end: number,
    fresh?: AttributeMap,
  ) {
    super(b, start, end, 3, RES_ATTRS, RES_DROPPED, fresh, 1 << RES_ATTRS);
  }

  protected get batch(): RecordBatch {
    return this.group.batch;
  }

  protected markDirty(): void {
    this.group.dirty = true;
    this.group.batch.dirty = true;
  }

  protected saveOwn(): () => void {
    return () => undefined;
  }

  get schemaUrl(): string {
    return this.group.schemaUrl();
  }
}

class ScopeImpl extends SharedMessage implements Scope {
  private nameValue = '';
  private versionValue = '';

  constructor(
    private readonly group: ScopeGroup,
    b: Uint8Array,
    start: number,
    end: number,
    fresh?: { name?: string; version?: string; attributes: AttributeMap },
  ) {
    super(b, start, end, 5, S_ATTRS, S_DROPPED, fresh?.attributes, (1 << S_NAME) | (1 << S_VERSION) | (1 << S_ATTRS));
    if (fresh) {
      this.nameValue = fresh.name ?? '';
      this.versionValue = fresh.version ?? '';
    }
  }

  protected get batch(): RecordBatch {
    return this.group.resource.batch;
  }

  protected markDirty(): void {
    this.group.dirty = true;
    this.group.resource.dirty = true;
    this.group.resource.batch.dirty = true;
  }

  protected saveOwn(): () => void {
    const { nameValue, versionValue } = this;
    return () => {
      this.nameValue = nameValue;
      this.versionValue = versionValue;
    };
  }

  get name(): string {
    if (this.changedMask & (1 << S_NAME)) return this.nameValue;
    const at = this.index()[S_NAME]!;
    return at < 0 ? '' : readString(this.b, at);
  }

  set name(v: string) {
    this.replace(S_NAME);
    this.nameValue = v;
    this.touch();
  }

  get version(): string {
    if (this.changedMask & (1 << S_VERSION)) return this.versionValue;
    const at = this.index()[S_VERSION]!;
    return at < 0 ? '' : readString(this.b, at);
  }

  set version(v: string) {
    this.replace(S_VERSION);
    this.versionValue = v;
    this.touch();
  }

  get schemaUrl(): string {
    return this.group.schemaUrl();
  }

  protected override writeOwn(w: WireWriter, m: number): void {
    if (m & (1 << S_NAME) && this.nameValue !== '') w.stringField(S_NAME, this.nameValue);
    if (m & (1 << S_VERSION) && this.versionValue !== '') w.stringField(S_VERSION, this.versionValue);
  }
}

// ---------------------------------------------------------------------------------------------
// Records.

export class RecordImpl implements LogRecord, ChangeListener {
  private pos: Int32Array | undefined;
  private posBase = -1;
  private attrRanges: number[] | undefined;
  private attrs: AttributeMap | undefined;
  /** Field bits (1 << field number) replaced by a processor. */
  changedMask = 0;
  /** Where the batch's arena holds the record as changed, once written; -1 until then or after a later change. */
  encStart = -1;
  encEnd = -1;
  /** The arena holds only fields to append after the received bytes (see encode). */
  private appended = false;
  dropReason: string | undefined;
  /** Exporters the record goes to (bit per exporter index), set by `route`; undefined: all. */
  routes: number | undefined;
  private vTime = 0n;
  private vObserved = 0n;
  private vSevNum = 0;
  private vSevText = '';
  private vBody: AnyValue | undefined;
  private bodyLoaded = false;
  private vDropped = 0;
  private vFlags = 0;
  private vTrace: Uint8Array = EMPTY;
  private vSpan: Uint8Array = EMPTY;
  private vEvent = '';

  constructor(
    readonly group: ScopeGroup,
    private readonly b: Uint8Array,
    /** Content range of the LogRecord in `b`; start = end = 0 for a new record. */
    readonly start: number,
    readonly end: number,
    /** The record's number in the request (its row in the batch's field positions); -1 for a new record. */
    private readonly slot = -1,
  ) {}

  /** Where field `field`'s value starts (after its tag), -1 when absent; locates the fields on first use. */
  private at(field: number): number {
    if (this.posBase < 0) this.index();
    return this.pos![this.posBase + field]!;
  }

  private index(): void {
    if (this.end === this.start) {
      this.pos = NO_FIELDS;
      this.posBase = 0;
      this.attrRanges = [];
      return;
    }
    const batch = this.group.resource.batch;
    this.pos = batch.positions();
    this.posBase = this.slot * R_MAX;
    this.attrRanges = [];
    indexFields(this.b, this.start, this.end, this.pos, this.posBase, R_MAX, R_ATTRS, this.attrRanges);
  }

  private has(bit: number): boolean {
    return (this.changedMask & (1 << bit)) !== 0;
  }

  private set(bit: number): void {
    this.changedMask |= 1 << bit;
    this.touch();
  }

  private savedAt = -1;
  private attrsSavedAt = -1;

  /**
   * Notes in the batch's journal what a change is about to overwrite (the record's change mask
   * once per pass, then the field's previous value): flat entries, no allocation per change.
   */
  private remember(field: number, old: unknown): void {
    const batch = this.group.resource.batch;
    const j = batch.journal;
    if (j === undefined) return;
    if (this.savedAt !== batch.stage) {
      this.savedAt = batch.stage;
      j.push(this, J_MASK, this.changedMask);
    }
    j.push(this, field, old);
  }

  /** Before the attribute map changes (it calls this): its entries once per pass. */
  willChange(): void {
    const batch = this.group.resource.batch;
    if (batch.journal === undefined || this.attrsSavedAt === batch.stage) return;
    this.attrsSavedAt = batch.stage;
    this.remember(R_ATTRS, this.attrs!.save());
  }

  /** Puts back one journal entry. */
  undo(field: number, old: unknown): void {
    switch (field) {
      case J_MASK:
        this.changedMask = old as number;
        this.encStart = -1;
        this.savedAt = -1;
        this.attrsSavedAt = -1;
        return;
      case J_DROP:
        this.dropReason = old as string | undefined;
        return;
      case J_ROUTES:
        this.routes = old as number | undefined;
        return;
      case J_BODY_LOADED:
        this.bodyLoaded = old as boolean;
        return;
      case R_TIME:
        this.vTime = old as bigint;
        return;
      case R_OBSERVED:
        this.vObserved = old as bigint;
        return;
      case R_SEV_NUM:
        this.vSevNum = old as number;
        return;
      case R_SEV_TEXT:
        this.vSevText = old as string;
        return;
      case R_BODY:
        this.vBody = old as AnyValue | undefined;
        return;
      case R_ATTRS:
        this.attrs!.restore(old as ReturnType<AttributeMap['save']>);
        return;
      case R_DROPPED:
        this.vDropped = old as number;
        return;
      case R_FLAGS:
        this.vFlags = old as number;
        return;
      case R_TRACE:
        this.vTrace = old as Uint8Array;
        return;
      case R_SPAN:
        this.vSpan = old as Uint8Array;
        return;
      case R_EVENT:
        this.vEvent = old as string;
    }
  }

  touch(): void {
    if (this.attrs?.changed) this.changedMask |= 1 << R_ATTRS;
    this.encStart = -1;
    const g = this.group;
    g.dirty = true;
    g.resource.dirty = true;
    g.resource.batch.dirty = true;
  }

  get changed(): boolean {
    return this.changedMask !== 0;
  }

  get timeUnixNano(): bigint {
    if (this.has(R_TIME)) return this.vTime;
    const at = this.at(R_TIME);
    return at < 0 ? 0n : new WireCursor(this.b, at, this.end).fixed64();
  }

  set timeUnixNano(v: bigint) {
    this.remember(R_TIME, this.vTime);
    this.vTime = BigInt.asUintN(64, v);
    this.set(R_TIME);
  }

  get observedTimeUnixNano(): bigint {
    if (this.has(R_OBSERVED)) return this.vObserved;
    const at = this.at(R_OBSERVED);
    return at < 0 ? 0n : new WireCursor(this.b, at, this.end).fixed64();
  }

  set observedTimeUnixNano(v: bigint) {
    this.remember(R_OBSERVED, this.vObserved);
    this.vObserved = BigInt.asUintN(64, v);
    this.set(R_OBSERVED);
  }

  get severityNumber(): number {
    if (this.has(R_SEV_NUM)) return this.vSevNum;
    const at = this.at(R_SEV_NUM);
    return at < 0 ? 0 : new WireCursor(this.b, at, this.end).varint32(true);
  }

  set severityNumber(v: number) {
    if (v === this.severityNumber) return;
    this.remember(R_SEV_NUM, this.vSevNum);
    this.vSevNum = v | 0;
    this.set(R_SEV_NUM);
  }

  get severityText(): string {
    if (this.has(R_SEV_TEXT)) return this.vSevText;
    const at = this.at(R_SEV_TEXT);
    if (at < 0) return '';
    this.vSevText = readString(this.b, at);
    return this.vSevText;
  }

  set severityText(v: string) {
    if (v === this.severityText) return;
    this.remember(R_SEV_TEXT, this.vSevText);
    this.vSevText = v;
    this.set(R_SEV_TEXT);
  }

  get body(): AnyValue | undefined {
    if (!this.bodyLoaded) {
      const at = this.at(R_BODY);
      if (at >= 0) {
        const [s, e] = lenRange(this.b, at);
        this.vBody = decodeAnyValue(this.b, s, e);
      }
      this.bodyLoaded = true;
    }
    return this.vBody;
  }

  set body(v: AnyValue | undefined) {
    this.remember(J_BODY_LOADED, this.bodyLoaded);
    this.remember(R_BODY, this.vBody);
    this.vBody = v;
    this.bodyLoaded = true;
    this.set(R_BODY);
  }

  get bodyString(): string | undefined {
    if (this.bodyLoaded) return this.vBody?.stringValue;
    const at = this.at(R_BODY);
    if (at < 0) return undefined;
    const [s, e] = lenRange(this.b, at);
    const str = decodeStringValue(this.b, s, e);
    if (str !== undefined) {
      this.vBody = { stringValue: str };
      this.bodyLoaded = true;
    }
    return str;
  }

  get attributes(): Attributes {
    if (!this.attrs) {
      if (this.posBase < 0) this.index();
      this.attrs = new AttributeMap(this.b, this.attrRanges!, this);
    }
    return this.attrs;
  }

  get droppedAttributesCount(): number {
    if (this.has(R_DROPPED)) return this.vDropped;
    const at = this.at(R_DROPPED);
    return at < 0 ? 0 : new WireCursor(this.b, at, this.end).varint32(false);
  }

  set droppedAttributesCount(v: number) {
    this.remember(R_DROPPED, this.vDropped);
    this.vDropped = v >>> 0;
    this.set(R_DROPPED);
  }

  get flags(): number {
    if (this.has(R_FLAGS)) return this.vFlags;
    const at = this.at(R_FLAGS);
    return at < 0 ? 0 : new WireCursor(this.b, at, this.end).fixed32();
  }

  set flags(v: number) {
    this.remember(R_FLAGS, this.vFlags);
    this.vFlags = v >>> 0;
    this.set(R_FLAGS);
  }

  get traceId(): Uint8Array {
    if (this.has(R_TRACE)) return this.vTrace;
    const at = this.at(R_TRACE);
    return at < 0 ? EMPTY : readBytes(this.b, at);
  }

  set traceId(v: Uint8Array) {
    this.remember(R_TRACE, this.vTrace);
    this.vTrace = v;
    this.set(R_TRACE);
  }

  get spanId(): Uint8Array {
    if (this.has(R_SPAN)) return this.vSpan;
    const at = this.at(R_SPAN);
    return at < 0 ? EMPTY : readBytes(this.b, at);
  }

  set spanId(v: Uint8Array) {
    this.remember(R_SPAN, this.vSpan);
    this.vSpan = v;
    this.set(R_SPAN);
  }

  get eventName(): string {
    if (this.has(R_EVENT)) return this.vEvent;
    const at = this.at(R_EVENT);
    return at < 0 ? '' : readString(this.b, at);
  }

  set eventName(v: string) {
    this.remember(R_EVENT, this.vEvent);
    this.vEvent = v;
    this.set(R_EVENT);
  }

  get resource(): Resource {
    return this.group.resource.view();
  }

  get scope(): Scope {
    return this.group.view();
  }

  drop(reason: string): void {
    if (this.dropReason !== undefined) return;
    this.remember(J_DROP, this.dropReason);
    this.dropReason = reason;
    const g = this.group;
    g.dirty = true;
    g.resource.dirty = true;
    g.resource.batch.noteDrop(reason);
  }

  get dropped(): boolean {
    return this.dropReason !== undefined;
  }

  setRoutes(mask: number): void {
    this.remember(J_ROUTES, this.routes);
    this.routes = mask;
  }

  /**
   * Writes the changed record into the batch's arena once (one buffer for all, not one per
   * record). A record that only gained fields it did not have and attributes it did not have is
   * written as a patch: its received bytes stay where they are and only the new fields go to the
   * arena (they are appended on output — protobuf reads fields in any order). Anything else is
   * rewritten whole: received fields minus the replaced ones, then the new values.
   */
  private encode(): void {
    if (this.encStart >= 0) return;
    const arena = this.group.resource.batch.arena;
    this.appended = this.onlyAdds();
    this.encStart = arena.len;
    if (this.appended) this.writeChanges(arena, true);
    else {
      if (this.end > this.start) copyFieldsExcept(arena, this.b, this.start, this.end, this.changedMask);
      this.writeChanges(arena, false);
    }
    this.encEnd = arena.len;
  }

  /** Whether every change adds a field the received bytes lack (so appending it is the whole edit). */
  private onlyAdds(): boolean {
    const m = this.changedMask;
    // A body is a message (a second one would merge, not replace); new records have no bytes.
    if (m & ((1 << R_BODY) | (1 << 31)) || this.end === this.start) return false;
    if (m & (1 << R_ATTRS) && !this.attrs!.onlyAdded) return false;
    for (let f = 1; f < R_MAX; f++) if (f !== R_ATTRS && m & (1 << f) && this.at(f) >= 0) return false;
    return true;
  }

  /** Size of the LogRecord content as written. */
  size(): number {
    if (this.changedMask === 0) return this.end - this.start;
    this.encode();
    return this.appended ? this.end - this.start + this.encEnd - this.encStart : this.encEnd - this.encStart;
  }

  writeTo(w: WireWriter): void {
    if (this.changedMask === 0) {
      w.bytes(this.b, this.start, this.end);
      return;
    }
    this.encode();
    if (this.appended) w.bytes(this.b, this.start, this.end);
    w.bytes(this.group.resource.batch.arena.buf, this.encStart, this.encEnd);
  }

  /** The changed fields' values (`added`: only the attributes set since they were received). */
  private writeChanges(w: WireWriter, added: boolean): void {
    const m = this.changedMask;
    if (m & (1 << R_TIME) && this.vTime !== 0n) {
      w.tag(R_TIME, WT_I64);
      w.fixed64(this.vTime);
    }
    if (m & (1 << R_SEV_NUM) && this.vSevNum !== 0) {
      w.tag(R_SEV_NUM, WT_VARINT);
      if (this.vSevNum > 0) w.varint(this.vSevNum);
      else w.varint64(BigInt(this.vSevNum));
    }
    if (m & (1 << R_SEV_TEXT) && this.vSevText !== '') w.stringField(R_SEV_TEXT, this.vSevText);
    if (m & (1 << R_BODY) && this.vBody !== undefined) {
      const mark = w.beginLen(R_BODY);
      writeAnyValue(w, this.vBody);
      w.endLen(mark);
    }
    if (m & (1 << R_ATTRS)) {
      if (added) this.attrs!.writeAdded(w, R_ATTRS);
      else this.attrs!.write(w, R_ATTRS);
    }
    if (m & (1 << R_DROPPED) && this.vDropped !== 0) {
      w.tag(R_DROPPED, WT_VARINT);
      w.varint(this.vDropped);
    }
    if (m & (1 << R_FLAGS) && this.vFlags !== 0) {
      w.tag(R_FLAGS, WT_I32);
      w.fixed32(this.vFlags);
    }
    if (m & (1 << R_TRACE) && this.vTrace.length > 0) w.bytesField(R_TRACE, this.vTrace);
    if (m & (1 << R_SPAN) && this.vSpan.length > 0) w.bytesField(R_SPAN, this.vSpan);
    if (m & (1 << R_OBSERVED) && this.vObserved !== 0n) {
      w.tag(R_OBSERVED, WT_I64);
      w.fixed64(this.vObserved);
    }
    if (m & (1 << R_EVENT) && this.vEvent !== '') w.stringField(R_EVENT, this.vEvent);
  }

  /** Fills a new record from what a processor passed. */
  init(r: NewRecord): void {
    if (r.timeUnixNano !== undefined) this.timeUnixNano = r.timeUnixNano;
    if (r.observedTimeUnixNano !== undefined) this.observedTimeUnixNano = r.observedTimeUnixNano;
    if (r.severityNumber !== undefined) this.severityNumber = r.severityNumber;
    if (r.severityText !== undefined) this.severityText = r.severityText;
    if (r.body !== undefined) this.body = typeof r.body === 'string' ? { stringValue: r.body } : r.body;
    if (r.attributes !== undefined) {
      this.attrs = attributesFrom(r.attributes, this);
      this.changedMask |= 1 << R_ATTRS;
    }
    if (r.droppedAttributesCount !== undefined) this.droppedAttributesCount = r.droppedAttributesCount;
    if (r.flags !== undefined) this.flags = r.flags;
    if (r.traceId !== undefined) this.traceId = r.traceId;
    if (r.spanId !== undefined) this.spanId = r.spanId;
    if (r.eventName !== undefined) this.eventName = r.eventName;
    // A new record is written from its values even when none was set.
    this.changedMask |= 1 << 31;
    this.touch();
  }
}


// ---------------------------------------------------------------------------------------------
// Containers.

/** A ScopeLogs: its scope, its records, and its other fields as bytes. */
export class ScopeGroup {
  readonly records: RecordImpl[] = [];
  /** Whole fields of the ScopeLogs other than scope and log_records (schema_url, unknown), [start, end] pairs. */
  others: number[] = [];
  /** Whole `scope` fields, [start, end] pairs (usually one). */
  scopeFields: number[] = [];
  /** Content of the last scope field; -1 when none. */
  scopeStart = -1;
  scopeEnd = -1;
  /** Records arrived with the group (before any was added). */
  received = 0;
  dirty = false;
  private scopeView: ScopeImpl | undefined;

  constructor(
    readonly resource: ResourceGroup,
    readonly b: Uint8Array,
    /** ScopeLogs content range; start -1 for a group a processor created. */
    readonly start: number,
    readonly end: number,
  ) {}

  view(): ScopeImpl {
    return (this.scopeView ??= new ScopeImpl(this, this.b, this.scopeStart, this.scopeEnd));
  }

  adopt(scope: ScopeImpl): void {
    this.scopeView = scope;
  }

  get scopeChanged(): boolean {
    return this.scopeView?.changed ?? false;
  }

  schemaUrl(): string {
    return schemaUrlIn(this.b, this.others);
  }
}

/** A ResourceLogs: its resource, its scopes, and its other fields as bytes. */
export class ResourceGroup {
  readonly scopes: ScopeGroup[] = [];
  others: number[] = [];
  resourceFields: number[] = [];
  resourceStart = -1;
  resourceEnd = -1;
  dirty = false;
  private resourceView: ResourceImpl | undefined;

  constructor(
    readonly batch: RecordBatch,
    readonly b: Uint8Array,
    readonly start: number,
    readonly end: number,
  ) {}

  view(): ResourceImpl {
    return (this.resourceView ??= new ResourceImpl(this, this.b, this.resourceStart, this.resourceEnd));
  }

  adopt(resource: ResourceImpl): void {
    this.resourceView = resource;
  }

  get resourceChanged(): boolean {
    return this.resourceView?.changed ?? false;
  }

  schemaUrl(): string {
    return schemaUrlIn(this.b, this.others);
  }
}

/** schema_url (field 3) among a container's other fields, last one winning. */
function schemaUrlIn(b: Uint8Array, others: readonly number[]): string {
  let url = '';
  for (let i = 0; i < others.length; i += 2) {
    const c = new WireCursor(b, others[i]!, others[i + 1]!);
    if (c.varint() === ((3 << 3) | WT_LEN)) url = readString(b, c.pos);
  }
  return url;
}

/** Splits a message's fields into `wanted` (number → handler) and the rest, kept as whole-field ranges. */
function scanContainer(b: Uint8Array, start: number, end: number, onField: (field: number, fieldStart: number, contentStart: number, contentEnd: number) => boolean, others: number[]): void {
  const c = new WireCursor(b, start, end);
  while (c.pos < end) {
    const at = c.pos;
    const tag = c.varint();
    if ((tag & 7) === WT_LEN) {
      const n = c.length();
      const cs = c.pos;
      c.pos += n;
      if (onField(tag >>> 3, at, cs, c.pos)) continue;
    } else c.skip(tag);
    others.push(at, c.pos);
  }
}

/** Iterates the records of a list not dropped (a plain iterator: cheaper than a generator per batch). */
class LiveRecords implements Iterator<LogRecord> {
  private i = 0;
  constructor(private readonly list: readonly RecordImpl[]) {}

  next(): IteratorResult<LogRecord> {
    const list = this.list;
    while (this.i < list.length) {
      const r = list[this.i++]!;
      if (r.dropReason === undefined) return { value: r, done: false };
    }
    return { value: undefined, done: true };
  }
}

// ---------------------------------------------------------------------------------------------
// The batch.

export class RecordBatch implements LogBatch {
  readonly groups: ResourceGroup[] = [];
  /** Request-level fields other than resource_logs, whole-field ranges. */
  readonly others: number[] = [];
  /** Anything changed, dropped or added since the batch was read. */
  dirty = false;
  /** Some record has a route mask. */
  routed = false;
  private live = 0;
  /** Records read from the bytes (each has a row of R_MAX field positions in `fieldPositions`). */
  private received = 0;
  private fieldPositions: Int32Array | undefined;
  private flat: RecordImpl[] | undefined;
  /** While a processor runs (begin … commit/rollback): how to undo each change it made. */
  journal: unknown[] | undefined;
  /** Increments per begin(): an object saves its state once per stage. */
  stage = 0;
  private checkpoint: { live: number; groups: number; newGroups: NewOrigin[]; dirty: boolean; routed: boolean } | undefined;
  private drops = new Map<string, number>();
  private arenaWriter: WireWriter | undefined;
  private readonly newGroups = new Map<NewOrigin, ScopeGroup>();
  private defaultOrigin: NewOrigin | undefined;

  /** The request as a Buffer view (native copies and UTF-8 decoding). */
  readonly bytes: Buffer;

  /**
   * An index over an admitted request's bytes (the wire reader checked them). `arena`: a writer
   * to reuse for changed records (the caller's, emptied here), so a thread writes every request
   * into the same memory instead of growing a new buffer each time.
   */
  constructor(bytes: Uint8Array = EMPTY, arena?: WireWriter) {
    if (arena) {
      arena.reset();
      this.arenaWriter = arena;
    }
    const b = (this.bytes = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    scanContainer(
      b,
      0,
      b.length,
      (f, _at, s, e) => {
        if (f !== 1) return false;
        this.groups.push(this.readResourceLogs(s, e));
        return true;
      },
      this.others,
    );
  }

  private readResourceLogs(start: number, end: number): ResourceGroup {
    const b = this.bytes;
    const rg = new ResourceGroup(this, b, start, end);
    scanContainer(
      b,
      start,
      end,
      (f, at, s, e) => {
        if (f === 1) {
          rg.resourceFields.push(at, e);
          rg.resourceStart = s;
          rg.resourceEnd = e;
          return true;
        }
        if (f === 2) {
          rg.scopes.push(this.readScopeLogs(rg, s, e));
          return true;
        }
        return false;
      },
      rg.others,
    );
    return rg;
  }

  private readScopeLogs(rg: ResourceGroup, start: number, end: number): ScopeGroup {
    const b = this.bytes;
    const sg = new ScopeGroup(rg, b, start, end);
    scanContainer(
      b,
      start,
      end,
      (f, at, s, e) => {
        if (f === 1) {
          sg.scopeFields.push(at, e);
          sg.scopeStart = s;
          sg.scopeEnd = e;
          return true;
        }
        if (f === 2) {
          sg.records.push(new RecordImpl(sg, b, s, e, this.received++));
          return true;
        }
        return false;
      },
      sg.others,
    );
    sg.received = sg.records.length;
    this.live += sg.records.length;
    return sg;
  }

  get size(): number {
    return this.live;
  }

  /** One table of field positions for every received record, filled as records are first read. */
  positions(): Int32Array {
    return (this.fieldPositions ??= new Int32Array(this.received * R_MAX));
  }

  /** Where changed records are written, back to back. */
  get arena(): WireWriter {
    return (this.arenaWriter ??= new WireWriter(Math.max(1024, this.bytes.length + (this.bytes.length >> 2))));
  }

  /** Records not dropped, in order (a snapshot: records added later are not in it). */
  records(): readonly RecordImpl[] {
    if (!this.flat) {
      const out: RecordImpl[] = [];
      for (const rg of this.groups) for (const sg of rg.scopes) for (const r of sg.records) if (r.dropReason === undefined) out.push(r);
      this.flat = out;
    }
    return this.flat;
  }

  [Symbol.iterator](): Iterator<LogRecord> {
    return new LiveRecords(this.records());
  }

  /** Starts a processor's pass: its changes can be undone until commit(). */
  begin(): void {
    this.stage++;
    this.journal = [];
    this.drops = new Map();
    this.checkpoint = { live: this.live, groups: this.groups.length, newGroups: [...this.newGroups.keys()], dirty: this.dirty, routed: this.routed };
  }

  /** Keeps the pass's changes. */
  commit(): void {
    this.journal = undefined;
    this.checkpoint = undefined;
  }

  /** Puts the batch back as it was at begin(): the processor failed. Its drops are forgotten. */
  rollback(): void {
    const journal = this.journal;
    const cp = this.checkpoint;
    if (!journal || !cp) return;
    this.journal = undefined;
    for (let i = journal.length - 3; i >= 0; i -= 3) {
      const target = journal[i];
      if (typeof target === 'function') (target as () => void)();
      else (target as RecordImpl).undo(journal[i + 1] as number, journal[i + 2]);
    }
    this.live = cp.live;
    this.groups.length = cp.groups;
    const keep = new Set(cp.newGroups);
    for (const origin of [...this.newGroups.keys()]) if (!keep.has(origin)) this.newGroups.delete(origin);
    this.dirty = cp.dirty;
    this.routed = cp.routed;
    this.drops = new Map();
    this.flat = undefined;
    this.checkpoint = undefined;
  }

  noteDrop(reason: string): void {
    this.live--;
    this.dirty = true;
    this.flat = undefined;
    this.drops.set(reason, (this.drops.get(reason) ?? 0) + 1);
  }

  /** Drops since the last call, by reason (the runner counts them per processor). */
  takeDrops(): Map<string, number> | undefined {
    if (this.drops.size === 0) return undefined;
    const d = this.drops;
    this.drops = new Map();
    return d;
  }

  add(init: NewRecord, origin?: LogRecord | NewOrigin): LogRecord {
    let sg: ScopeGroup;
    if (origin instanceof RecordImpl) sg = origin.group;
    else sg = this.groupFor((origin as NewOrigin | undefined) ?? (this.defaultOrigin ??= {}));
    const rec = new RecordImpl(sg, EMPTY, 0, 0);
    if (this.journal) {
      const len = sg.records.length;
      this.journal.push(() => {
        sg.records.length = len;
      }, 0, 0);
    }
    sg.records.push(rec);
    rec.init(init);
    this.live++;
    this.flat = undefined;
    return rec;
  }

  private groupFor(origin: NewOrigin): ScopeGroup {
    let sg = this.newGroups.get(origin);
    if (sg) return sg;
    const rg = new ResourceGroup(this, EMPTY, -1, -1);
    rg.adopt(new ResourceImpl(rg, EMPTY, -1, -1, attributesFrom(origin.resource)));
    sg = new ScopeGroup(rg, EMPTY, -1, -1);
    sg.adopt(new ScopeImpl(sg, EMPTY, -1, -1, { name: origin.scope?.name, version: origin.scope?.version, attributes: attributesFrom(origin.scope?.attributes) }));
    rg.scopes.push(sg);
    rg.dirty = true;
    sg.dirty = true;
    this.groups.push(rg);
    this.newGroups.set(origin, sg);
    return sg;
  }

  /** Marks a record's exporters (route). */
  setRoutes(record: LogRecord, mask: number): void {
    (record as RecordImpl).setRoutes(mask);
    this.routed = true;
  }

  /**
   * Encodes the records not dropped (and, with `exporter`, routed to it) as requests of at most
   * `maxRecords` records each. A batch nothing touched is its own bytes.
   */
  encode(maxRecords: number, exporter?: number): { bytes: Uint8Array; records: number }[] {
    if (!this.dirty && (exporter === undefined || !this.routed) && this.live <= maxRecords) {
      return this.live === 0 && this.groups.length === 0 && this.others.length === 0 ? [] : [{ bytes: this.bytes, records: this.live }];
    }
    const include = exporter === undefined || !this.routed ? undefined : (r: RecordImpl) => r.routes === undefined || ((r.routes >>> exporter) & 1) === 1;
    if (this.live === 0) return [];
    return planChunks(this, maxRecords, include).map((chunk, i) => ({ bytes: writeChunk(this, chunk, i === 0), records: chunk.records }));
  }

  /** How many records not dropped go to `exporter` (all when nothing is routed). */
  countFor(exporter: number): number {
    if (!this.routed) return this.live;
    let n = 0;
    for (const r of this.records()) if (r.routes === undefined || ((r.routes >>> exporter) & 1) === 1) n++;
    return n;
  }
}

// ---------------------------------------------------------------------------------------------
// Writing.

interface ScopePart {
  readonly sg: ScopeGroup;
  readonly records: RecordImpl[];
  /** Every record of the group, none changed, scope unchanged: the ScopeLogs is copied as bytes. */
  whole: boolean;
  size: number;
}

interface ResourcePart {
  readonly rg: ResourceGroup;
  readonly scopes: ScopePart[];
  whole: boolean;
  size: number;
}

interface Chunk {
  readonly parts: ResourcePart[];
  records: number;
}

function planChunks(batch: RecordBatch, maxRecords: number, include: ((r: RecordImpl) => boolean) | undefined): Chunk[] {
  const chunks: Chunk[] = [];
  let cur: Chunk = { parts: [], records: 0 };
  const partFor = (rg: ResourceGroup): ResourcePart => {
    const last = cur.parts[cur.parts.length - 1];
    if (last && last.rg === rg) return last;
    const p: ResourcePart = { rg, scopes: [], whole: false, size: 0 };
    cur.parts.push(p);
    return p;
  };
  for (const rg of batch.groups) {
    if (rg.scopes.length === 0) {
      // A resource that arrived without scopes stays as it came.
      partFor(rg);
      continue;
    }
    for (const sg of rg.scopes) {
      if (sg.records.length === 0) {
        // Arrived empty (a processor's emptying removes the scope): kept as it came.
        partFor(rg).scopes.push({ sg, records: [], whole: false, size: 0 });
        continue;
      }
      let scope: ScopePart | undefined;
      for (const r of sg.records) {
        if (r.dropReason !== undefined || (include && !include(r))) continue;
        if (cur.records >= maxRecords) {
          chunks.push(cur);
          cur = { parts: [], records: 0 };
          scope = undefined;
        }
        if (!scope) {
          scope = { sg, records: [], whole: false, size: 0 };
          partFor(rg).scopes.push(scope);
        }
        scope.records.push(r);
        cur.records++;
      }
    }
  }
  // Drop resources every scope of which went away; keep those that came without any.
  const prune = (c: Chunk): Chunk => ({ records: c.records, parts: c.parts.filter((p) => p.scopes.length > 0 || p.rg.scopes.length === 0) });
  if (cur.parts.length > 0) chunks.push(cur);
  return chunks.map(prune).filter((c) => c.parts.length > 0);
}

function fieldSize(field: number, content: number): number {
  return varintSize(field * 8 + WT_LEN) + varintSize(content) + content;
}

function rangesSize(r: readonly number[]): number {
  let n = 0;
  for (let i = 0; i < r.length; i += 2) n += r[i + 1]! - r[i]!;
  return n;
}

function encodeMessage(write: (w: WireWriter) => void): Uint8Array {
  const w = new WireWriter(256);
  write(w);
  return w.finish();
}

function sizeScope(p: ScopePart, scopeBytes: Map<ScopeGroup, Uint8Array>): number {
  const sg = p.sg;
  p.whole = sg.start >= 0 && !sg.dirty && p.records.length === sg.records.length;
  if (p.whole) return (p.size = sg.end - sg.start);
  let n = rangesSize(sg.others);
  if (sg.scopeChanged) {
    let bytes = scopeBytes.get(sg);
    if (!bytes) {
      const view = sg.view();
      bytes = encodeMessage((w) => view.writeContent(w));
      scopeBytes.set(sg, bytes);
    }
    n += fieldSize(1, bytes.length);
  } else n += rangesSize(sg.scopeFields);
  for (const r of p.records) n += fieldSize(2, r.size());
  return (p.size = n);
}

function sizeResource(p: ResourcePart, resBytes: Map<ResourceGroup, Uint8Array>, scopeBytes: Map<ScopeGroup, Uint8Array>): number {
  const rg = p.rg;
  let n = 0;
  let allWhole = rg.start >= 0 && !rg.dirty && p.scopes.length === rg.scopes.length;
  for (const s of p.scopes) {
    n += fieldSize(2, sizeScope(s, scopeBytes));
    if (!s.whole) allWhole = false;
  }
  p.whole = allWhole;
  if (p.whole) return (p.size = rg.end - rg.start);
  n += rangesSize(rg.others);
  if (rg.resourceChanged) {
    let bytes = resBytes.get(rg);
    if (!bytes) {
      const view = rg.view();
      bytes = encodeMessage((w) => view.writeContent(w));
      resBytes.set(rg, bytes);
    }
    n += fieldSize(1, bytes.length);
  } else n += rangesSize(rg.resourceFields);
  return (p.size = n);
}

function copyRanges(w: WireWriter, b: Uint8Array, r: readonly number[]): void {
  for (let i = 0; i < r.length; i += 2) w.bytes(b, r[i]!, r[i + 1]!);
}

function writeChunk(batch: RecordBatch, chunk: Chunk, first: boolean): Uint8Array {
  const resBytes = new Map<ResourceGroup, Uint8Array>();
  const scopeBytes = new Map<ScopeGroup, Uint8Array>();
  let total = first ? rangesSize(batch.others) : 0;
  for (const p of chunk.parts) total += fieldSize(1, sizeResource(p, resBytes, scopeBytes));
  // Sized exactly, in memory of its own: a worker thread hands it to the event-loop thread without a copy.
  const w = new WireWriter(total, true);
  for (const p of chunk.parts) {
    const rg = p.rg;
    w.tag(1, WT_LEN);
    w.varint(p.size);
    if (p.whole) {
      w.bytes(rg.b, rg.start, rg.end);
      continue;
    }
    const res = resBytes.get(rg);
    if (res) {
      w.tag(1, WT_LEN);
      w.varint(res.length);
      w.bytes(res);
    } else copyRanges(w, rg.b, rg.resourceFields);
    for (const s of p.scopes) {
      const sg = s.sg;
      w.tag(2, WT_LEN);
      w.varint(s.size);
      if (s.whole) {
        w.bytes(sg.b, sg.start, sg.end);
        continue;
      }
      const sc = scopeBytes.get(sg);
      if (sc) {
        w.tag(1, WT_LEN);
        w.varint(sc.length);
        w.bytes(sc);
      } else copyRanges(w, sg.b, sg.scopeFields);
      for (const r of s.records) {
        w.tag(2, WT_LEN);
        w.varint(r.size());
        r.writeTo(w);
      }
      copyRanges(w, sg.b, sg.others);
    }
    copyRanges(w, rg.b, rg.others);
  }
  if (first) copyRanges(w, batch.bytes, batch.others);
  if (w.len !== total) throw new Error(`record model: wrote ${w.len} bytes, planned ${total}`);
  return w.buf.length === w.len ? w.buf : w.buf.subarray(0, w.len);
}

/**
 * Some records of a batch, as a batch of their own (a processor's `where`): drops and changes
 * land on the records themselves, added records in the batch they belong to.
 */
export class BatchView implements LogBatch {
  constructor(
    private readonly parent: RecordBatch,
    private readonly list: readonly RecordImpl[],
  ) {}

  get size(): number {
    let n = 0;
    for (const r of this.list) if (r.dropReason === undefined) n++;
    return n;
  }

  [Symbol.iterator](): Iterator<LogRecord> {
    return new LiveRecords(this.list);
  }

  add(init: NewRecord, origin?: LogRecord | NewOrigin): LogRecord {
    return this.parent.add(init, origin);
  }
}
