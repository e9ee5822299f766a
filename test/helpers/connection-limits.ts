/** Connection-limit checks shared by the gRPC and OTLP/HTTP hostile-client tests. */
import { closedWithin, silentSockets } from '../../bench/attack-clients';
import { eventually } from './eventually';
import type { TestService } from './service';

/**
 * Opens 8 silent connections against a cap of 5 (set by the caller): 3 are closed at once and
 * counted, 5 stay open, the gauge follows them down, and `served` still gets an ordinary answer.
 */
export async function expectConnectionCap(svc: TestService, transport: 'grpc' | 'http', port: number, served: (svc: TestService) => Promise<void>): Promise<void> {
  const sockets = await silentSockets(port, 8);
  const open = async (): Promise<number | undefined> => (await svc.metrics.receiverConnections.get()).values.find((v) => v.labels.transport === transport)?.value;
  try {
    let closed = 0;
    for (const s of sockets) s.once('close', () => closed++).resume();
    await eventually(() => expect(closed).toBe(3));
    expect(await svc.metrics.total(svc.metrics.receiverConnectionsRefused, { transport, reason: 'max_connections' })).toBe(3);
    expect(await open()).toBe(5);
    for (const s of sockets) s.destroy();
    await eventually(async () => expect(await open()).toBe(0));
    await served(svc);
  } finally {
    for (const s of sockets) s.destroy();
  }
}

/** A connection that never sends a byte is closed within the first-byte timeout (set by the caller to 300 ms) and counted. */
export async function expectSilentConnectionClosed(svc: TestService, transport: 'grpc' | 'http', port: number): Promise<void> {
  const [socket] = await silentSockets(port, 1);
  expect(await closedWithin(socket!, 5000)).toBe(true);
  expect(await svc.metrics.total(svc.metrics.receiverConnectionsRefused, { transport, reason: 'no_first_byte' })).toBe(1);
}
