/** OTLP/gRPC receiver: LogsService/Export on a grpc-js server. Requests are decoded by the pipeline, not by grpc-js, so a bad payload maps to INVALID_ARGUMENT. */
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import type { Logger } from 'pino';
import { EXPORT_METHOD_PATH, LOGS_SERVICE, encodeExportResponse, encodeRetryStatusDetails } from '../otlp/codec';
import { PipelineError, grpcCodeFor } from '../errors';
import type { Metrics } from '../telemetry/metrics';
import type { Pipeline } from '../pipeline/pipeline';
import type { BearerAuth } from './auth';

export interface GrpcReceiverOptions {
  readonly endpoint: string;
  readonly maxRecvBytes: number;
  readonly credentials: grpc.ServerCredentials;
  /** When set, Export calls must carry an accepted bearer token (the health service stays open for probes). */
  readonly auth?: BearerAuth;
  /** Incoming metadata keys (lower-case) to pass along with the records. */
  readonly forwardMetadata?: readonly string[];
}

const identity = (b: Buffer): Buffer => b;

const logsServiceDefinition: grpc.ServiceDefinition = {
  Export: {
    path: EXPORT_METHOD_PATH,
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
};

const EMPTY_RESPONSE = Buffer.from(encodeExportResponse({}));

export class GrpcReceiver {
  private readonly server: grpc.Server;
  // Standard grpc.health.v1 service on the same port: '' is the whole server.
  private readonly health = new HealthImplementation({ '': 'NOT_SERVING', [LOGS_SERVICE]: 'NOT_SERVING' });
  private accepting = true;
  private port = 0;

  constructor(
    private readonly options: GrpcReceiverOptions,
    private readonly pipeline: Pipeline,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
  ) {
    this.server = new grpc.Server({
      'grpc.max_receive_message_length': options.maxRecvBytes,
      'grpc.max_send_message_length': 4 * 1024 * 1024,
    });
    this.server.addService(logsServiceDefinition, {
      Export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => void this.handleExport(call, callback),
    });
    this.health.addToServer(this.server);
  }

  /** What the gRPC health service reports (the service sets it once the whole pipeline is up). */
  setServing(serving: boolean): void {
    const status = serving ? 'SERVING' : 'NOT_SERVING';
    this.health.setStatus('', status);
    this.health.setStatus(LOGS_SERVICE, status);
  }

  /** Binds and starts; resolves with the bound port (useful with port 0). */
  start(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.bindAsync(this.options.endpoint, this.options.credentials, (err, port) => {
        if (err) {
          reject(new Error(`cannot listen on ${this.options.endpoint} (OLP_GRPC_ENDPOINT): ${err.message}`));
          return;
        }
        this.port = port;
        resolve(port);
      });
    });
  }

  get boundPort(): number {
    return this.port;
  }

  /** Refuses new requests with UNAVAILABLE, then waits for in-flight ones (bounded by `deadline`). */
  async stop(deadline: number): Promise<void> {
    this.accepting = false;
    this.setServing(false);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, Math.max(0, deadline - Date.now()));
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Answers only once the pipeline resolved: the records are queued, or in the persistent queue's log. */
  private async handleExport(call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>): Promise<void> {
    if (!this.accepting) {
      this.fail(callback, new PipelineError('unavailable', 'server is shutting down'));
      return;
    }
    if (this.options.auth) {
      const header = call.metadata.get('authorization')[0];
      if (!this.options.auth.verify(typeof header === 'string' ? header : undefined)) {
        this.fail(callback, new PipelineError('unauthenticated', 'missing or invalid bearer token'));
        return;
      }
    }
    try {
      const result = await this.pipeline.consume(call.request, 'grpc', this.forwarded(call.metadata));
      if (result.rejected === 0) {
        callback(null, EMPTY_RESPONSE);
      } else {
        const body = encodeExportResponse({ partialSuccess: { rejectedLogRecords: result.rejected, errorMessage: result.message } });
        callback(null, Buffer.from(body));
      }
    } catch (e) {
      const err = e instanceof PipelineError ? e : new PipelineError('internal', (e as Error).message);
      if (err.kind === 'internal') this.logger.error({ err: e }, 'export request failed');
      this.fail(callback, err);
    }
  }

  private forwarded(md: grpc.Metadata): Record<string, string> | undefined {
    const keys = this.options.forwardMetadata;
    if (!keys || keys.length === 0) return undefined;
    let out: Record<string, string> | undefined;
    for (const key of keys) {
      const v = md.get(key)[0];
      if (typeof v === 'string') (out ??= {})[key] = v;
    }
    return out;
  }

  private fail(callback: grpc.sendUnaryData<Buffer>, err: PipelineError): void {
    const code = grpcCodeFor(err.kind);
    this.metrics.receiverRequestsFailed.inc({ transport: 'grpc', code: grpc.status[code] });
    const metadata = new grpc.Metadata();
    if (err.retryAfterMs !== undefined) {
      metadata.set('grpc-status-details-bin', Buffer.from(encodeRetryStatusDetails(code, err.message, err.retryAfterMs)));
    }
    callback({ code, details: err.message, metadata });
  }
}
