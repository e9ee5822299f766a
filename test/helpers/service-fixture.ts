/**
 * The usual end-to-end arrangement: a fresh OTLP test sink per test, a service started by the
 * test and pointed at it, both stopped after each test. Call at describe level.
 */
import { OtlpTestServer } from './otlp-test-server';
import { startTestService, type TestService } from './service';
import type { ProcessorFactory } from '../../src/pipeline/processor';

export interface ServiceFixture {
  /** Replace it (e.g. with a TLS sink) inside a test; the fixture stops whatever it holds. */
  sink: OtlpTestServer;
  service: TestService | undefined;
  /** Starts the service exporting to the sink; `env` adds to or overrides that. */
  start(env?: Record<string, string>, processors?: readonly ProcessorFactory<any>[]): Promise<TestService>;
}

export function useServiceFixture(): ServiceFixture {
  const f: ServiceFixture = {
    sink: undefined as unknown as OtlpTestServer,
    service: undefined,
    async start(env = {}, processors) {
      f.service = await startTestService({ OTEL_EXPORTER_OTLP_ENDPOINT: f.sink.endpoint, ...env }, processors);
      return f.service;
    },
  };
  beforeEach(async () => {
    f.sink = await new OtlpTestServer().start();
  });
  afterEach(async () => {
    await f.service?.shutdown();
    f.service = undefined;
    await f.sink.stop();
  });
  return f;
}
