/** Splits a batch into pieces of at most `max` records, keeping resource and scope with each piece. */
import type { LogsData, ResourceLogs } from '../otlp/model';

export function splitBatch(data: LogsData, total: number, max: number): LogsData[] {
  if (total <= max) return [data];
  const out: LogsData[] = [];
  let current: ResourceLogs[] = [];
  let room = max;
  for (const rl of data.resourceLogs) {
    let rlCopy: ResourceLogs | undefined;
    for (const sl of rl.scopeLogs) {
      let offset = 0;
      while (offset < sl.logRecords.length) {
        if (room === 0) {
          out.push({ resourceLogs: current });
          current = [];
          rlCopy = undefined;
          room = max;
        }
        const take = Math.min(room, sl.logRecords.length - offset);
        if (!rlCopy) {
          rlCopy = { resource: rl.resource, scopeLogs: [], schemaUrl: rl.schemaUrl };
          current.push(rlCopy);
        }
        rlCopy.scopeLogs.push({ scope: sl.scope, schemaUrl: sl.schemaUrl, logRecords: sl.logRecords.slice(offset, offset + take) });
        offset += take;
        room -= take;
      }
    }
  }
  if (current.length > 0) out.push({ resourceLogs: current });
  return out;
}
