/**
 * OTLP/HTTP transport (http/protobuf and http/json): one POST per batch, on node:http(s) with
 * a keep-alive agent (so TLS options and connection lifetime stay under our control).
 * Response handling follows the OTLP/HTTP spec: 2xx carries ExportLogsServiceResponse; which
 * other statuses are retried (Retry-After honoured) is decided in errors.ts; network failures
 * are retryable.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import * as zlib from 'node:zlib';
import Long from 'long';
import { decodeExportResponse, decodeLogsData } from '../otlp/codec';
import { decodeExportResponseJson, decodeStatus, decodeStatusJson, encodeLogsDataJson } from '../otlp/json';
import type { ExportLogsServiceResponse } from '../otlp/model';
import { ExportError, classifyHttpExportFailure } from '../errors';
import type { SendResult, Transport } from './transport';
import type { EncodedBatch } from '../otlp/encoded-batch';
import { watchHttpsClientFiles, type ClientTlsFiles, type HttpsClientOptions } from './client-tls';
import { otlpHttpLogsUrl } from '../config/endpoints';

export type OtlpHttpProtocol = 'http/protobuf' | 'http/json';

export interface OtlpHttpOptions {
  /** The logs URL itself, e.g. from otlpHttpLogsUrl(). */
  readonly url: string;
  readonly protocol: OtlpHttpProtocol;
  readonly headers: Readonly<Record<string, string>>;
  readonly compression: 'gzip' | 'none';
  /** For https URLs: CA bundle to trust instead of the system roots, client certificate and key (PEM files, re-read). */
  readonly tls?: ClientTlsFiles;
}


/** Retry-After as delay-seconds or an HTTP-date, in ms from `now`; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  // HTTP-date (IMF-fixdate or the obsolete forms) starts with a day name; Date.parse alone is too lenient.
  const date = /^[A-Za-z]{3}/.test(v) ? Date.parse(v) : NaN;
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Headers describing the request body or connection: never taken from forwarded metadata. */
const OWN_HEADERS = new Set(['content-type', 'content-length', 'content-encoding', 'transfer-encoding', 'connection', 'host', 'keep-alive', 'te', 'upgrade']);

/** Responses are small (a partial_success, an error Status); read no more of a larger one. */
const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

/** Longest server message carried into an ExportError (and so into our logs). */
const MAX_MESSAGE_CHARS = 1000;

export class OtlpHttpTransport implements Transport {
  private readonly url: URL;
  private agent: http.Agent;
  /** Requests in flight per agent: an agent replaced after a TLS file change is destroyed once it has none. */
  private readonly agentUsers = new Map<http.Agent, number>();
  private readonly tlsFiles: { close(): void } | undefined;
  private readonly request: typeof http.request;
  private readonly headers: Record<string, string>;
  private readonly closing = new AbortController();

  /** Throws on an invalid URL or header. */
  constructor(private readonly options: OtlpHttpOptions) {
    this.url = new URL(otlpHttpLogsUrl(options.url, true));
    if (this.url.protocol === 'https:' && options.tls) {
      const watcher = watchHttpsClientFiles(options.tls, (tlsOptions) => this.replaceAgent(tlsOptions));
      this.tlsFiles = watcher;
      this.agent = new https.Agent({ keepAlive: true, ...watcher.current });
    } else {
      this.agent = this.url.protocol === 'https:' ? new https.Agent({ keepAlive: true }) : new http.Agent({ keepAlive: true });
    }
    this.request = this.url.protocol === 'https:' ? https.request : http.request;
    this.headers = {};
    for (const [k, v] of Object.entries(options.headers)) {
      http.validateHeaderName(k);
      http.validateHeaderValue(k, v);
      this.headers[k.toLowerCase()] = v;
    }
    this.headers['content-type'] = options.protocol === 'http/json' ? 'application/json' : 'application/x-protobuf';
    if (options.compression === 'gzip') this.headers['content-encoding'] = 'gzip';
    else delete this.headers['content-encoding'];
  }

  async send(batch: EncodedBatch, timeoutMs: number): Promise<SendResult> {
    if (this.closing.signal.aborted) throw new ExportError('transport closed', false, 'CLOSED');
    const timeout = AbortSignal.timeout(timeoutMs);
    const body = await this.encode(batch);
    const signal = AbortSignal.any([timeout, this.closing.signal]);
    let response: { status: number; headers: http.IncomingHttpHeaders; body: Buffer };
    try {
      response = await this.post(body, batch.metadata ? this.withForwarded(batch.metadata) : this.headers, signal);
    } catch (e) {
      throw this.networkError(e as NodeJS.ErrnoException, timeout, timeoutMs);
    }
    return this.interpret(response);
  }

  async close(): Promise<void> {
    // Requests still in flight are abandoned (the exporter counted them at its deadline).
    this.closing.abort();
    this.tlsFiles?.close();
    this.agent.destroy();
    for (const agent of this.agentUsers.keys()) agent.destroy();
  }

  /** New connections use the new TLS files; connections of the old agent close when their requests end. */
  private replaceAgent(tlsOptions: HttpsClientOptions): void {
    const old = this.agent;
    this.agent = new https.Agent({ keepAlive: true, ...tlsOptions });
    if (!this.agentUsers.has(old)) old.destroy();
  }

