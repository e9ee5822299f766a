/**
 * Service-level settings: receiver, batching, queue, retry, exporters, logging.
 * Processor options are declared next to each processor (src/processors/*).
 */
import { z } from 'zod';
import { opt, type OptionShape, type OptionValues } from './options';
import { parseInteger, parseList } from './values';
import { SIGNAL_NAMES, type PassthroughSignal } from '../otlp/signals';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

// OTEL_LOG_LEVEL uses the SDK's names; map them onto ours.
const OTEL_LOG_LEVEL_ALIASES: Record<string, LogLevel> = { none: 'silent', verbose: 'trace', all: 'trace', warning: 'warn' };

/** Upper bound of OLP_WORKERS: beyond the cores it only adds memory and contention. */
const MAX_WORKERS = 256;

/** `auto` or a whole number of worker threads. */
function parseWorkers(raw: unknown): 'auto' | number {
  if (typeof raw === 'string' && raw.trim().toLowerCase() === 'auto') return 'auto';
  try {
    return parseInteger(raw);
  } catch {
    throw new Error(`expected auto or a whole number of worker threads, got "${String(raw)}"`);
  }
}

/**
 * Smallest OLP_MEMORY_RECEIVE_BUDGET_MIB that still admits the largest request: its wire bytes
 * plus what it may inflate to, plus 1 MiB for the per-request overhead of others.
 */
export function minReceiveBudgetMib(grpcMaxRecvMib: number, httpMaxRecvMib: number): number {
  return 2 * Math.max(grpcMaxRecvMib, httpMaxRecvMib) + 1;
}

