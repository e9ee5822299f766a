/**
 * Online log template mining in the Drain family (He et al., ICWS 2017), with these changes:
 *
 * - Masking first (tokenizer.ts): obvious variables are `<*>` before the tree sees them, and
 *   digit-bearing words do not steer the tree.
 * - Similarity counts only evidence: a position where the template already has `<*>`, or where
 *   both tokens carry digits (`alt0`/`ee0`, `blk_1`/`blk_2`), is neither match nor mismatch;
 *   similarity = equal tokens / (equal + differing) over the remaining positions. A line with
 *   words joins a template only if at least one of its tokens equals a template constant, and
 *   only if its punctuation next to the template's constants is the same (`order: 3, 9 bytes`
 *   and `order 3: 9 bytes` are two events); runs of whitespace count as one space.
 * - Slot values: when a line matches nothing but is the third distinct word in one slot of
 *   templates that are otherwise equal (`Invalid user alice|bob|carol from <*>`, `removing
 *   chargen|daytime|echo`), the slot becomes `<*>` and the templates are folded into one: many
 *   values make a variable even where one differing word is too large a share for the
 *   similarity test.
 * - Event words (after Brain's per-column frequencies, Yu et al., TSC 2023): a slot that was a
 *   word before it became `<*>` counts its values. A few values that each recur (`GET`/`POST`/
 *   `PUT`; `Started`/`Paused`; `bytes`/`values`) name different events, so each line is
 *   reported with its word in the text and an id of its own; values that do not recur, or more
 *   of them, are a variable. The verdict can change as counts grow: ids reported earlier for a
 *   word are then aliases. A slot opened by the similarity test (one word in a longer message)
 *   admits two event words, a slot opened by the slot-value rule up to eight; the
 *   value of a `key=value` pair is always a variable.
 * - Detours: a line whose routing tokens are words may join a template under the `<*>` branch
 *   (its first line had a variable there) and, when nothing else matches, one whose first token
 *   differs (`FADT table loaded` / `HPET table loaded`, `nightly.job done` / `weekly.job done`).
 *   A template that gained a `<*>` in a routing position moves to the branch it now routes to.
 * - Shapes and families: a template (a "shape") has a fixed token count, as in Drain. Shapes
 *   whose signature is equal — the template with runs of `<*>` (joined by spaces or
 *   punctuation) collapsed into one — form one family, reported as one template. This joins messages whose
 *   variable spans a varying number of tokens (`Component \042alt0\042` /
 *   `Component \042SCSI-WWID:01:6005\042`). Bracket groups stay as they are: `bytes sent` and
 *   `bytes (<*>) sent` are two templates, and the text never loses a constant.
 *
 * Every record is reported with its template's text and id (template-id.ts). When a text
 * changes (a constant became `<*>`, two families joined, an event slot became a variable), the
 * old id is recorded as an alias of the new one, so ids seen earlier stay resolvable (`resolve`).
 *
 * Memory and time are bounded: at most `maxTemplates` shapes (least recently matched evicted
 * first) and at most MAX_LEAF_SHAPES in one tree leaf, at most `maxTokens` tokens per line, at
 * most eight counted words per slot, and an alias map of at most 4 × maxTemplates entries.
 */
import { TokenBuffer, Tokenizer, VAR, WORD } from './tokenizer';
import { templateId } from './template-id';
import { SEVERITY_BUCKETS, type TemplateSummary } from '../processors/contract';

export const WILDCARD = '<*>';

export interface MinerOptions {
  /** Share of comparable tokens that must be equal for a line to join a template (0–1). */
  readonly similarity: number;
  /** Prefix tree depth as in Drain: root and token-count levels plus depth − 2 token levels. */
  readonly depth: number;
  /** Children per tree node before further distinct tokens share the `<*>` branch. */
  readonly maxChildren: number;
  /** Shapes kept; the least recently matched is evicted beyond it. */
  readonly maxTemplates: number;
  /** Tokens per line; the rest of a longer line is one trailing `<*>`. */
  readonly maxTokens: number;
}

export const DEFAULT_MINER_OPTIONS: MinerOptions = Object.freeze({
  similarity: 0.8,
  depth: 4,
  maxChildren: 100,
  maxTemplates: 50_000,
  maxTokens: 200,
});

/** A family of shapes, reported as one template. */
export class Family {
  readonly members: Shape[] = [];
  text = '';
  id = '';
}

/** The words seen in one slot of a shape (a position that held a word before it became `<*>`), with counts. */
export class Slot {
  // Arrays of exactly the words seen (replaced, not grown, on a new word: a slot has a few).
  words: readonly string[];
  counts: number[];

  constructor(
    readonly position: number,
    /** At most this many words, each seen at least EVENT_MIN_COUNT times, are event words. */
    public events: number,
    word: string,
    count: number,
  ) {
    this.words = append([], own(word));
    this.counts = append([], count);
  }

  add(word: string, n: number): void {
    const k = this.words.indexOf(word);
    if (k >= 0) this.counts[k]! += n;
    else {
      this.words = append(this.words, own(word));
      this.counts = append(this.counts, n);
    }
  }

  /** Whether `word` is one of a few words that each recur here: an event word, not a variable. */
  isEventWord(word: string): boolean {
    if (this.words.length > this.events) return false;
    for (const n of this.counts) if (n < EVENT_MIN_COUNT) return false;
    return this.words.includes(word);
  }
}

/** A template as reported: text and id. */
export interface TemplateRef {
  readonly text: string;
  readonly id: string;
}

