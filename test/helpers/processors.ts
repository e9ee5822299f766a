/** Creates a processor from its factory with default options plus overrides. */
import pino from 'pino';
import type { OptionShape, OptionValues } from '../../src/config/options';
import { OptionError, type DropSink, type Processor, type ProcessorContext, type ProcessorFactory } from '../../src/processors/contract';

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

/** A DropSink that remembers what it was told. */
export class RecordingDrops implements DropSink {
  readonly counts: Record<string, number> = {};
  drop(reason: string, count: number): void {
    this.counts[reason] = (this.counts[reason] ?? 0) + count;
  }
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