export const serviceSections = {
  '': {
    processors: opt.list(['severity', 'resource'], 'Processing chain: processor names in order. Empty for passthrough.'),
    exporters: opt.list([], 'Exporters to send every record to: `otlp` (OTEL_EXPORTER_OTLP_*), `debug`, or any other name configured by OLP_EXPORTER_<NAME>_*. Default: `otlp` when an OTLP endpoint is set, else `debug`.', {
      defaultText: 'otlp if endpoint set, else debug',
    }),
    shutdown_timeout: opt.duration('30s', 'On SIGTERM/SIGINT: how long to drain batches and queues before exiting.'),
    log_level: opt.custom<LogLevel>(
      LOG_LEVELS.join(' | '),
      (raw) => {
        const s = String(raw).trim().toLowerCase();
        return (OTEL_LOG_LEVEL_ALIASES[s] ?? s) as LogLevel;
      },
      z.enum(LOG_LEVELS),
      'info',
      "Level of the service's own logs (JSON on stderr). OTEL_LOG_LEVEL is honoured when OLP_LOG_LEVEL is unset.",
      { env: ['OLP_LOG_LEVEL', 'OTEL_LOG_LEVEL'] },
    ),
    workers: opt.custom<'auto' | number>(
      'auto | int',
      parseWorkers,
      z.custom<'auto' | number>((v) => v === 'auto' || (Number.isInteger(v) && (v as number) >= 0 && (v as number) <= MAX_WORKERS), `must be auto or a whole number from 0 to ${MAX_WORKERS}`),
      'auto',
      'Worker threads that run the CPU-bound part of each request (per-record limits, processing chain, route, split, write) behind the one receiver port; requests and batches move between threads as raw protobuf bytes. `0`: all on the event-loop thread. `auto`: one per available core (CPU affinity, capped by the container cgroup CPU limit, rounded up), except 0 on a single core, for an empty chain (passthrough: a thread costs about as much CPU as it saves; a number buys peak throughput) or when a processor in the chain must be a single instance per service (dedup, rate_limit, aggregate, persisted state, windows; logged at start). A number above 0 with such a processor is a start-up error. Each thread loads its own copy of the chain (custom processors too) and adds about 50 MiB of memory, more under load.',
    ),
    passthrough_signals: opt.custom<readonly PassthroughSignal[]>(
      'list',
      (raw) => parseList(raw) as PassthroughSignal[],
      z.array(z.enum(SIGNAL_NAMES as [PassthroughSignal, ...PassthroughSignal[]])).readonly(),
      SIGNAL_NAMES,
      'OTLP signals besides logs accepted on the same ports (gRPC TraceService/MetricsService, POST /v1/traces, /v1/metrics) and forwarded untouched, as received, to every OTLP exporter (through their own memory queues); empty: refused as unimplemented (gRPC) or 404 (HTTP).',
      { defaultText: SIGNAL_NAMES.join(',') },
    ),
    workers_max_in_flight: opt.int(
      64,
      'Requests each worker thread may hold, processing and waiting; beyond it, on every thread, a request is refused with `RESOURCE_EXHAUSTED` + RetryInfo (HTTP 429), counted as `workers_busy`. Bounds the memory of requests waiting for a thread.',
      { min: 1, max: 1024 },
    ),
  },
  grpc: {
    endpoint: opt.string('0.0.0.0:4317', 'OTLP/gRPC receiver listen address (host:port).', { nonEmpty: true }),
    max_recv_mib: opt.int(16, 'Largest request accepted, in MiB (after decompression, so a gzip bomb is refused too); larger ones get RESOURCE_EXHAUSTED.', {
      min: 1,
      max: 1024,
    }),
    max_concurrent_streams: opt.int(100, 'Concurrent calls (HTTP/2 streams) per connection, advertised as SETTINGS_MAX_CONCURRENT_STREAMS; the client queues or is refused beyond it.', {
      min: 1,
      max: 10_000,
    }),
    max_connections: opt.int(0, 'Open connections on the gRPC port; further ones are closed at once (counted, reason max_connections, and logged at most every 10 s). 0 = as many as the receive budget holds with every stream open: OLP_MEMORY_RECEIVE_BUDGET_MIB ÷ (OLP_GRPC_MAX_CONCURRENT_STREAMS × 16 KiB), at least 16 (163 with the defaults). Each open stream costs about 10 KiB even before it sends a byte.', {
      min: 0,
    }),
    handshake_timeout: opt.duration('10s', 'A connection that sends nothing at all (no HTTP/2 preface, no TLS hello) for this long is closed (counted, reason no_first_byte).', { min: 1 }),
    max_connection_idle: opt.duration('2m', 'A connection with no call open for this long is closed (GOAWAY). 0 = never.'),
    max_connection_age: opt.duration('0s', 'A connection is closed (GOAWAY, then 30 s for calls in flight) after this long, ±10%, so long-lived clients rebalance. 0 = never.'),
    read_timeout: opt.duration('30s', 'Longest a call may take to deliver its whole request message; slower calls get DEADLINE_EXCEEDED and free what they held.', { min: 1 }),
    tls_cert_file: opt.string('', 'PEM certificate (chain) of the receiver. With the key file, the receiver accepts TLS only.'),
    tls_key_file: opt.string('', 'PEM private key of the receiver certificate.'),
    tls_client_ca_file: opt.string('', 'PEM CA bundle; when set, clients must present a certificate it signed (mTLS).'),
    tls_reload_interval: opt.duration('1m', 'How often certificate, key and CA files (receiver and exporter) and the bearer token file are re-read, so rotated files apply without restart.', {
      min: 1000,
    }),
  },
  http: {
    endpoint: opt.string('0.0.0.0:4318', 'OTLP/HTTP receiver listen address (POST /v1/logs, protobuf or JSON). Empty disables it.'),
    max_recv_mib: opt.int(16, 'Largest OTLP/HTTP body accepted, in MiB, as sent and after gzip inflation; larger ones get 413.', { min: 1, max: 1024 }),
    max_connections: opt.int(1000, 'Open connections on the OTLP/HTTP port; further ones are closed at once (counted, reason max_connections, and logged at most every 10 s).', { min: 1 }),
    headers_timeout: opt.duration('10s', 'Longest a client may take to send a request\'s headers (from its first byte, or from connecting); then the connection is closed.', { min: 1 }),
    read_timeout: opt.duration('30s', 'Longest a client may take to send a request\'s body once its headers are in; then it gets 408 and the connection is closed.', { min: 1 }),
    idle_timeout: opt.duration('60s', 'A keep-alive connection with no request for this long is closed; also closes connections that never send a byte (after OLP_HTTP_HEADERS_TIMEOUT).', { min: 1 }),
    tls_cert_file: opt.string('', 'PEM certificate (chain) of the OTLP/HTTP receiver. With the key file, it speaks HTTPS only.'),
    tls_key_file: opt.string('', 'PEM private key of the OTLP/HTTP receiver certificate.'),
    tls_client_ca_file: opt.string('', 'PEM CA bundle; when set, OTLP/HTTP clients must present a certificate it signed (mTLS).'),
  },
  auth: {
    bearer_tokens: opt.list([], 'Accepted bearer tokens (`authorization: Bearer <token>`); when set (or a token file is), other requests get UNAUTHENTICATED.', {
      secret: true,
      defaultText: '',
    }),
    bearer_token_file: opt.string('', 'File with accepted bearer tokens, one per line (# comments); re-read when it changes (checked every OLP_GRPC_TLS_RELOAD_INTERVAL).'),
  },
  limits: {
    max_records: opt.int(50_000, 'Records per request; a larger request is refused whole (RESOURCE_EXHAUSTED, not retryable: split it). Checked before anything retryable. At most OLP_QUEUE_MAX_RECORDS (left unset, it follows a smaller queue; set above it, start-up fails): a larger request could never be queued and senders would retry it forever.', { min: 1 }),
    max_body_bytes: opt.int(1024 * 1024, 'Largest string or bytes body (UTF-8 bytes). A record over any per-record limit is rejected alone, reported in partial_success.', {
      min: 1,
    }),
    max_attributes: opt.int(1000, 'Attributes per record.', { min: 0 }),
    max_attribute_key_bytes: opt.int(1024, 'Length of an attribute key (also keys inside maps).', { min: 1 }),
    max_attribute_value_bytes: opt.int(64 * 1024, 'Length of one string or bytes value inside attributes or a structured body.', { min: 1 }),
    max_depth: opt.int(32, 'Nesting depth of arrays and maps in a body or attribute value.', { min: 1, max: 1000 }),
    max_collection_length: opt.int(10_000, 'Entries in one array or map value.', { min: 1 }),
    max_json_values: opt.int(2_000_000, 'OTLP/JSON: values (objects, arrays, strings, numbers…) in one request, counted by a byte scan before parsing, as are its log records (OLP_LIMITS_MAX_RECORDS) and nesting depth; over either it is refused (RESOURCE_EXHAUSTED / 413) without being parsed.', { min: 1 }),
  },
  metrics: {
    endpoint: opt.string('0.0.0.0:8888', 'Prometheus self-metrics listen address (GET /metrics); also serves /healthz and /readyz unless OLP_HEALTH_ENDPOINT is set. Empty disables.'),
    tap: opt.enum(
      ['loopback', 'any', 'off'] as const,
      'loopback',
      'Who may open a live record stream (GET /api/tap, `otlp-log-processor tap`) on the metrics port: `loopback` connections only (the pod itself, `kubectl port-forward`), `any` client that reaches the port, or nobody (`off`). It shows record contents: with OLP_AUTH_* set it also needs a bearer token.',
    ),
  },
  health: {
    endpoint: opt.string('', 'Separate listen address for /healthz (live) and /readyz (ready). Empty: served on the metrics endpoint.'),
  },
  batch: {
    max_records: opt.int(8192, 'Records per export request: a batch is sent when it reaches this size.', { min: 1, max: 1_000_000 }),
    max_delay: opt.duration('200ms', 'Longest a record waits in a partial batch before it is sent.', { min: 1 }),
  },
  queue: {
    max_records: opt.int(100_000, 'Records held per exporter until delivered or dropped (batching, sending queue, and batches being sent or retried). When full, receivers answer RESOURCE_EXHAUSTED with RetryInfo so the sender retries.', {
      min: 1,
    }),
    consumers: opt.int(10, 'Concurrent export requests per exporter.', { min: 1, max: 256 }),
    max_mib: opt.int(256, 'Encoded bytes held per exporter (as OLP_QUEUE_MAX_RECORDS counts records), in MiB; full like OLP_QUEUE_MAX_RECORDS. 0 = no byte limit.', { min: 0 }),
    dir: opt.string('', 'Directory of the persistent queue (write-ahead log, one subdirectory per exporter). Requests are acknowledged once in the log; unsent ones are re-sent after a restart. Empty: in-memory queue only.'),
    fsync: opt.enum(['batch', 'interval'] as const, 'batch', 'Persistent queue: `batch` fsyncs each group of writes before acknowledging; `interval` every OLP_QUEUE_FSYNC_INTERVAL (survives a process crash, not a power loss).'),
    fsync_interval: opt.duration('1s', 'Persistent queue with OLP_QUEUE_FSYNC=interval: how often the log is fsynced.', { min: 1 }),
    full_policy: opt.enum(['reject', 'drop_oldest'] as const, 'reject', 'When a queue is full: `reject` new requests (retryable, see OLP_QUEUE_FULL_CODE) or `drop_oldest` queued batches to make room (counted as dropped, reason queue_full_drop_oldest).'),
    full_code: opt.enum(['resource_exhausted', 'unavailable'] as const, 'resource_exhausted', 'Status answered when a queue is full, the memory limit is reached or the queue disk is full; both carry RetryInfo.'),
  },
  retry: {
    enabled: opt.bool(true, 'Retry exports that failed with a retryable status.'),
    initial_interval: opt.duration('5s', 'First backoff interval (randomised ±50%, ×1.5 each retry).', { min: 1 }),
    max_interval: opt.duration('30s', 'Upper bound of one backoff interval.', { min: 1 }),
    max_elapsed: opt.duration('300s', 'Give up on a batch (counted as dropped, reason retries_exhausted) after this long. 0 retries forever.'),
  },
  otlp: {
    endpoint: opt.string(
      '',
      'Downstream OTLP endpoint: gRPC `http://collector:4317` (`https://` for TLS); for OTLP/HTTP the generic variable is a base URL that gets `/v1/logs` appended, the `_LOGS_` one is used as is.',
      { env: ['OTEL_EXPORTER_OTLP_LOGS_ENDPOINT', 'OTEL_EXPORTER_OTLP_ENDPOINT'] },
    ),
    protocol: opt.enum(['grpc', 'http/protobuf', 'http/json'] as const, 'grpc', 'Transport of the otlp exporter.', {
      env: ['OTEL_EXPORTER_OTLP_LOGS_PROTOCOL', 'OTEL_EXPORTER_OTLP_PROTOCOL'],
    }),
    headers: opt.map('Metadata sent with every export (`key=value,…`, percent-decoded).', {
      env: ['OTEL_EXPORTER_OTLP_LOGS_HEADERS', 'OTEL_EXPORTER_OTLP_HEADERS'],
      secret: true,
    }),
    compression: opt.enum(['gzip', 'none'] as const, 'none', 'Compression of export requests.', {
      env: ['OTEL_EXPORTER_OTLP_LOGS_COMPRESSION', 'OTEL_EXPORTER_OTLP_COMPRESSION'],
    }),
    timeout: opt.duration('10s', 'Deadline of one export attempt (a bare number is milliseconds, as the OTel spec defines).', {
      env: ['OTEL_EXPORTER_OTLP_LOGS_TIMEOUT', 'OTEL_EXPORTER_OTLP_TIMEOUT'],
      bareUnitMs: true,
      min: 1,
    }),
    insecure: opt.bool(false, 'Plaintext when the endpoint has no scheme (`http://` is always plaintext, `https://` always TLS). A scheme-less endpoint is refused unless this is set explicitly.', {
      env: ['OTEL_EXPORTER_OTLP_LOGS_INSECURE', 'OTEL_EXPORTER_OTLP_INSECURE'],
    }),
    certificate: opt.string('', 'PEM CA bundle to verify the downstream with (instead of the system roots); re-read every OLP_GRPC_TLS_RELOAD_INTERVAL.', {
      env: ['OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE', 'OTEL_EXPORTER_OTLP_CERTIFICATE'],
    }),
    client_certificate: opt.string('', 'PEM client certificate for mTLS to the downstream (gRPC and HTTP; with or without a CA file); re-read with the key every OLP_GRPC_TLS_RELOAD_INTERVAL.', {
      env: ['OTEL_EXPORTER_OTLP_LOGS_CLIENT_CERTIFICATE', 'OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE'],
    }),
    client_key: opt.string('', 'PEM private key of the client certificate.', {
      env: ['OTEL_EXPORTER_OTLP_LOGS_CLIENT_KEY', 'OTEL_EXPORTER_OTLP_CLIENT_KEY'],
    }),
    forward_metadata: opt.list([], 'Incoming request metadata keys (e.g. `x-tenant`, `authorization`) sent along with the records they came with, like the Collector\'s headers_setter; batches are kept apart per value. Off by default.', {
      env: ['OLP_OTLP_FORWARD_METADATA'],
      defaultText: '',
    }),
  },
  memory: {
    limit_mib: opt.int(0, 'Memory limiter hard limit on the resident set size (RSS), in MiB: above it a GC is forced; above the soft limit (limit − spike) new requests are refused with a retryable status. 0 = off.', { min: 0 }),
    spike_mib: opt.int(0, 'Headroom between the soft and hard limits, in MiB. 0 = 20% of OLP_MEMORY_LIMIT_MIB.', { min: 0 }),
    receive_budget_mib: opt.int(0, 'Bytes all receivers together may hold for requests being received and decoded (bodies, inflated bodies, plus 16 KiB per open request), in MiB. When spent, requests are refused with RESOURCE_EXHAUSTED / 429 and a retry delay. 0 = a quarter of OLP_MEMORY_LIMIT_MIB, or 256 MiB without a memory limit; never less than twice the larger OLP_*_MAX_RECV_MIB plus 1, so the largest request fits.', { min: 0 }),
  },
  debug: {
    verbosity: opt.enum(['basic', 'normal', 'detailed'] as const, 'normal', 'debug exporter: `basic` one line per batch, `normal` one line per record, `detailed` every field.'),
  },
} satisfies Record<string, OptionShape>;

