/**
 * Cost per record of single processors, in process: each 500-record request (built like the
 * end-to-end bench's, from the Loghub-2k samples when present) is read into a fresh record batch
 * and passed through `severity` (so severity-based rules see real severities) untimed; only the
 * processor's own pass is timed (between begin() and commit(), as the chain runner runs it).
 *
 *   npm run build && node dist/bench/processor-costs.js [--seconds 2] [--json]
 */
import { parseArgs } from 'node:util';
import pino from 'pino';
import { RecordBatch } from '../src/records/batch';
import { builtinProcessors } from '../src/processors/registry';
import type { Processor, ProcessorContext } from '../src/processors/contract';
import { buildRequests, loadSamples } from './bench-requests';

interface Case {
  label: string;
  processor: string;
  options: Record<string, unknown>;
}

const CASES: readonly Case[] = [
  { label: 'route: 1 rule, default', processor: 'route', options: { rules: [{ exporters: ['errors'], when: 'severity_number >= 17' }] } },
  {
    label: 'route: 3 rules, mode all',
    processor: 'route',
    options: {
      mode: 'all',
      rules: [
        { exporters: ['errors'], when: 'severity_number >= 17' },
        { exporters: ['audit'], when: 'body.contains("session")' },
        { exporters: ['otlp'], when: 'resource["host.name"] == "host-1"' },
      ],
    },
  },
  { label: 'filter: severity_number < 9', processor: 'filter', options: { drop: 'severity_number < 9' } },
  { label: 'filter: body.contains', processor: 'filter', options: { drop: 'body.contains("session")' } },
  { label: 'filter: body.matches', processor: 'filter', options: { drop: 'body.matches("sess?ion [a-z]+ for")' } },
  { label: 'sample: rate 0.5', processor: 'sample', options: { rate: 0.5, random_seed: 1 } },
  { label: 'dedup: defaults', processor: 'dedup', options: {} },
  { label: 'rate_limit: 1000/s per service', processor: 'rate_limit', options: { rate: 1000 } },
  { label: 'aggregate: defaults', processor: 'aggregate', options: {} },
  { label: 'classify: defaults', processor: 'classify', options: {} },
  { label: 'classify: templates only', processor: 'classify', options: { rules: false } },
  { label: 'aggregate: + attribute dimension', processor: 'aggregate', options: { dimensions: ['severity', 'log.category', 'log.template.id', 'host.name'] } },
];

const ctx: ProcessorContext = {
  logger: pino({ level: 'silent' }),
  clock: { now: () => Date.now() },
  env: {},
  exporters: ['otlp', 'errors', 'audit'],
  chain: ['severity'],
};

function create(name: string, options: Record<string, unknown>): Processor | undefined {
  const factory = builtinProcessors.find((f) => f.name === name);
  if (!factory) return undefined;
  const defaults = Object.fromEntries(Object.entries(factory.options).map(([k, o]) => [k, (o as { default: unknown }).default]));
  return factory.create({ ...defaults, ...options } as never, ctx);
}

/** One pass of `p` over the batch, as the chain runner makes it. */
function pass(p: Processor, batch: RecordBatch): void {
  batch.begin();
  p.process(batch);
  batch.commit();
}

/** Nanoseconds per record spent in `p`, over fresh record batches of the requests. */
function nsPerRecord(requests: readonly Buffer[], seconds: number, severity: Processor, p: Processor): number {
  let records = 0;
  let ns = 0n;
  let i = 0;
  const run = (until: number): void => {
    while (Date.now() < until) {
      const batch = new RecordBatch(requests[i++ % requests.length]!);
      pass(severity, batch);
      records += batch.size;
      const start = process.hrtime.bigint();
      pass(p, batch);
      ns += process.hrtime.bigint() - start;
    }
  };
  run(Date.now() + 300);
  records = 0;
  ns = 0n;
  run(Date.now() + seconds * 1000);
  return Number(ns) / records;
}

function main(): void {
  const { values } = parseArgs({ options: { seconds: { type: 'string' }, json: { type: 'boolean' } } });
  const seconds = Number(values.seconds ?? 2);
  const requests = buildRequests(loadSamples(), 500, 64).map((r) => r.template);
  const severity = create('severity', {})!;
  const results: { label: string; nsPerRecord: number | null }[] = [];
  for (const c of CASES) {
    const p = create(c.processor, c.options);
    if (!p) {
      results.push({ label: c.label, nsPerRecord: null });
      continue;
    }
    results.push({ label: c.label, nsPerRecord: nsPerRecord(requests, seconds, severity, p) });
  }
  if (values.json) {
    console.log(JSON.stringify({ results }, null, 2));
    return;
  }
  for (const r of results) console.log(`${r.label.padEnd(36)} ${r.nsPerRecord === null ? 'not registered' : `${r.nsPerRecord.toFixed(0).padStart(6)} ns/record`}`);
}

main();
