/**
 * Connection limits of a receiver's listening socket: at most `maxConnections` open (further
 * ones are closed on accept, so descriptors stay free for the other port, exporters and files),
 * and a connection that sends nothing at all within `firstByteTimeoutMs` is closed.
 */
import * as fs from 'node:fs';
import type * as net from 'node:net';
import type { Logger } from 'pino';
import type { Metrics } from '../telemetry/metrics';

/** At most one log line per this interval for refused connections: a flood must not flood the log. */
const REFUSAL_LOG_INTERVAL_MS = 10_000;

export interface ConnectionGuardOptions {
  readonly transport: 'grpc' | 'http';
  readonly maxConnections: number;
  /** 0 = no first-byte timeout. */
  readonly firstByteTimeoutMs: number;
  /** Setting named in the refusal log line. */
  readonly setting: string;
}

export function guardConnections(server: net.Server, options: ConnectionGuardOptions, metrics: Metrics, logger: Logger): void {
  const { transport } = options;
  server.maxConnections = options.maxConnections;
  let lastLog = 0;
  let unlogged = 0;
  // Node closes a connection over maxConnections itself and reports it here.
  server.on('drop', (data?: net.DropArgument) => {
    metrics.receiverConnectionsRefused.inc({ transport, reason: 'max_connections' });
    unlogged++;
    const now = Date.now();
    if (now - lastLog < REFUSAL_LOG_INTERVAL_MS) return;
    logger.warn(
      { transport, refused: unlogged, limit: options.maxConnections, remote: data?.remoteAddress },
      `connections refused: ${options.maxConnections} already open (${options.setting})`,
    );
    lastLog = now;
    unlogged = 0;
  });
  server.on('connection', (socket: net.Socket) => {
    metrics.receiverConnections.inc({ transport });
    let timer: NodeJS.Timeout | undefined;
    if (options.firstByteTimeoutMs > 0) {
      timer = setTimeout(() => {
        if (socket.bytesRead > 0) return;
        metrics.receiverConnectionsRefused.inc({ transport, reason: 'no_first_byte' });
        socket.destroy();
      }, options.firstByteTimeoutMs);
      timer.unref();
    }
    socket.once('close', () => {
      clearTimeout(timer);
      metrics.receiverConnections.dec({ transport });
    });
  });
}

/** Descriptors kept free beyond the receivers' connection caps: exporters, files, the metrics port, worker threads. */
export const DESCRIPTOR_RESERVE = 128;

/** The process's open-file limit (soft), from /proc; undefined where it cannot be read. */
export function descriptorLimit(limits = '/proc/self/limits'): number | undefined {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(fs.readFileSync(limits, 'utf8'));
    if (!m) return undefined;
    return m[1] === 'unlimited' ? Number.POSITIVE_INFINITY : Number(m[1]);
  } catch {
    return undefined;
  }
}
