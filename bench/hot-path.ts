/**
 * In-process micro-benchmark of the request hot path: request bytes → record batch →
 * processors → encode, on 500-record requests built like the end-to-end bench's. Reports
 * records/s per stage and for the whole path, per wall second and per process CPU-second (GC
 * threads included).
 *
 *   npm run build && node dist/bench/hot-path.js [--seconds 3] [--chain parse,severity,resource,classify] [--path-only]
 *                                                 [--tap idle|start|end|<processor> [--tap-rate N] [--tap-where CEL]]
 *
 * The chain (default `severity,resource`) is built from the built-in registry with option
 * defaults, plus `format: 'header'` for parse (OLP_PARSE_FORMAT=header, as the end-to-end
 * configuration c) and service_name `bench` for resource. Each processor runs as the chain
 * runner runs it: between begin() and commit() of the batch. Stages:
 *   index                         the record batch over the request bytes (nothing decoded yet)
 *   encode (unchanged)            index + encode of a batch nothing changed (its own bytes)
 *   <processor>                   each processor alone, on batches that went through the
 *                                 processors before it (prepared outside the timed part)
 *   encode (processed)            encode of the chain's output (changed records re-written)
 *   index+chain, index+chain+encode   the whole path (only this with --path-only, for profiles)
 * --tap: the chain has tap points attached as in the service (src/pipeline/tap.ts): `idle` with
 * no tap, else one tap at that point (default rate, as GET /api/tap), its lines handed on
 * (joined, as written to a client) after each request.
 */
import { parseArgs } from 'node:util';
import pino from 'pino';
import { builtinProcessors } from '../src/processors/registry';
import { ProcessingChain } from '../src/pipeline/chain';
import { RecordBatch } from '../src/records/batch';
import { Metrics } from '../src/telemetry/metrics';
import { TapPoints, TAP_DEFAULT_RATE } from '../src/pipeline/tap';
import type { Processor, ProcessorContext } from '../src/processors/contract';
import { buildRequests, loadSamples } from './bench-requests';

const USAGE = 'Usage: node dist/bench/hot-path.js [--seconds 3] [--chain severity,resource] [--path-only] [--tap idle|start|end|<processor> [--tap-rate N] [--tap-where CEL]]\n';

/** Requests are cut into output requests of at most this many records, as the exporters' batch size. */
const MAX_RECORDS = 500;

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

/** Runs `processor` over the batch as the chain runner does (a throw undoes its changes). */
function runStage(processor: Processor, batch: RecordBatch): RecordBatch {
  batch.begin();
  try {
    processor.process(batch);
    batch.commit();
  } catch (err) {
    batch.rollback();
    throw err;
  }
  batch.takeDrops();
  return batch;
}

