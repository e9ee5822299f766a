/**
 * Assembles and runs the service: receiver → pipeline (chain) → exporters, plus the
 * self-metrics endpoint. Owns start-up order and the bounded graceful shutdown.
 */
import * as http from 'node:http';
import * as path from 'node:path';
import type { Logger } from 'pino';
import type { OtlpExporterSettings, ResolvedConfig } from './config/resolve';
import type { OptionShape } from './config/options';
import type { ProcessorFactory, ProcessorContext, Clock } from './processors/contract';
import { ProcessingChain } from './pipeline/chain';
import { ConfigError } from './config/load';
import { persistPeriodically, restoreStates } from './pipeline/state-store';
import { Pipeline } from './pipeline/pipeline';
import { RequestProcessor } from './pipeline/request-processor';
import { QueuedExporter, type ExporterSettings } from './exporters/queued-exporter';
import { WriteAheadLog } from './queue/wal';
import { MemoryLimiter } from './pipeline/memory-limiter';
import { OtlpGrpcTransport } from './exporters/otlp-grpc';
import { OtlpHttpTransport } from './exporters/otlp-http';
import { otlpHttpSignalUrl } from './config/endpoints';
import { PASSTHROUGH_SIGNALS, type PassthroughSignal } from './otlp/signals';
import { SignalForwarder } from './pipeline/signals';
import { HttpReceiver } from './receiver/http-receiver';
import { DebugTransport, type TextSink } from './exporters/debug';
import type { Transport } from './exporters/transport';
import { GrpcReceiver } from './receiver/grpc-receiver';
import { BearerAuth } from './receiver/auth';
import { httpsContext, loadServerCredentials } from './receiver/tls';
import { ReceiveBudget, grpcMaxConnections, receiveBudgetBytes } from './receiver/receive-budget';
import { minReceiveBudgetMib } from './config/settings';
import { DESCRIPTOR_RESERVE, descriptorLimit } from './receiver/connection-guard';
import { Metrics, registryTotal } from './telemetry/metrics';
import { planWorkers, WorkerPool } from './pipeline/worker-pool';
import { TapHub, TapPoints } from './pipeline/tap';
import { resolveServiceConfig } from './processors/custom';
import { createStages, requestSettings } from './pipeline/stages';
import type { Registry } from 'prom-client';
import { boundPort, closeServer, startHttpEndpoint, type Route } from './telemetry/http-endpoint';
import { adminRoutes } from './telemetry/admin-routes';
import { packageVersion } from './telemetry/admin';
import { type ProcessorTemplates } from './processors/contract';

/** RetryInfo delay suggested to senders when a queue is full. */
const QUEUE_FULL_RETRY_AFTER_MS = 1000;

export interface ServiceDeps {
  readonly logger: Logger;
  readonly processors: readonly ProcessorFactory<OptionShape>[];
  readonly env?: NodeJS.ProcessEnv;
  readonly clock?: Clock;
  /** Where the debug exporter writes (stdout by default). */
  readonly stdout?: TextSink;
  /** Collect process metrics (CPU, memory, event loop); off in tests that start many services. */
  readonly processMetrics?: boolean;
}

export interface RunningService {
  readonly grpcPort: number;
  /** Undefined when the OTLP/HTTP receiver is disabled. */
  readonly httpPort: number | undefined;
  /** Undefined when the metrics endpoint is disabled. */
  readonly metricsPort: number | undefined;
  /** Port serving /healthz and /readyz; undefined when neither endpoint is enabled. */
  readonly healthPort: number | undefined;
  /** Metrics of the event-loop thread (receivers, queues, exporters; the chain's too without worker threads). */
  readonly metrics: Metrics;
  /** Worker threads running the chain (OLP_WORKERS as resolved). */
  readonly workers: number;
  /** What /metrics serves: this thread's series merged with every worker thread's. */
  collectMetrics(): Promise<Registry>;
  /** Stops accepting, drains within the shutdown timeout, closes everything. Idempotent. */
  shutdown(): Promise<void>;
}

