/** OTLP/gRPC receiver: LogsService/Export on a grpc-js server. Requests are decoded by the pipeline, not by grpc-js, so a bad payload maps to INVALID_ARGUMENT. */
import * as net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import type { Logger } from 'pino';
import { EXPORT_METHOD_PATH, LOGS_SERVICE, encodeExportResponse } from '../otlp/codec';
import { PipelineError, boundedText, grpcCodeFor } from '../errors';
import type { Metrics } from '../telemetry/metrics';
import { PASSTHROUGH_SIGNALS, SIGNAL_NAMES, type PassthroughSignal } from '../otlp/signals';
import type { SignalConsumer } from '../pipeline/signals';
import type { Pipeline } from '../pipeline/pipeline';
import type { BearerAuth } from './auth';
import { guardConnections } from './connection-guard';
import { allowMoreMetadata, callGuard, grpcStatusFor } from './grpc-call-guard';
import type { ReceiveBudget } from './receive-budget';

export interface GrpcReceiverOptions {
  readonly endpoint: string;
  readonly maxRecvBytes: number;
  readonly credentials: grpc.ServerCredentials;
  /** When set, Export calls must carry an accepted bearer token (the health service stays open for probes). */
  readonly auth?: BearerAuth;
  /** Incoming metadata keys (lower-case) to pass along with the records. */
  readonly forwardMetadata?: readonly string[];
  /** Traces and metrics forwarded untouched; without it (or for a signal it does not handle) they are UNIMPLEMENTED. */
  readonly signals?: SignalConsumer;
  /** SETTINGS_MAX_CONCURRENT_STREAMS advertised to each connection. */
  readonly maxConcurrentStreams: number;
  readonly maxConnections: number;
  /** A connection that sends nothing for this long is closed. */
  readonly handshakeTimeoutMs: number;
  /** 0 = never. */
  readonly maxConnectionIdleMs: number;
  /** 0 = never. */
  readonly maxConnectionAgeMs: number;
  /** Longest a call may take to deliver its request message. */
  readonly readTimeoutMs: number;
  /** Shared with the other receivers. */
  readonly budget: ReceiveBudget;
}

/** Calls in flight get this long after a max-age GOAWAY before the connection is cut. */
const MAX_CONNECTION_AGE_GRACE_MS = 30_000;
/** Node's per-session memory cap (MB; grpc-js turns it off by default): a backstop to the stream limit. */
const MAX_SESSION_MEMORY_MB = 64;

const identity = (b: Buffer): Buffer => b;

