/**
 * OTLP/HTTP receiver: POST /v1/logs with a binary protobuf (application/x-protobuf) or OTLP/JSON
 * (application/json) ExportLogsServiceRequest, optionally gzip-compressed. Answers in the
 * request's encoding: ExportLogsServiceResponse on success, google.rpc.Status on failure, with
 * the status codes and Retry-After headers of the OTLP/HTTP spec.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import type { Logger } from 'pino';
import { encodeExportResponse } from '../otlp/codec';
import { decodeLogsDataJson, encodeExportResponseJson, encodeStatus, encodeStatusJson } from '../otlp/json';
import { jsonDepthFor, scanJsonShape } from '../otlp/json-scan';
import type { LogsData } from '../otlp/model';
import { FAILURE_CODES, PipelineError, boundedText, grpcCodeFor, httpStatusFor, type FailureKind } from '../errors';
import { PASSTHROUGH_SIGNALS, SIGNAL_NAMES, type PassthroughSignal } from '../otlp/signals';
import type { SignalConsumer } from '../pipeline/signals';
import type { Metrics } from '../telemetry/metrics';
import type { ConsumeResult } from '../pipeline/pipeline';
import type { HttpsContext } from './tls';
import { guardConnections } from './connection-guard';
import { inflate } from './inflate';
import { BudgetLease, REQUEST_OVERHEAD_BYTES, type ReceiveBudget } from './receive-budget';

export interface HttpReceiverOptions {
  /** host:port; port 0 picks a free one. */
  readonly endpoint: string;
  /** Largest request body accepted, in bytes, both as received and after gzip inflation. */
  readonly maxRecvBytes: number;
  /** When set, requests must carry an accepted bearer token (BearerAuth fits). */
  readonly auth?: { verify(authorization: string | undefined): boolean };
  /** Incoming header names (lower-case) to pass along with the records, as the gRPC receiver does with metadata. */
  readonly forwardMetadata?: readonly string[];
  /** When set, the receiver speaks HTTPS (and checks client certificates when the context has a CA). */
  readonly tls?: HttpsContext;
  readonly maxConnections: number;
  /** Longest a client may take to send a request's headers. */
  readonly headersTimeoutMs: number;
  /** Longest a client may take to send a whole request. */
  readonly readTimeoutMs: number;
  /** Keep-alive connections with no request are closed after this. */
  readonly idleTimeoutMs: number;
  /** Shared with the other receivers. */
  readonly budget: ReceiveBudget;
  /** OTLP/JSON caps checked by a byte scan before parsing. */
  readonly json: { readonly maxRecords: number; readonly maxValues: number; readonly maxValueDepth: number };
  /** Traces and metrics forwarded untouched (POST /v1/traces, /v1/metrics); without it they are 404. */
  readonly signals?: SignalConsumer;
}

/** What the receiver hands requests to: the Pipeline, or a stand-in in tests. May become async. */
export interface LogsConsumer {
  consume(bytes: Uint8Array, transport: string, metadata?: Readonly<Record<string, string>>): ConsumeResult | Promise<ConsumeResult>;
  consumeData(data: LogsData, transport: string, metadata?: Readonly<Record<string, string>>): ConsumeResult | Promise<ConsumeResult>;
}

export const OTLP_HTTP_LOGS_PATH = '/v1/logs';
export const PROTOBUF_CONTENT_TYPE = 'application/x-protobuf';
export const JSON_CONTENT_TYPE = 'application/json';

/** How much later than OLP_HTTP_READ_TIMEOUT Node's own request timeout cuts a connection. */
const READ_TIMEOUT_BACKSTOP_MS = 5000;

/** Retry-After sent while shutting down: long enough for a load balancer to move the sender elsewhere. */
const SHUTDOWN_RETRY_AFTER_MS = 1000;

type Encoding = 'protobuf' | 'json';

/** A refusal answered before the pipeline sees the request, with headers telling the sender what we accept. */
class HttpRefusal extends PipelineError {
  constructor(
    kind: FailureKind,
    message: string,
    readonly headers: Readonly<Record<string, string>>,
  ) {
    super(kind, boundedText(message));
  }
}

/** A refusal the receiver decided itself, counted under `reason` in olp_receiver_refused_requests_total. */
class ReceiverRefusal extends PipelineError {
  constructor(
    readonly reason: string,
    err: PipelineError,
  ) {
    super(err.kind, err.message, err.retryAfterMs);
  }
}

function encodingOf(contentType: string | undefined): Encoding | undefined {
  const mediaType = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (mediaType === PROTOBUF_CONTENT_TYPE) return 'protobuf';
  if (mediaType === JSON_CONTENT_TYPE) return 'json';
  return undefined;
}

