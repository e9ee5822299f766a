/**
 * In-process micro-benchmark of the request hot path: decode → processors → encode, on
 * 500-record requests built like the end-to-end bench's. Reports records/s per stage and for
 * the whole path, per wall second and per process CPU-second (GC threads included).
 *
 *   npm run build && node dist/bench/hot-path.js [--seconds 3] [--chain parse,severity,resource,classify] [--path-only]
 *
 * The chain (default `severity,resource`) is built from the built-in registry with option
 * defaults, plus `format: 'header'` for parse (OLP_PARSE_FORMAT=header, as the end-to-end
 * configuration c) and service_name `bench` for resource. Stages:
 *   decode                        decode of the requests
 *   encode (decoded, unchanged)   encode of freshly decoded requests
 *   <processor>                   each processor alone, on batches that went through the
 *                                 processors before it (prepared outside the timed part)
 *   encode (processed)            encode of the chain's output (more attributes per record)
 *   decode+chain, decode+chain+encode   the whole path (only this with --path-only, for profiles)
 */
import { parseArgs } from 'node:util';
import pino from 'pino';
import { decodeLogsData, encodeLogsData } from '../src/otlp/codec';
import { countRecords, type LogsData } from '../src/otlp/model';
import { builtinProcessors } from '../src/processors/registry';
import { ProcessingChain } from '../src/pipeline/chain';
import { Metrics } from '../src/telemetry/metrics';
import type { DropSink, Processor, ProcessorContext } from '../src/processors/contract';
import { buildRequests, loadSamples } from './bench-requests';

/** Options beyond the defaults, per processor (what bench configuration c sets). */
const OVERRIDES: Readonly<Record<string, Record<string, unknown>>> = {
  parse: { format: 'header' },
  resource: { service_name: 'bench' },
};

/** Batches prepared at a time for the per-processor and processed-encode stages. */
const POOL = 64;

function defaults(options: Record<string, { default: unknown }>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(options).map(([k, o]) => [k, o.default]));
}

function createProcessor(name: string, ctx: ProcessorContext): Processor {
  const factory = builtinProcessors.find((f) => f.name === name);
  if (!factory) throw new Error(`unknown processor "${name}" (known: ${builtinProcessors.map((f) => f.name).join(', ')})`);
  const options = Object.freeze({ ...defaults(factory.options), ...OVERRIDES[name] });
  return factory.create(options as never, ctx);
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US').padStart(12);

function report(label: string, records: number, wallS: number, cpuS: number, extra = ''): void {
  console.log(`${label.padEnd(30)} ${fmt(records / wallS)} records/s ${fmt(records / cpuS)} records/CPU-s${extra}`);
}

function main(): void {
  const { values } = parseArgs({ options: { seconds: { type: 'string' }, chain: { type: 'string' }, 'path-only': { type: 'boolean' } } });
  const seconds = Number(values.seconds ?? 3);
  const names = (values.chain ?? 'severity,resource')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const requests = buildRequests(loadSamples(), 500, 64).map((r) => Buffer.from(r.template));
  const ctx: ProcessorContext = { logger: pino({ level: 'silent' }), clock: { now: () => Date.now() }, env: {}, chain: names };
  const drops: DropSink = { drop: () => undefined };
  // The chain gets its own instances; the per-stage ones below learn (classify) separately.
  const chain = new ProcessingChain(
    names.map((name) => ({ name, processor: createProcessor(name, ctx) })),
    new Metrics(),
    pino({ level: 'silent' }),
  );
  const stages = names.map((name) => ({ name, processor: createProcessor(name, ctx) }));
  console.log(`chain: ${names.join(',') || '(none)'}; ${requests.length} requests of 500 records; ${seconds}s per stage`);

  /** Times fn over the requests (in groups of 16) for `seconds`, after a 0.5 s warm-up. */
  const time = (label: string, fn: (buf: Buffer, i: number) => number): void => {
    let records = 0;
    let i = 0;
    const warm = Date.now() + 500;
    while (Date.now() < warm) fn(requests[i % requests.length]!, i++);
    const start = process.hrtime.bigint();
    const cpu = process.cpuUsage();
    const end = Date.now() + seconds * 1000;
    while (Date.now() < end) {
      for (let k = 0; k < 16; k++, i++) records += fn(requests[i % requests.length]!, i);
    }
    const s = Number(process.hrtime.bigint() - start) / 1e9;
    const used = process.cpuUsage(cpu);
    report(label, records, s, (used.user + used.system) / 1e6);
  };

  /**
   * Times `fn` on pools of POOL batches made by `prepare` (decode + the stages before), only
   * the calls of `fn` counted (GC started by the preparation may still fall into them), until
   * `seconds` of them or 4 × `seconds` in all.
   */
  const timePooled = (label: string, prepare: (buf: Buffer) => LogsData, fn: (data: LogsData) => number, extra?: () => string): void => {
    let next = 0;
    const pool = (): LogsData[] => {
      const out: LogsData[] = [];
      for (let k = 0; k < POOL; k++) out.push(prepare(requests[next++ % requests.length]!));
      return out;
    };
    const warm = Date.now() + 500;
    while (Date.now() < warm) for (const d of pool()) fn(d);
    let records = 0;
    let wallNs = 0n;
    let cpuUs = 0;
    // Fast stages spend most of the time in preparation: bound the whole loop too.
    const deadline = Date.now() + seconds * 4000;
    while (wallNs < BigInt(Math.round(seconds * 1e9)) && Date.now() < deadline) {
      const batches = pool();
      const start = process.hrtime.bigint();
      const cpu = process.cpuUsage();
      for (let k = 0; k < batches.length; k++) records += fn(batches[k]!);
      const used = process.cpuUsage(cpu);
      wallNs += process.hrtime.bigint() - start;
      cpuUs += used.user + used.system;
    }
    report(label, records, Number(wallNs) / 1e9, cpuUs / 1e6, extra?.() ?? '');
  };

  if (values['path-only']) {
    // For profiles of the whole path alone.
    time('decode+chain+encode', (b) => {
      encodeLogsData(chain.run(decodeLogsData(b), 500));
      return 500;
    });
    return;
  }

  const decoded: LogsData[] = requests.map((b) => decodeLogsData(b));
  const rawBytes = requests.reduce((n, b) => n + b.length, 0) / (requests.length * 500);
  time('decode', (b) => countRecords(decodeLogsData(b)));
  time('encode (decoded, unchanged)', (_b, i) => {
    encodeLogsData(decoded[i % decoded.length]!);
    return 500;
  });

  for (let s = 0; s < stages.length; s++) {
    const before = stages.slice(0, s);
    const stage = stages[s]!;
    timePooled(
      `  ${stage.name}`,
      (b) => before.reduce((d, st) => st.processor.process(d, drops), decodeLogsData(b)),
      (d) => countRecords(stage.processor.process(d, drops)),
    );
  }

  let outBytes = 0;
  let outRecords = 0;
  timePooled(
    'encode (processed)',
    (b) => stages.reduce((d, st) => st.processor.process(d, drops), decodeLogsData(b)),
    (d) => {
      const n = countRecords(d);
      outBytes += encodeLogsData(d).length;
      outRecords += n;
      return n;
    },
    () => `   (${rawBytes.toFixed(0)} → ${(outBytes / outRecords).toFixed(0)} bytes/record)`,
  );

  time('decode+chain', (b) => countRecords(chain.run(decodeLogsData(b), 500)));
  time('decode+chain+encode', (b) => {
    const data = chain.run(decodeLogsData(b), 500);
    encodeLogsData(data);
    return 500;
  });
}

main();
