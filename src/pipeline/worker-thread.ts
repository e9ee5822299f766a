/**
 * Entry of a worker thread (see worker-pool.ts). Resolves the service configuration from the
 * service's environment, as `run` does (custom processors are loaded here too), builds its own
 * chain, metrics and logger, and answers requests: raw protobuf bytes in, encoded batches out
 * with their buffers transferred.
 */
import { parentPort, workerData, type MessagePort, type TransferListItem } from 'node:worker_threads';
import { ConfigError } from '../config/load';
import type { LogLevel } from '../config/settings';
import { resolveServiceConfig } from '../processors/custom';
import { createStages, requestSettings } from './stages';
import { createLogger } from '../telemetry/logger';
import { Metrics } from '../telemetry/metrics';
import { ProcessingChain } from './chain';
import { TapPoints } from './tap';
import { RequestProcessor, runRequest, type PreparedOutput } from './request-processor';
import type { FromWorker, ToWorker, WorkerInit } from './worker-pool';

/** `bytes` as a view owning its whole ArrayBuffer (copied when it is a slice of a shared or larger one), its buffer added to `transfer`. */
function transferable(bytes: Uint8Array, transfer: Set<ArrayBuffer>): Uint8Array {
  const own = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer ? bytes : new Uint8Array(bytes);
  transfer.add(own.buffer as ArrayBuffer);
  return own;
}

function run(port: MessagePort, init: WorkerInit): void {
  let metrics: Metrics;
  let requests: RequestProcessor;
  let chain: ProcessingChain;
  let taps: TapPoints;
  try {
    const env = init.env as NodeJS.ProcessEnv;
    const { config, processors } = resolveServiceConfig(env);
    const logger = createLogger(init.logLevel as LogLevel).child({ worker: init.index });
    metrics = new Metrics({ processMetrics: false });
    const stages = createStages(config, processors, { logger, clock: { now: () => Date.now() }, env });
    chain = new ProcessingChain(stages, metrics, logger);
    taps = new TapPoints(chain.length, (outputs) => port.postMessage({ type: 'tap', outputs } satisfies FromWorker), metrics.tapDropped);
    chain.attachTaps(taps);
    requests = new RequestProcessor(chain, requestSettings(config), logger);
  } catch (e) {
    const msg: FromWorker = e instanceof ConfigError ? { type: 'fatal', message: e.message, problems: e.problems } : { type: 'fatal', message: (e as Error).message };
    port.postMessage(msg);
    return; // no listener: the thread ends
  }

  const handle = (id: number, bytes: Uint8Array, transport: string): void => {
    // A Buffer view (no copy): protobufjs reads strings from a Buffer natively.
    const outcome = runRequest(requests, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), transport);
    if (!outcome.ok) {
      const { kind, message, retryAfterMs } = outcome.error;
      port.postMessage({ type: 'error', id, error: { kind, message, retryAfterMs }, tally: outcome.tally } satisfies FromWorker);
      return;
    }
    const transfer = new Set<ArrayBuffer>();
    const outputs: PreparedOutput[] = outcome.outputs.map((o) => ({
      exporters: o.exporters,
      batches: o.batches.map((b) => ({ bytes: transferable(b.bytes, transfer), records: b.records })),
    }));
    const msg: FromWorker = { type: 'result', id, received: outcome.received, rejection: outcome.rejection, outputs, tally: outcome.tally };
    port.postMessage(msg, [...transfer] as TransferListItem[]);
  };

  port.on('message', (m: ToWorker) => {
    if (m.type === 'process') {
      handle(m.id, m.bytes, m.transport);
      return;
    }
    if (m.type === 'taps') {
      taps.set(m.taps);
      return;
    }
    if (m.type === 'templates') {
      port.postMessage({ type: 'templates', id: m.id, templates: chain.templates(m.limit) } satisfies FromWorker);
      return;
    }
    metrics.registry.getMetricsAsJSON().then(
      (json) => port.postMessage({ type: 'metrics', id: m.id, metrics: json } satisfies FromWorker),
      () => port.postMessage({ type: 'metrics', id: m.id, metrics: [] } satisfies FromWorker),
    );
  });
  port.postMessage({ type: 'ready' } satisfies FromWorker);
}

if (parentPort) run(parentPort, workerData as WorkerInit);
