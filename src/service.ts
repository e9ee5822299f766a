/**
 * Assembles and runs the service: receiver → pipeline (chain) → exporters, plus the
 * self-metrics endpoint. Owns start-up order and the bounded graceful shutdown.
 */
import * as http from 'node:http';
import type { Logger } from 'pino';
import type { ResolvedConfig } from './config/resolve';
import type { OptionShape, OptionValues } from './config/options';
import { OptionError, type ProcessorFactory, type ProcessorContext, type Clock } from './pipeline/processor';
import { ProcessingChain, type ChainStage } from './pipeline/chain';
import { ConfigError } from './config/load';
import { persistPeriodically, restoreStates } from './pipeline/state-store';
import { envNames } from './config/options';
import { Pipeline } from './pipeline/pipeline';
import { QueuedExporter } from './exporters/queued-exporter';
import { OtlpGrpcTransport } from './exporters/otlp-grpc';
import { DebugTransport, type TextSink } from './exporters/debug';
import type { Transport } from './exporters/transport';
import { GrpcReceiver } from './receiver/grpc-receiver';
import { Metrics } from './telemetry/metrics';

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
  /** Undefined when the metrics endpoint is disabled. */
  readonly metricsPort: number | undefined;
  readonly metrics: Metrics;
  /** Stops accepting, drains within the shutdown timeout, closes everything. Idempotent. */
  shutdown(): Promise<void>;
}

export async function startService(config: ResolvedConfig, deps: ServiceDeps): Promise<RunningService> {
  const { logger } = deps;
  const s = config.service;
  const metrics = new Metrics({ processMetrics: deps.processMetrics ?? true });
  const ctx: ProcessorContext = { logger, clock: deps.clock ?? { now: () => Date.now() }, env: deps.env ?? process.env };

  const stages = createStages(config, deps.processors, ctx);
  const states = stages.flatMap((st) => (st.processor.state ? [{ processor: st.name, state: st.processor.state }] : []));
  restoreStates(states, logger);
  const chain = new ProcessingChain(stages, metrics, logger);

  const exporters = config.exporters.map((name) => {
    const transport: Transport =
      name === 'otlp'
        ? new OtlpGrpcTransport({ endpoint: s.otlp.endpoint, headers: s.otlp.headers, compression: s.otlp.compression, insecure: s.otlp.insecure })
        : new DebugTransport(s.debug.verbosity, deps.stdout);
    return new QueuedExporter(
      name,
      transport,
      {
        maxQueuedRecords: s.queue.max_records,
        consumers: name === 'debug' ? 1 : s.queue.consumers,
        batchMaxRecords: s.batch.max_records,
        batchMaxDelayMs: s.batch.max_delay,
        timeoutMs: s.otlp.timeout,
        retry: {
          enabled: s.retry.enabled,
          initialIntervalMs: s.retry.initial_interval,
          maxIntervalMs: s.retry.max_interval,
          maxElapsedMs: s.retry.max_elapsed,
        },
      },
      { logger, metrics },
    );
  });
  for (const e of exporters) e.start();

  const pipeline = new Pipeline(
    chain,
    exporters,
    { limits: { maxBodyBytes: s.limits.max_body_bytes }, batchMaxRecords: s.batch.max_records, queueFullRetryAfterMs: QUEUE_FULL_RETRY_AFTER_MS },
    metrics,
    logger,
  );
  const receiver = new GrpcReceiver({ endpoint: s.grpc.endpoint, maxRecvBytes: s.grpc.max_recv_mib * 1024 * 1024 }, pipeline, metrics, logger);
  const metricsServer = s.metrics.endpoint ? await startMetricsServer(s.metrics.endpoint, metrics) : undefined;
  let grpcPort: number;
  try {
    grpcPort = await receiver.start();
  } catch (e) {
    metricsServer?.close();
    for (const exp of exporters) await exp.shutdown(Date.now());
    throw e;
  }
  const metricsPort = metricsServer ? (metricsServer.address() as { port: number }).port : undefined;
  const persistence = persistPeriodically(states, logger);

  logger.info(
    {
      grpc: `${s.grpc.endpoint.replace(/:\d+$/, '')}:${grpcPort}`,
      metrics: metricsPort !== undefined ? `${s.metrics.endpoint.replace(/:\d+$/, '')}:${metricsPort}` : 'off',
      processors: s[''].processors,
      exporters: config.exporters,
      config: config.file ?? 'env only',
    },
    'otlp-log-processor started',
  );

  let stopping: Promise<void> | undefined;
  const shutdown = (): Promise<void> => {
    stopping ??= (async () => {
      const deadline = Date.now() + s[''].shutdown_timeout;
      logger.info({ timeoutMs: s[''].shutdown_timeout }, 'shutting down: refusing new requests, draining');
      await receiver.stop(deadline);
      // Nothing reaches the chain any more: its state is final.
      persistence.stop();
      await Promise.all(exporters.map((e) => e.shutdown(deadline)));
      await new Promise<void>((resolve) => (metricsServer ? metricsServer.close(() => resolve()) : resolve()));
      const dropped = await metrics.total(metrics.dropped);
      logger.info({ dropped }, 'stopped');
    })();
    return stopping;
  };

  return { grpcPort, metricsPort, metrics, shutdown };
}

/** Creates the chain's processors; option errors become a ConfigError naming the env var. */
export function createStages(config: ResolvedConfig, factories: readonly ProcessorFactory<OptionShape>[], ctx: ProcessorContext): ChainStage[] {
  const problems: string[] = [];
  const stages: ChainStage[] = [];
  for (const name of config.service[''].processors) {
    const factory = factories.find((p) => p.name === name)!;
    const options = config.processorOptions[name] as OptionValues<OptionShape>;
    try {
      stages.push({ name, processor: factory.create(options, { ...ctx, logger: ctx.logger.child({ processor: name }) }) });
    } catch (e) {
      if (!(e instanceof OptionError)) throw e;
      const option = factory.options[e.option];
      problems.push(`${option ? envNames(name, e.option, option)[0] : `processor ${name}`}: ${e.message}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return stages;
}

function startMetricsServer(endpoint: string, metrics: Metrics): Promise<http.Server> {
  const m = /^(.*):(\d+)$/.exec(endpoint);
  if (!m) return Promise.reject(new Error(`OLP_METRICS_ENDPOINT: expected host:port, got "${endpoint}"`));
  const server = http.createServer((req, res) => {
    if (req.method === 'GET' && req.url?.split('?')[0] === '/metrics') {
      metrics.registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': metrics.registry.contentType });
          res.end(text);
        },
        (err: Error) => {
          res.writeHead(500);
          res.end(err.message);
        },
      );
      return;
    }
    res.writeHead(404);
    res.end('not found\n');
  });
  return new Promise((resolve, reject) => {
    server.once('error', (e) => reject(new Error(`cannot listen on ${endpoint} (OLP_METRICS_ENDPOINT): ${e.message}`)));
    server.listen(Number(m[2]), m[1]!.replace(/^\[|\]$/g, ''), () => resolve(server));
  });
}
