/**
 * Template mining accuracy and speed on the Loghub-2k samples (or any directory laid out like
 * them: X/X_2k.log and X/X_2k.log_structured.csv).
 *
 *   npm run build && node dist/bench/eval-templates.js [DIR] [--only A,B] [--explain NAME] [--similarity S] [--depth D] [--no-speed]
 *
 * For each dataset: the lines are mined exactly as `otlp-log-processor templates --log-format …`
 * does (same header parsing, same default configuration) and scored against the corrected labels
 * (X_2k.log_structured_corrected.csv, the headline) and the original ones: grouping accuracy
 * (GA) as in the Loghub benchmark, F1 of groups (FGA) and parsing accuracy (PA, template text)
 * as in Loghub-2.0. Then: lines/s of mining alone (content already extracted, one core) and
 * heap per 10k templates. `--only` picks datasets (cross-validation folds); `--explain NAME`
 * lists the labelled groups not reproduced and the templates whose text differs;
 * `--similarity`/`--depth` are for sensitivity analysis only (the reported table uses the defaults).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { extractContents, mineStream, splitLines } from '../src/classify/batch';
import { parseCsv } from '../src/classify/csv';
import { groupingAccuracy } from '../src/classify/grouping-accuracy';
import { parseLogFormat } from '../src/classify/log-format';
import { DEFAULT_MINER_OPTIONS, TemplateMiner, type MinerOptions } from '../src/classify/template-miner';

/**
 * The header formats of the Loghub datasets as the benchmark (logpai/logparser) defines them:
 * facts about how each file's lines are laid out, not tuning.
 */
export const LOGHUB_FORMATS: Readonly<Record<string, string>> = {
  HDFS: '<Date> <Time> <Pid> <Level> <Component>: <Content>',
  Hadoop: '<Date> <Time> <Level> \\[<Process>\\] <Component>: <Content>',
  Spark: '<Date> <Time> <Level> <Component>: <Content>',
  Zookeeper: '<Date> <Time> - <Level>  \\[<Node>:<Component>@<Id>\\] - <Content>',
  BGL: '<Label> <Timestamp> <Date> <Node> <Time> <NodeRepeat> <Type> <Component> <Level> <Content>',
  HPC: '<LogId> <Node> <Component> <State> <Time> <Flag> <Content>',
  Thunderbird: '<Label> <Timestamp> <Date> <User> <Month> <Day> <Time> <Location> <Component>(\\[<PID>\\])?: <Content>',
  Windows: '<Date> <Time>, <Level>                  <Component>    <Content>',
  Linux: '<Month> <Date> <Time> <Level> <Component>(\\[<PID>\\])?: <Content>',
  Android: '<Date> <Time>  <Pid>  <Tid> <Level> <Component>: <Content>',
  HealthApp: '<Time>\\|<Component>\\|<Pid>\\|<Content>',
  Apache: '\\[<Time>\\] \\[<Level>\\] <Content>',
  Proxifier: '\\[<Time>\\] <Program> - <Content>',
  OpenSSH: '<Date> <Day> <Time> <Component> sshd\\[<Pid>\\]: <Content>',
  OpenStack: '<Logrecord> <Date> <Time> <Pid> <Level> <Component> \\[<ADDR>\\] <Content>',
  Mac: '<Month>  <Date> <Time> <User> <Component>\\[<PID>\\]( \\(<Address>\\))?: <Content>',
};

interface Dataset {
  readonly name: string;
  readonly log: string;
  /** Original Loghub labels. */
  readonly structured: string;
  /** Corrected labels (Khan et al., ICSE 2022), when present. */
  readonly corrected: string | undefined;
}

function findDatasets(dir: string, only: readonly string[] | undefined): Dataset[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && (!only || only.includes(d.name)))
    .map((d) => {
      const base = path.join(dir, d.name, `${d.name}_2k.log`);
      const corrected = `${base}_structured_corrected.csv`;
      return { name: d.name, log: base, structured: `${base}_structured.csv`, corrected: fs.existsSync(corrected) ? corrected : undefined };
    })
    .filter((d) => fs.existsSync(d.log) && fs.existsSync(d.structured))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** Accuracy against one labelling. */
interface Scores {
  readonly ga: number;
  readonly fga: number;
  readonly pa: number;
}