/** One template of a fixed token count (a Drain cluster). */
export class Shape {
  /** Template tokens; WILDCARD marks a variable. */
  readonly tokens: string[];
  /** Per token: 1 when the literal carries a digit, so that another digit-word there is no mismatch. */
  readonly digits: Uint8Array;
  /** Separators around the tokens (tokens.length + 1), from the first line. */
  readonly seps: string[];
  /** Lines matched. */
  count = 0;
  /**
   * What the admin API reports (set by `note`, by the caller that knows the record): first and
   * last match (ms), lines per severity bucket (SEVERITY_BUCKETS), the first line. 0 / '' until noted.
   */
  firstSeen = 0;
  lastSeen = 0;
  readonly severities = new Uint32Array(SEVERITY_BUCKETS.length);
  example = '';
  /**
   * Word counts of positions that held a word before they became `<*>`, while they may hold
   * event words (a slot found to hold a variable is dropped); undefined: none.
   */
  slots: Slot[] | undefined;
  /** Texts and ids of this shape's templates with event words filled in, by the words. */
  variants: Map<string, TemplateRef> | undefined;
  text = '';
  signature = '';
  family: Family;
  leaf: TreeNode | null = null;
  /** Set when the shape was folded into another one (its lines now count there). */
  absorbedBy: Shape | null = null;
  /** Tick of the last match, to find a full leaf's least recently used shape. */
  used = 0;
  // Intrusive LRU list: no allocation per touch.
  newer: Shape | null = null;
  older: Shape | null = null;

  constructor(tokens: string[], seps: string[], family: Family) {
    this.tokens = tokens;
    this.seps = seps;
    this.digits = new Uint8Array(tokens.length);
    for (let i = 0; i < tokens.length; i++) this.digits[i] = hasDigit(tokens[i]!) ? 1 : 0;
    this.family = family;
  }
}

export class TreeNode {
  readonly children = new Map<string | number, TreeNode>();
  readonly shapes: Shape[] = [];
  constructor(
    readonly parent: TreeNode | null,
    readonly key: string | number,
  ) {}
}

/** What a shape looked like when saved (snapshot.ts). */
export interface ShapeState {
  readonly tokens: readonly string[];
  readonly seps: readonly string[];
  readonly count: number;
  readonly family: number;
  /** Slot word counts: position, [word, count] pairs, and how many event words the slot admits (version 2). */
  readonly slots?: readonly (readonly [number, readonly (readonly [string, number])[], number])[];
}

export interface MinerState {
  readonly families: readonly { readonly text: string }[];
  /** Least recently used first. */
  readonly shapes: readonly ShapeState[];
  readonly aliases: readonly (readonly [string, string])[];
}

export interface MinerStats {
  readonly templates: number;
  readonly shapes: number;
  readonly aliases: number;
  readonly evicted: number;
}

const ALIASES_PER_TEMPLATE = 4;
/** Distinct words seen in one slot of otherwise equal templates that make the slot a variable. */
const SLOT_VALUES = 3;
/** Constants the sibling templates must share besides the slot (one in two-token messages: `removing chargen`). */
const MIN_SHARED = 2;
const MAX_ALIAS_HOPS = 64;
/**
 * Event words admitted in a slot that one differing word in a longer message opened; a slot
 * that saw more words is a variable and is no longer counted.
 */
const EVENT_MAX_VALUES = 2;
/** Event words admitted in a slot opened by the k-th distinct word in short messages (mergeSiblings). */
const SIBLING_EVENT_MAX_VALUES = 8;
/** Lines each value of an event slot must have been seen in. */
const EVENT_MIN_COUNT = 2;
/**
 * Shapes per tree leaf. A leaf is scanned for every line that reaches it, so a message type
 * with several high-cardinality word variables (a new shape per line) must not grow one
 * without bound; beyond this the leaf's least recently matched shape is evicted.
 */
const MAX_LEAF_SHAPES = 128;
/** Shapes of other leaves compared when looking for slot siblings of a new line. */
const MAX_DETOUR_SCAN = 64;

export class TemplateMiner {
  readonly options: MinerOptions;
  /** The tokens of the line last passed to `add`/`match`. */
  readonly tokens: TokenBuffer;
  private readonly tokenizer: Tokenizer;
  private readonly root = new TreeNode(null, 'root');
  private readonly bySignature = new Map<string, Shape>();
  private readonly byId = new Map<string, Family>();
  private readonly aliases = new Map<string, string>();
  /** Live templates with event words (Shape.variants), by id. */
  private readonly variantIds = new Map<string, TemplateRef>();
  private readonly levels: number;
  private shapeCount = 0;
  private familyCount = 0;
  private evicted = 0;
  private newest: Shape | null = null;
  private oldest: Shape | null = null;
  // State of the current `find` (fields, not a result object: no allocation per line).
  private best: Shape | undefined;
  private bestScore = -1;
  private bestEqual = -1;
  private lineWords = 0;
  private readonly siblingLeaves: TreeNode[] = [];
  private tick = 0;

