import pino, { type Logger } from 'pino';
import type { LogLevel } from '../config/settings';

/** JSON logs on stderr, so stdout stays free for the debug exporter's records. */
export function createLogger(level: LogLevel, destination: pino.DestinationStream = pino.destination({ fd: 2, sync: true })): Logger {
  return pino(
    {
      level,
      base: { service: 'otlp-log-processor' },
      timestamp: pino.stdTimeFunctions.isoTime,
      // Defence in depth: nothing logs these today, and nothing should leak them tomorrow.
      redact: { paths: ['headers', '*.headers', 'authorization', '*.authorization', 'token', '*.token'], censor: '<redacted>' },
    },
    destination,
  );
}

export type { Logger };
