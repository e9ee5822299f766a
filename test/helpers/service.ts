/** Starts the real service in-process with a config given as env vars, on free ports. */
import pino from 'pino';
import { resolveConfig } from '../../src/config/resolve';
import { builtinProcessors } from '../../src/processors/registry';
import { isProcessorReference, resolveServiceConfig } from '../../src/processors/custom';
import { parseList } from '../../src/config/values';
import type { ProcessorFactory } from '../../src/processors/contract';
import { startService, type RunningService } from '../../src/service';
import { MemorySink } from './memory-sink';

export interface TestService extends RunningService {
  readonly endpoint: string;
  readonly stdout: MemorySink;
}

/** `processors` defaults to the built-in set; pass more to test a processor before it is registered. */
export async function startTestService(env: Record<string, string>, processors: readonly ProcessorFactory<any>[] = builtinProcessors): Promise<TestService> {
  // OLP_WORKERS=0 unless the test asks for threads: most tests read processor series from the main registry.
  const fullEnv: Record<string, string> = { OLP_GRPC_ENDPOINT: '127.0.0.1:0', OLP_HTTP_ENDPOINT: '127.0.0.1:0', OLP_METRICS_ENDPOINT: '127.0.0.1:0', OLP_BATCH_MAX_DELAY: '20ms', OLP_WORKERS: '0', ...env };
  // A chain that names custom processor modules is resolved the way `run` does it.
  const custom = processors === builtinProcessors && parseList(fullEnv.OLP_PROCESSORS ?? '').some((e) => isProcessorReference(e, new Set(builtinProcessors.map((p) => p.name))));
  const resolved = custom ? resolveServiceConfig(fullEnv) : { config: resolveConfig(fullEnv, processors), processors };
  const config = resolved.config;
  processors = resolved.processors;
  const stdout = new MemorySink();
  const service = await startService(config, {
    logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    processors,
    env: fullEnv,
    stdout,
    processMetrics: false,
  });
  return { ...service, shutdown: service.shutdown, endpoint: `http://127.0.0.1:${service.grpcPort}`, stdout };
}