  constructor(options: Partial<MinerOptions> = {}) {
    this.options = { ...DEFAULT_MINER_OPTIONS, ...options };
    const o = this.options;
    if (!(o.similarity >= 0 && o.similarity <= 1)) throw new RangeError('similarity must be between 0 and 1');
    if (!Number.isInteger(o.depth) || o.depth < 3) throw new RangeError('depth must be an integer of at least 3');
    if (!Number.isInteger(o.maxTemplates) || o.maxTemplates < 1) throw new RangeError('maxTemplates must be a positive integer');
    if (!Number.isInteger(o.maxTokens) || o.maxTokens < 2) throw new RangeError('maxTokens must be an integer of at least 2');
    if (!Number.isInteger(o.maxChildren) || o.maxChildren < 1) throw new RangeError('maxChildren must be a positive integer');
    this.levels = o.depth - 2;
    this.tokenizer = new Tokenizer(o.maxTokens);
    this.tokens = new TokenBuffer(Math.min(o.maxTokens, 64));
  }

  /** Learns from one line and returns its shape (family: `shape.family`). Empty lines are a shape too. */
  add(line: string): Shape {
    const buf = this.tokens;
    this.tokenizer.tokenize(line, buf);
    let shape = this.find(buf);
    if (shape) {
      this.generalize(shape, buf);
    } else {
      shape = this.mergeSiblings(buf) ?? this.create(buf);
    }
    shape.count++;
    if (shape.slots) this.countSlots(shape, buf);
    this.touch(shape);
    if (this.shapeCount > this.options.maxTemplates) this.evictOldest();
    return shape;
  }

  /**
   * Records what the admin API reports about the line just added: plain field writes on the
   * shape, no allocation (the example keeps a reference to the first line's string).
   */
  note(shape: Shape, now: number, severityNumber: number, line: string): void {
    if (shape.firstSeen === 0) {
      shape.firstSeen = now;
      if (shape.example === '') shape.example = line;
    }
    shape.lastSeen = now;
    shape.severities[severityNumber > 0 && severityNumber <= 24 ? (severityNumber + 3) >> 2 : 0]!++;
  }

  /** The `limit` templates (families) with the most lines, their shapes' figures summed. */
  summaries(limit: number): TemplateSummary[] {
    const top: Family[] = [];
    const countOf = (f: Family): number => f.members.reduce((n, m) => n + m.count, 0);
    for (const f of this.byId.values()) top.push(f);
    const counts = new Map(top.map((f) => [f, countOf(f)]));
    top.sort((a, b) => counts.get(b)! - counts.get(a)!);
    return top.slice(0, Math.max(0, limit)).map((f) => {
      const sum = new Shape([], [], f);
      for (const m of f.members) {
        sum.count += m.count;
        mergeSeen(sum, m);
      }
      const severities = Object.fromEntries(SEVERITY_BUCKETS.map((b, i) => [b, sum.severities[i]!])) as TemplateSummary['severities'];
      return { id: f.id, text: f.text, count: sum.count, firstSeen: sum.firstSeen, lastSeen: sum.lastSeen, severities, example: sum.example };
    });
  }

  /**
   * The template the line last passed to `add` is reported with: its shape's family, or,
   * where the shape has event slots (a few values, each seen repeatedly: `GET`/`POST`,
   * `Started`/`Paused`), the shape's text with the line's words there.
   */
  template(shape: Shape): TemplateRef {
    const family = shape.family;
    if (!shape.slots) return family;
    if (family.members.length !== 1) {
      // Joined with shapes of other token counts: the family's text, without event words.
      if (shape.variants) this.dropVariants(shape);
      return family;
    }
    let key = '';
    const texts = this.tokens.texts;
    for (const slot of shape.slots) if (slot.isEventWord(texts[slot.position]!)) key += variantKey(slot.position, texts[slot.position]!);
    if (key === '') return family;
    return this.variantOf(shape, key);
  }

  private variantOf(shape: Shape, key: string): TemplateRef {
    return shape.variants?.get(key) ?? this.variant(shape, key);
  }

  /** Creates the template of `shape` with the words of `key` (variantKey pairs) in their slots. */
  private variant(shape: Shape, key: string): TemplateRef {
    const tokens = shape.tokens.slice();
    for (const [i, word] of parseVariantKey(key)) tokens[i] = word;
    const text = own(renderTemplate(tokens, shape.seps));
    const ref = { text, id: templateId(text) };
    (shape.variants ??= new Map()).set(own(key), ref);
    this.variantIds.set(ref.id, ref);
    this.aliases.delete(ref.id);
    return ref;
  }

  /**
   * Forgets a shape's event-word templates after its text or slots changed; each old id becomes
   * an alias of the template its lines get now: the same words where they are still event words.
   */
  private dropVariants(shape: Shape): void {
    const old = shape.variants!;
    shape.variants = undefined;
    for (const [key, ref] of old) {
      if (this.variantIds.get(ref.id) === ref) this.variantIds.delete(ref.id);
      let now = '';
      if (shape.family.members.length === 1) {
        for (const [i, word] of parseVariantKey(key)) if (shape.slots?.some((slot) => slot.position === i && slot.isEventWord(word))) now += variantKey(i, word);
      }
      const target = now === '' ? shape.family.id : this.variantOf(shape, now).id;
      this.setAlias(ref.id, target);
    }
  }

  /** The template a line added earlier (it joined `shape`) is reported with now: for offline use. */
  templateOf(shape: Shape, line: string): TemplateRef {
    let s = shape;
    while (s.absorbedBy) s = s.absorbedBy;
    if (!s.slots || s.family.members.length !== 1) return s.family;
    this.tokenizer.tokenize(line, this.tokens);
    return this.template(s);
  }