interface Result {
  readonly name: string;
  readonly lines: number;
  readonly events: number;
  readonly templates: number;
  readonly original: Scores;
  readonly corrected: Scores | undefined;
  readonly note: string;
}

interface Labels {
  /** Group key per line (EventId in the original labels; the template text in the corrected ones, where ids were not split). */
  readonly groups: string[];
  readonly templates: string[];
  readonly examples: Map<string, string>;
}

const SPACES = /\s+/g;
const normalize = (t: string): string => t.replace(SPACES, ' ').trim();

function readLabels(file: string, matched: readonly number[], name: string, byTemplate: boolean): { labels: Labels; lineIndex: number[] } {
  const rows = parseCsv(fs.readFileSync(file, 'utf8'));
  const header = rows[0]!;
  const eventCol = header.indexOf('EventId');
  const templateCol = header.indexOf('EventTemplate');
  const idCol = header.indexOf('LineId');
  const contentCol = header.indexOf('Content');
  if (eventCol < 0 || idCol < 0 || templateCol < 0) throw new Error(`${file}: no LineId/EventId/EventTemplate column`);
  const groups: string[] = [];
  const templates: string[] = [];
  const lineIndex: number[] = [];
  const examples = new Map<string, string>();
  for (const r of rows.slice(1)) {
    if (r.length !== header.length) continue;
    const i = matched[Number(r[idCol]) - 1];
    if (i === undefined) throw new Error(`${name}: LineId ${r[idCol]} has no line`);
    const template = normalize(r[templateCol]!);
    const group = byTemplate ? template : r[eventCol]!;
    lineIndex.push(i);
    groups.push(group);
    templates.push(template);
    if (!examples.has(group)) examples.set(group, `${template}   e.g. ${r[contentCol] ?? ''}`);
  }
  return { labels: { groups, templates, examples }, lineIndex };
}

/**
 * GA: share of lines whose parsed group is exactly their labelled group. FGA: F1 of groups
 * reproduced exactly (precision over parsed groups, recall over labelled groups). PA: share of
 * lines whose template text equals the label's (whitespace runs taken as one space).
 */
function score(labels: Labels, parsed: readonly string[]): Scores {
  const report = groupingAccuracy(labels.groups, parsed);
  const truthGroups = new Set(labels.groups).size;
  const parsedGroups = new Set(parsed).size;
  const exact = truthGroups - report.misses.length;
  const p = parsedGroups === 0 ? 0 : exact / parsedGroups;
  const r = truthGroups === 0 ? 0 : exact / truthGroups;
  let same = 0;
  for (let i = 0; i < parsed.length; i++) if (normalize(parsed[i]!) === labels.templates[i]) same++;
  return { ga: report.accuracy, fga: p + r === 0 ? 0 : (2 * p * r) / (p + r), pa: parsed.length === 0 ? 1 : same / parsed.length };
}

function explainMisses(labels: Labels, parsed: readonly string[], what: string): void {
  const report = groupingAccuracy(labels.groups, parsed);
  console.log(`\n--- ${what}: groups not reproduced`);
  for (const m of report.misses) {
    console.log(`\n${m.lines} lines: ${labels.examples.get(m.truth)}`);
    for (const g of m.parsed.slice(0, 6)) console.log(`    ${g.ofThisGroup}/${g.size}  ${g.label}`);
  }
  console.log(`\n--- ${what}: template text differs (PA), most lines first`);
  const differ = new Map<string, { mined: string; lines: number }>();
  for (let i = 0; i < parsed.length; i++) {
    const t = labels.templates[i]!;
    if (normalize(parsed[i]!) === t) continue;
    const d = differ.get(t);
    if (d) d.lines++;
    else differ.set(t, { mined: parsed[i]!, lines: 1 });
  }
  for (const [t, d] of [...differ].sort((x, y) => y[1].lines - x[1].lines)) console.log(`  ${d.lines} lines\n  label: ${t}\n  mined: ${d.mined}`);
}