function main(): void {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string' },
      chain: { type: 'string' },
      'path-only': { type: 'boolean' },
      tap: { type: 'string' },
      'tap-rate': { type: 'string' },
      'tap-where': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const seconds = Number(values.seconds ?? 3);
  const names = (values.chain ?? 'severity,resource')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const requests = buildRequests(loadSamples(), 500, 64).map((r) => Buffer.from(r.template));
  const ctx: ProcessorContext = { logger: pino({ level: 'silent' }), clock: { now: () => Date.now() }, env: {}, chain: names };
  // The chain gets its own instances; the per-stage ones below learn (classify) separately.
  const chain = new ProcessingChain(
    names.map((name) => ({ name, processor: createProcessor(name, ctx) })),
    new Metrics(),
    pino({ level: 'silent' }),
  );
  const stages = names.map((name) => ({ name, processor: createProcessor(name, ctx) }));
  let tapLines = 0;
  let tapChars = 0;
  const taps = values.tap === undefined ? undefined : new TapPoints(chain.length, (outputs) => {
    for (const o of outputs) {
      tapLines += o.lines.length;
      tapChars += `${o.lines.join('\n')}\n`.length;
    }
  });
  if (taps) {
    chain.attachTaps(taps);
    const at = values.tap!;
    const point = at === 'idle' ? -1 : at === 'start' ? 0 : at === 'end' ? names.length : names.indexOf(at) + 1;
    if (point === 0 && at !== 'start') throw new Error(`--tap: expected idle, start, end or a processor of the chain, got "${at}"`);
    if (point >= 0) taps.set([{ id: 1, point, where: values['tap-where'] ?? '', rate: Number(values['tap-rate'] ?? TAP_DEFAULT_RATE), limit: 0 }]);
  }
  const tapNote = taps ? `; tap: ${values.tap}${values.tap === 'idle' ? ' (attached, none open)' : `, ${values['tap-rate'] ?? TAP_DEFAULT_RATE}/s${values['tap-where'] ? `, where ${values['tap-where']}` : ''}`}` : '';
  console.log(`chain: ${names.join(',') || '(none)'}; ${requests.length} requests of 500 records; ${seconds}s per stage${tapNote}`);

  /** Times fn over the requests (in groups of 16) for `seconds`, after a 0.5 s warm-up. */
  const time = (label: string, fn: (buf: Buffer) => number): void => {
    let records = 0;
    let i = 0;
    const warm = Date.now() + 500;
    while (Date.now() < warm) fn(requests[i++ % requests.length]!);
    const start = process.hrtime.bigint();
    const cpu = process.cpuUsage();
    const end = Date.now() + seconds * 1000;
    while (Date.now() < end) {
      for (let k = 0; k < 16; k++, i++) records += fn(requests[i % requests.length]!);
    }
    const s = Number(process.hrtime.bigint() - start) / 1e9;
    const used = process.cpuUsage(cpu);
    report(label, records, s, (used.user + used.system) / 1e6);
  };

  /**
   * Times `fn` on pools of POOL batches made by `prepare` (index + the stages before), only
   * the calls of `fn` counted (GC started by the preparation may still fall into them), until
   * `seconds` of them or 4 × `seconds` in all.
   */
  const timePooled = (label: string, prepare: (buf: Buffer) => RecordBatch, fn: (batch: RecordBatch) => number, extra?: () => string): void => {
    let next = 0;
    const pool = (): RecordBatch[] => {
      const out: RecordBatch[] = [];
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

  /** The whole path: index, chain, encode; counted as the records that came in. */
  const path = (b: Buffer): number => {
    const batch = new RecordBatch(b);
    const n = batch.size;
    chain.run(batch);
    batch.encode(MAX_RECORDS);
    // What the service does once per turn of the event loop.
    taps?.flush();
    return n;
  };

  if (values['path-only']) {
    // For profiles of the whole path alone.
    time('index+chain+encode', path);
    if (tapLines > 0) console.log(`tap: ${tapLines} lines, ${Math.round(tapChars / tapLines)} characters each`);
    return;
  }

  const rawBytes = requests.reduce((n, b) => n + b.length, 0) / (requests.length * 500);
  time('index', (b) => new RecordBatch(b).size);
  time('encode (unchanged)', (b) => {
    const batch = new RecordBatch(b);
    batch.encode(MAX_RECORDS);
    return batch.size;
  });

  for (let s = 0; s < stages.length; s++) {
    const before = stages.slice(0, s);
    const stage = stages[s]!;
    timePooled(
      `  ${stage.name}`,
      (b) => before.reduce((batch, st) => runStage(st.processor, batch), new RecordBatch(b)),
      (batch) => runStage(stage.processor, batch).size,
    );
  }

  let outBytes = 0;
  let outRecords = 0;
  timePooled(
    'encode (processed)',
    (b) => stages.reduce((batch, st) => runStage(st.processor, batch), new RecordBatch(b)),
    (batch) => {
      const n = batch.size;
      for (const part of batch.encode(MAX_RECORDS)) outBytes += part.bytes.length;
      outRecords += n;
      return n;
    },
    () => `   (${rawBytes.toFixed(0)} → ${(outBytes / outRecords).toFixed(0)} bytes/record)`,
  );

  time('index+chain', (b) => {
    const batch = new RecordBatch(b);
    chain.run(batch);
    return batch.size;
  });
  time('index+chain+encode', path);
}

main();