  private async encode(batch: EncodedBatch): Promise<Buffer> {
    let payload: Buffer;
    if (this.options.protocol === 'http/json') {
      try {
        payload = Buffer.from(encodeLogsDataJson(decodeLogsData(batch.bytes)));
      } catch (e) {
        throw new ExportError(`cannot encode batch as OTLP/JSON: ${(e as Error).message}`, false, 'BAD_BATCH');
      }
    } else {
      payload = Buffer.from(batch.bytes.buffer, batch.bytes.byteOffset, batch.bytes.byteLength);
    }
    if (this.options.compression !== 'gzip') return payload;
    return new Promise((resolve, reject) => zlib.gzip(payload, (err, out) => (err ? reject(err) : resolve(out))));
  }

  /**
   * Configured headers plus the forwarded incoming metadata (which wins: it is the sender's),
   * except the headers that describe the body we send.
   */
  private withForwarded(forwarded: Readonly<Record<string, string>>): Record<string, string> {
    const headers = { ...this.headers };
    for (const [k, v] of Object.entries(forwarded)) {
      const name = k.toLowerCase();
      if (OWN_HEADERS.has(name)) continue;
      try {
        http.validateHeaderName(name);
        http.validateHeaderValue(name, v);
      } catch {
        continue; // a gRPC metadata value HTTP cannot carry: leave it out rather than fail every attempt
      }
      headers[name] = v;
    }
    return headers;
  }

  private async post(body: Buffer, headers: Record<string, string>, signal: AbortSignal): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
    const agent = this.agent;
    this.agentUsers.set(agent, (this.agentUsers.get(agent) ?? 0) + 1);
    try {
      return await this.postWith(agent, body, headers, signal);
    } finally {
      const users = this.agentUsers.get(agent)! - 1;
      if (users > 0) this.agentUsers.set(agent, users);
      else {
        this.agentUsers.delete(agent);
        if (agent !== this.agent) agent.destroy();
      }
    }
  }

  private postWith(agent: http.Agent, body: Buffer, headers: Record<string, string>, signal: AbortSignal): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
    return new Promise((resolve, reject) => {
      const req = this.request(
        this.url,
        { method: 'POST', agent, signal, headers: { ...headers, 'content-length': body.length } },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          let done = false;
          const finish = (): void => {
            if (done) return;
            done = true;
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
          };
          res.on('data', (chunk: Buffer) => {
            if (size >= MAX_RESPONSE_BYTES) return;
            chunks.push(chunk);
            size += chunk.length;
            // Enough to decide: drop the connection rather than read an oversized body.
            if (size >= MAX_RESPONSE_BYTES) {
              finish();
              res.destroy();
            }
          });
          res.on('end', finish);
          res.on('error', (e) => {
            if (!done) reject(e);
          });
          res.on('close', () => {
            if (!done && !res.complete) reject(Object.assign(new Error('connection closed before the response was complete'), { code: 'ECONNRESET' }));
          });
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  private networkError(e: NodeJS.ErrnoException, timeout: AbortSignal, timeoutMs: number): ExportError {
    if (this.closing.signal.aborted) return new ExportError('export aborted: transport closed', true, 'CANCELLED');
    if (timeout.aborted) return new ExportError(`no response within ${timeoutMs} ms`, true, 'TIMEOUT');
    // Refused, reset, DNS, TLS: transient as far as we can tell, as gRPC's UNAVAILABLE is.
    return new ExportError(`${this.url.host}: ${e.message}`, true, e.code ?? 'NETWORK');
  }

  private interpret(res: { status: number; headers: http.IncomingHttpHeaders; body: Buffer }): SendResult {
    const { status } = res;
    if (status >= 200 && status < 300) return this.success(res);
    const text = `HTTP ${status} ${http.STATUS_CODES[status] ?? ''}`.trim();
    const detail = statusMessage(res.headers['content-type'], res.body);
    const message = detail ? `${text}: ${detail}` : text;
    throw classifyHttpExportFailure(status, message, parseRetryAfter(header(res.headers['retry-after'])));
  }

  /**
   * A 2xx means the downstream took the batch: a body we cannot read becomes a warning, never
   * a failure (which would drop or resend data that was delivered).
   */
  private success(res: { status: number; headers: http.IncomingHttpHeaders; body: Buffer }): SendResult {
    if (res.body.length === 0) return { rejected: 0, message: '' };
    const type = mediaType(res.headers['content-type']);
    const json = type === 'application/json' || (type !== 'application/x-protobuf' && this.options.protocol === 'http/json');
    let decoded: ExportLogsServiceResponse;
    try {
      decoded = json ? decodeExportResponseJson(res.body) : decodeExportResponse(res.body);
    } catch (e) {
      return { rejected: 0, message: `HTTP ${res.status} with an undecodable ExportLogsServiceResponse (${type || 'no content type'}): ${(e as Error).message}` };
    }
    const ps = decoded.partialSuccess;
    return { rejected: ps ? Long.fromValue(ps.rejectedLogRecords ?? 0).toNumber() : 0, message: ps?.errorMessage ?? '' };
  }
}

function header(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

/** The google.rpc.Status message of an error body, or its text when it is not a Status. */
function statusMessage(contentType: string | undefined, body: Buffer): string {
  if (body.length === 0) return '';
  const type = mediaType(contentType);
  try {
    const status = type === 'application/x-protobuf' ? decodeStatus(body) : type === 'application/json' ? decodeStatusJson(body) : undefined;
    if (status?.message) return truncate(status.message);
  } catch {
    // Not a Status after all: fall back to the text.
  }
  if (type === 'application/x-protobuf') return '';
  const text = body.toString('utf8', 0, Math.min(body.length, MAX_MESSAGE_CHARS * 4)).replace(/\s+/g, ' ').trim();
  return truncate(text);
}

function truncate(s: string): string {
  return s.length > MAX_MESSAGE_CHARS ? `${s.slice(0, MAX_MESSAGE_CHARS)}…` : s;
}