export async function startService(config: ResolvedConfig, deps: ServiceDeps): Promise<RunningService> {
  const { logger } = deps;
  const startedAt = Date.now();
  const s = config.service;
  const metrics = new Metrics({ processMetrics: deps.processMetrics ?? true });
  const ctx: ProcessorContext = { logger, clock: deps.clock ?? { now: () => Date.now() }, env: deps.env ?? process.env };

  const stages = createStages(config, deps.processors, ctx);
  const states = stages.flatMap((st) => (st.processor.state ? [{ processor: st.name, state: st.processor.state }] : []));
  restoreStates(states, logger);
  const chain = new ProcessingChain(stages, metrics, logger);

  // Worker threads (OLP_WORKERS) each resolve the configuration from the environment, as `run` does.
  const env = deps.env ?? process.env;
  const plan = planWorkers(config, deps.processors, stages);
  let workerCount = plan.count;
  if (plan.reason) logger.info({ workers: 0, reason: plan.reason }, 'OLP_WORKERS=auto: processing on the event-loop thread');
  if (workerCount > 0) {
    const mismatch = workerConfigMismatch(env, config);
    if (mismatch && config.service[''].workers !== 'auto') throw new ConfigError([`OLP_WORKERS: worker threads resolve the configuration from the environment, and ${mismatch}`]);
    if (mismatch) {
      logger.info({ workers: 0, reason: mismatch }, 'OLP_WORKERS=auto: processing on the event-loop thread');
      workerCount = 0;
    }
  }
  const pool =
    workerCount > 0
      ? new WorkerPool(
          { size: workerCount, env, logLevel: logger.level, maxInFlightPerThread: s[''].workers_max_in_flight, busyRetryAfterMs: QUEUE_FULL_RETRY_AFTER_MS, onTap: (o) => taps.deliver(o) },
          metrics,
          logger,
        )
      : undefined;
  metrics.workers.set(workerCount);
  // Taps (GET /api/tap) look at the chain of whichever threads run it.
  const localTaps = pool ? undefined : new TapPoints(chain.length, (o) => taps.deliver(o), metrics.tapDropped);
  if (localTaps) chain.attachTaps(localTaps);
  const taps = new TapHub({ processors: s[''].processors, metrics, threads: pool?.size ?? 1, publish: (specs) => (pool ? pool.setTaps(specs) : localTaps!.set(specs)) });

  // Queue full, disk full and memory limit all answer this retryable kind (OLP_QUEUE_FULL_CODE).
  const refuseKind = s.queue.full_code === 'unavailable' ? ('unavailable' as const) : ('overloaded' as const);
  // Persistent queue: one write-ahead log per exporter, locked against a second process.
  const wals: WriteAheadLog[] = [];
  try {
    for (const name of s.queue.dir ? config.exporters : []) {
      wals.push(
        await WriteAheadLog.open(
          { dir: path.join(s.queue.dir, name), fsync: s.queue.fsync, fsyncIntervalMs: s.queue.fsync_interval, retryAfterMs: QUEUE_FULL_RETRY_AFTER_MS, fullKind: refuseKind },
          { name, logger: logger.child({ exporter: name }), metrics },
        ),
      );
    }
  } catch (e) {
    for (const w of wals) await w.close();
    throw e;
  }

  const exporterSettings = (spec: (typeof config.exporterSpecs)[number]): ExporterSettings => ({
    maxQueuedRecords: s.queue.max_records,
    maxQueuedBytes: s.queue.max_mib * 1024 * 1024,
    fullPolicy: s.queue.full_policy,
    consumers: spec.type === 'debug' ? 1 : s.queue.consumers,
    batchMaxRecords: s.batch.max_records,
    batchMaxDelayMs: s.batch.max_delay,
    timeoutMs: spec.otlp?.timeoutMs ?? s.otlp.timeout,
    retry: {
      enabled: s.retry.enabled,
      initialIntervalMs: s.retry.initial_interval,
      maxIntervalMs: s.retry.max_interval,
      maxElapsedMs: s.retry.max_elapsed,
    },
  });
  const exporters = config.exporterSpecs.map((spec, i) => {
    const transport: Transport = spec.otlp ? otlpTransport(spec.otlp, s.grpc.tls_reload_interval) : new DebugTransport(s.debug.verbosity, deps.stdout);
    return new QueuedExporter(spec.name, transport, exporterSettings(spec), { logger, metrics, wal: wals[i] });
  });
  // Traces and metrics: one memory queue per exporter and signal, named <exporter>/<signal>.
  const signalExporters: Partial<Record<PassthroughSignal, QueuedExporter[]>> = {};
  for (const signal of s[''].passthrough_signals) {
    signalExporters[signal] = config.exporterSpecs.flatMap((spec) => {
      const transport = signalTransport(spec, signal, s.grpc.tls_reload_interval, deps.stdout, s.debug.verbosity, logger);
      return transport ? [new QueuedExporter(`${spec.name}/${signal}`, transport, exporterSettings(spec), { logger, metrics })] : [];
    });
  }
  const allExporters = [...exporters, ...Object.values(signalExporters).flat()];
  for (const e of allExporters) e.start();
  const memoryLimiter =
    s.memory.limit_mib > 0
      ? new MemoryLimiter({ limitMib: s.memory.limit_mib, spikeMib: s.memory.spike_mib, retryAfterMs: QUEUE_FULL_RETRY_AFTER_MS, refuseKind }, { metrics, logger })
      : undefined;
  memoryLimiter?.start();

  const requests = new RequestProcessor(chain, requestSettings(config), logger);
  const pipeline = new Pipeline(requests, exporters, { queueFullRetryAfterMs: QUEUE_FULL_RETRY_AFTER_MS, queueFullKind: refuseKind, memoryLimiter, pool }, metrics, logger);
  const signals = new SignalForwarder(signalExporters, { queueFullRetryAfterMs: QUEUE_FULL_RETRY_AFTER_MS, queueFullKind: refuseKind, memoryLimiter }, metrics, logger);
  const auth =
    s.auth.bearer_tokens.length > 0 || s.auth.bearer_token_file ? new BearerAuth(s.auth.bearer_tokens, s.auth.bearer_token_file, logger, s.grpc.tls_reload_interval) : undefined;
  const tls = await loadServerCredentials(
    { certFile: s.grpc.tls_cert_file, keyFile: s.grpc.tls_key_file, clientCaFile: s.grpc.tls_client_ca_file, reloadIntervalMs: s.grpc.tls_reload_interval },
    logger,
  );
  const budget = new ReceiveBudget(receiveBudgetBytes(s.memory.receive_budget_mib, s.memory.limit_mib, minReceiveBudgetMib(s.grpc.max_recv_mib, s.http.max_recv_mib)), metrics);
  const grpcConnections = grpcMaxConnections(s.grpc.max_connections, budget.limitBytes, s.grpc.max_concurrent_streams);
  const fdLimit = descriptorLimit();
  const connectionCaps = grpcConnections + (s.http.endpoint ? s.http.max_connections : 0);
  if (fdLimit !== undefined && connectionCaps + DESCRIPTOR_RESERVE > fdLimit) {
    logger.warn(
      { openFileLimit: fdLimit, connectionCaps, reserve: DESCRIPTOR_RESERVE },
      'OLP_GRPC_MAX_CONNECTIONS + OLP_HTTP_MAX_CONNECTIONS leave too few file descriptors: lower them or raise the open-file limit (ulimit -n)',
    );
  }
  const receiver = new GrpcReceiver(
    {
      endpoint: s.grpc.endpoint,
      maxRecvBytes: s.grpc.max_recv_mib * 1024 * 1024,
      credentials: tls.credentials,
      auth,
      forwardMetadata: s.otlp.forward_metadata.map((k) => k.toLowerCase()),
      signals,
      maxConcurrentStreams: s.grpc.max_concurrent_streams,
      maxConnections: grpcConnections,
      handshakeTimeoutMs: s.grpc.handshake_timeout,
      maxConnectionIdleMs: s.grpc.max_connection_idle,
      maxConnectionAgeMs: s.grpc.max_connection_age,
      readTimeoutMs: s.grpc.read_timeout,
      budget,
    },
    pipeline,
    metrics,
    logger,
  );
  const httpTls = s.http.endpoint && s.http.tls_cert_file
    ? httpsContext(
        { certFile: s.http.tls_cert_file, keyFile: s.http.tls_key_file, clientCaFile: s.http.tls_client_ca_file, reloadIntervalMs: s.grpc.tls_reload_interval },
        logger,
      )
    : undefined;
  const httpReceiver = s.http.endpoint
    ? new HttpReceiver(
        {
          endpoint: s.http.endpoint,
          maxRecvBytes: s.http.max_recv_mib * 1024 * 1024,
          auth,
          forwardMetadata: s.otlp.forward_metadata.map((k) => k.toLowerCase()),
          tls: httpTls,
          maxConnections: s.http.max_connections,
          headersTimeoutMs: s.http.headers_timeout,
          readTimeoutMs: s.http.read_timeout,
          idleTimeoutMs: s.http.idle_timeout,
          budget,
          json: { maxRecords: s.limits.max_records, maxValues: s.limits.max_json_values, maxValueDepth: s.limits.max_depth },
          signals,
        },
        pipeline,
        metrics,
        logger,
      )
    : undefined;
  let phase: 'starting' | 'ready' | 'draining' = 'starting';
  const collectMetrics = async (): Promise<Registry> => metrics.merged(pool ? await pool.snapshots() : []);
  const routes = httpRoutes(collectMetrics, () => phase);
  const httpServers: http.Server[] = [];
  let grpcPort: number | undefined;
  let httpPort: number | undefined;
  const templates = async (limit: number): Promise<ProcessorTemplates[][]> => (pool ? pool.templates(limit) : [chain.templates(limit)]);
  const admin = adminRoutes({
    collect: collectMetrics,
    templates,
    verify: auth ? (authorization) => auth.verify(authorization) : undefined,
    now: () => Date.now(),
    taps,
    tapAccess: s.metrics.tap,
    summary: () => ({
      version: packageVersion(),
      startedAt,
      receivers: [
        { transport: 'grpc', endpoint: `${s.grpc.endpoint.replace(/:\d+$/, '')}:${grpcPort ?? ''}` },
        ...(s.http.endpoint ? [{ transport: 'http', endpoint: `${s.http.endpoint.replace(/:\d+$/, '')}:${httpPort ?? ''}` }] : []),
      ],
      processors: s[''].processors,
      exporters: config.exporters,
      workers: workerCount,
    }),
  });
  try {
    await pool?.start();
    if (s.metrics.endpoint) {
      const own = s.health.endpoint ? { '/metrics': routes['/metrics']!, ...admin } : { ...routes, ...admin };
      httpServers.push(await startHttpEndpoint(s.metrics.endpoint, 'OLP_METRICS_ENDPOINT', own));
    }
    if (s.health.endpoint) {
      httpServers.push(await startHttpEndpoint(s.health.endpoint, 'OLP_HEALTH_ENDPOINT', { '/healthz': routes['/healthz']!, '/readyz': routes['/readyz']! }));
    }
    grpcPort = await receiver.start();
    httpPort = await httpReceiver?.start();
  } catch (e) {
    await receiver.stop(Date.now());
    auth?.close();
    tls.close();
    await Promise.all(httpServers.map(closeServer));
    memoryLimiter?.stop();
    for (const exp of allExporters) await exp.shutdown(Date.now());
    await pool?.close(Date.now());
    throw e;
  }
  const metricsPort = s.metrics.endpoint ? boundPort(httpServers[0]!) : undefined;
  const healthPort = s.health.endpoint ? boundPort(httpServers[httpServers.length - 1]!) : metricsPort;
  receiver.setServing(true);
  phase = 'ready';
  const persistence = persistPeriodically(states, logger);
  // Windowed processors emit on the runner's timers; what they emit goes through the rest of the chain.
  const flushTimers = chain.flushing.map(({ index, name, intervalMs }) => {
    const timer = setInterval(() => {
      const emitted = chain.flush(index, ctx.clock.now(), false);
      if (emitted) void pipeline.emit(emitted, `processor/${name}`);
    }, intervalMs);
    timer.unref();
    return timer;
  });

  logger.info(
    {
      grpc: `${s.grpc.endpoint.replace(/:\d+$/, '')}:${grpcPort}`,
      http: httpPort !== undefined ? `${s.http.endpoint.replace(/:\d+$/, '')}:${httpPort}` : 'off',
      tls: s.grpc.tls_cert_file ? (s.grpc.tls_client_ca_file ? 'mtls' : 'tls') : 'off',
      http_tls: httpTls ? (s.http.tls_client_ca_file ? 'mtls' : 'tls') : 'off',
      auth: auth ? 'bearer' : 'off',
      metrics: metricsPort !== undefined ? `${s.metrics.endpoint.replace(/:\d+$/, '')}:${metricsPort}` : 'off',
      health: healthPort !== undefined ? `${(s.health.endpoint || s.metrics.endpoint).replace(/:\d+$/, '')}:${healthPort}` : 'off',
      processors: s[''].processors,
      workers: workerCount,
      grpcMaxConnections: grpcConnections,
      receiveBudgetMib: budget.limitBytes / (1024 * 1024),
      exporters: config.exporters,
      config: config.file ?? 'env only',
    },
    'otlp-log-processor started',
  );

  let stopping: Promise<void> | undefined;
  const shutdown = (): Promise<void> => {
    stopping ??= (async () => {
      const deadline = Date.now() + s[''].shutdown_timeout;
      phase = 'draining';
      logger.info({ timeoutMs: s[''].shutdown_timeout }, 'shutting down: refusing new requests, draining');
      await Promise.all([receiver.stop(deadline), httpReceiver?.stop(deadline)]);
      // What the worker threads still hold is delivered before they end (within the deadline).
      await pool?.close(deadline);
      // Nothing reaches the chain any more: close open windows, then its state is final.
      for (const t of flushTimers) clearInterval(t);
      for (const emitted of chain.flushAll(ctx.clock.now())) await pipeline.emit(emitted, 'shutdown');
      persistence.stop();
      // Memory queues drain within the deadline; persistent queues stop and keep the rest for the next start.
      await Promise.all(allExporters.map((e) => e.shutdown(deadline)));
      memoryLimiter?.stop();
      taps.close();
      await Promise.all(httpServers.map(closeServer));
      auth?.close();
      tls.close();
      httpTls?.close();
      const dropped = await registryTotal(await collectMetrics(), 'olp_dropped_log_records_total');
      logger.info({ dropped }, 'stopped');
    })();
    return stopping;
  };

  return { grpcPort, httpPort, metricsPort, healthPort, metrics, workers: workerCount, collectMetrics, shutdown };
}