  private countSlots(shape: Shape, buf: TokenBuffer): void {
    const slots = shape.slots!;
    for (let s = slots.length - 1; s >= 0; s--) {
      const slot = slots[s]!;
      const i = slot.position;
      const t = buf.texts[i]!;
      const k = slot.words.indexOf(t);
      if (k >= 0) slot.counts[k]!++;
      // Words are never forgotten: beyond `events` of them the slot cannot hold event words again.
      else if (buf.kinds[i] === VAR || slot.words.length >= slot.events) this.slotIsVariable(shape, slot);
      else slot.add(t, 1);
    }
  }

  /** The slot's words are variables from now on (it is dropped): ids that showed them lead to the shape's family. */
  private slotIsVariable(shape: Shape, slot: Slot): void {
    const rest = shape.slots!.filter((s) => s !== slot);
    shape.slots = rest.length > 0 ? append(rest.slice(0, -1), rest[rest.length - 1]!) : undefined;
    if (shape.variants) this.dropVariants(shape);
  }

  /** The shape a line would join, without learning from it. */
  match(line: string): Shape | undefined {
    this.tokenizer.tokenize(line, this.tokens);
    return this.find(this.tokens);
  }

  /** Values of the line last added at its shape's `<*>` positions. */
  parameters(shape: Shape): string[] {
    const out: string[] = [];
    const buf = this.tokens;
    const n = Math.min(shape.tokens.length, buf.count);
    for (let i = 0; i < n; i++) {
      if (shape.tokens[i] !== WILDCARD) continue;
      if (shape.slots?.some((slot) => slot.position === i && slot.isEventWord(buf.texts[i]!))) continue;
      out.push(buf.texts[i]!);
    }
    return out;
  }

  /** The current id for an id seen earlier (itself when live, undefined when unknown or evicted). */
  resolve(id: string): string | undefined {
    let cur = id;
    for (let hops = 0; hops < MAX_ALIAS_HOPS; hops++) {
      if (this.byId.has(cur) || this.variantIds.has(cur)) return cur;
      const next = this.aliases.get(cur);
      if (next === undefined) return undefined;
      cur = next;
    }
    return undefined;
  }

  /** Template text of a live id. */
  templateText(id: string): string | undefined {
    return this.byId.get(id)?.text ?? this.variantIds.get(id)?.text;
  }

  stats(): MinerStats {
    return { templates: this.familyCount, shapes: this.shapeCount, aliases: this.aliases.size, evicted: this.evicted };
  }

  // ---- matching ----------------------------------------------------------------------------

  private find(buf: TokenBuffer): Shape | undefined {
    const lengthNode = this.root.children.get(buf.count);
    if (!lengthNode) return undefined;
    this.best = undefined;
    this.bestScore = -1;
    this.bestEqual = -1;
    let words = 0;
    for (let i = 0; i < buf.count; i++) if (buf.kinds[i] === WORD) words++;
    this.lineWords = words;
    // The exact branch first: most lines end there, and then no other leaf is looked at.
    let node: TreeNode | undefined = lengthNode;
    const depth = Math.min(this.levels, buf.count);
    for (let level = 0; node && level < depth; level++) node = node.children.get(routeKey(buf, level));
    if (node) {
      this.scan(node, buf);
      if (this.best) return this.best;
    }
    this.scanWildcardBranches(lengthNode, buf, 0, depth, true);
    if (!this.best && depth > 1 && buf.kinds[0] === WORD) this.scanFirstTokenDetours(lengthNode, buf, depth);
    return this.best;
  }

  /**
   * Leaves whose path differs from the line's in the first token only: a variable word that
   * starts a message (`FADT table loaded` / `HPET table loaded`) would otherwise open a
   * template per value. Only for lines that matched nothing else, up to MAX_DETOUR_SCAN shapes.
   */
  private scanFirstTokenDetours(lengthNode: TreeNode, buf: TokenBuffer, depth: number): void {
    const first = buf.texts[0]!;
    let budget = MAX_DETOUR_SCAN;
    for (const [key, child] of lengthNode.children) {
      if (key === first || key === WILDCARD) continue;
      let node: TreeNode | undefined = child;
      for (let level = 1; node && level < depth; level++) node = node.children.get(routeKey(buf, level));
      if (!node) continue;
      this.scan(node, buf);
      budget -= node.shapes.length;
      if (budget <= 0) return;
    }
  }

  /** Leaves the line reaches when some of its routing words are taken as `<*>` (the exact leaf excluded). */
  private scanWildcardBranches(node: TreeNode, buf: TokenBuffer, level: number, depth: number, exact: boolean): void {
    if (level >= depth) {
      if (!exact) this.scan(node, buf);
      return;
    }
    const key = routeKey(buf, level);
    const child = node.children.get(key);
    if (child) this.scanWildcardBranches(child, buf, level + 1, depth, exact);
    if (key !== WILDCARD) {
      const wild = node.children.get(WILDCARD);
      if (wild) this.scanWildcardBranches(wild, buf, level + 1, depth, false);
    }
  }