async function evaluate(ds: Dataset, options: Partial<MinerOptions>, explain: boolean): Promise<{ result: Result; contents: string[] }> {
  const formatText = LOGHUB_FORMATS[ds.name];
  let note = '';
  if (!formatText) note = 'unknown dataset: whole lines mined';
  else {
    const header = parseCsv(fs.readFileSync(ds.structured, 'utf8').slice(0, 4096))[0]!;
    const fields = parseLogFormat(formatText).fields;
    const csvFields = header.slice(header.indexOf('LineId') + 1, header.indexOf('Content') + 1);
    if (fields.join(',') !== csvFields.join(',')) note = `format fields ${fields.join(',')} differ from CSV header ${csvFields.join(',')}`;
  }
  const lines = splitLines(fs.readFileSync(ds.log, 'utf8'));
  const format = formatText ? parseLogFormat(formatText) : undefined;
  // Exactly what `templates --input FILE --log-format …` runs.
  const mined = await mineStream(fs.createReadStream(ds.log), format, options);
  if (mined.lineCount !== lines.length) throw new Error(`${ds.name}: read ${mined.lineCount} lines, expected ${lines.length}`);
  const contents = extractContents(lines, format);
  // The benchmark drops lines that do not have the format; align on the lines that do.
  const matched = format ? lines.map((l, i) => (format.content(l) !== undefined ? i : -1)).filter((i) => i >= 0) : lines.map((_, i) => i);
  const judge = (file: string, byTemplate: boolean, what: string): { scores: Scores; lines: number; events: number } => {
    const { labels, lineIndex } = readLabels(file, matched, ds.name, byTemplate);
    const parsed = lineIndex.map((i) => mined.template(i).text);
    if (explain) explainMisses(labels, parsed, what);
    return { scores: score(labels, parsed), lines: parsed.length, events: new Set(labels.groups).size };
  };
  const original = judge(ds.structured, false, 'original labels');
  const corrected = ds.corrected ? judge(ds.corrected, true, 'corrected labels') : undefined;
  const result: Result = {
    name: ds.name,
    lines: original.lines,
    events: (corrected ?? original).events,
    templates: mined.templateCount,
    original: original.scores,
    corrected: corrected?.scores,
    note,
  };
  return { result, contents };
}

function throughput(corpus: readonly string[], options: Partial<MinerOptions>): number {
  // Warm up, then time whole passes with a fresh miner each (learning included), for at least ~2 s.
  const warm = new TemplateMiner(options);
  for (const line of corpus) warm.add(line);
  let lines = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < 2e9) {
    const miner = new TemplateMiner(options);
    for (let i = 0; i < corpus.length; i++) miner.add(corpus[i]!);
    lines += corpus.length;
    elapsed = Number(process.hrtime.bigint() - start);
  }
  return lines / (elapsed / 1e9);
}

/**
 * Heap per 10k templates. With `eventWords`, each template's `status` slot sees two words twice
 * each, so every template keeps slot word counts (the most a template keeps).
 */
function heapPer10k(eventWords: boolean): { bytes: number; templates: number } {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  const n = 20_000;
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  const word = (i: number, salt: number): string => {
    let s = '';
    let x = i * 7919 + salt * 104729 + 1;
    for (let k = 0; k < 6; k++) {
      s += letters[x % 26];
      x = Math.floor(x / 26) + k * 31;
    }
    return s;
  };
  // Distinct word sequences (no digits, so none is masked): each line its own template, the
  // first two words spread over 100 × 100 tree branches as varied real messages would be.
  const line = (i: number, status: string): string =>
    `${word(i % 100, 4)} ${word(Math.floor(i / 100) % 100, 5)} handled ${word(i, 1)} for ${word(i, 2)} by ${word(i, 7)} in ${i % 997} ms with status ${status} from host ${i % 255}.${i % 7}.0.1`;
  // Through JSON: flat strings, so that the miner's reads do not flatten (shrink) them while measured.
  const lines = JSON.parse(JSON.stringify(Array.from({ length: n }, (_, i) => (eventWords ? [3, 6, 3, 6].map((salt) => line(i, word(i, salt))) : [line(i, word(i, 3))])).flat())) as string[];
  gc();
  const before = process.memoryUsage().heapUsed;
  const miner = new TemplateMiner({ maxTemplates: n * 2 });
  for (const l of lines) miner.add(l);
  gc();
  const after = process.memoryUsage().heapUsed;
  const templates = miner.stats().templates;
  // The lines stay reachable until here, so that collecting them does not offset the miner's heap.
  if (lines.length === 0) throw new Error('no lines');
  return { bytes: ((after - before) / templates) * 10_000, templates };
}

