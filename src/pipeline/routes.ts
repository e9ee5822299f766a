/** Splits a processed batch by the exporters `route` chose for each record. */
import { routeMark, type LogRecord, type LogsData, type ResourceLogs, type ScopeLogs } from '../otlp/model';

/**
 * Per exporter index, the records routed to it: `data` itself when it gets every record,
 * undefined when it gets none. Records without a mark go to every exporter. Returns undefined
 * when every exporter gets every record (nothing to split).
 */
export function partitionByRoute(data: LogsData, exporters: number): (LogsData | undefined)[] | undefined {
  const all = 2 ** exporters - 1;
  let every = all;
  let some = 0;
  for (const rl of data.resourceLogs) {
    for (const sl of rl.scopeLogs) {
      for (const rec of sl.logRecords) {
        const mask = rec[routeMark] ?? all;
        every &= mask;
        some |= mask;
      }
    }
  }
  if (every === all) return undefined;
  const out: (LogsData | undefined)[] = [];
  for (let i = 0; i < exporters; i++) {
    const bit = 1 << i;
    out.push(every & bit ? data : some & bit ? select(data, bit, all) : undefined);
  }
  return out;
}

/** The records whose mask holds `bit`, in new wrappers that share resources and scopes. */
function select(data: LogsData, bit: number, all: number): LogsData {
  const resourceLogs: ResourceLogs[] = [];
  for (const rl of data.resourceLogs) {
    let scopeLogs: ScopeLogs[] | undefined;
    for (const sl of rl.scopeLogs) {
      let picked: LogRecord[] | undefined;
      for (const rec of sl.logRecords) if ((rec[routeMark] ?? all) & bit) (picked ??= []).push(rec);
      if (picked) (scopeLogs ??= []).push({ scope: sl.scope, logRecords: picked, schemaUrl: sl.schemaUrl });
    }
    if (scopeLogs) resourceLogs.push({ resource: rl.resource, scopeLogs, schemaUrl: rl.schemaUrl });
  }
  return { resourceLogs };
}
