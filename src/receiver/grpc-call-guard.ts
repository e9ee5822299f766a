/**
 * Server interceptor that bounds what one gRPC call may hold and answers malformed framing
 * with a status. grpc-js buffers a request message until it is complete and only then hands it
 * to interceptors, so the guard also watches the call's HTTP/2 stream (the first interceptor's
 * `call` is grpc-js's base call, which keeps it in `stream`; grpc-js is pinned and a test
 * checks that it is there):
 *  - every received byte and a fixed per-call overhead are charged to the shared receive
 *    budget; a call that does not fit gets RESOURCE_EXHAUSTED with RetryInfo;
 *  - compressed messages are inflated here, not by grpc-js (which would inflate out of sight
 *    of the budget): the base call is told the request is identity-encoded, and the guard
 *    inflates each compressed message chunk by chunk, charging it as it grows;
 *  - a call must deliver its whole request within the read timeout (DEADLINE_EXCEEDED);
 *  - a length-prefix flag other than 0 or 1, or 1 without a grpc-encoding, is INVALID_ARGUMENT
 *    (grpc-js treats any non-1 flag as uncompressed);
 *  - a stream that ends inside a message, or without one, is INVALID_ARGUMENT (grpc-js
 *    answers UNIMPLEMENTED, as if the method were unknown);
 *  - a call whose grpc-timeout has passed by the time its message is complete is answered
 *    DEADLINE_EXCEEDED without being processed (grpc-js only arms a timer, which loses the race
 *    against a fast handler, so the records were taken although the client saw a failure);
 *  - more than MAX_METADATA_ENTRIES metadata entries is RESOURCE_EXHAUSTED (Node resets such
 *    a stream bare at its own limit of 128, which the receiver raises; see allowMoreMetadata).
 */
import * as http2 from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import { PipelineError, boundedText, grpcCodeFor } from '../errors';
import { encodeRetryStatusDetails } from '../otlp/codec';
import type { Metrics } from '../telemetry/metrics';
import { inflate } from './inflate';
import { BudgetLease, REQUEST_OVERHEAD_BYTES, type ReceiveBudget } from './receive-budget';

export interface CallGuardOptions {
  readonly budget: ReceiveBudget;
  /** The largest message accepted, also once inflated. */
  readonly maxRecvBytes: number;
  readonly readTimeoutMs: number;
}

const PREFIX_BYTES = 5;

/** Metadata entries a call may carry (what Node allows by default, answered with a status instead of a reset). */
export const MAX_METADATA_ENTRIES = 128;

/** Header entries Node accepts before resetting a stream: above MAX_METADATA_ENTRIES, so the guard answers first. */
const NODE_MAX_HEADER_LIST_PAIRS = 1024;

/**
 * Raises Node's header-pair limit on the HTTP/2 servers grpc-js creates from now on. grpc-js
 * passes no such option through, so this sets it on the options object it keeps for them
 * (grpc-js is pinned; a test checks the effect).
 */
export function allowMoreMetadata(server: grpc.Server): void {
  const options = (server as unknown as { commonServerOptions?: http2.ServerOptions }).commonServerOptions;
  if (!options) throw new Error('grpc-js server without commonServerOptions: cannot raise the metadata entry limit');
  options.maxHeaderListPairs = NODE_MAX_HEADER_LIST_PAIRS;
}

function metadataEntries(metadata: grpc.Metadata): number {
  let n = 0;
  for (const values of Object.values(metadata.toJSON())) n += values.length;
  return n;
}

function deadlinePassed(call: grpc.ServerInterceptingCallInterface): boolean {
  const deadline = call.getDeadline();
  const at = deadline instanceof Date ? deadline.getTime() : deadline;
  return Number.isFinite(at) && at <= Date.now();
}

/** The status a refusal is answered with (RetryInfo in grpc-status-details-bin when retryable), its text bounded. */
export function grpcStatusFor(err: PipelineError): grpc.StatusObject {
  const code = grpcCodeFor(err.kind);
  const details = boundedText(err.message);
  const metadata = new grpc.Metadata();
  if (err.retryAfterMs !== undefined) metadata.set('grpc-status-details-bin', Buffer.from(encodeRetryStatusDetails(code, details, err.retryAfterMs)));
  return { code, details, metadata };
}

/** Follows the length-prefixed message framing of a request stream without keeping its bytes. */
class FrameTracker {
  private prefix = Buffer.alloc(PREFIX_BYTES);
  private prefixHave = 0;
  private bodyLeft = 0;
  messages = 0;
  /** Whether each complete message not yet handed on had the compressed flag, in order. */
  readonly compressed: boolean[] = [];
  private compressedBody = false;

  constructor(private readonly compressedAllowed: boolean) {}

  /** A framing error in `chunk`, or undefined. */
  feed(chunk: Buffer): string | undefined {
    let i = 0;
    while (i < chunk.length) {
      if (this.bodyLeft > 0) {
        const take = Math.min(this.bodyLeft, chunk.length - i);
        this.bodyLeft -= take;
        i += take;
        if (this.bodyLeft === 0) this.complete();
        continue;
      }
      this.prefix[this.prefixHave++] = chunk[i++]!;
      if (this.prefixHave < PREFIX_BYTES) continue;
      this.prefixHave = 0;
      const flag = this.prefix[0]!;
      if (flag > 1) return `invalid compressed flag ${flag} in the message prefix (must be 0 or 1)`;
      if (flag === 1 && !this.compressedAllowed) return 'compressed flag set but the request has no grpc-encoding';
      this.compressedBody = flag === 1;
      this.bodyLeft = this.prefix.readUInt32BE(1);
      if (this.bodyLeft === 0) this.complete();
    }
    return undefined;
  }