export class HttpReceiver {
  private readonly server: http.Server | https.Server;
  private accepting = true;
  private inFlight = 0;
  private idle: (() => void)[] = [];
  private port = 0;

  constructor(
    private readonly options: HttpReceiverOptions,
    private readonly pipeline: LogsConsumer,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
  ) {
    const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => this.handle(req, res);
    // The receiver times out slow bodies itself (counted, answered 408); this is Node's backstop.
    const requestTimeout = options.readTimeoutMs + READ_TIMEOUT_BACKSTOP_MS;
    const timeouts: http.ServerOptions = {
      // Node requires headersTimeout <= requestTimeout.
      headersTimeout: Math.min(options.headersTimeoutMs, requestTimeout),
      requestTimeout,
      keepAliveTimeout: options.idleTimeoutMs,
      // Node checks the two timeouts above on this interval (30 s by default, longer than they may be).
      connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(Math.min(options.headersTimeoutMs, options.readTimeoutMs) / 4))),
    };
    if (options.tls) {
      const server = https.createServer({ ...options.tls.options, ...timeouts }, handler);
      options.tls.watch(server);
      this.server = server;
    } else {
      this.server = http.createServer(timeouts, handler);
    }
    guardConnections(
      this.server,
      { transport: 'http', maxConnections: options.maxConnections, firstByteTimeoutMs: options.headersTimeoutMs, setting: 'OLP_HTTP_MAX_CONNECTIONS' },
      metrics,
      logger,
    );
  }

  /** Binds and starts; resolves with the bound port (useful with port 0). */
  start(): Promise<number> {
    const m = /^(.*):(\d+)$/.exec(this.options.endpoint);
    if (!m) return Promise.reject(new Error(`OLP_HTTP_ENDPOINT: expected host:port, got "${this.options.endpoint}"`));
    return new Promise((resolve, reject) => {
      const onError = (e: Error): void => reject(new Error(`cannot listen on ${this.options.endpoint} (OLP_HTTP_ENDPOINT): ${e.message}`));
      this.server.once('error', onError);
      this.server.listen(Number(m[2]), m[1]!.replace(/^\[|\]$/g, ''), () => {
        this.server.off('error', onError);
        this.port = (this.server.address() as { port: number }).port;
        resolve(this.port);
      });
    });
  }

  get boundPort(): number {
    return this.port;
  }

  /**
   * Answers 503 to new requests while in-flight ones finish (bounded by `deadline`), then
   * closes the listener and every connection.
   */
  async stop(deadline: number): Promise<void> {
    this.accepting = false;
    const remaining = (): number => Math.max(0, deadline - Date.now());
    if (this.inFlight > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining());
        this.idle.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.server.closeAllConnections();
        resolve();
      }, remaining());
      this.server.close(() => {
        clearTimeout(timer);
        resolve();
      });
      this.server.closeIdleConnections();
    });
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const encoding = encodingOf(req.headers['content-type']);
    // Errors before the content type is known are answered in JSON: readable by people and curl.
    const answerIn = encoding ?? 'json';
    const pathname = (req.url ?? '').split('?')[0];
    const signal = pathname === OTLP_HTTP_LOGS_PATH ? undefined : SIGNAL_NAMES.find((s) => PASSTHROUGH_SIGNALS[s].httpPath === pathname && this.options.signals?.handles(s));
    if (pathname !== OTLP_HTTP_LOGS_PATH && !signal) {
      const paths = [OTLP_HTTP_LOGS_PATH, ...SIGNAL_NAMES.filter((s) => this.options.signals?.handles(s)).map((s) => PASSTHROUGH_SIGNALS[s].httpPath)];
      this.sendStatus(req, res, httpStatusFor('not_found'), answerIn, grpcCodeFor('not_found'), `no such path; OTLP/HTTP is received on POST ${paths.join(', ')}`);
      return;
    }
    let accepted: Encoding;
    try {
      accepted = this.checkHeaders(req, encoding);
      if (signal && accepted === 'json') {
        throw new HttpRefusal('unsupported_media_type', `${signal} are forwarded as received, in binary protobuf only; send ${PROTOBUF_CONTENT_TYPE} (OTLP exporter protocol http/protobuf)`, {
          accept: PROTOBUF_CONTENT_TYPE,
        });
      }
    } catch (e) {
      this.fail(req, res, answerIn, e);
      return;
    }
    this.inFlight++;
    const lease = new BudgetLease(this.options.budget);
    this.process(req, accepted, lease, signal)
      .then(
        (result) => {
          const body = result.rejected === 0 ? {} : { partialSuccess: { rejectedLogRecords: result.rejected, errorMessage: result.message } };
          this.send(req, res, 200, accepted, accepted === 'json' ? encodeExportResponseJson(body) : encodeExportResponse(body));
        },
        (e: unknown) => this.fail(req, res, accepted, e),
      )
      .catch((e: unknown) => {
        // Only reachable through a bug in answering; never leave the rejection unhandled.
        this.logger.error({ err: e }, 'cannot answer export request');
        res.destroy();
      })
      .finally(() => {
        lease.release();
        if (--this.inFlight === 0) for (const wake of this.idle.splice(0)) wake();
      });
  }

  /** Everything decidable from the request line and headers, before reading the body. */
  private checkHeaders(req: http.IncomingMessage, encoding: Encoding | undefined): Encoding {
    if (req.method !== 'POST') throw new HttpRefusal('method_not_allowed', `method ${req.method} not allowed; use POST`, { allow: 'POST' });
    if (!this.accepting) throw new PipelineError('unavailable', 'server is shutting down', SHUTDOWN_RETRY_AFTER_MS);
    if (this.options.auth && !this.options.auth.verify(req.headers.authorization)) {
      throw new PipelineError('unauthenticated', 'missing or invalid bearer token');
    }
    if (!encoding) {
      throw new HttpRefusal('unsupported_media_type', `unsupported content type "${req.headers['content-type'] ?? ''}"; use ${PROTOBUF_CONTENT_TYPE} or ${JSON_CONTENT_TYPE}`, {
        accept: `${PROTOBUF_CONTENT_TYPE}, ${JSON_CONTENT_TYPE}`,
      });
    }
    const contentEncoding = (req.headers['content-encoding'] ?? '').trim().toLowerCase();
    if (contentEncoding !== '' && contentEncoding !== 'identity' && contentEncoding !== 'gzip') {
      // RFC 9110 §15.5.16: an unsupported content coding is a 415, with Accept-Encoding listing ours.
      throw new HttpRefusal('unsupported_encoding', `unsupported content encoding "${contentEncoding}"; use gzip or none`, { 'accept-encoding': 'gzip, identity' });
    }
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > this.options.maxRecvBytes) throw this.tooLarge();
    return encoding;
  }

  /** Reads the body and hands it on: to the logs pipeline, or (`signal`) to be forwarded untouched. */
  private async process(req: http.IncomingMessage, encoding: Encoding, lease: BudgetLease, signal: PassthroughSignal | undefined): Promise<ConsumeResult> {
    // The declared length is taken from the budget up front: refused before a byte is buffered.
    const length = Number(req.headers['content-length'] ?? 0);
    const declared = Number.isFinite(length) && length > 0 ? length : 0;
    if (!lease.grow(REQUEST_OVERHEAD_BYTES + declared)) throw this.overBudget();
    let body = await readBody(req, {
      max: this.options.maxRecvBytes,
      declared,
      lease,
      timeoutMs: this.options.readTimeoutMs,
      tooLarge: () => this.tooLarge(),
      overBudget: () => this.overBudget(),
      timedOut: () => new ReceiverRefusal('read_timeout', new PipelineError('timeout', `request body not received within ${this.options.readTimeoutMs} ms (OLP_HTTP_READ_TIMEOUT)`)),
    });
    if ((req.headers['content-encoding'] ?? '').trim().toLowerCase() === 'gzip') body = await this.gunzip(body, lease);
    const metadata = this.forwarded(req.headers);
    if (signal) {
      await this.options.signals!.forward(signal, body, 'http', metadata);
      return { rejected: 0, message: '' };
    }
    if (encoding === 'protobuf') return await this.pipeline.consume(body, 'http', metadata);
    const json = this.options.json;
    const excess = scanJsonShape(body, { maxRecords: json.maxRecords, maxValues: json.maxValues, maxDepth: jsonDepthFor(json.maxValueDepth) });
    if (excess) throw new ReceiverRefusal(excess.reason, new PipelineError('too_large', excess.message));
    let data: LogsData;
    try {
      data = decodeLogsDataJson(body);
    } catch (e) {
      this.logger.warn({ transport: 'http', err: boundedText((e as Error).message), bytes: body.length }, 'undecodable export request refused');
      throw new PipelineError('invalid_input', `cannot decode ExportLogsServiceRequest (JSON): ${(e as Error).message}`);
    }
    return await this.pipeline.consumeData(data, 'http', metadata);
  }

  private forwarded(headers: http.IncomingHttpHeaders): Record<string, string> | undefined {
    const keys = this.options.forwardMetadata;
    if (!keys || keys.length === 0) return undefined;
    let out: Record<string, string> | undefined;
    for (const key of keys) {
      const v = headers[key];
      // Node joins repeated headers with ", " (set-cookie aside); the first value is what gRPC forwards.
      const value = Array.isArray(v) ? v[0] : v;
      if (typeof value === 'string') (out ??= {})[key] = value;
    }
    return out;
  }

  /** Inflates with the same cap as the body: a small gzip bomb is a 413, never a large buffer. */
  private gunzip(body: Buffer, lease: BudgetLease): Promise<Buffer> {
    return this.options.budget.inflation(() => inflate(body, 'gzip', {
      maxBytes: this.options.maxRecvBytes,
      lease,
      tooLarge: () => this.tooLarge(),
      overBudget: () => this.overBudget(),
      corrupt: (message) => new PipelineError('invalid_input', `cannot decompress gzip request body: ${message}`),
    }));
  }

  private tooLarge(): PipelineError {
    return new ReceiverRefusal('too_large', new PipelineError('too_large', `request body larger than ${this.options.maxRecvBytes} bytes (OLP_HTTP_MAX_RECV_MIB)`));
  }

  private overBudget(): PipelineError {
    return new ReceiverRefusal('receive_budget', this.options.budget.refusal());
  }

  private fail(req: http.IncomingMessage, res: http.ServerResponse, encoding: Encoding, e: unknown): void {
    const err = e instanceof PipelineError ? e : new PipelineError('internal', (e as Error).message);
    if (err.kind === 'internal') this.logger.error({ err: e }, 'export request failed');
    const code = httpStatusFor(err.kind);
    this.metrics.receiverRequestsFailed.inc({ transport: 'http', code: String(code) });
    if (err instanceof ReceiverRefusal) this.metrics.receiverRequestsRefused.inc({ transport: 'http', reason: err.reason });
    const headers: Record<string, string> = e instanceof HttpRefusal ? { ...e.headers } : {};
    if (err.retryAfterMs !== undefined && FAILURE_CODES[err.kind].retryable) headers['retry-after'] = String(Math.ceil(err.retryAfterMs / 1000));
    if (err.kind === 'unauthenticated') headers['www-authenticate'] = 'Bearer';
    // A sender of a too-large or over-budget request may still be sending it: stop reading, close.
    if (err instanceof ReceiverRefusal) headers.connection = 'close';
    this.sendStatus(req, res, code, encoding, grpcCodeFor(err.kind), err.message, headers);
  }

  /** An error answer: google.rpc.Status (code is a google.rpc.Code, numerically the gRPC status) in the request's encoding. */
  private sendStatus(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    httpStatus: number,
    encoding: Encoding,
    code: number,
    message: string,
    headers: Readonly<Record<string, string>> = {},
  ): void {
    this.send(req, res, httpStatus, encoding, encoding === 'json' ? encodeStatusJson({ code, message }) : encodeStatus({ code, message }), headers);
  }

  private send(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    httpStatus: number,
    encoding: Encoding,
    payload: Uint8Array | string,
    headers: Readonly<Record<string, string>> = {},
  ): void {
    const out: Record<string, string | number> = {
      ...headers,
      'content-type': encoding === 'json' ? JSON_CONTENT_TYPE : PROTOBUF_CONTENT_TYPE,
      'content-length': Buffer.byteLength(payload),
    };
    // A body left unread (refused early, or too large) is not drained: the connection closes
    // instead. Connections also close while shutting down, so senders reconnect elsewhere.
    if (!req.complete || !this.accepting) out.connection = 'close';
    res.writeHead(httpStatus, out).end(payload);
  }
}

