/**
 * The service's own metrics (Prometheus). One registry per service instance, so tests and
 * several instances in one process never share counters.
 */
import { AggregatorRegistry, Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** One registry's metrics as plain data (`registry.getMetricsAsJSON()`), as worker threads send them. */
export type MetricsSnapshot = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;

export class Metrics {
  readonly registry = new Registry();

  readonly receiverAccepted = new Counter({
    name: 'olp_receiver_accepted_log_records_total',
    help: 'Log records accepted by a receiver and handed to the pipeline.',
    labelNames: ['transport'] as const,
    registers: [this.registry],
  });
  readonly receiverRefused = new Counter({
    name: 'olp_receiver_refused_log_records_total',
    help: 'Log records refused by a receiver (answered with an error or counted as rejected in partial_success).',
    labelNames: ['transport', 'reason'] as const,
    registers: [this.registry],
  });
  readonly receiverForwardedItems = new Counter({
    name: 'olp_receiver_forwarded_items_total',
    help: 'Spans (signal="traces") and metrics (signal="metrics") received and queued for forwarding untouched.',
    labelNames: ['signal', 'transport'] as const,
    registers: [this.registry],
  });
  readonly receiverRefusedItems = new Counter({
    name: 'olp_receiver_refused_items_total',
    help: 'Spans and metrics refused by a receiver (queue full, memory limit), by signal and reason.',
    labelNames: ['signal', 'transport', 'reason'] as const,
    registers: [this.registry],
  });
  readonly receiverRequestsFailed = new Counter({
    name: 'olp_receiver_failed_requests_total',
    help: 'Export requests answered with an error status, by status.',
    labelNames: ['transport', 'code'] as const,
    registers: [this.registry],
  });
  readonly receiverRequestsRefused = new Counter({
    name: 'olp_receiver_refused_requests_total',
    help: 'Requests a receiver refused before the pipeline saw them, by reason (receive_budget, read_timeout, deadline_exceeded, too_large, json_*, bad_frame, truncated_message, no_message, too_much_metadata, cancelled_before_processing).',
    labelNames: ['transport', 'reason'] as const,
    registers: [this.registry],
  });
  readonly receiverConnectionsRefused = new Counter({
    name: 'olp_receiver_refused_connections_total',
    help: 'Connections a receiver closed without serving them: over the connection limit (max_connections) or silent past the idle timeout before sending a byte (no_first_byte).',
    labelNames: ['transport', 'reason'] as const,
    registers: [this.registry],
  });
  readonly receiverConnections = new Gauge({
    name: 'olp_receiver_open_connections',
    help: 'Connections open on a receiver port.',
    labelNames: ['transport'] as const,
    registers: [this.registry],
  });
  readonly receiveBudgetInUse = new Gauge({
    name: 'olp_receiver_budget_bytes_in_use',
    help: 'Bytes held by requests being received and decoded, across all receivers (OLP_MEMORY_RECEIVE_BUDGET_MIB).',
    registers: [this.registry],
  });
  readonly receiveBudgetLimit = new Gauge({
    name: 'olp_receiver_budget_bytes_limit',
    help: 'The receive budget in force, in bytes.',
    registers: [this.registry],
  });
  readonly processorIncoming = new Counter({
    name: 'olp_processor_incoming_log_records_total',
    help: 'Log records entering a processor.',
    labelNames: ['processor'] as const,
    registers: [this.registry],
  });
  readonly processorOutgoing = new Counter({
    name: 'olp_processor_outgoing_log_records_total',
    help: 'Log records leaving a processor.',
    labelNames: ['processor'] as const,
    registers: [this.registry],
  });
  readonly processorErrors = new Counter({
    name: 'olp_processor_errors_total',
    help: 'Batches for which a processor threw; the batch was passed on as it was.',
    labelNames: ['processor'] as const,
    registers: [this.registry],
  });
  readonly processorSeconds = new Histogram({
    name: 'olp_processor_batch_duration_seconds',
    help: 'Time a processor spent on one batch.',
    labelNames: ['processor'] as const,
    buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1],
    registers: [this.registry],
  });
  readonly processorEvents = new Counter({
    name: 'olp_processor_events_total',
    help: 'Events a processor counts while transforming (e.g. redact matches per detector).',
    labelNames: ['processor', 'event'] as const,
    registers: [this.registry],
  });
  readonly processorWindowRecords = new Gauge({
    name: 'olp_processor_window_records',
    help: 'Records per dimension value in the last complete window of a windowed processor (aggregate).',
    labelNames: ['processor', 'dimension', 'value'] as const,
    registers: [this.registry],
  });
  readonly dropped = new Counter({
    name: 'olp_dropped_log_records_total',
    help: 'Log records the service dropped after accepting them, by component and reason.',
    labelNames: ['component', 'reason'] as const,
    registers: [this.registry],
  });
  readonly exporterSent = new Counter({
    name: 'olp_exporter_sent_log_records_total',
    help: 'Log records an exporter delivered (the downstream answered OK).',
    labelNames: ['exporter'] as const,
    registers: [this.registry],
  });
  readonly exporterSendFailed = new Counter({
    name: 'olp_exporter_send_failed_requests_total',
    help: 'Export attempts that failed, by status code (retried or not).',
    labelNames: ['exporter', 'code'] as const,
    registers: [this.registry],
  });
  readonly exporterQueueSize = new Gauge({
    name: 'olp_exporter_queue_size',
    help: 'Log records held by an exporter until delivered or dropped: batching, sending queue, and batches being sent or waiting to retry.',
    labelNames: ['exporter'] as const,
    registers: [this.registry],
  });
  readonly exporterQueueCapacity = new Gauge({
    name: 'olp_exporter_queue_capacity',
    help: 'Capacity of an exporter queue, in log records.',
    labelNames: ['exporter'] as const,
    registers: [this.registry],
  });
  readonly endToEndLatency = new Histogram({
    name: 'olp_pipeline_latency_seconds',
    help: 'Time from receiving a request to its successful export (per request and exporter): processing, batching, queueing, retries and the send.',
    labelNames: ['exporter'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
  readonly exporterBatchSize = new Histogram({
    name: 'olp_exporter_batch_size_log_records',
    help: 'Log records per export request.',
    labelNames: ['exporter'] as const,
    buckets: [1, 10, 50, 100, 500, 1000, 2000, 4096, 8192, 16384],
    registers: [this.registry],
  });

  readonly queueBytes = new Gauge({
    name: 'olp_exporter_queue_bytes',
    help: 'Encoded bytes held by an exporter until delivered or dropped: batching, sending queue, and batches being sent or waiting to retry.',
    labelNames: ['exporter'] as const,
    registers: [this.registry],
  });
  readonly walWritten = new Counter({
    name: 'olp_queue_wal_written_batches_total',
    help: 'Batches written to the persistent queue (write-ahead log).',
    labelNames: ['exporter'] as const,
    registers: [this.registry],
  });
  readonly walRecovered = new Counter({
    name: 'olp_queue_wal_recovered_batches_total',
    help: 'Unsent batches read back from the persistent queue at start-up.',
    labelNames: ['exporter'] as const,
    registers: [this.registry],
  });
  readonly walCorrupt = new Counter({
    name: 'olp_queue_wal_corrupt_records_total',
    help: 'Write-ahead log records found damaged at start-up and skipped, by kind (checksum, torn tail).',
    labelNames: ['exporter', 'kind'] as const,
    registers: [this.registry],
  });
  readonly walWriteErrors = new Counter({
    name: 'olp_queue_wal_write_errors_total',
    help: 'Failed writes to the persistent queue (the request was refused with a retryable status), by error code.',
    labelNames: ['exporter', 'code'] as const,
    registers: [this.registry],
  });
  readonly walSegments = new Gauge({
    name: 'olp_queue_wal_segments',
    help: 'Segment files in the persistent queue.',
    labelNames: ['exporter'] as const,
    registers: [this.registry],
  });
  readonly memoryUsage = new Gauge({
    name: 'olp_memory_limiter_usage_bytes',
    help: 'Resident set size as last measured by the memory limiter.',
    registers: [this.registry],
  });
  readonly memoryRefusing = new Gauge({
    name: 'olp_memory_limiter_refusing',
    help: '1 while the memory limiter refuses new data (usage above the soft limit).',
    registers: [this.registry],
  });
  readonly memoryGcs = new Counter({
    name: 'olp_memory_limiter_forced_gc_total',
    help: 'Garbage collections forced because usage was above the hard limit.',
    registers: [this.registry],
  });

  readonly workers = new Gauge({
    name: 'olp_workers',
    help: 'Worker threads running decode, limits, the processing chain and encode (OLP_WORKERS as resolved; 0 = on the event-loop thread).',
    registers: [this.registry],
  });
  readonly workerRestarts = new Counter({
    name: 'olp_worker_restarts_total',
    help: 'Worker threads replaced after they exited or failed (their in-flight requests were answered UNAVAILABLE).',
    registers: [this.registry],
  });

  readonly tapSent = new Counter({
    name: 'olp_tap_sent_log_records_total',
    help: 'Records written to tap streams (GET /api/tap, otlp-log-processor tap).',
    registers: [this.registry],
  });
  readonly tapDropped = new Counter({
    name: 'olp_tap_dropped_log_records_total',
    help: 'Records a tap did not show, by reason: rate (the tap was at its records/s cap; not matched against its condition), full (more than its queue in one turn of the event loop), slow_client (the client was not reading). Taps never hold up or drop pipeline records.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly taps = new Gauge({
    name: 'olp_taps',
    help: 'Tap streams open (GET /api/tap).',
    registers: [this.registry],
  });

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'olp_' });
  }

  /** Sum of a counter across label values matching `labels` (used by tests and the shutdown summary). */
  async total(counter: Counter<string>, labels: Record<string, string> = {}): Promise<number> {
    const data = await counter.get();
    let sum = 0;
    for (const v of data.values) {
      if (Object.entries(labels).every(([k, want]) => v.labels[k] === want)) sum += v.value;
    }
    return sum;
  }

  /**
   * This registry's series merged with other registries' (worker threads): counters and
   * histograms are summed per label set, as are gauges (a worker's share of a gauge is 0 or its own).
   */
  async merged(others: readonly MetricsSnapshot[]): Promise<Registry> {
    if (others.length === 0) return this.registry;
    const own = await this.registry.getMetricsAsJSON();
    return AggregatorRegistry.aggregate([own, ...others]);
  }
}

/** Sum of a metric's values across label values matching `labels`, in any registry (e.g. a merged one). */
export async function registryTotal(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (!metric) return 0;
  const data = await metric.get();
  let sum = 0;
  for (const v of data.values) {
    if (Object.entries(labels).every(([k, want]) => v.labels[k] === want)) sum += v.value;
  }
  return sum;
}