/** A unary Export method taking and answering raw bytes: the pipeline reads them, not grpc-js. */
const exportService = (path: string): grpc.ServiceDefinition => ({
  Export: {
    path,
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
});

const EMPTY_RESPONSE = Buffer.from(encodeExportResponse({}));

export class GrpcReceiver {
  private readonly server: grpc.Server;
  // Standard grpc.health.v1 service on the same port: '' is the whole server.
  private readonly health: HealthImplementation;
  /** Service names the health service reports on: the server, logs, and each forwarded signal. */
  private readonly services: readonly string[];
  private accepting = true;
  private port = 0;
  // Our own listener hands sockets to grpc-js, so connections can be counted and capped.
  private readonly listener = net.createServer();
  private readonly sockets = new Set<net.Socket>();

  constructor(
    private readonly options: GrpcReceiverOptions,
    private readonly pipeline: Pipeline,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
  ) {
    this.server = new grpc.Server({
      'grpc.max_receive_message_length': options.maxRecvBytes,
      'grpc.max_send_message_length': 4 * 1024 * 1024,
      'grpc.max_concurrent_streams': options.maxConcurrentStreams,
      'grpc-node.max_session_memory': MAX_SESSION_MEMORY_MB,
      ...(options.maxConnectionIdleMs > 0 ? { 'grpc.max_connection_idle_ms': options.maxConnectionIdleMs } : {}),
      ...(options.maxConnectionAgeMs > 0 ? { 'grpc.max_connection_age_ms': options.maxConnectionAgeMs, 'grpc.max_connection_age_grace_ms': MAX_CONNECTION_AGE_GRACE_MS } : {}),
      interceptors: [callGuard({ budget: options.budget, maxRecvBytes: options.maxRecvBytes, readTimeoutMs: options.readTimeoutMs }, metrics)],
    });
    allowMoreMetadata(this.server);
    this.server.addService(exportService(EXPORT_METHOD_PATH), {
      Export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => void this.handleExport(call, callback),
    });
    const forwarded = SIGNAL_NAMES.filter((signal) => options.signals?.handles(signal));
    for (const signal of forwarded) {
      this.server.addService(exportService(PASSTHROUGH_SIGNALS[signal].grpcPath), {
        Export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => void this.handleForward(signal, call, callback),
      });
    }
    this.services = ['', LOGS_SERVICE, ...forwarded.map((s) => PASSTHROUGH_SIGNALS[s].service)];
    this.health = new HealthImplementation(Object.fromEntries(this.services.map((s) => [s, 'NOT_SERVING'])));
    this.health.addToServer(this.server);
  }

  /** What the gRPC health service reports (the service sets it once the whole pipeline is up). */
  setServing(serving: boolean): void {
    const status = serving ? 'SERVING' : 'NOT_SERVING';
    for (const service of this.services) this.health.setStatus(service, status);
  }

  /** Binds and starts; resolves with the bound port (useful with port 0). */
  start(): Promise<number> {
    const m = /^(.*):(\d+)$/.exec(this.options.endpoint);
    if (!m) return Promise.reject(new Error(`OLP_GRPC_ENDPOINT: expected host:port, got "${this.options.endpoint}"`));
    const injector = this.server.createConnectionInjector(this.options.credentials);
    guardConnections(
      this.listener,
      { transport: 'grpc', maxConnections: this.options.maxConnections, firstByteTimeoutMs: this.options.handshakeTimeoutMs, setting: 'OLP_GRPC_MAX_CONNECTIONS' },
      this.metrics,
      this.logger,
    );
    this.listener.on('connection', (socket: net.Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
      injector.injectConnection(socket);
    });
    return new Promise((resolve, reject) => {
      const onError = (e: Error): void => reject(new Error(`cannot listen on ${this.options.endpoint} (OLP_GRPC_ENDPOINT): ${e.message}`));
      this.listener.once('error', onError);
      this.listener.listen(Number(m[2]), m[1]!.replace(/^\[|\]$/g, ''), () => {
        this.listener.off('error', onError);
        this.port = (this.listener.address() as net.AddressInfo).port;
        resolve(this.port);
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
    if (this.listener.listening) this.listener.close();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.server.forceShutdown();
        for (const socket of this.sockets) socket.destroy();
        resolve();
      }, Math.max(0, deadline - Date.now()));
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Shutdown, auth and a client that stopped waiting, for every Export call; false when it was answered (or abandoned). */
  private admitCall(call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>): boolean {
    if (!this.accepting) {
      this.fail(callback, new PipelineError('unavailable', 'server is shutting down'));
      return false;
    }
    if (this.options.auth) {
      const header = call.metadata.get('authorization')[0];
      if (!this.options.auth.verify(typeof header === 'string' ? header : undefined)) {
        this.fail(callback, new PipelineError('unauthenticated', 'missing or invalid bearer token'));
        return false;
      }
    }
    // The client stopped waiting (its grpc-timeout passed, or it cancelled): work it would never see.
    if (call.cancelled) {
      this.metrics.receiverRequestsRefused.inc({ transport: 'grpc', reason: 'cancelled_before_processing' });
      return false;
    }
    return true;
  }

  /** Traces and metrics: answered (with an empty response) once every exporter holds the bytes. */
  private async handleForward(signal: PassthroughSignal, call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>): Promise<void> {
    if (!this.admitCall(call, callback)) return;
    try {
      await this.options.signals!.forward(signal, call.request, 'grpc', this.forwarded(call.metadata));
      callback(null, EMPTY_RESPONSE);
    } catch (e) {
      const err = e instanceof PipelineError ? e : new PipelineError('internal', (e as Error).message);
      if (err.kind === 'internal') this.logger.error({ err: e, signal }, 'export request failed');
      this.fail(callback, err);
    }
  }

  /** Answers only once the pipeline resolved: the records are queued, or in the persistent queue's log. */
  private async handleExport(call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>): Promise<void> {
    if (!this.admitCall(call, callback)) return;
    try {
      const result = await this.pipeline.consume(call.request, 'grpc', this.forwarded(call.metadata));
      if (result.rejected === 0) {
        callback(null, EMPTY_RESPONSE);
      } else {
        const body = encodeExportResponse({ partialSuccess: { rejectedLogRecords: result.rejected, errorMessage: boundedText(result.message) } });
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
    this.metrics.receiverRequestsFailed.inc({ transport: 'grpc', code: grpc.status[grpcCodeFor(err.kind)] });
    callback(grpcStatusFor(err));
  }
}