/**
 * Why worker threads would not build the chain the service was given (processors passed to
 * startService that the environment does not name), or undefined when they would.
 */
function workerConfigMismatch(env: NodeJS.ProcessEnv, config: ResolvedConfig): string | undefined {
  let chain: readonly string[];
  try {
    chain = resolveServiceConfig(env).config.service[''].processors;
  } catch (e) {
    return `that fails: ${(e as Error).message}`;
  }
  const want = config.service[''].processors;
  if (chain.length === want.length && chain.every((p, i) => p === want[i])) return undefined;
  return `there the chain is "${chain.join(',')}", not "${want.join(',')}"`;
}

function otlpTransport(o: OtlpExporterSettings, reloadIntervalMs: number): Transport {
  const tls = { caFile: o.certificate, certFile: o.clientCertificate, keyFile: o.clientKey, reloadIntervalMs };
  if (o.httpUrl) {
    return new OtlpHttpTransport({ url: o.httpUrl, protocol: o.protocol as 'http/protobuf' | 'http/json', headers: o.headers, compression: o.compression, tls });
  }
  return new OtlpGrpcTransport({ endpoint: o.endpoint, headers: o.headers, compression: o.compression, insecure: o.insecure, tls });
}

/**
 * The transport forwarding `signal` through exporter `spec`: the OTLP exporter's downstream with
 * the signal's method or path (always protobuf: the bytes go as received), or a summary line per
 * batch for the debug exporter. Undefined, logged, when an OTLP/HTTP logs URL names no sibling
 * path for the signal.
 */
