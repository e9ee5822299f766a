/**
 * `send`: ships log lines (files or stdin) as OTLP log records over gRPC — one record per
 * line, body = the line, observed time = when it was read. A real sender for demos,
 * tests and benchmarks.
 */
import * as fs from 'node:fs';
import * as readline from 'node:readline';
import { parseArgs } from 'node:util';
import { encodeLogsData } from '../otlp/codec';
import type { KeyValue, LogRecord, LogsData } from '../otlp/model';
import { newLogRecord, stringValue, unixNanosFromMillis } from '../otlp/values';
import { OtlpGrpcTransport } from '../exporters/otlp-grpc';
import { backoffDelay } from '../exporters/retry';
import { ExportError } from '../errors';
import { parseDuration, parseKeyValueMap } from '../config/values';
import { followLines } from './follow';

export const SEND_HELP = `Usage: otlp-log-processor send [options] [FILE...]
       otlp-log-processor send --follow [--from-end] FILE

Reads FILEs (or stdin when none or "-") line by line and sends each line as an OTLP log
record (body = line, observed timestamp = now) over OTLP/gRPC. Lines are sent as they arrive:
a request goes out when it holds --batch records or its first record has waited --max-delay,
so \`tail -f app.log | otlp-log-processor send\` forwards within --max-delay.

Options:
  --endpoint URL        Receiver [default: $OTEL_EXPORTER_OTLP_LOGS_ENDPOINT, $OTEL_EXPORTER_OTLP_ENDPOINT or http://localhost:4317]
  --ca-file FILE        With an https:// endpoint: PEM CA bundle to trust instead of the system roots
  --service NAME        Sets resource attribute service.name [default: $OTEL_SERVICE_NAME]
  --attributes K=V,...  More resource attributes
  --batch N             Records per request [default: 512]
  --max-delay DURATION  Longest a line waits before its request is sent [default: 200ms]
  --follow              Keep reading FILE as it grows, across rotation (rename and recreate)
                        and truncation, like tail -F; stops on SIGINT/SIGTERM after sending
  --from-end            With --follow: skip what FILE holds now, send only new lines
  --concurrency N       Requests in flight [default: 4]
  --repeat N            Send the input N times (reads it into memory) [default: 1]
  --gzip                Compress requests
  --quiet               No summary on stderr
  -h, --help            Show this help
`;

/** How often a followed file is checked: well under the default --max-delay. */
const FOLLOW_POLL_MS = 50;

interface SendOptions {
  endpoint: string;
  caFile: string;
  resource: KeyValue[];
  batch: number;
  maxDelayMs: number;
  follow: boolean;
  fromEnd: boolean;
  concurrency: number;
  repeat: number;
  gzip: boolean;
  quiet: boolean;
  files: string[];
}

function positiveInt(name: string, v: string | undefined, def: number): number {
  if (v === undefined) return def;
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new Error(`--${name}: expected a positive integer, got "${v}"`);
  return Number(v);
}

export function parseSendArgs(argv: string[], env: NodeJS.ProcessEnv): SendOptions | 'help' {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      endpoint: { type: 'string' },
      'ca-file': { type: 'string' },
      service: { type: 'string' },
      attributes: { type: 'string' },
      batch: { type: 'string' },
      'max-delay': { type: 'string' },
      follow: { type: 'boolean' },
      'from-end': { type: 'boolean' },
      concurrency: { type: 'string' },
      repeat: { type: 'string' },
      gzip: { type: 'boolean' },
      quiet: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  const follow = values.follow ?? false;
  if (follow && (positionals.length !== 1 || positionals[0] === '-')) throw new Error('--follow: expected exactly one FILE');
  if (values['from-end'] && !follow) throw new Error('--from-end: only with --follow');
  if (follow && values.repeat !== undefined) throw new Error('--repeat: not with --follow');
  let maxDelayMs = 200;
  if (values['max-delay'] !== undefined) {
    try {
      maxDelayMs = parseDuration(values['max-delay']);
    } catch (e) {
      throw new Error(`--max-delay: ${(e as Error).message}`, { cause: e });
    }
  }
  const attrs: Record<string, string> = values.attributes ? parseKeyValueMap(values.attributes) : {};
  const service = values.service ?? env.OTEL_SERVICE_NAME;
  if (service) attrs['service.name'] = service;
  return {
    endpoint: values.endpoint || env.OTEL_EXPORTER_OTLP_LOGS_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT || 'http://localhost:4317',
    caFile: values['ca-file'] ?? '',
    resource: Object.entries(attrs).map(([key, v]) => ({ key, value: stringValue(v) })),
    batch: positiveInt('batch', values.batch, 512),
    maxDelayMs,
    follow,
    fromEnd: values['from-end'] ?? false,
    concurrency: positiveInt('concurrency', values.concurrency, 4),
    repeat: positiveInt('repeat', values.repeat, 1),
    gzip: values.gzip ?? false,
    quiet: values.quiet ?? false,
    files: positionals.length > 0 ? positionals : ['-'],
  };
}

