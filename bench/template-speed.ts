/**
 * Mining speed of the template miner (lines per CPU-second), optionally against another build in
 * the same process: rounds alternate between the two so that load from other processes hits both
 * alike, and the median of each is reported with their ratio.
 *
 *   npm run build && node dist/bench/template-speed.js [DIR] [--baseline OTHER_DIST] [--rounds N]
 *
 * DIR holds the Loghub-2k samples (as for eval-templates); OTHER_DIST is the `dist` folder of
 * another checkout's build (e.g. a copy of this one's before a change).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { extractContents, splitLines } from '../src/classify/batch';
import { parseLogFormat } from '../src/classify/log-format';
import { TemplateMiner } from '../src/classify/template-miner';
import { LOGHUB_FORMATS, defaultDir } from './eval-templates';

interface Miner {
  add(line: string): unknown;
}
type MinerClass = new () => Miner;

function corpus(dir: string): string[] {
  const out: string[] = [];
  for (const name of Object.keys(LOGHUB_FORMATS).sort()) {
    const file = path.join(dir, name, `${name}_2k.log`);
    if (!fs.existsSync(file)) continue;
    out.push(...extractContents(splitLines(fs.readFileSync(file, 'utf8')), parseLogFormat(LOGHUB_FORMATS[name]!)));
  }
  return out;
}

/**
 * Lines per CPU-second of this process (user + system) over passes on the corpus with a fresh
 * miner each (learning included), for ~0.5 s: CPU time, not wall time, so that time the process
 * waits for a core others hold is not counted.
 */
function round(Miner: MinerClass, lines: readonly string[]): number {
  let n = 0;
  const start = process.cpuUsage();
  let elapsed = 0;
  while (elapsed < 5e5) {
    const m = new Miner();
    for (let i = 0; i < lines.length; i++) m.add(lines[i]!);
    n += lines.length;
    const used = process.cpuUsage(start);
    elapsed = used.user + used.system;
  }
  return n / (elapsed / 1e6);
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function main(): void {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { baseline: { type: 'string' }, rounds: { type: 'string' } } });
  const lines = corpus(path.resolve(positionals[0] ?? defaultDir()));
  if (lines.length === 0) throw new Error('no Loghub-2k samples found');
  const rounds = Number(values.rounds ?? 9);
  const contenders: [string, MinerClass][] = [['this build', TemplateMiner]];
  if (values.baseline) {
    const other = require(path.resolve(values.baseline, 'src', 'classify', 'template-miner.js')) as { TemplateMiner: MinerClass };
    contenders.push(['baseline', other.TemplateMiner]);
  }
  for (const [, M] of contenders) round(M, lines); // warm-up
  const rates = contenders.map(() => [] as number[]);
  for (let r = 0; r < rounds; r++) contenders.forEach(([, M], i) => rates[i]!.push(round(M, lines)));
  console.log(`Mining speed, ${lines.length} lines of the Loghub-2k samples, median of ${rounds} alternating rounds, lines per CPU-second (one thread):`);
  contenders.forEach(([name], i) => console.log(`  ${name}: ${Math.round(median(rates[i]!)).toLocaleString('en-US')} lines/s`));
  if (contenders.length === 2) console.log(`  ratio this/baseline: ${(median(rates[0]!) / median(rates[1]!)).toFixed(2)}`);
}

main();
