/** Public API for code that builds on the service: processor authors and embedders. */
export { defineProcessor } from './processors/contract';
export type { Processor, ProcessorFactory, ProcessorContext, Clock } from './processors/contract';
export { opt } from './config/options';
export type { Option, OptionShape, OptionValues } from './config/options';
// The record API: what a processor reads and changes (no wire codec types in it).
export type { AnyValue, ArrayValue, Attributes, KeyValue, KeyValueList, LogBatch, LogRecord, NewOrigin, NewRecord, Resource, Scope, ValueInput } from './records/types';
export { anyValueEquals, anyValueKind, anyValueToString, asString, boolValue, doubleValue, intValue, stringValue, toAnyValue } from './records/values';
export type { AnyValueKind } from './records/values';
export { resolveConfig } from './config/resolve';
export { startService } from './service';
export type { RunningService, ServiceDeps } from './service';
export { builtinProcessors } from './processors/registry';
