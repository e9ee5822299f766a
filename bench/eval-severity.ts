/**
 * Accuracy and cost of the `severity` processor's inference.
 *
 *   npm run build && npm run bench:severity                 # accuracy tables
 *   node dist/bench/eval-severity.js --misses               # … and every miss
 *   node dist/bench/eval-severity.js --cost [--seconds 4] [--baseline OTHER/dist/src/processors/severity.js]
 *                                                           # CPU ns per record of the processor call
 *
 * Loghub-2k (../shared/datasets/loghub-2k, when present): each raw line (header and message) is a
 * record body, run through `severity` with its defaults (as in the default chain), and the
 * inferred class (error / warn / info) is compared with the class of the dataset's Level column.
 * Level values are mapped generically, by the processor's own alias table; datasets whose Level
 * column holds no level value (or that have none) are listed but not scored.
 *
 * Corpus (test/severity/corpus): made-up lines written from each format's documentation, with
 * the expected base level; class accuracy and base-level accuracy per format.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { parseCsv } from '../src/classify/csv';
import type { OptionValues } from '../src/config/options';
import type { LogRecord, LogsData } from '../src/otlp/model';
import { newLogRecord, stringValue } from '../src/otlp/values';
import { encodeLogsData } from '../src/otlp/codec';
import { RecordBatch } from '../src/records/batch';
import { severityFromText, severityProcessor } from '../src/processors/severity';
import { DEFAULT_DATASETS_DIR } from './bench-requests';
import { baseLevel, loadCorpus, severityClass } from './severity-corpus';

type Options = OptionValues<typeof severityProcessor.options>;

interface Case {
  readonly group: string;
  readonly body: string;
  /** Expected class; undefined = unlabelled. */
  readonly expectedClass: 'error' | 'warn' | 'info' | undefined;
  readonly expectedBase?: string;
  readonly where: string;
}

const defaults = Object.fromEntries(Object.entries(severityProcessor.options).map(([k, o]) => [k, o.default])) as unknown as Options;

function createSeverity() {
  return severityProcessor.create(defaults, { logger: pino({ level: 'silent' }), clock: { now: () => Date.now() }, env: {} });
}

function batchOf(records: LogRecord[]): LogsData {
  return { resourceLogs: [{ resource: null, schemaUrl: '', scopeLogs: [{ scope: null, schemaUrl: '', logRecords: records }] }] };
}

function loghubCases(dir: string): { cases: Case[]; notes: string[] } {
  const cases: Case[] = [];
  const notes: string[] = [];
  if (!fs.existsSync(dir)) return { cases, notes: [`no datasets at ${dir}`] };
  for (const name of fs.readdirSync(dir).sort()) {
    const log = path.join(dir, name, `${name}_2k.log`);
    const csv = path.join(dir, name, `${name}_2k.log_structured.csv`);
    if (!fs.existsSync(log) || !fs.existsSync(csv)) continue;
    const rows = parseCsv(fs.readFileSync(csv, 'utf8'));
    const header = rows[0] ?? [];
    const level = header.indexOf('Level');
    if (level < 0) {
      notes.push(`${name}: no Level column`);
      continue;
    }
    const lines = fs.readFileSync(log, 'utf8').split(/\r?\n/);
    const values = new Map<string, number>();
    let labelled = 0;
    for (let i = 1; i < rows.length; i++) {
      const row = rows[i]!;
      if (row.length < header.length) continue;
      const lineId = Number(row[0]);
      const body = lines[lineId - 1];
      if (body === undefined) continue;
      const v = row[level]!;
      values.set(v, (values.get(v) ?? 0) + 1);
      const n = severityFromText(v);
      if (n !== undefined) labelled++;
      cases.push({ group: name, body, expectedClass: n === undefined ? undefined : severityClass(n), where: `${name}:${lineId}` });
    }
    if (labelled === 0) {
      notes.push(`${name}: Level column holds no level value (${[...values.keys()].slice(0, 5).join(', ')}): not scored`);
    }
  }
  return { cases, notes };
}

function corpusCases(): Case[] {
  return loadCorpus().map((c) => ({
    group: c.format,
    body: c.body,
    expectedClass: severityClass(c.expected === 'FATAL' ? 21 : c.expected === 'ERROR' ? 17 : c.expected === 'WARN' ? 13 : 9),
    expectedBase: c.expected,
    where: `${c.format}.txt:${c.lineNo}`,
  }));
}

interface Row {
  group: string;
  lines: number;
  scored: number;
  classOk: number;
  baseOk: number;
  baseScored: number;
  misses: string[];
}

function evaluate(cases: readonly Case[]): Row[] {
  const severity = createSeverity();
  const rows = new Map<string, Row>();
  for (const c of cases) {
    let row = rows.get(c.group);
    if (!row) rows.set(c.group, (row = { group: c.group, lines: 0, scored: 0, classOk: 0, baseOk: 0, baseScored: 0, misses: [] }));
    row.lines++;
    if (c.expectedClass === undefined) continue;
    const batch = new RecordBatch(encodeLogsData(batchOf([newLogRecord({ body: stringValue(c.body) })])));
    severity.process(batch);
    const n = batch.records()[0]!.severityNumber;
    row.scored++;
    const classOk = severityClass(n) === c.expectedClass;
    if (classOk) row.classOk++;
    let baseOk = true;
    if (c.expectedBase !== undefined) {
      row.baseScored++;
      baseOk = baseLevel(n) === c.expectedBase;
      if (baseOk) row.baseOk++;
    }
    if (!classOk || !baseOk) {
      const shown = JSON.stringify(c.body.length > 160 ? c.body.slice(0, 160) + '…' : c.body);
      row.misses.push(`${c.where} expected ${c.expectedBase ?? c.expectedClass} got ${baseLevel(n) ?? 'unset'} ${shown}`);
    }
  }
  return [...rows.values()];
}

