/**
 * Template mining accuracy and speed on the Loghub-2k samples (or any directory laid out like
 * them: X/X_2k.log and X/X_2k.log_structured.csv).
 *
 *   npm run build && node dist/bench/eval-templates.js [DIR] [--explain NAME] [--similarity S] [--depth D]
 *
 * For each dataset: the lines are mined exactly as `otlp-log-processor templates --log-format …`
 * does (same header parsing, same default configuration) and compared with the ground truth by
 * grouping accuracy (GA) as in the Loghub benchmark. Then: lines/s of mining alone (content
 * already extracted, one core) and heap per 10k templates. `--explain NAME` lists the ground
 * truth groups that were not reproduced; `--similarity`/`--depth` are for sensitivity analysis
 * only (the reported table uses the defaults).
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
const LOGHUB_FORMATS: Readonly<Record<string, string>> = {
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
  readonly structured: string;
}

function findDatasets(dir: string): Dataset[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => ({ name: d.name, log: path.join(dir, d.name, `${d.name}_2k.log`), structured: path.join(dir, d.name, `${d.name}_2k.log_structured.csv`) }))
    .filter((d) => fs.existsSync(d.log) && fs.existsSync(d.structured))
    .sort((a, b) => a.name.localeCompare(b.name));
}

interface Result {
  readonly name: string;
  readonly lines: number;
  readonly events: number;
  readonly templates: number;
  readonly ga: number;
  readonly note: string;
}

async function evaluate(ds: Dataset, options: Partial<MinerOptions>, explain: boolean): Promise<{ result: Result; contents: string[] }> {
  const rows = parseCsv(fs.readFileSync(ds.structured, 'utf8'));
  const header = rows[0]!;
  const eventCol = header.indexOf('EventId');
  const idCol = header.indexOf('LineId');
  if (eventCol < 0 || idCol < 0) throw new Error(`${ds.structured}: no LineId/EventId column`);
  const truthRows = rows.slice(1).filter((r) => r.length === header.length);
  const formatText = LOGHUB_FORMATS[ds.name];
  let note = '';
  if (!formatText) note = 'unknown dataset: whole lines mined';
  else {
    const fields = parseLogFormat(formatText).fields;
    const csvFields = header.slice(idCol + 1, header.indexOf('Content') + 1);
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
  const parsed: string[] = [];
  const truth: string[] = [];
  for (const r of truthRows) {
    const i = matched[Number(r[idCol]) - 1];
    if (i === undefined) throw new Error(`${ds.name}: LineId ${r[idCol]} has no line`);
    parsed.push(mined.family(i).text);
    truth.push(r[eventCol]!);
  }
  const report = groupingAccuracy(truth, parsed);
  if (explain) {
    const templates = new Map<string, string>();
    const contentCol = header.indexOf('Content');
    const templateCol = header.indexOf('EventTemplate');
    for (const r of truthRows) if (!templates.has(r[eventCol]!)) templates.set(r[eventCol]!, `${r[templateCol] ?? ''}   e.g. ${r[contentCol] ?? ''}`);
    for (const m of report.misses) {
      console.log(`\n${m.truth} (${m.lines} lines) ${templates.get(m.truth)}`);
      for (const p of m.parsed.slice(0, 6)) console.log(`    ${p.ofThisGroup}/${p.size}  ${p.label}`);
    }
  }
  const result = { name: ds.name, lines: truth.length, events: new Set(truth).size, templates: mined.templateCount, ga: report.accuracy, note };
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

function heapPer10k(): { bytes: number; templates: number } {
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
  const lines = Array.from(
    { length: n },
    (_, i) => `${word(i % 100, 4)} ${word(Math.floor(i / 100) % 100, 5)} handled ${word(i, 1)} for ${word(i, 2)} in ${i % 997} ms with status ${word(i, 3)} from host ${i % 255}.${i % 7}.0.1`,
  );
  gc();
  const before = process.memoryUsage().heapUsed;
  const miner = new TemplateMiner({ maxTemplates: n * 2 });
  for (const l of lines) miner.add(l);
  gc();
  const after = process.memoryUsage().heapUsed;
  const templates = miner.stats().templates;
  return { bytes: ((after - before) / templates) * 10_000, templates };
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { explain: { type: 'string' }, similarity: { type: 'string' }, depth: { type: 'string' }, 'no-speed': { type: 'boolean' } },
  });
  const dir = path.resolve(positionals[0] ?? path.resolve(__dirname, '..', '..', '..', 'shared', 'datasets', 'loghub-2k'));
  const options: Partial<MinerOptions> = {
    ...(values.similarity ? { similarity: Number(values.similarity) } : {}),
    ...(values.depth ? { depth: Number(values.depth) } : {}),
  };
  const datasets = findDatasets(dir);
  if (datasets.length === 0) {
    console.error(`no datasets (X/X_2k.log + X/X_2k.log_structured.csv) in ${dir}`);
    process.exitCode = 1;
    return;
  }
  const o = { ...DEFAULT_MINER_OPTIONS, ...options };
  console.log(`Grouping accuracy, ${dir}\nconfiguration: similarity ${o.similarity}, depth ${o.depth}, max_children ${o.maxChildren}, max_tokens ${o.maxTokens}\n`);
  console.log('| Dataset | Lines | Events | Templates | GA |');
  console.log('| --- | ---: | ---: | ---: | ---: |');
  const corpus: string[] = [];
  const results: Result[] = [];
  for (const ds of datasets) {
    const { result, contents } = await evaluate(ds, options, values.explain === ds.name);
    results.push(result);
    corpus.push(...contents);
    console.log(`| ${result.name} | ${result.lines} | ${result.events} | ${result.templates} | ${result.ga.toFixed(3)} |${result.note ? ` ${result.note}` : ''}`);
  }
  const avg = results.reduce((s, r) => s + r.ga, 0) / results.length;
  console.log(`| **Average** | | | | **${avg.toFixed(3)}** |`);
  if (values['no-speed']) return;
  const rate = throughput(corpus, options);
  console.log(`\nMining speed: ${Math.round(rate).toLocaleString('en-US')} lines/s (one core, ${corpus.length} lines of all datasets, content extracted beforehand)`);
  const mem = heapPer10k();
  console.log(`Memory: ${(mem.bytes / 1024 / 1024).toFixed(1)} MiB heap per 10k templates (${mem.templates} synthetic templates)`);
}

main().catch((e: Error) => {
  console.error(e.stack ?? e.message);
  process.exitCode = 1;
});