/**
 * Options of an exporter named in OLP_EXPORTERS other than `otlp` and `debug`: section
 * `exporter_<name>`, env OLP_EXPORTER_<NAME>_<OPTION>. Same meaning as the otlp exporter's.
 */
export const namedExporterOptions = {
  type: opt.enum(['otlp', 'debug'] as const, 'otlp', 'Kind of exporter.'),
  endpoint: opt.string('', 'OTLP endpoint (gRPC `http(s)://host:port`; OTLP/HTTP: the full logs URL). Required for type otlp.'),
  protocol: opt.enum(['grpc', 'http/protobuf', 'http/json'] as const, 'grpc', 'Transport.'),
  headers: opt.map('Metadata sent with every export (`key=value,…`, percent-decoded).', { secret: true }),
  compression: opt.enum(['gzip', 'none'] as const, 'none', 'Compression of export requests.'),
  timeout: opt.duration('10s', 'Deadline of one export attempt.', { bareUnitMs: true, min: 1 }),
  insecure: opt.bool(false, 'Plaintext when the endpoint has no scheme; a scheme-less endpoint is refused unless this is set explicitly.'),
  certificate: opt.string('', 'PEM CA bundle to verify the downstream with.'),
  client_certificate: opt.string('', 'PEM client certificate for mTLS.'),
  client_key: opt.string('', 'PEM private key of the client certificate.'),
} satisfies OptionShape;

export type ServiceSections = typeof serviceSections;
export type ServiceConfig = { readonly [S in keyof ServiceSections]: OptionValues<ServiceSections[S]> };