  /** Compares the line with each shape of a leaf, keeping the most similar one that passes. */
  private scan(leaf: TreeNode, buf: TokenBuffer): void {
    const threshold = this.options.similarity;
    const shapes = leaf.shapes;
    const n = buf.count;
    const texts = buf.texts;
    const kinds = buf.kinds;
    // More differences than this cannot reach the threshold, whatever the rest of the line.
    const maxDiffer = (n * (1 - threshold)) / threshold;
    for (let s = 0; s < shapes.length; s++) {
      const shape = shapes[s]!;
      const tokens = shape.tokens;
      const digits = shape.digits;
      let equal = 0;
      let differ = 0;
      for (let i = 0; i < n; i++) {
        const t = tokens[i]!;
        if (t === WILDCARD) continue;
        if (t === texts[i]) equal++;
        else if ((digits[i] === 0 || kinds[i] === WORD) && ++differ > maxDiffer) break;
      }
      if (differ > maxDiffer) continue;
      // A template with no constant in common says nothing about a line that has words.
      if (equal === 0 && this.lineWords > 0) continue;
      const score = equal + differ === 0 ? 1 : equal / (equal + differ);
      if (score < threshold) continue;
      if (!(score > this.bestScore || (score === this.bestScore && equal > this.bestEqual))) continue;
      // Punctuation next to a constant is part of the event (`order: 3, 4096 bytes` / `order 3: 4096 bytes`).
      if (!separatorsMatch(shape, buf)) continue;
      this.bestScore = score;
      this.bestEqual = equal;
      this.best = shape;
    }
  }

  /**
   * A line that matched nothing may be the k-th distinct word in one slot of otherwise equal
   * templates (`Invalid user alice from <*>`, `… bob …`, `… carol …`): short templates differ
   * by too large a share for the similarity test, but many values in one slot make it a
   * variable. Siblings: shapes that differ from the line in exactly one word, at the same
   * position, and share at least MIN_SHARED constants with it.
   */
  private mergeSiblings(buf: TokenBuffer): Shape | undefined {
    const lengthNode = this.root.children.get(buf.count);
    if (!lengthNode) return undefined;
    // Siblings may differ in a routing word too (`user alice logged in`): look in the leaves
    // whose path differs from the line's in at most one level, the first excepted: as in
    // Drain, a word that starts a message is taken to name the event (`cupsd startup …`).
    const leaves = this.siblingLeaves;
    leaves.length = 0;
    this.collectSiblingLeaves(lengthNode, buf, 0, Math.min(this.levels, buf.count), 1, leaves);
    let found = 0;
    for (const leaf of leaves) found += leaf.shapes.length;
    if (found < SLOT_VALUES - 1) return undefined;
    const n = buf.count;
    const texts = buf.texts;
    const kinds = buf.kinds;
    let slots: Map<number, Shape[]> | undefined;
    // The exact leaf (first, at most MAX_LEAF_SHAPES) is compared in full, the detours up to a budget.
    let budget = (leaves[0]?.shapes.length ?? 0) + MAX_DETOUR_SCAN;
    for (let l = 0; l < leaves.length && budget > 0; l++) {
      const shapes = leaves[l]!.shapes;
      for (let k = 0; k < shapes.length && budget > 0; k++, budget--) {
        const shape = shapes[k]!;
        const slot = siblingSlot(shape, texts, kinds, n);
        if (slot < 0) continue;
        slots ??= new Map();
        const list = slots.get(slot);
        if (list) list.push(shape);
        else slots.set(slot, [shape]);
      }
    }
    if (!slots) return undefined;
    for (const [slot, siblings] of slots) {
      const values = new Set<string>([texts[slot]!]);
      for (const sib of siblings) values.add(sib.tokens[slot]!);
      if (values.size < SLOT_VALUES) continue;
      siblings.sort((a, b) => b.count - a.count);
      const survivor = siblings[0]!;
      let changed = wildcardDifferences(survivor, buf.texts, buf.kinds);
      const opened = survivor.slots?.find((s) => s.position === slot);
      for (let k = 1; k < siblings.length; k++) {
        const sib = siblings[k]!;
        changed = wildcardDifferences(survivor, sib.tokens, null) || changed;
        const word = sib.tokens[slot]!;
        if (opened && word !== WILDCARD) opened.add(word, sib.count);
      }
      // Many values in a short message: event words only if each recurs (Slot.isEventWord).
      if (opened) opened.events = SIBLING_EVENT_MAX_VALUES;
      if (changed) this.refresh(survivor);
      for (let k = 1; k < siblings.length; k++) this.absorb(survivor, siblings[k]!);
      this.relocate(survivor);
      return survivor;
    }
    return undefined;
  }

  private collectSiblingLeaves(node: TreeNode, buf: TokenBuffer, level: number, depth: number, detours: number, out: TreeNode[]): void {
    if (level >= depth) {
      out.push(node);
      return;
    }
    // The exact branch first, so that the scan limit cuts the detours, not it.
    const key = routeKey(buf, level);
    const exact = node.children.get(key);
    if (exact) this.collectSiblingLeaves(exact, buf, level + 1, depth, detours, out);
    if (detours === 0 || level === 0) return;
    for (const [k, child] of node.children) if (k !== key) this.collectSiblingLeaves(child, buf, level + 1, depth, detours - 1, out);
  }

  /** Moves a shape to the leaf its tokens route to now (a routing word became `<*>`). */
  private relocate(shape: Shape): void {
    const target = this.leafFor(shape.tokens);
    const leaf = shape.leaf;
    if (target === leaf) return;
    if (leaf) this.detach(shape, leaf);
    this.makeRoom(target);
    target.shapes.push(shape);
    shape.leaf = target;
  }

  /** Evicts the least recently matched shapes of a full leaf. */
  private makeRoom(leaf: TreeNode): void {
    while (leaf.shapes.length >= MAX_LEAF_SHAPES) {
      let lru = leaf.shapes[0]!;
      for (const s of leaf.shapes) if (s.used < lru.used) lru = s;
      this.remove(lru);
      this.evicted++;
    }
  }

