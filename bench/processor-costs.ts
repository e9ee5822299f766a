/**
 * Cost per record of single processors, in process: time of (decode + processor) minus time of
 * decode alone over the same 500-record requests (built like the end-to-end bench's, from the
 * Loghub-2k samples when present). Processors run with `severity` ahead of them so severity-based
 * rules see real severities; its cost is subtracted too.
 *
 *   npm run build && node dist/bench/processor-costs.js [--seconds 2] [--json]
 */
import { parseArgs } from 'node:util';
import pino from 'pino';
import { decodeLogsData } from '../src/otlp/codec';
import { countRecords, type LogsData } from '../src/otlp/model';
import { builtinProcessors } from '../src/processors/registry';
import type { DropSink, Processor, ProcessorContext } from '../src/pipeline/processor';
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
  { label: 'sample: rate 0.5', processor: 'sample', options: { rate: 0.5, random_seed: 1 } },
  { label: 'dedup: defaults', processor: 'dedup', options: {} },
  { label: 'rate_limit: 1000/s per service', processor: 'rate_limit', options: { rate: 1000 } },
  { label: 'aggregate: defaults', processor: 'aggregate', options: {} },
  { label: 'aggregate: + attribute dimension', processor: 'aggregate', options: { dimensions: ['severity', 'log.category', 'log.template.id', 'host.name'] } },
];

const ctx: ProcessorContext = {
  logger: pino({ level: 'silent' }),
  clock: { now: () => Date.now() },
  env: {},
  exporters: ['otlp', 'errors', 'audit'],
  chain: ['severity'],
};
const noDrops: DropSink = { drop: () => undefined };

function create(name: string, options: Record<string, unknown>): Processor | undefined {
  const factory = builtinProcessors.find((f) => f.name === name);
  if (!factory) return undefined;
  const defaults = Object.fromEntries(Object.entries(factory.options).map(([k, o]) => [k, (o as { default: unknown }).default]));
  return factory.create({ ...defaults, ...options } as never, ctx);
}

/** Nanoseconds per record of `fn` over fresh decodes of the requests. */
function nsPerRecord(requests: readonly Buffer[], seconds: number, fn: (data: LogsData) => void): number {
  let records = 0;
  let i = 0;
  const run = (until: number): void => {
    while (Date.now() < until) {
      for (let k = 0; k < 8; k++) {
        const data = decodeLogsData(requests[i++ % requests.length]!);
        records += countRecords(data);
        fn(data);
      }
    }
  };
  run(Date.now() + 300);
  records = 0;
  const start = process.hrtime.bigint();
  run(Date.now() + seconds * 1000);
  return Number(process.hrtime.bigint() - start) / records;
}

function main(): void {
  const { values } = parseArgs({ options: { seconds: { type: 'string' }, json: { type: 'boolean' } } });
  const seconds = Number(values.seconds ?? 2);
  const requests = buildRequests(loadSamples(), 500, 64).map((r) => r.template);
  const severity = create('severity', {})!;
  const base = nsPerRecord(requests, seconds, (d) => void severity.process(d, noDrops));
  const results: { label: string; nsPerRecord: number | null }[] = [];
  for (const c of CASES) {
    const p = create(c.processor, c.options);
    if (!p) {
      results.push({ label: c.label, nsPerRecord: null });
      continue;
    }
    const total = nsPerRecord(requests, seconds, (d) => void p.process(severity.process(d, noDrops), noDrops));
    results.push({ label: c.label, nsPerRecord: Math.max(0, total - base) });
  }
  if (values.json) {
    console.log(JSON.stringify({ baseNsPerRecord: base, results }, null, 2));
    return;
  }
  console.log(`decode + severity: ${base.toFixed(0)} ns/record (subtracted below)`);
  for (const r of results) console.log(`${r.label.padEnd(36)} ${r.nsPerRecord === null ? 'not registered' : `${r.nsPerRecord.toFixed(0).padStart(6)} ns/record`}`);
}

main();