const pct = (a: number, b: number): string => (b === 0 ? '     —' : `${((100 * a) / b).toFixed(1).padStart(5)} %`);

function printTable(title: string, rows: readonly Row[], withBase: boolean, misses: boolean): void {
  console.log(`\n${title}`);
  console.log(`${'dataset / format'.padEnd(28)} ${'lines'.padStart(6)} ${'scored'.padStart(6)}  class acc${withBase ? '   level acc' : ''}`);
  let lines = 0;
  let scored = 0;
  let ok = 0;
  let bOk = 0;
  let bScored = 0;
  for (const r of rows) {
    console.log(`${r.group.padEnd(28)} ${String(r.lines).padStart(6)} ${String(r.scored).padStart(6)}  ${pct(r.classOk, r.scored)}${withBase ? `     ${pct(r.baseOk, r.baseScored)}` : ''}`);
    lines += r.lines;
    scored += r.scored;
    ok += r.classOk;
    bOk += r.baseOk;
    bScored += r.baseScored;
  }
  console.log(`${'all'.padEnd(28)} ${String(lines).padStart(6)} ${String(scored).padStart(6)}  ${pct(ok, scored)}${withBase ? `     ${pct(bOk, bScored)}` : ''}`);
  if (misses) for (const r of rows) for (const m of r.misses) console.log(`  miss ${m}`);
}

type SeverityFactory = typeof severityProcessor;

interface CostRunner {
  /** One round of about ms milliseconds; returns ns of CPU time per record. */
  round(ms: number): number;
}

/**
 * ns per record of the processor call, as CPU time of this thread (process.cpuUsage), which a
 * busy shared machine disturbs less than wall time; indexing the request bytes into a batch is
 * measured alone and subtracted.
 */
function costRunner(factory: SeverityFactory, bodies: readonly string[]): CostRunner {
  const severity = factory.create(defaults, { logger: pino({ level: 'silent' }), clock: { now: () => Date.now() }, env: {} });
  const data: Uint8Array[] = [];
  for (let i = 0; i < bodies.length; i += 500) data.push(encodeLogsData(batchOf(bodies.slice(i, i + 500).map((b) => newLogRecord({ body: stringValue(b) })))));
  const timed = (ms: number, work: boolean): number => {
    let records = 0;
    const until = Date.now() + ms;
    const start = process.cpuUsage();
    for (let i = 0; Date.now() < until; i = (i + 1) % data.length) {
      const batch = new RecordBatch(data[i]!);
      if (work) severity.process(batch);
      records += batch.size;
    }
    const used = process.cpuUsage(start);
    return ((used.user + used.system) * 1000) / records;
  };
  timed(300, true);
  const resetNs = Math.min(timed(150, false), timed(150, false));
  return { round: (ms) => timed(ms, true) - resetNs };
}

function summary(xs: number[]): { min: number; median: number } {
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0]!, median: s[Math.floor(s.length / 2)]! };
}

/** ../shared beside the checkout, or the nearest shared/ further up (a worktree sits one level deeper). */
function datasetsDir(): string {
  for (let dir = path.resolve(__dirname, '..', '..'); ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'shared', 'datasets', 'loghub-2k');
    if (fs.existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir) return DEFAULT_DATASETS_DIR;
  }
}

function main(): void {
  const { values } = parseArgs({
    options: { misses: { type: 'boolean' }, cost: { type: 'boolean' }, seconds: { type: 'string' }, datasets: { type: 'string' }, baseline: { type: 'string' } },
  });
  const { cases: loghub, notes } = loghubCases(values.datasets ?? datasetsDir());
  const corpus = corpusCases();
  if (values.cost) {
    const seconds = Number(values.seconds ?? 4);
    // --baseline DIST/src/processors/severity.js: another build of the processor, timed in
    // alternating rounds with this one, so that both see the same machine load.
    const baseline = values.baseline ? (require(path.resolve(values.baseline)) as { severityProcessor: SeverityFactory }).severityProcessor : undefined;
    const show = (label: string, bodies: readonly string[]): void => {
      const runners = [costRunner(severityProcessor, bodies), ...(baseline ? [costRunner(baseline, bodies)] : [])];
      const rounds: number[][] = runners.map(() => []);
      for (let t = 0; t < Math.max(3, Math.round(seconds / 0.4)); t++) runners.forEach((r, k) => rounds[k]!.push(r.round(200)));
      const fmt = (xs: number[]): string => {
        const c = summary(xs);
        return `min ${c.min.toFixed(0).padStart(5)}, median ${c.median.toFixed(0).padStart(5)} ns/record`;
      };
      console.log(`${label.padEnd(36)} ${fmt(rounds[0]!)}${baseline ? `   baseline: ${fmt(rounds[1]!)}` : ''}`);
    };
    if (loghub.length > 0) show(`severity, Loghub-2k lines (${loghub.length})`, loghub.map((c) => c.body));
    show(`severity, corpus lines (${corpus.length})`, corpus.map((c) => c.body));
    return;
  }
  const misses = values.misses ?? false;
  printTable('Loghub-2k: raw lines through the default severity processor, class vs the Level column', evaluate(loghub).filter((r) => r.scored > 0), false, misses);
  for (const n of notes) console.log(`  ${n}`);
  printTable('Corpus (test/severity/corpus): class and base level vs the expected level', evaluate(corpus), true, misses);
}

main();
