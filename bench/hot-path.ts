/**
 * In-process micro-benchmark of the request hot path: decode → severity → resource → encode,
 * on 500-record requests built like the end-to-end bench's. Reports records/s per stage and
 * for the whole path, per wall second and per process CPU-second (GC threads included).
 *
 *   npm run build && node dist/bench/hot-path.js [--seconds 3]
 */
import { parseArgs } from 'node:util';
import pino from 'pino';
import { decodeLogsData, encodeLogsData } from '../src/otlp/codec';
import { countRecords, type LogsData } from '../src/otlp/model';
import { severityProcessor } from '../src/processors/severity';
import { resourceProcessor } from '../src/processors/resource';
import { ProcessingChain } from '../src/pipeline/chain';
import { Metrics } from '../src/telemetry/metrics';
import type { Processor, ProcessorContext } from '../src/pipeline/processor';
import { buildRequests, loadSamples } from './bench-requests';

function defaults(options: Record<string, { default: unknown }>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(options).map(([k, o]) => [k, o.default]));
}

function main(): void {
  const { values } = parseArgs({ options: { seconds: { type: 'string' } } });
  const seconds = Number(values.seconds ?? 3);
  const requests = buildRequests(loadSamples(), 500, 64).map((r) => Buffer.from(r.template));
  const ctx = { logger: pino({ level: 'silent' }) } as unknown as ProcessorContext;
  const sev: Processor = severityProcessor.create(defaults(severityProcessor.options) as never, ctx);
  const res: Processor = resourceProcessor.create({ ...defaults(resourceProcessor.options), service_name: 'bench' } as never, ctx);
  const chain = new ProcessingChain(
    [
      { name: 'severity', processor: sev },
      { name: 'resource', processor: res },
    ],
    new Metrics(),
    pino({ level: 'silent' }),
  );

  const time = (label: string, fn: (buf: Buffer) => number): void => {
    let records = 0;
    let i = 0;
    const warm = Date.now() + 500;
    while (Date.now() < warm) fn(requests[i++ % requests.length]!);
    const start = process.hrtime.bigint();
    const cpu = process.cpuUsage();
    const end = Date.now() + seconds * 1000;
    while (Date.now() < end) {
      for (let k = 0; k < 16; k++) records += fn(requests[i++ % requests.length]!);
    }
    const s = Number(process.hrtime.bigint() - start) / 1e9;
    const used = process.cpuUsage(cpu);
    const cpuS = (used.user + used.system) / 1e6;
    const fmt = (n: number): string => Math.round(n).toLocaleString('en-US').padStart(12);
    console.log(`${label.padEnd(28)} ${fmt(records / s)} records/s ${fmt(records / cpuS)} records/CPU-s`);
  };

  const decoded: LogsData[] = requests.map((b) => decodeLogsData(b));
  let d = 0;
  time('decode', (b) => countRecords(decodeLogsData(b)));
  time('encode (decoded, unchanged)', () => {
    const data = decoded[d++ % decoded.length]!;
    encodeLogsData(data);
    return 500;
  });
  time('decode+chain', (b) => {
    const data = decodeLogsData(b);
    return countRecords(chain.run(data, 500));
  });
  time('decode+chain+encode', (b) => {
    const data = chain.run(decodeLogsData(b), 500);
    encodeLogsData(data);
    return 500;
  });
}

main();
