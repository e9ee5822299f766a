/**
 * Per-record checks made before the chain. A record that fails is rejected alone: the sender
 * learns of it through partial_success, and the rest of the request goes on.
 */
import type { LogsData } from '../otlp/model';

export interface RecordLimits {
  readonly maxBodyBytes: number;
}

export interface Rejection {
  readonly rejected: number;
  /** Describes the first rejected record, naming the field. */
  readonly message: string;
}

export function rejectOversizeRecords(data: LogsData, limits: RecordLimits): Rejection {
  let rejected = 0;
  let message = '';
  const max = limits.maxBodyBytes;
  for (let r = 0; r < data.resourceLogs.length; r++) {
    const scopes = data.resourceLogs[r]!.scopeLogs;
    for (let s = 0; s < scopes.length; s++) {
      const records = scopes[s]!.logRecords;
      let kept = 0;
      for (let i = 0; i < records.length; i++) {
        const rec = records[i]!;
        const body = rec.body?.stringValue;
        // UTF-8 takes at most 3 bytes per UTF-16 unit: only long strings need measuring.
        const size = typeof body === 'string' && body.length * 3 > max ? Buffer.byteLength(body) : 0;
        if (size > max) {
          if (rejected === 0) {
            message = `log record rejected: resource_logs[${r}].scope_logs[${s}].log_records[${i}].body is ${size} bytes, over the ${max}-byte limit (OLP_LIMITS_MAX_BODY_BYTES)`;
          }
          rejected++;
          continue;
        }
        records[kept++] = rec;
      }
      records.length = kept;
    }
  }
  if (rejected > 1) message = `${rejected} log records rejected; first: ${message.replace(/^log record rejected: /, '')}`;
  return { rejected, message };
}
