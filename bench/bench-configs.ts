/** The service configurations the bench compares, as environment for the service process. */
import pino from 'pino';
import { resolveConfig } from '../src/config/resolve';
import { singleInstanceProcessors } from '../src/pipeline/worker-pool';
import { builtinProcessors } from '../src/processors/registry';
import { createStages } from '../src/pipeline/stages';
import type { ConfigId } from './bench-args';

export interface ConfigSpec {
  id: ConfigId;
  label: string;
  processors: string;
  /** Extra service env (the queue directory is added at start for `d`). */
  env: Record<string, string>;
  persistentQueue: boolean;
  /** Set when the configuration differs from the one asked for (e.g. classify not registered). */
  note?: string;
}

export function configSpec(id: ConfigId, registered: ReadonlySet<string>): ConfigSpec {
  switch (id) {
    case 'a':
      return { id, label: 'passthrough', processors: '', env: {}, persistentQueue: false };
    case 'b':
      return { id, label: 'default chain', processors: 'severity,resource', env: {}, persistentQueue: false };
    case 'c': {
      const hasClassify = registered.has('classify');
      const processors = hasClassify ? 'parse,severity,resource,classify' : 'parse,severity,resource';
      return {
        id,
        label: hasClassify ? 'default + parse + classify' : 'default + parse',
        processors,
        env: { OLP_PARSE_FORMAT: 'header' },
        persistentQueue: false,
        ...(hasClassify ? {} : { note: 'classify is not registered in src/processors/registry.ts: parse only' }),
      };
    }
    case 'd':
      return { id, label: 'default + persistent queue', processors: 'severity,resource', env: {}, persistentQueue: true };
  }
}

/**
 * Processors of the configuration's chain that must be a single instance (so OLP_WORKERS above
 * 0 is refused), found the way the service finds them: by creating the chain.
 */
export function singleInstanceIn(spec: ConfigSpec): string[] {
  const env = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1', ...spec.env, OLP_PROCESSORS: spec.processors, OLP_WORKERS: '0' };
  const config = resolveConfig(env, builtinProcessors);
  const stages = createStages(config, builtinProcessors, { logger: pino({ level: 'silent' }), clock: { now: () => Date.now() }, env });
  return singleInstanceProcessors(config, builtinProcessors, stages).map((s) => s.name);
}
