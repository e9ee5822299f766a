/**
 * An in-test OTLP/gRPC server that records every Export request it receives, decoded, and
 * can be told to fail the next calls with a status (optionally with RetryInfo).
 */
import * as grpc from '@grpc/grpc-js';
import { EXPORT_METHOD_PATH, decodeLogsData, encodeExportResponse, encodeRetryStatusDetails } from '../../src/otlp/codec';
import { countRecords, type LogRecord, type LogsData } from '../../src/otlp/model';
import { PASSTHROUGH_SIGNALS, SIGNAL_NAMES, type PassthroughSignal } from '../../src/otlp/signals';

export interface PlannedFailure {
  code: grpc.status;
  message?: string;
  retryAfterMs?: number;
}

export class OtlpTestServer {
  readonly requests: LogsData[] = [];
  /** The same requests as the bytes received. */
  readonly rawRequests: Buffer[] = [];
  readonly metadata: grpc.Metadata[] = [];
  /** Failures answered to the next calls, in order. */
  readonly failures: PlannedFailure[] = [];
  /** When set, successful answers carry this partial_success. */
  partialSuccess: { rejectedLogRecords: number; errorMessage: string } | undefined;
  calls = 0;
  /** Traces and metrics Export requests, as the bytes received. */
  readonly forwarded: { readonly signal: PassthroughSignal; readonly bytes: Buffer; readonly metadata: grpc.Metadata }[] = [];
  private server = new grpc.Server();
  private waiters: { n: number; resolve: () => void }[] = [];
  port = 0;

  /** Listens on 127.0.0.1 (insecure unless credentials are given). */
  async start(credentials: grpc.ServerCredentials = grpc.ServerCredentials.createInsecure()): Promise<this> {
    const identity = (b: Buffer): Buffer => b;
    this.server.addService(
      { Export: { path: EXPORT_METHOD_PATH, requestStream: false, responseStream: false, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity } },
      {
        Export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
          this.calls++;
          const failure = this.failures.shift();
          if (failure) {
            const md = new grpc.Metadata();
            if (failure.retryAfterMs !== undefined) {
              md.set('grpc-status-details-bin', Buffer.from(encodeRetryStatusDetails(failure.code, failure.message ?? 'planned', failure.retryAfterMs)));
            }
            cb({ code: failure.code, details: failure.message ?? 'planned failure', metadata: md });
            return;
          }
          this.requests.push(decodeLogsData(call.request));
          this.rawRequests.push(call.request);
          this.metadata.push(call.metadata);
          cb(null, Buffer.from(encodeExportResponse(this.partialSuccess ? { partialSuccess: this.partialSuccess } : {})));
          this.notify();
        },
      },
    );
    for (const signal of SIGNAL_NAMES) {
      this.server.addService(
        { Export: { path: PASSTHROUGH_SIGNALS[signal].grpcPath, requestStream: false, responseStream: false, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity } },
        {
          Export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
            this.forwarded.push({ signal, bytes: call.request, metadata: call.metadata });
            cb(null, Buffer.alloc(0));
            this.notify();
          },
        },
      );
    }
    this.port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync('127.0.0.1:0', credentials, (err, port) => (err ? reject(err) : resolve(port))),
    );
    return this;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get recordCount(): number {
    return this.requests.reduce((n, r) => n + countRecords(r), 0);
  }

  /** Every received record, in arrival order. */
  records(): LogRecord[] {
    return this.requests.flatMap((r) => r.resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords)));
  }

  /** Resolves once at least n records have arrived (rejects after timeoutMs). */
  waitForRecords(n: number, timeoutMs = 10_000): Promise<void> {
    if (this.recordCount >= n) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${n} records (got ${this.recordCount})`)), timeoutMs);
      this.waiters.push({ n, resolve: () => (clearTimeout(timer), resolve()) });
    });
  }

  /** Resolves once at least n traces or metrics requests have arrived (rejects after timeoutMs). */
  async waitForForwarded(n: number, timeoutMs = 10_000): Promise<void> {
    const start = Date.now();
    while (this.forwarded.length < n) {
      if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${n} forwarded requests (got ${this.forwarded.length})`);
      await new Promise<void>((resolve) => this.signalWaiters.push(resolve));
    }
  }

  private signalWaiters: (() => void)[] = [];

  private notify(): void {
    const have = this.recordCount;
    this.waiters = this.waiters.filter((w) => (have >= w.n ? (w.resolve(), false) : true));
    for (const wake of this.signalWaiters.splice(0)) wake();
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.tryShutdown(() => resolve()));
  }
}
