/** Connection caps: refusals counted one by one, logged at most once per interval. */
import * as net from 'node:net';
import pino from 'pino';
import { guardConnections } from '../../src/receiver/connection-guard';
import { Metrics } from '../../src/telemetry/metrics';
import { silentSockets } from '../../bench/attack-clients';
import { eventually } from '../helpers/eventually';
import { MemorySink } from '../helpers/memory-sink';

test('connections over the cap are closed, each counted, and a flood of them logged once', async () => {
  const metrics = new Metrics();
  const logs = new MemorySink();
  const server = net.createServer();
  guardConnections(server, { transport: 'http', maxConnections: 2, firstByteTimeoutMs: 0, setting: 'OLP_HTTP_MAX_CONNECTIONS' }, metrics, pino({}, logs));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const sockets = await silentSockets((server.address() as net.AddressInfo).port, 12);
  try {
    await eventually(async () => expect(await metrics.total(metrics.receiverConnectionsRefused, { transport: 'http', reason: 'max_connections' })).toBe(10));
    const lines = logs.text.trim().split('\n').map((l) => JSON.parse(l) as { msg: string; limit: number });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ msg: 'connections refused: 2 already open (OLP_HTTP_MAX_CONNECTIONS)', limit: 2 });
  } finally {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => server.close(resolve));
  }
});