  private complete(): void {
    this.messages++;
    this.compressed.push(this.compressedBody);
  }

  /** Why the stream may not end here, or undefined when it ends after a whole message. */
  endProblem(): { readonly reason: string; readonly message: string } | undefined {
    if (this.prefixHave > 0 || this.bodyLeft > 0) return { reason: 'truncated_message', message: 'request message truncated: the stream ended inside it' };
    if (this.messages === 0) return { reason: 'no_message', message: 'no request message before the end of the stream' };
    return undefined;
  }
}

/** Why inflating failed, with the reason it is counted under. */
class GuardRefusal extends Error {
  constructor(
    readonly reason: string,
    readonly error: PipelineError,
  ) {
    super(error.message);
  }
}

export function callGuard(options: CallGuardOptions, metrics: Metrics): grpc.ServerInterceptor {
  return (_method, call) => {
    const base = call as unknown as { stream?: http2.ServerHttp2Stream; incomingEncoding?: string };
    const stream = base.stream;
    if (!stream || base.incomingEncoding === undefined) throw new Error('grpc-js base call without its stream or encoding: the call guard must be the first interceptor');
    // grpc-js takes grpc-encoding out of the metadata handed on; the base call keeps it, and
    // from here on believes the request is uncompressed so that the guard inflates it.
    const encoding = base.incomingEncoding;
    base.incomingEncoding = 'identity';
    const frames = new FrameTracker(encoding !== 'identity');
    const lease = new BudgetLease(options.budget);
    let done = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      stream.off('data', onData);
      lease.release();
    };
    const refuse = (reason: string, err: PipelineError | grpc.StatusObject): void => {
      if (done) return;
      // A client that went away (reset, closed connection) ends its stream too: nobody to answer, nothing refused.
      if (stream.closed || stream.destroyed || stream.aborted) {
        finish();
        return;
      }
      const status = err instanceof PipelineError ? grpcStatusFor(err) : err;
      metrics.receiverRequestsRefused.inc({ transport: 'grpc', reason });
      metrics.receiverRequestsFailed.inc({ transport: 'grpc', code: grpc.status[status.code] });
      guarded.sendStatus(status);
    };
    const onData = (chunk: Buffer): void => {
      if (!lease.grow(chunk.length)) {
        refuse('receive_budget', options.budget.refusal());
        return;
      }
      const problem = frames.feed(chunk);
      if (problem) refuse('bad_frame', new PipelineError('invalid_input', problem));
    };
    const inflated = (message: Buffer): Promise<Buffer> | undefined => {
      if (encoding !== 'gzip' && encoding !== 'deflate') {
        refuse('unsupported_encoding', new PipelineError('unsupported_encoding', `grpc-encoding "${encoding}" is not supported; use gzip, deflate or identity`));
        return undefined;
      }
      return options.budget.inflation(() => inflate(message, encoding, {
        maxBytes: options.maxRecvBytes,
        lease,
        tooLarge: () => new GuardRefusal('too_large', new PipelineError('too_large', `request message inflates to more than ${options.maxRecvBytes} bytes (OLP_GRPC_MAX_RECV_MIB)`)),
        overBudget: () => new GuardRefusal('receive_budget', options.budget.refusal()),
        corrupt: (text) => new GuardRefusal('bad_compression', new PipelineError('invalid_input', `cannot decompress the request message (${encoding}): ${text}`)),
      }));
    };
    const guarded = new grpc.ServerInterceptingCall(call, {
      start: (next) => {
        next(
          new grpc.ServerListenerBuilder()
            .withOnReceiveMessage((message: Buffer, nextMessage) => {
              if (!frames.compressed.shift()) {
                nextMessage(message);
                return;
              }
              inflated(message)?.then(nextMessage, (e: GuardRefusal) => refuse(e.reason, e.error));
            })
            .withOnReceiveMetadata((metadata, nextMetadata) => {
              const entries = metadataEntries(metadata);
              if (entries > MAX_METADATA_ENTRIES) {
                refuse('too_much_metadata', new PipelineError('too_large', `request has ${entries} metadata entries, over the limit of ${MAX_METADATA_ENTRIES}`));
                return;
              }
              nextMetadata(metadata);
            })
            .withOnReceiveHalfClose((nextHalfClose) => {
              clearTimeout(timer);
              const problem = frames.endProblem();
              if (problem) {
                refuse(problem.reason, new PipelineError('invalid_input', problem.message));
                return;
              }
              if (deadlinePassed(call)) {
                refuse('deadline_exceeded', new PipelineError('timeout', 'the call\'s deadline (grpc-timeout) passed before its request was complete'));
                return;
              }
              nextHalfClose();
            })
            .withOnCancel(finish)
            .build(),
        );
        if (!lease.grow(REQUEST_OVERHEAD_BYTES)) {
          refuse('receive_budget', options.budget.refusal());
          return;
        }
        timer = setTimeout(
          () => refuse('read_timeout', new PipelineError('timeout', `request not received within ${options.readTimeoutMs} ms (OLP_GRPC_READ_TIMEOUT)`)),
          options.readTimeoutMs,
        );
        timer.unref();
      },
      sendStatus: (status, next) => {
        finish();
        next(status);
        // Answered before the client finished sending (a refusal): reset its side too, as grpc-go
        // does, or the half-open stream lives on, holding memory and a concurrency slot.
        if (!stream.readableEnded && !stream.closed) stream.close(http2.constants.NGHTTP2_NO_ERROR);
      },
    });
    stream.on('data', onData);
    stream.once('close', finish);
    return guarded;
  };
}
