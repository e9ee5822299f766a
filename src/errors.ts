/**
 * Failure classes and their status codes, in one place: the table below says what the receivers
 * answer for each kind (gRPC status, HTTP status) and whether a sender may retry it; the two
 * classify*ExportFailure functions say which answers our exporters retry. Components throw or
 * return these values; only the edges (receiver answers, exporter retry decisions) map them.
 */
import { status as GrpcStatus } from '@grpc/grpc-js';

export type FailureKind =
  /** The caller sent something we cannot accept; retrying the same data will not help. */
  | 'invalid_input'
  /** Too large (message size, limits). */
  | 'too_large'
  /** Temporarily unable to accept (queue full, memory limit): retry later. */
  | 'overloaded'
  /** The client did not send its request in time. */
  | 'timeout'
  /** Shutting down: retry elsewhere or later. */
  | 'unavailable'
  /** Missing or wrong credentials. */
  | 'unauthenticated'
  /** Our own bug or an unexpected state. */
  | 'internal'
  /** OTLP/HTTP: a path other than /v1/logs. */
  | 'not_found'
  /** OTLP/HTTP: a method other than POST. */
  | 'method_not_allowed'
  /** OTLP/HTTP: a content type we do not read. */
  | 'unsupported_media_type'
  /** A compression (grpc-encoding, Content-Encoding) we do not read: UNIMPLEMENTED, as the gRPC spec says. */
  | 'unsupported_encoding';

export interface FailureCodes {
  readonly grpc: GrpcStatus;
  readonly http: number;
  /** Whether the sender may retry the same data (then the answer carries RetryInfo / Retry-After when we know a delay). */
  readonly retryable: boolean;
}

export const FAILURE_CODES: Readonly<Record<FailureKind, FailureCodes>> = {
  invalid_input: { grpc: GrpcStatus.INVALID_ARGUMENT, http: 400, retryable: false },
  too_large: { grpc: GrpcStatus.RESOURCE_EXHAUSTED, http: 413, retryable: false },
  // RESOURCE_EXHAUSTED is retryable only with RetryInfo (OTLP spec), which 'overloaded' always carries.
  overloaded: { grpc: GrpcStatus.RESOURCE_EXHAUSTED, http: 429, retryable: true },
  // The client did not finish sending in time; a later attempt may.
  timeout: { grpc: GrpcStatus.DEADLINE_EXCEEDED, http: 408, retryable: true },
  unavailable: { grpc: GrpcStatus.UNAVAILABLE, http: 503, retryable: true },
  unauthenticated: { grpc: GrpcStatus.UNAUTHENTICATED, http: 401, retryable: false },
  internal: { grpc: GrpcStatus.INTERNAL, http: 500, retryable: false },
  not_found: { grpc: GrpcStatus.NOT_FOUND, http: 404, retryable: false },
  method_not_allowed: { grpc: GrpcStatus.UNIMPLEMENTED, http: 405, retryable: false },
  unsupported_media_type: { grpc: GrpcStatus.INVALID_ARGUMENT, http: 415, retryable: false },
  unsupported_encoding: { grpc: GrpcStatus.UNIMPLEMENTED, http: 415, retryable: false },
};

/** Longest error text sent to a client or logged: refusals quote input, and input can be megabytes. */
export const MAX_ERROR_TEXT_CHARS = 512;

/** `text` cut to MAX_ERROR_TEXT_CHARS (with a note of how much was cut): for every refusal message and log line. */
export function boundedText(text: string, max = MAX_ERROR_TEXT_CHARS): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max)}… (${text.length - max} more characters)`;
}

export class PipelineError extends Error {
  constructor(
    readonly kind: FailureKind,
    message: string,
    /** For 'overloaded': how long the sender should wait before retrying. */
    readonly retryAfterMs?: number,
  ) {
    super(boundedText(message));
    this.name = 'PipelineError';
  }
}

export function grpcCodeFor(kind: FailureKind): GrpcStatus {
  return FAILURE_CODES[kind].grpc;
}

/** HTTP status for the same kinds (OTLP/HTTP receiver). */
export function httpStatusFor(kind: FailureKind): number {
  return FAILURE_CODES[kind].http;
}

/** How an export attempt failed, as seen by the exporter's retry stage. */
export class ExportError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    /** gRPC status code (or transport-specific code) for metrics and logs. */
    readonly code: string,
    /** Server-requested delay (RetryInfo), in ms. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'ExportError';
  }
}

/**
 * gRPC codes an OTLP exporter retries (OTLP spec, "Failures"): RESOURCE_EXHAUSTED only when
 * the server sent RetryInfo, meaning it can recover.
 */
export function classifyGrpcExportFailure(code: GrpcStatus, message: string, retryAfterMs: number | undefined): ExportError {
  const name = GrpcStatus[code] ?? String(code);
  switch (code) {
    case GrpcStatus.CANCELLED:
    case GrpcStatus.DEADLINE_EXCEEDED:
    case GrpcStatus.ABORTED:
    case GrpcStatus.OUT_OF_RANGE:
    case GrpcStatus.UNAVAILABLE:
    case GrpcStatus.DATA_LOSS:
      return new ExportError(message, true, name, retryAfterMs);
    case GrpcStatus.RESOURCE_EXHAUSTED:
      return new ExportError(message, retryAfterMs !== undefined, name, retryAfterMs);
    default:
      return new ExportError(message, false, name);
  }
}

/**
 * HTTP statuses an OTLP/HTTP exporter retries (OTLP/HTTP spec, "Failures": 429, 502, 503, 504), and
 * 408: the request did not reach the server whole (gRPC's DEADLINE_EXCEEDED, retryable there).
 * Every other 4xx and 5xx is permanent.
 */
const RETRYABLE_HTTP_STATUS: ReadonlySet<number> = new Set([408, 429, 502, 503, 504]);

export function isRetryableHttpStatus(status: number): boolean {
  return RETRYABLE_HTTP_STATUS.has(status);
}

/** A non-2xx OTLP/HTTP answer; `retryAfterMs` from the Retry-After header, honoured only when retryable. */
export function classifyHttpExportFailure(status: number, message: string, retryAfterMs: number | undefined): ExportError {
  const code = `HTTP_${status}`;
  return isRetryableHttpStatus(status) ? new ExportError(message, true, code, retryAfterMs) : new ExportError(message, false, code);
}
