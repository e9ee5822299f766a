/** Builders for OTLP requests in tests. */
import Long from 'long';
import type { KeyValue, LogRecord, LogsData } from '../../src/otlp/model';
import { newLogRecord, stringValue } from '../../src/otlp/values';

export function attrs(map: Record<string, string>): KeyValue[] {
  return Object.entries(map).map(([key, v]) => ({ key, value: stringValue(v) }));
}

export function record(body: string, fields: Partial<LogRecord> = {}): LogRecord {
  return newLogRecord({ body: stringValue(body), timeUnixNano: Long.fromString('1700000000123456789', true), ...fields });
}

export function request(records: LogRecord[], resource: Record<string, string> = { 'service.name': 'test' }): LogsData {
  return {
    resourceLogs: [
      {
        resource: { attributes: attrs(resource), droppedAttributesCount: 0, entityRefs: [] },
        schemaUrl: '',
        scopeLogs: [{ scope: { name: 'test-scope', version: '1', attributes: [], droppedAttributesCount: 0 }, schemaUrl: '', logRecords: records }],
      },
    ],
  };
}

export function bodies(records: readonly LogRecord[]): string[] {
  return records.map((r) => r.body?.stringValue ?? '');
}
