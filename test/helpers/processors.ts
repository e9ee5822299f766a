/** Creates a processor from its factory with default options plus overrides. */
import pino from 'pino';
import type { OptionShape, OptionValues } from '../../src/config/options';
import { OptionError, type Processor, type ProcessorContext, type ProcessorFactory } from '../../src/processors/contract';
import { decodeLogsData, encodeLogsData } from '../../src/otlp/codec';
import type { LogsData } from '../../src/otlp/model';
import { RecordBatch } from '../../src/records/batch';
import type { ProcessingChain } from '../../src/pipeline/chain';

/** `ctx` replaces parts of the default context (silent logger, clock at 0, `env`). */
export function createProcessor<S extends OptionShape>(
  factory: ProcessorFactory<S>,
  overrides: Partial<OptionValues<S>> = {},
  env: Record<string, string> = {},
  ctx: Partial<ProcessorContext> = {},
): Processor {
  const defaults = Object.fromEntries(Object.entries(factory.options).map(([k, o]) => [k, o.default]));
  return factory.create({ ...defaults, ...overrides } as OptionValues<S>, { logger: pino({ level: 'silent' }), clock: { now: () => 0 }, env, ...ctx });
}

/** Asserts that `create` refused its options with an OptionError naming `option`. */
export function expectOptionError(create: () => unknown, option: string): void {
  let error: unknown;
  try {
    create();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(OptionError);
  expect((error as OptionError).option).toBe(option);
}

/**
 * Runs `processor` over `data` the way the chain runner does (bytes → record batch → process
 * → write) and returns what it wrote, decoded, with the drops by reason. A throw is passed on.
 */
export function runProcessor(processor: Processor, data: LogsData): { out: LogsData; drops: Record<string, number> } {
  const batch = new RecordBatch(encodeLogsData(data));
  batch.begin();
  processor.process(batch);
  batch.commit();
  const drops = Object.fromEntries(batch.takeDrops() ?? []);
  return { out: batchToLogsData(batch), drops };
}

/** The batch's records as the exporters would receive them, decoded (one request). */
export function batchToLogsData(batch: RecordBatch): LogsData {
  const parts = batch.encode(Number.MAX_SAFE_INTEGER);
  return parts.length === 0 ? { resourceLogs: [] } : decodeLogsData(parts[0]!.bytes);
}

/** Calls `flush` like the runner and returns what it emitted, decoded, or undefined when nothing. */
export function flushProcessor(processor: Processor, now: number, final = false): LogsData | undefined {
  const out = new RecordBatch();
  processor.flush!(now, final, out);
  return out.size === 0 ? undefined : batchToLogsData(out);
}

/** Runs a whole chain over `data` as the request path does and returns what it wrote, decoded. */
export function runChain(chain: ProcessingChain, data: LogsData): LogsData {
  const batch = new RecordBatch(encodeLogsData(data));
  chain.run(batch);
  return batchToLogsData(batch);
}

/** `chain.flush`, decoded. */
export function flushChain(chain: ProcessingChain, index: number, now: number, final = false): LogsData | undefined {
  const out = chain.flush(index, now, final);
  return out ? batchToLogsData(out) : undefined;
}