  /** Takes a shape off its leaf, pruning branches left empty. */
  private detach(shape: Shape, leaf: TreeNode): void {
    const i = leaf.shapes.indexOf(shape);
    if (i >= 0) leaf.shapes.splice(i, 1);
    let node = leaf;
    while (node.parent && node.shapes.length === 0 && node.children.size === 0) {
      node.parent.children.delete(node.key);
      node = node.parent;
    }
    shape.leaf = null;
  }

  /** Removes `sib` after its lines were counted in `survivor`; its family's id now leads to survivor's. */
  private absorb(survivor: Shape, sib: Shape): void {
    survivor.count += sib.count;
    mergeSeen(survivor, sib);
    const family = sib.family;
    this.remove(sib);
    sib.absorbedBy = survivor;
    if (family === survivor.family) return;
    if (family.members.length > 0) this.join(survivor.family, family, survivor.signature);
    else if (family.id !== '') this.setAlias(family.id, survivor.family.id);
  }

  // ---- learning ----------------------------------------------------------------------------

  private generalize(shape: Shape, buf: TokenBuffer): void {
    if (!wildcardDifferences(shape, buf.texts, buf.kinds)) return;
    this.refresh(shape);
    this.relocate(shape);
  }

  private create(buf: TokenBuffer): Shape {
    const n = buf.count;
    // Built by push: packed arrays, which the similarity loops read fastest.
    const tokens: string[] = [];
    const seps: string[] = [];
    for (let i = 0; i < n; i++) {
      tokens.push(buf.kinds[i] === VAR ? WILDCARD : buf.texts[i]!);
      seps.push(buf.separator(i));
    }
    seps.push(buf.separator(n));
    return this.insert(tokens, seps, 0, null);
  }

  /** Adds a shape to the tree, the LRU list and a family (a new one unless given). */
  private insert(tokens: string[], seps: string[], count: number, family: Family | null): Shape {
    const fam = family ?? new Family();
    if (!family) this.familyCount++;
    const shape = new Shape(tokens, seps, fam);
    shape.count = count;
    fam.members.push(shape);
    const leaf = this.leafFor(tokens);
    this.makeRoom(leaf);
    leaf.shapes.push(shape);
    shape.leaf = leaf;
    this.shapeCount++;
    this.touch(shape);
    this.refresh(shape);
    return shape;
  }

  private leafFor(tokens: readonly string[]): TreeNode {
    let node: TreeNode | undefined = this.root.children.get(tokens.length);
    if (!node) {
      node = new TreeNode(this.root, tokens.length);
      this.root.children.set(tokens.length, node);
    }
    const depth = Math.min(this.levels, tokens.length);
    for (let level = 0; level < depth; level++) {
      const t = tokens[level]!;
      let key = t === WILDCARD || hasDigit(t) ? WILDCARD : t;
      let child: TreeNode | undefined = node.children.get(key);
      if (!child && key !== WILDCARD && node.children.size >= this.options.maxChildren) {
        key = WILDCARD;
        child = node.children.get(key);
      }
      if (!child) {
        child = new TreeNode(node, key);
        node.children.set(key, child);
      }
      node = child;
    }
    return node;
  }

  /** Recomputes a shape's text and signature, and its family's text and id. */
  private refresh(shape: Shape): void {
    this.refreshText(shape);
    // Event-word templates were built from the old tokens.
    if (shape.variants) this.dropVariants(shape);
  }

  private refreshText(shape: Shape): void {
    shape.text = renderTemplate(shape.tokens, shape.seps);
    const oldSignature = shape.signature;
    shape.signature = signature(shape.digits.includes(1) ? renderTemplate(shape.tokens.map((t, i) => (shape.digits[i] ? WILDCARD : t)), shape.seps) : shape.text);
    if (oldSignature !== shape.signature && this.bySignature.get(oldSignature) === shape) this.bySignature.delete(oldSignature);
    const family = shape.family;
    const other = this.bySignature.get(shape.signature);
    if (other && other.family !== family) {
      this.join(other.family, family, shape.signature);
      return;
    }
    if (!other) this.bySignature.set(shape.signature, shape);
    this.retext(family, family.members.length === 1 ? shape.text : shape.signature);
  }

  /** Moves the members of `from` into `into`; the family text becomes the shared signature. */
  private join(into: Family, from: Family, sig: string): void {
    if (from.members.length > into.members.length) {
      const t = into;
      into = from;
      from = t;
    }
    for (const m of from.members) {
      m.family = into;
      into.members.push(m);
    }
    from.members.length = 0;
    this.familyCount--;
    if (from.id !== '') {
      this.byId.delete(from.id);
      this.setAlias(from.id, templateId(sig));
    }
    this.retext(into, sig);
  }

  private retext(family: Family, text: string): void {
    if (family.text === text && family.id !== '') return;
    const id = templateId(text);
    const old = family.id;
    family.text = text;
    family.id = id;
    if (old !== '' && old !== id) {
      if (this.byId.get(old) === family) this.byId.delete(old);
      this.setAlias(old, id);
    }
    this.byId.set(id, family);
    // A live id is not an alias (a template can come back after eviction).
    this.aliases.delete(id);
  }

  private setAlias(from: string, to: string): void {
    if (from === to) return;
    this.aliases.delete(from);
    this.aliases.set(from, to);
    const max = this.options.maxTemplates * ALIASES_PER_TEMPLATE;
    // Insertion order: the oldest alias goes first.
    while (this.aliases.size > max) this.aliases.delete(this.aliases.keys().next().value as string);
  }