/** shared/datasets/loghub-2k beside the checkout or one of its parents (worktrees sit a level deeper). */
export function defaultDir(): string {
  const tail = path.join('shared', 'datasets', 'loghub-2k');
  const root = path.resolve(__dirname, '..', '..');
  for (let d = path.dirname(root); ; d = path.dirname(d)) {
    if (fs.existsSync(path.join(d, tail))) return path.join(d, tail);
    if (d === path.dirname(d)) return path.join(path.dirname(root), tail);
  }
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      explain: { type: 'string' },
      only: { type: 'string' },
      similarity: { type: 'string' },
      depth: { type: 'string' },
      'no-speed': { type: 'boolean' },
    },
  });
  const dir = path.resolve(positionals[0] ?? defaultDir());
  const options: Partial<MinerOptions> = {
    ...(values.similarity ? { similarity: Number(values.similarity) } : {}),
    ...(values.depth ? { depth: Number(values.depth) } : {}),
  };
  const datasets = findDatasets(dir, values.only?.split(','));
  if (datasets.length === 0) {
    console.error(`no datasets (X/X_2k.log + X/X_2k.log_structured.csv) in ${dir}`);
    process.exitCode = 1;
    return;
  }
  const o = { ...DEFAULT_MINER_OPTIONS, ...options };
  console.log(`Template mining accuracy, ${dir}\nconfiguration: similarity ${o.similarity}, depth ${o.depth}, max_children ${o.maxChildren}, max_tokens ${o.maxTokens}`);
  console.log('GA/FGA/PA on the corrected labels (Khan et al., ICSE 2022) first; GA/FGA on the original Loghub labels after.\n');
  console.log('| Dataset | Lines | Events | Templates | GA | FGA | PA | GA (orig.) | FGA (orig.) |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  const corpus: string[] = [];
  const results: Result[] = [];
  const f = (x: number | undefined): string => (x === undefined ? '–' : x.toFixed(3));
  for (const ds of datasets) {
    const { result: r, contents } = await evaluate(ds, options, values.explain === ds.name);
    results.push(r);
    corpus.push(...contents);
    console.log(`| ${r.name} | ${r.lines} | ${r.events} | ${r.templates} | ${f(r.corrected?.ga)} | ${f(r.corrected?.fga)} | ${f(r.corrected?.pa)} | ${f(r.original.ga)} | ${f(r.original.fga)} |${r.note ? ` ${r.note}` : ''}`);
  }
  const mean = (get: (r: Result) => number | undefined): number | undefined => {
    const xs = results.map(get).filter((x): x is number => x !== undefined);
    return xs.length === 0 ? undefined : xs.reduce((a, b) => a + b, 0) / xs.length;
  };
  const b = (x: number | undefined): string => `**${f(x)}**`;
  console.log(
    `| **Average** | | | | ${b(mean((r) => r.corrected?.ga))} | ${b(mean((r) => r.corrected?.fga))} | ${b(mean((r) => r.corrected?.pa))} | ${b(mean((r) => r.original.ga))} | ${b(mean((r) => r.original.fga))} |`,
  );
  const minGa = Math.min(...results.map((r) => r.corrected?.ga ?? r.original.ga));
  console.log(`\nLowest GA (corrected): ${minGa.toFixed(3)}`);
  if (values['no-speed']) return;
  const rate = throughput(corpus, options);
  console.log(`\nMining speed: ${Math.round(rate).toLocaleString('en-US')} lines/s (one core, ${corpus.length} lines of all datasets, content extracted beforehand)`);
  const mem = heapPer10k(false);
  const withSlots = heapPer10k(true);
  console.log(
    `Memory: ${(mem.bytes / 1024 / 1024).toFixed(1)} MiB heap per 10k templates (${mem.templates} synthetic templates); ${(withSlots.bytes / 1024 / 1024).toFixed(1)} MiB when each has an event-word slot`,
  );
}

if (require.main === module) {
  main().catch((e: Error) => {
    console.error(e.stack ?? e.message);
    process.exitCode = 1;
  });
}