async function* readLines(files: string[], repeat: number, follow: FollowSettings | undefined): AsyncGenerator<{ line: string; file: string }> {
  if (follow) {
    for await (const line of followLines(files[0]!, follow)) if (line !== '') yield { line, file: files[0]! };
    return;
  }
  if (repeat > 1) {
    const all: { line: string; file: string }[] = [];
    for await (const l of readLines(files, 1, undefined)) all.push(l);
    for (let i = 0; i < repeat; i++) yield* all;
    return;
  }
  for (const file of files) {
    const input = file === '-' ? process.stdin : fs.createReadStream(file);
    const rl = readline.createInterface({ input, crlfDelay: Infinity });
    for await (const raw of rl) {
      const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      if (line !== '') yield { line, file };
    }
  }
}

type FollowSettings = Parameters<typeof followLines>[1];

function toRequest(records: LogRecord[], resource: KeyValue[]): LogsData {
  return {
    resourceLogs: [
      { resource: { attributes: resource, droppedAttributesCount: 0, entityRefs: [] }, schemaUrl: '', scopeLogs: [{ scope: { name: 'otlp-log-processor/send', version: '', attributes: [], droppedAttributesCount: 0 }, schemaUrl: '', logRecords: records }] },
    ],
  };
}

export async function sendCommand(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  let opts: SendOptions | 'help';
  try {
    opts = parseSendArgs(argv, env);
  } catch (e) {
    process.stderr.write(`otlp-log-processor send: ${(e as Error).message}\n${SEND_HELP}`);
    return 2;
  }
  if (opts === 'help') {
    process.stdout.write(SEND_HELP);
    return 0;
  }
  const o = opts;
  const transport = new OtlpGrpcTransport({
    endpoint: o.endpoint,
    headers: {},
    compression: o.gzip ? 'gzip' : 'none',
    insecure: true,
    tls: { caFile: o.caFile, certFile: '', keyFile: '', reloadIntervalMs: 60_000 },
  });
  const inFlight = new Set<Promise<void>>();
  let sent = 0;
  let rejected = 0;
  let failure: Error | undefined;
  const started = Date.now();

  const sendBatch = async (records: LogRecord[]): Promise<void> => {
    const bytes = encodeLogsData(toRequest(records, o.resource));
    for (let attempt = 0; ; attempt++) {
      try {
        const res = await transport.send({ bytes, records: records.length }, 10_000);
        sent += records.length - res.rejected;
        rejected += res.rejected;
        if (res.rejected > 0 && !o.quiet) process.stderr.write(`partial success: ${res.rejected} rejected: ${res.message}\n`);
        return;
      } catch (e) {
        const err = e as ExportError;
        if (!err.retryable || attempt >= 5) throw err;
        const policy = { enabled: true, initialIntervalMs: 200, maxIntervalMs: 5000, maxElapsedMs: 0 };
        await new Promise((r) => setTimeout(r, backoffDelay(policy, attempt, Math.random(), err.retryAfterMs)));
      }
    }
  };
  const launch = async (records: LogRecord[]): Promise<void> => {
    while (inFlight.size >= o.concurrency) await Promise.race(inFlight);
    if (failure) return;
    const p = sendBatch(records)
      .catch((e: Error) => {
        failure ??= e;
      })
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  };

  // Launches run one after another, so the concurrency limit holds when the timer launches too.
  let launching = Promise.resolve();
  let batch: LogRecord[] = [];
  let timer: NodeJS.Timeout | undefined;
  const flush = (): Promise<void> => {
    clearTimeout(timer);
    timer = undefined;
    if (batch.length === 0) return launching;
    const records = batch;
    batch = [];
    launching = launching.then(() => launch(records));
    return launching;
  };

  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  if (o.follow) {
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  }
  const follow = o.follow ? { fromEnd: o.fromEnd, pollMs: FOLLOW_POLL_MS, signal: stop.signal } : undefined;
  const fileAttr = new Map<string, KeyValue>();
  for await (const { line, file } of readLines(o.files, o.repeat, follow)) {
    if (failure) break;
    const attributes: KeyValue[] = [];
    if (file !== '-') {
      let kv = fileAttr.get(file);
      if (!kv) fileAttr.set(file, (kv = { key: 'log.file.name', value: stringValue(file.split('/').pop()!) }));
      attributes.push(kv);
    }
    batch.push(newLogRecord({ observedTimeUnixNano: unixNanosFromMillis(Date.now()), body: stringValue(line), attributes }));
    if (batch.length >= o.batch) await flush();
    else timer ??= setTimeout(() => void flush(), o.maxDelayMs);
  }
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  if (!failure) await flush();
  clearTimeout(timer);
  await launching;
  await Promise.all(inFlight);
  await transport.close();
  const secs = (Date.now() - started) / 1000;
  if (failure) {
    process.stderr.write(`otlp-log-processor send: ${failure.message} (after ${sent} records sent)\n`);
    return 1;
  }
  if (!o.quiet) {
    process.stderr.write(`sent ${sent} records${rejected ? `, ${rejected} rejected` : ''} to ${o.endpoint} in ${secs.toFixed(2)}s (${Math.round(sent / Math.max(secs, 0.001))} records/s)\n`);
  }
  return 0;
}
