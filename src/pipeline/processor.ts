/**
 * The processor contract, modelled on the Collector's consumer.Logs and Vector's transforms:
 * a factory validates its options once (declared as config Options) and creates a processor;
 * a processor is a synchronous, pure transform of one batch. It may change records in place,
 * remove them (reporting each removal with a reason), or add new ones. It does no I/O and
 * keeps no timers: the chain runner times it, counts records in and out, and records drops.
 */
import type { Logger } from 'pino';
import type { OptionShape, OptionValues } from '../config/options';
import type { LogsData } from '../otlp/model';

export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

export interface ProcessorContext {
  readonly logger: Logger;
  readonly clock: Clock;
  /** Environment the service runs in (for processors that read Downward-API style values). */
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** Where a processor reports records it removed from the batch. */
export interface DropSink {
  drop(reason: string, count: number): void;
}

export interface Processor {
  /** Returns the batch to pass on: usually `batch` itself, changed in place. */
  process(batch: LogsData, drops: DropSink): LogsData;
  /** State the runner persists for the processor (periodically and at shutdown) and restores at start. */
  readonly state?: PersistentState;
  /**
   * Cumulative counts the processor keeps while transforming (e.g. matches per detector). The
   * runner exports them as olp_processor_events_total{processor, event}; the processor only counts.
   */
  readonly counts?: ReadonlyMap<string, number>;
}

/**
 * A processor's durable state. The processor only converts to and from bytes; the runner owns
 * the file, the timer, checksums and atomic replacement.
 */
export interface PersistentState {
  /** File the state is kept in. */
  readonly path: string;
  /** How often to save while running; 0 saves only at shutdown. */
  readonly intervalMs: number;
  snapshot(): Uint8Array;
  /** Loads a snapshot; throws when the content is not valid (the runner logs it and starts empty). */
  restore(data: Uint8Array): void;
}

export interface ProcessorFactory<S extends OptionShape = OptionShape> {
  /** Name used in OLP_PROCESSORS, and the OLP_<NAME>_* option prefix. */
  readonly name: string;
  /** One line for --help and README. */
  readonly summary: string;
  readonly options: S;
  /** Called once at start-up with validated, frozen options. Throws for invalid combinations. */
  create(options: OptionValues<S>, ctx: ProcessorContext): Processor;
}

/** Thrown by `create` for an invalid option value or combination; start-up reports it naming the env var. */
export class OptionError extends Error {
  constructor(
    readonly option: string,
    message: string,
  ) {
    super(message);
    this.name = 'OptionError';
  }
}

/** Helps TypeScript infer the option types of a factory literal. */
export function defineProcessor<S extends OptionShape>(factory: ProcessorFactory<S>): ProcessorFactory<S> {
  return factory;
}
