/** `debug` exporter: prints records to stdout, like the Collector's debug exporter. */
import type Long from 'long';
import { decodeLogsData } from '../otlp/codec';
import type { AnyValue, KeyValue, LogRecord, LogsData } from '../otlp/model';
import { anyValueToString } from '../otlp/values';
import type { SendResult, Transport } from './transport';
import type { EncodedBatch } from '../otlp/encoded-batch';

export type Verbosity = 'basic' | 'normal' | 'detailed';

export interface TextSink {
  write(text: string): unknown;
}

function isoTime(nanos: Long): string {
  if (nanos.isZero()) return '-';
  const ms = nanos.divide(1_000_000).toNumber();
  const frac = nanos.modulo(1_000_000_000).toString().padStart(9, '0');
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, `.${frac}Z`);
}

function attrs(list: readonly KeyValue[]): string {
  return list.map((kv) => `${kv.key}=${quote(kv.value)}`).join(' ');
}

function quote(v: AnyValue | null | undefined): string {
  const s = anyValueToString(v);
  return /[\s"]/.test(s) ? JSON.stringify(s) : s;
}

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

export function formatBatch(data: LogsData, records: number, verbosity: Verbosity): string {
  if (verbosity === 'basic') return `LogsExporter #records=${records}\n`;
  const lines: string[] = [`LogsExporter #records=${records} #resource_logs=${data.resourceLogs.length}`];
  for (const rl of data.resourceLogs) {
    const res = attrs(rl.resource?.attributes ?? []);
    if (verbosity === 'detailed') lines.push(`ResourceLogs schema_url=${rl.schemaUrl || '-'} resource{${res}}`);
    for (const sl of rl.scopeLogs) {
      if (verbosity === 'detailed') {
        lines.push(`  ScopeLogs scope=${sl.scope?.name || '-'}@${sl.scope?.version || '-'} schema_url=${sl.schemaUrl || '-'}`);
      }
      for (const r of sl.logRecords) lines.push(verbosity === 'detailed' ? detailed(r) : normal(r, res));
    }
  }
  return lines.join('\n') + '\n';
}

function normal(r: LogRecord, resource: string): string {
  const time = isoTime(r.timeUnixNano.isZero() ? r.observedTimeUnixNano : r.timeUnixNano);
  const sev = r.severityText || (r.severityNumber ? String(r.severityNumber) : '-');
  const a = attrs(r.attributes);
  return `${time} ${sev} ${anyValueToString(r.body)}${a ? `  {${a}}` : ''}${resource ? `  resource{${resource}}` : ''}`;
}

function detailed(r: LogRecord): string {
  return [
    '    LogRecord',
    `      time: ${isoTime(r.timeUnixNano)} (${r.timeUnixNano.toString()})`,
    `      observed_time: ${isoTime(r.observedTimeUnixNano)} (${r.observedTimeUnixNano.toString()})`,
    `      severity: ${r.severityText || '-'} (${r.severityNumber})`,
    `      body: ${quote(r.body)}`,
    `      attributes: ${attrs(r.attributes) || '-'}`,
    `      trace_id: ${hex(r.traceId) || '-'} span_id: ${hex(r.spanId) || '-'} flags: ${r.flags}`,
    `      event_name: ${r.eventName || '-'} dropped_attributes_count: ${r.droppedAttributesCount}`,
  ].join('\n');
}

export class DebugTransport implements Transport {
  constructor(
    private readonly verbosity: Verbosity,
    private readonly out: TextSink = process.stdout,
    /** Set for a forwarded signal (traces, metrics): one summary line per batch, its bytes are not decoded. */
    private readonly signal?: { readonly name: string; readonly items: string },
  ) {}

  async send(batch: EncodedBatch): Promise<SendResult> {
    if (this.signal) {
      this.out.write(`${this.signal.name}: ${batch.records} ${this.signal.items}, ${batch.bytes.length} bytes (forwarded as received)\n`);
      return { rejected: 0, message: '' };
    }
    const data = this.verbosity === 'basic' ? { resourceLogs: [] } : decodeLogsData(batch.bytes);
    this.out.write(formatBatch(data, batch.records, this.verbosity));
    return { rejected: 0, message: '' };
  }

  async close(): Promise<void> {}
}