  // ---- LRU -------------------------------------------------------------------------------

  private touch(shape: Shape): void {
    shape.used = ++this.tick;
    if (this.newest === shape) return;
    // Unlink.
    if (shape.newer) shape.newer.older = shape.older;
    if (shape.older) shape.older.newer = shape.newer;
    if (this.oldest === shape) this.oldest = shape.newer;
    // Link at the newest end.
    shape.older = this.newest;
    shape.newer = null;
    if (this.newest) this.newest.newer = shape;
    this.newest = shape;
    if (!this.oldest) this.oldest = shape;
  }

  private evictOldest(): void {
    const shape = this.oldest;
    if (!shape) return;
    this.remove(shape);
    this.evicted++;
  }

  private remove(shape: Shape): void {
    if (shape.variants) for (const ref of shape.variants.values()) if (this.variantIds.get(ref.id) === ref) this.variantIds.delete(ref.id);
    // LRU list.
    if (shape.newer) shape.newer.older = shape.older;
    if (shape.older) shape.older.newer = shape.newer;
    if (this.oldest === shape) this.oldest = shape.newer;
    if (this.newest === shape) this.newest = shape.older;
    shape.newer = shape.older = null;
    // Tree, pruning branches left empty.
    if (shape.leaf) this.detach(shape, shape.leaf);
    if (this.bySignature.get(shape.signature) === shape) {
      this.bySignature.delete(shape.signature);
      const heir = shape.family.members.find((m) => m !== shape && m.signature === shape.signature);
      if (heir) this.bySignature.set(shape.signature, heir);
    }
    const family = shape.family;
    const j = family.members.indexOf(shape);
    if (j >= 0) family.members.splice(j, 1);
    if (family.members.length === 0) {
      if (this.byId.get(family.id) === family) this.byId.delete(family.id);
      this.familyCount--;
    }
    this.shapeCount--;
  }

  // ---- persistence -------------------------------------------------------------------------

  exportState(): MinerState {
    const families: { text: string }[] = [];
    const index = new Map<Family, number>();
    const shapes: ShapeState[] = [];
    for (let s = this.oldest; s; s = s.newer) {
      let f = index.get(s.family);
      if (f === undefined) {
        f = families.length;
        index.set(s.family, f);
        families.push({ text: s.family.text });
      }
      const slots = s.slots?.map((v) => [v.position, v.words.map((w, k) => [w, v.counts[k]!] as const), v.events] as const);
      shapes.push({ tokens: [...s.tokens], seps: [...s.seps], count: s.count, family: f, ...(slots ? { slots } : {}) });
    }
    return { families, shapes, aliases: [...this.aliases] };
  }

  /** Replaces everything learnt by a saved state (validated by the caller's schema). */
  importState(state: MinerState): void {
    for (let s = this.oldest; s; s = this.oldest) this.remove(s);
    this.aliases.clear();
    this.variantIds.clear();
    this.byId.clear();
    this.bySignature.clear();
    this.shapeCount = this.familyCount = 0;
    const families = state.families.map(() => null as Family | null);
    for (const s of state.shapes) {
      // Shapes longer than the current token limit could never match again.
      if (s.tokens.length > this.options.maxTokens) continue;
      const existing = families[s.family] ?? null;
      const shape = this.insert([...s.tokens], [...s.seps], s.count, existing);
      if (s.slots) shape.slots = s.slots.map((saved) => restoreSlot(saved));
      families[s.family] = shape.family;
    }
    // Families keep their saved text (and so their id) even where the shapes alone would not say it.
    families.forEach((f, i) => {
      if (f && f.members.length > 0) this.retext(f, state.families[i]!.text);
    });
    for (const [from, to] of state.aliases) if (!this.byId.has(from)) this.setAlias(from, to);
    while (this.shapeCount > this.options.maxTemplates) this.evictOldest();
  }
}

/**
 * Whether the line's separators equal the shape's wherever a constant is next to them; runs of
 * whitespace count as one space, and whitespace at either end of the line is ignored.
 */
function separatorsMatch(shape: Shape, buf: TokenBuffer): boolean {
  const n = buf.count;
  const tokens = shape.tokens;
  const line = buf.line;
  for (let i = 0; i <= n; i++) {
    if ((i === 0 || tokens[i - 1] === WILDCARD) && (i === n || tokens[i] === WILDCARD)) continue;
    const from = i === 0 ? 0 : buf.ends[i - 1]!;
    const to = i === n ? line.length : buf.starts[i]!;
    if (!sameSeparator(shape.seps[i]!, line, from, to, i === 0, i === n)) return false;
  }
  return true;
}

function isWhite(c: number): boolean {
  return c <= 32 || c === 0xa0;
}

/** sep equals line[from, to) with whitespace runs as one space (and dropped at the line's ends). */
function sameSeparator(sep: string, line: string, from: number, to: number, atStart: boolean, atEnd: boolean): boolean {
  // The common case: the same characters (mostly a single space).
  const an = sep.length;
  if (to - from === an) {
    let k = 0;
    while (k < an && sep.charCodeAt(k) === line.charCodeAt(from + k)) k++;
    if (k === an) return true;
  }
  let a = 0;
  let b = from;
  if (atStart) {
    while (a < an && isWhite(sep.charCodeAt(a))) a++;
    while (b < to && isWhite(line.charCodeAt(b))) b++;
  }
  let aEnd = an;
  let bEnd = to;
  if (atEnd) {
    while (aEnd > a && isWhite(sep.charCodeAt(aEnd - 1))) aEnd--;
    while (bEnd > b && isWhite(line.charCodeAt(bEnd - 1))) bEnd--;
  }
  while (a < aEnd && b < bEnd) {
    const x = sep.charCodeAt(a);
    const y = line.charCodeAt(b);
    if (isWhite(x) && isWhite(y)) {
      while (a < aEnd && isWhite(sep.charCodeAt(a))) a++;
      while (b < bEnd && isWhite(line.charCodeAt(b))) b++;
      continue;
    }
    if (x !== y) return false;
    a++;
    b++;
  }
  return a === aEnd && b === bEnd;
}

