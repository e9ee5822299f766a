/** `run`: start the service and stop it gracefully on SIGTERM / SIGINT. */
import { ConfigError } from '../config/load';
import { resolveServiceConfig } from '../processors/custom';
import { startService } from '../service';
import { createLogger } from '../telemetry/logger';

export async function runCommand(env: NodeJS.ProcessEnv): Promise<number> {
  let resolved;
  try {
    resolved = resolveServiceConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`otlp-log-processor: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
  const { config, processors } = resolved;
  const logger = createLogger(config.service[''].log_level);
  for (const warning of config.warnings) logger.warn({ problem: warning }, 'configuration warning');
  let service;
  try {
    service = await startService(config, { logger, processors, env });
  } catch (e) {
    if (e instanceof ConfigError) process.stderr.write(`otlp-log-processor: ${e.message}\n`);
    else logger.fatal({ err: (e as Error).message }, 'start-up failed');
    return 1;
  }
  return new Promise<number>((resolve) => {
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals): void => {
      signals++;
      if (signals > 1) {
        logger.warn({ signal }, 'second signal: exiting without draining');
        resolve(1);
        return;
      }
      logger.info({ signal }, 'signal received');
      service.shutdown().then(
        () => resolve(0),
        (err: Error) => {
          logger.error({ err: err.message }, 'shutdown failed');
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
