/**
 * The OTLP signals other than logs, which the service forwards untouched (as bytes) so that it
 * can sit on the one OTLP endpoint an SDK sends every signal to. Their requests nest like logs
 * — resource (field 1) → scope (field 2) → item (field 2) — so the log-record count of the wire
 * reader counts their spans and metrics too.
 */
export type PassthroughSignal = 'traces' | 'metrics';

export interface SignalSpec {
  /** gRPC service name (health checks) and Export method path. */
  readonly service: string;
  readonly grpcPath: string;
  readonly httpPath: string;
  /** What one item is, for messages. */
  readonly items: string;
}

export const PASSTHROUGH_SIGNALS: Readonly<Record<PassthroughSignal, SignalSpec>> = {
  traces: {
    service: 'opentelemetry.proto.collector.trace.v1.TraceService',
    grpcPath: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
    httpPath: '/v1/traces',
    items: 'spans',
  },
  metrics: {
    service: 'opentelemetry.proto.collector.metrics.v1.MetricsService',
    grpcPath: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
    httpPath: '/v1/metrics',
    items: 'metrics',
  },
};

export const SIGNAL_NAMES = Object.keys(PASSTHROUGH_SIGNALS) as PassthroughSignal[];