function signalTransport(
  spec: ResolvedConfig['exporterSpecs'][number],
  signal: PassthroughSignal,
  reloadIntervalMs: number,
  stdout: TextSink | undefined,
  verbosity: ResolvedConfig['service']['debug']['verbosity'],
  logger: Logger,
): Transport | undefined {
  const sig = PASSTHROUGH_SIGNALS[signal];
  if (!spec.otlp) return new DebugTransport(verbosity, stdout, { name: signal, items: sig.items });
  const o = spec.otlp;
  const tls = { caFile: o.certificate, certFile: o.clientCertificate, keyFile: o.clientKey, reloadIntervalMs };
  if (!o.httpUrl) return new OtlpGrpcTransport({ endpoint: o.endpoint, headers: o.headers, compression: o.compression, insecure: o.insecure, tls, methodPath: sig.grpcPath });
  const url = otlpHttpSignalUrl(o.httpUrl, sig.httpPath);
  if (!url) {
    logger.warn({ exporter: spec.name, signal, url: o.httpUrl }, `the exporter's OTLP/HTTP URL does not end in /v1/logs: ${signal} are not forwarded through it`);
    return undefined;
  }
  return new OtlpHttpTransport({ url, protocol: 'http/protobuf', headers: o.headers, compression: o.compression, tls });
}


/** /metrics, /healthz (the process is up) and /readyz (receiver listening, exporters started, not draining). */
function httpRoutes(collect: () => Promise<Registry>, phase: () => 'starting' | 'ready' | 'draining'): Record<string, Route> {
  return {
    '/metrics': async () => {
      const registry = await collect();
      return { status: 200, contentType: registry.contentType, body: await registry.metrics() };
    },
    '/healthz': async () => ({ status: 200, contentType: 'application/json', body: '{"status":"ok"}\n' }),
    '/readyz': async () => {
      const p = phase();
      return { status: p === 'ready' ? 200 : 503, contentType: 'application/json', body: `{"status":"${p}"}\n` };
    },
  };
}
