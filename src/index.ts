/** Public API for code that builds on the service: processor authors and embedders. */
export { defineProcessor } from './processors/contract';
export type { Processor, ProcessorFactory, ProcessorContext, DropSink, Clock } from './processors/contract';
export { opt } from './config/options';
export type { Option, OptionShape, OptionValues } from './config/options';
export type { AnyValue, ArrayValue, KeyValue, KeyValueList, LogRecord, LogsData, Resource, ResourceLogs, ScopeLogs, InstrumentationScope } from './otlp/model';
export {
  asString,
  anyValueKind,
  anyValueToString,
  boolValue,
  deleteAttribute,
  findAttribute,
  getAttribute,
  insertAttribute,
  intValue,
  newLogRecord,
  stringValue,
  updateAttribute,
  upsertAttribute,
} from './otlp/values';
export { decodeLogsData, encodeLogsData } from './otlp/codec';
export { resolveConfig } from './config/resolve';
export { startService } from './service';
export type { RunningService, ServiceDeps } from './service';
export { builtinProcessors } from './processors/registry';