interface BodyLimits {
  readonly max: number;
  /** Content-length, already held by `lease`. */
  readonly declared: number;
  readonly lease: BudgetLease;
  readonly timeoutMs: number;
  readonly tooLarge: () => Error;
  readonly overBudget: () => Error;
  readonly timedOut: () => Error;
}

/**
 * Reads the whole body, refusing (without buffering further) once it passes `max` bytes, what
 * the lease cannot cover, or the read timeout.
 */
function readBody(req: http.IncomingMessage, limits: BodyLimits): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = (): void => {
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const refuse = (e: Error): void => {
      cleanup();
      req.pause();
      reject(e);
    };
    const timer = setTimeout(() => refuse(limits.timedOut()), limits.timeoutMs);
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limits.max) return refuse(limits.tooLarge());
      // Bytes beyond the declared length (chunked bodies have none declared) are charged as they come.
      if (size > limits.declared && !limits.lease.grow(Math.min(chunk.length, size - limits.declared))) return refuse(limits.overBudget());
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onError = (e: Error): void => {
      cleanup();
      reject(new PipelineError('invalid_input', `cannot read request body: ${e.message}`));
    };
    const onClose = (): void => {
      cleanup();
      reject(new PipelineError('invalid_input', 'request body incomplete: the client closed the connection'));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}
