/**
 * Failure classes and their mapping to gRPC status codes, in one place. Components throw or
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
  | 'internal';

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
  switch (kind) {
    case 'invalid_input':
      return GrpcStatus.INVALID_ARGUMENT;
    case 'too_large':
      return GrpcStatus.RESOURCE_EXHAUSTED;
    case 'overloaded':
      return GrpcStatus.RESOURCE_EXHAUSTED;
    case 'timeout':
      return GrpcStatus.DEADLINE_EXCEEDED;
    case 'unavailable':
      return GrpcStatus.UNAVAILABLE;
    case 'unauthenticated':
      return GrpcStatus.UNAUTHENTICATED;
    case 'internal':
      return GrpcStatus.INTERNAL;
  }
}

/** HTTP status for the same kinds (OTLP/HTTP receiver). */
export function httpStatusFor(kind: FailureKind): number {
  switch (kind) {
    case 'invalid_input':
      return 400;
    case 'too_large':
      return 413;
    case 'overloaded':
      return 429;
    case 'timeout':
      return 408;
    case 'unavailable':
      return 503;
    case 'unauthenticated':
      return 401;
    case 'internal':
      return 500;
  }
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