/**
 * The one position where a shape's word differs from the line's, when all other constants
 * agree and at least MIN_SHARED of them are equal; else -1.
 */
function siblingSlot(shape: Shape, texts: readonly string[], kinds: Uint8Array, n: number): number {
  let equal = 0;
  let slot = -1;
  for (let i = 0; i < n; i++) {
    const t = shape.tokens[i]!;
    if (t === WILDCARD) continue;
    if (t === texts[i]) equal++;
    else if (shape.digits[i] === 0 || kinds[i] === WORD) {
      if (slot >= 0) return -1;
      slot = i;
    }
  }
  return equal >= Math.min(MIN_SHARED, n - 1) ? slot : -1;
}

/**
 * Sets `<*>` where the shape's literal differs from `tokens`; returns whether anything changed.
 * A word replaced by another word (kinds given, not VAR) opens a slot count: the old word with
 * the shape's lines so far (the new one is counted with its line).
 */
function wildcardDifferences(shape: Shape, tokens: readonly string[], kinds: Uint8Array | null): boolean {
  const mine = shape.tokens;
  let changed = false;
  for (let i = 0; i < mine.length; i++) {
    const t = mine[i]!;
    if (t !== WILDCARD && t !== tokens[i]) {
      mine[i] = WILDCARD;
      shape.digits[i] = 0;
      changed = true;
      // The value of a `key=value` pair is a variable by its syntax.
      if (kinds !== null && kinds[i] !== VAR && shape.count > 0 && !shape.seps[i]!.endsWith('=')) {
        const slot = new Slot(i, EVENT_MAX_VALUES, t, shape.count);
        shape.slots = append(shape.slots ?? [], slot);
      }
    }
  }
  return changed;
}

function restoreSlot(saved: NonNullable<ShapeState['slots']>[number]): Slot {
  const [position, words, events] = saved;
  const slot = new Slot(position, events, words[0]![0], words[0]![1]);
  for (let k = 1; k < words.length; k++) slot.add(words[k]![0], words[k]![1]);
  return slot;
}

function routeKey(buf: TokenBuffer, i: number): string {
  return buf.kinds[i] === WORD ? buf.texts[i]! : WILDCARD;
}

/**
 * A copy of a string that does not keep the line it was cut from alive (V8 represents a slice
 * of 13 or more characters as a view on its parent): for strings kept beyond the line.
 */
function own(s: string): string {
  return (' ' + s).slice(1);
}

/** A copy of `a` with `x` at the end, its backing store exactly that long (a push would reserve room for 16 more). */
function append<T>(a: readonly T[], x: T): T[] {
  const out = new Array<T>(a.length + 1);
  for (let i = 0; i < a.length; i++) out[i] = a[i]!;
  out[a.length] = x;
  return out;
}

/** One event word of a template variant's key: its position and the word. */
function variantKey(position: number, word: string): string {
  return `${position}\u0000${word}\u0001`;
}

function parseVariantKey(key: string): [number, string][] {
  const out: [number, string][] = [];
  for (const part of key.split('\u0001')) {
    const z = part.indexOf('\u0000');
    if (z > 0) out.push([Number(part.slice(0, z)), part.slice(z + 1)]);
  }
  return out;
}

function hasDigit(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) return true;
  }
  return false;
}

/** The template as text: tokens with their separators, trimmed. */
/** Adds `from`'s noted figures (not its count) to `into`. */
function mergeSeen(into: Shape, from: Shape): void {
  if (from.firstSeen !== 0 && (into.firstSeen === 0 || from.firstSeen < into.firstSeen)) into.firstSeen = from.firstSeen;
  if (from.lastSeen > into.lastSeen) into.lastSeen = from.lastSeen;
  if (into.example === '') into.example = from.example;
  for (let i = 0; i < into.severities.length; i++) into.severities[i]! += from.severities[i]!;
}

export function renderTemplate(tokens: readonly string[], seps: readonly string[]): string {
  let s = seps[0]!;
  for (let i = 0; i < tokens.length; i++) s += tokens[i]! + seps[i + 1]!;
  return s.trim();
}

// Runs of variables joined by punctuation only.
const VARIABLE_RUN = /<\*>(?:[\s,;:.\-/#|+=_@~]*<\*>)+/g;
const SPACES = /\s+/g;
const SPACE_BEFORE_PUNCTUATION = / (?=[,;:.)\]}])/g;

/** The text two shapes must share to be one family (digit-words already taken as `<*>`). */
export function signature(text: string): string {
  if (text.indexOf(WILDCARD) < 0) return text.replace(SPACES, ' ');
  return text
    .replace(VARIABLE_RUN, WILDCARD)
    .replace(SPACES, ' ')
    .replace(SPACE_BEFORE_PUNCTUATION, '')
    .trim();
}
