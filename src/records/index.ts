/** The record model: what processors read and change. */
export type { AnyValue, ArrayValue, Attributes, KeyValue, KeyValueList, LogBatch, LogRecord, NewOrigin, NewRecord, Resource, Scope, ValueInput } from './types';
export { BatchView, RecordBatch } from './batch';
export { anyValueEquals, anyValueKind, anyValueToString, asString, boolValue, doubleValue, intValue, stringValue, toAnyValue } from './values';
