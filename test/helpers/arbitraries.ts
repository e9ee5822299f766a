/** fast-check generators for OTLP logs, covering every field and the AnyValue variants. */
import fc from 'fast-check';
import Long from 'long';
import type { AnyValue, KeyValue, LogRecord, LogsData, ResourceLogs, ScopeLogs } from '../../src/otlp/model';

const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }).map((b) => Long.fromString(b.toString(), true));
const i64 = fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }).map((b) => Long.fromString(b.toString(), false));
const text = fc.string({ unit: 'grapheme', maxLength: 40 });
const key = fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 12 });
const bytes = (n?: number) => (n === undefined ? fc.uint8Array({ maxLength: 20 }) : fc.uint8Array({ minLength: n, maxLength: n }));

const { anyValue } = fc.letrec<{ anyValue: AnyValue; kv: KeyValue }>((tie) => ({
  anyValue: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    text.map((s): AnyValue => ({ stringValue: s })),
    fc.boolean().map((b): AnyValue => ({ boolValue: b })),
    i64.map((n): AnyValue => ({ intValue: n })),
    fc.double().map((d): AnyValue => ({ doubleValue: d })),
    bytes().map((b): AnyValue => ({ bytesValue: b })),
    fc.array(tie('anyValue') as fc.Arbitrary<AnyValue>, { maxLength: 3 }).map((values): AnyValue => ({ arrayValue: { values } })),
    fc.array(tie('kv') as fc.Arbitrary<KeyValue>, { maxLength: 3 }).map((values): AnyValue => ({ kvlistValue: { values } })),
    fc.constant<AnyValue>({}),
  ),
  kv: fc.record({ key, value: tie('anyValue') as fc.Arbitrary<AnyValue> }),
}));

export const anyValueArb = anyValue;
export const attributesArb = fc.uniqueArray(fc.record({ key, value: anyValue }), { maxLength: 4, selector: (kv) => kv.key });

export function logRecordArb(severity: fc.Arbitrary<{ severityNumber: number; severityText: string }>): fc.Arbitrary<LogRecord> {
  return fc
    .record({
      timeUnixNano: u64,
      observedTimeUnixNano: u64,
      sev: severity,
      body: fc.option(anyValue, { nil: null }),
      attributes: attributesArb,
      droppedAttributesCount: fc.nat({ max: 0xffffffff }),
      flags: fc.nat({ max: 0xffffffff }),
      traceId: fc.oneof(bytes(16), bytes(0)),
      spanId: fc.oneof(bytes(8), bytes(0)),
      eventName: fc.oneof(fc.constant(''), text),
    })
    .map(({ sev, ...r }) => ({ ...r, ...sev }));
}

export const anySeverity = fc.record({ severityNumber: fc.integer({ min: 0, max: 24 }), severityText: fc.oneof(fc.constant(''), text) });
/** Both severity fields set: the severity processor leaves such records alone. */
export const setSeverity = fc.record({ severityNumber: fc.integer({ min: 1, max: 24 }), severityText: fc.constantFrom('INFO', 'warn', 'E', 'custom') });

export function logsDataArb(severity = anySeverity): fc.Arbitrary<LogsData> {
  const scopeLogs: fc.Arbitrary<ScopeLogs> = fc.record({
    scope: fc.option(
      fc.record({ name: text, version: text, attributes: attributesArb, droppedAttributesCount: fc.nat({ max: 0xffffffff }) }),
      { nil: null },
    ),
    logRecords: fc.array(logRecordArb(severity), { minLength: 1, maxLength: 4 }),
    schemaUrl: text,
  });
  const resourceLogs: fc.Arbitrary<ResourceLogs> = fc.record({
    resource: fc.option(
      fc.record({
        attributes: attributesArb,
        droppedAttributesCount: fc.nat({ max: 0xffffffff }),
        entityRefs: fc.array(fc.record({ schemaUrl: text, type: key, idKeys: fc.array(key, { maxLength: 2 }), descriptionKeys: fc.array(key, { maxLength: 2 }) }), { maxLength: 2 }),
      }),
      { nil: null },
    ),
    scopeLogs: fc.array(scopeLogs, { minLength: 1, maxLength: 3 }),
    schemaUrl: text,
  });
  return fc.record({ resourceLogs: fc.array(resourceLogs, { minLength: 1, maxLength: 3 }) });
}
