/** Liveness, readiness and the gRPC health service, as Kubernetes probes and gRPC clients see them. */
import * as grpc from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { LOGS_SERVICE } from '../../src/otlp/codec';
import { OtlpTestServer } from '../helpers/otlp-test-server';
import { startTestService } from '../helpers/service';
import { useServiceFixture } from '../helpers/service-fixture';
import { exportLogs } from '../helpers/grpc-client';
import { record, request } from '../helpers/builders';
import { eventually } from '../helpers/eventually';

type HealthClient = grpc.Client & {
  check(req: { service: string }, cb: (err: grpc.ServiceError | null, res?: { status: string }) => void): void;
};
const HealthClientCtor = grpc.makeClientConstructor(healthService as unknown as grpc.ServiceDefinition, 'Health') as unknown as new (
  address: string,
  creds: grpc.ChannelCredentials,
) => HealthClient;

function grpcHealth(port: number, service: string): Promise<string> {
  const client = new HealthClientCtor(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  return new Promise<string>((resolve, reject) =>
    client.check({ service }, (err, res) => {
      client.close();
      if (err) reject(err);
      else resolve(res!.status);
    }),
  );
}

async function get(port: number, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: await res.text() };
}

describe('health', () => {
  const f = useServiceFixture();

  test('/healthz and /readyz answer 200 on the metrics port once the pipeline is up', async () => {
    f.service = await startTestService({ OTEL_EXPORTER_OTLP_ENDPOINT: f.sink.endpoint });
    expect(f.service.healthPort).toBe(f.service.metricsPort);
    expect(await get(f.service.healthPort!, '/healthz')).toEqual({ status: 200, body: '{"status":"ok"}\n' });
    expect(await get(f.service.healthPort!, '/readyz')).toEqual({ status: 200, body: '{"status":"ready"}\n' });
    expect((await get(f.service.healthPort!, '/nope')).status).toBe(404);
  });

  test('the gRPC health f.service reports SERVING for the server and LogsService', async () => {
    f.service = await startTestService({ OTEL_EXPORTER_OTLP_ENDPOINT: f.sink.endpoint });
    expect(await grpcHealth(f.service.grpcPort, '')).toBe('SERVING');
    expect(await grpcHealth(f.service.grpcPort, LOGS_SERVICE)).toBe('SERVING');
    await expect(grpcHealth(f.service.grpcPort, 'no.such.Service')).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
  });

  test('/readyz turns 503 while draining, /healthz stays 200', async () => {
    await f.sink.stop(); // downstream gone: draining lasts until the shutdown timeout
    f.service = await startTestService({ OTEL_EXPORTER_OTLP_ENDPOINT: f.sink.endpoint, OLP_SHUTDOWN_TIMEOUT: '1s', OLP_BATCH_MAX_DELAY: '1ms' });
    await exportLogs(f.service.endpoint, request([record('pending')]));
    const port = f.service.healthPort!;
    const stopping = f.service.shutdown();
    await eventually(async () => expect(await get(port, '/readyz')).toEqual({ status: 503, body: '{"status":"draining"}\n' }));
    expect((await get(port, '/healthz')).status).toBe(200);
    await stopping;
    f.service = undefined;
    f.sink = await new OtlpTestServer().start();
  });

  test('OLP_HEALTH_ENDPOINT moves the probes to their own port', async () => {
    f.service = await startTestService({ OTEL_EXPORTER_OTLP_ENDPOINT: f.sink.endpoint, OLP_HEALTH_ENDPOINT: '127.0.0.1:0' });
    expect(f.service.healthPort).not.toBe(f.service.metricsPort);
    expect((await get(f.service.healthPort!, '/readyz')).status).toBe(200);
    expect((await get(f.service.metricsPort!, '/readyz')).status).toBe(404);
    expect((await get(f.service.metricsPort!, '/metrics')).status).toBe(200);
  });
});
