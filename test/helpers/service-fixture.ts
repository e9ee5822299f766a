/**
 * The usual end-to-end arrangement: a fresh OTLP test sink per test, a service started by the
 * test and pointed at it, both stopped after each test. Call at describe level.
 */
import { OtlpTestServer } from './otlp-test-server';
import { startTestService, type TestService } from './service';
import type { ProcessorFactory } from '../../src/processors/contract';

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

export interface SharedService {
  readonly sink: OtlpTestServer;
  readonly service: TestService;
}

/**
 * One sink and one service for every test of a describe block (beforeAll/afterAll), for tests
 * that do not depend on each other's records. `env` adds to or overrides the sink endpoint.
 */
export function useSharedService(env: Record<string, string> = {}): SharedService {
  const f = {} as { sink: OtlpTestServer; service: TestService };
  beforeAll(async () => {
    f.sink = await new OtlpTestServer().start();
    f.service = await startTestService({ OTEL_EXPORTER_OTLP_ENDPOINT: f.sink.endpoint, ...env });
  });
  afterAll(async () => {
    await f.service?.shutdown();
    await f.sink?.stop();
  });
  return f;
}
