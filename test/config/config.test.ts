import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigError } from '../../src/config/load';
import { resolveConfig } from '../../src/config/resolve';
import { builtinProcessors } from '../../src/processors/registry';

function resolve(env: Record<string, string>) {
  return resolveConfig(env, builtinProcessors);
}

function problemsOf(env: Record<string, string>): string[] {
  try {
    resolve(env);
  } catch (e) {
    if (e instanceof ConfigError) return [...e.problems];
    throw e;
  }
  throw new Error('expected a ConfigError');
}

function tempYaml(text: string): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'olp-config-')), 'config.yaml');
  fs.writeFileSync(file, text);
  return file;
}

describe('configuration', () => {
  test('uses the documented defaults when nothing is set', () => {
    const c = resolve({});
    expect(c.service.grpc.endpoint).toBe('0.0.0.0:4317');
    expect(c.service.grpc.max_recv_mib).toBe(16);
    expect(c.service[''].processors).toEqual(['severity', 'resource']);
    expect(c.service.batch).toEqual({ max_records: 8192, max_delay: 200 });
    expect(c.service.retry).toEqual({ enabled: true, initial_interval: 5000, max_interval: 30000, max_elapsed: 300000 });
    expect(c.service[''].shutdown_timeout).toBe(30000);
    expect(c.service.otlp.timeout).toBe(10000);
    expect(c.exporters).toEqual(['debug']);
  });

  test('picks the otlp exporter when an endpoint is set, the signal-specific variable first', () => {
    const c = resolve({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4317', OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: 'http://b:4317' });
    expect(c.exporters).toEqual(['otlp']);
    expect(c.service.otlp.endpoint).toBe('http://b:4317');
    expect(c.origins['otlp.endpoint']).toBe('OTEL_EXPORTER_OTLP_LOGS_ENDPOINT');
  });

  test('parses OTLP headers, compression, timeout in ms and insecure like the OTel SDKs', () => {
    const c = resolve({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4317',
      OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20abc,x-tenant=t1',
      OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip',
      OTEL_EXPORTER_OTLP_TIMEOUT: '2500',
      OTEL_EXPORTER_OTLP_INSECURE: 'true',
    });
    expect(c.service.otlp.headers).toEqual({ authorization: 'Bearer abc', 'x-tenant': 't1' });
    expect(c.service.otlp.compression).toBe('gzip');
    expect(c.service.otlp.timeout).toBe(2500);
    expect(c.service.otlp.insecure).toBe(true);
  });

  test.each([
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }, 'http://c:4318/v1/logs'],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://c/otlp/' }, 'https://c/otlp/v1/logs'],
    [{ OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: 'http://c:4318/custom/path' }, 'http://c:4318/custom/path'],
  ])('builds the OTLP/HTTP logs URL from %j as the OTel spec says', (env, url) => {
    expect(resolve({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf', ...env }).exporterSpecs[0]!.otlp!.httpUrl).toBe(url);
  });

  test('configures named exporters from OLP_EXPORTER_<NAME>_* next to the standard otlp one', () => {
    const c = resolve({
      OLP_EXPORTERS: 'otlp,audit,console',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://main:4317',
      OLP_EXPORTER_AUDIT_ENDPOINT: 'https://audit.example/v1/logs',
      OLP_EXPORTER_AUDIT_PROTOCOL: 'http/json',
      OLP_EXPORTER_AUDIT_HEADERS: 'x-tenant=sec',
      OLP_EXPORTER_CONSOLE_TYPE: 'debug',
    });
    expect(c.exporters).toEqual(['otlp', 'audit', 'console']);
    expect(c.exporterSpecs.map((e) => [e.name, e.type, e.otlp?.endpoint, e.otlp?.httpUrl])).toEqual([
      ['otlp', 'otlp', 'http://main:4317', undefined],
      ['audit', 'otlp', 'https://audit.example/v1/logs', 'https://audit.example/v1/logs'],
      ['console', 'debug', undefined, undefined],
    ]);
    expect(c.exporterSpecs[1]!.otlp!.headers).toEqual({ 'x-tenant': 'sec' });
  });

  test('treats an empty OTEL_* variable as unset but an empty OLP_PROCESSORS as an empty chain', () => {
    const c = resolve({ OTEL_EXPORTER_OTLP_ENDPOINT: '', OLP_PROCESSORS: '' });
    expect(c.exporters).toEqual(['debug']);
    expect(c.service[''].processors).toEqual([]);
  });

  test('returns a deeply frozen config', () => {
    const c = resolve({});
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.service.grpc)).toBe(true);
    expect(Object.isFrozen(c.service[''].processors)).toBe(true);
  });

  test.each([
    [{ OLP_GRPC_MAX_RECV_MIB: 'lots' }, 'OLP_GRPC_MAX_RECV_MIB: expected an integer, got "lots"'],
    [{ OLP_GRPC_MAX_RECV_MIB: '0' }, 'OLP_GRPC_MAX_RECV_MIB: must be at least 1'],
    [{ OLP_BATCH_MAX_DELAY: '200' }, 'OLP_BATCH_MAX_DELAY: expected a duration with a unit'],
    [{ OLP_SHUTDOWN_TIMEOUT: 'soon' }, 'OLP_SHUTDOWN_TIMEOUT: expected a duration'],
    [{ OLP_RETRY_ENABLED: 'maybe' }, 'OLP_RETRY_ENABLED: expected true or false'],
    [{ OTEL_EXPORTER_OTLP_COMPRESSION: 'zstd' }, 'OTEL_EXPORTER_OTLP_COMPRESSION:'],
    [{ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/xml' }, 'OTEL_EXPORTER_OTLP_PROTOCOL:'],
    [{ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_ENDPOINT: 'ftp://collector:4318' }, 'OTEL_EXPORTER_OTLP_ENDPOINT: invalid OTLP/HTTP endpoint'],
    [{ OLP_HTTP_ENDPOINT: '4318' }, 'OLP_HTTP_ENDPOINT: expected host:port'],
    [{ OTEL_EXPORTER_OTLP_TIMEOUT: '-5' }, 'OTEL_EXPORTER_OTLP_TIMEOUT:'],
    [{ OLP_PROCESSORS: 'severity,sevrity' }, 'OLP_PROCESSORS: unknown processor "sevrity"'],
    [{ OLP_PROCESSORS: 'severity,severity' }, 'OLP_PROCESSORS: processor "severity" is listed twice'],
    [{ OLP_EXPORTERS: 'audit' }, 'OLP_EXPORTER_AUDIT_ENDPOINT: required for exporter "audit"'],
    [{ OLP_EXPORTERS: 'Audit-Log' }, 'OLP_EXPORTERS: invalid exporter name "Audit-Log"'],
    [{ OLP_EXPORTERS: 'audit', OLP_EXPORTER_AUDIT_ENDPOINT: 'http://a:4317/x' }, 'OLP_EXPORTER_AUDIT_ENDPOINT: invalid OTLP/gRPC endpoint'],
    [{ OLP_EXPORTER_AUDIT_ENDPOINT: 'http://a:4317' }, 'OLP_EXPORTER_AUDIT_ENDPOINT: unknown variable'],
    [{ OLP_EXPORTERS: 'otlp' }, 'OLP_EXPORTERS: the otlp exporter needs OTEL_EXPORTER_OTLP_LOGS_ENDPOINT'],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://host:4317/v1/logs' }, 'OTEL_EXPORTER_OTLP_ENDPOINT: invalid OTLP/gRPC endpoint'],
    [{ OLP_GRPC_ENDPIONT: 'x' }, 'OLP_GRPC_ENDPIONT: unknown variable (did you mean OLP_GRPC_ENDPOINT?)'],
    [{ OLP_RESOURCE_ATTRIBUTES: 'novalue' }, 'OLP_RESOURCE_ATTRIBUTES: expected key=value pairs'],
    [{ OLP_ATTRIBUTES_ACTIONS: 'explode x' }, 'OLP_ATTRIBUTES_ACTIONS: cannot parse action "explode x"'],
    [{ OLP_RETRY_INITIAL_INTERVAL: '1m', OLP_RETRY_MAX_INTERVAL: '30s' }, 'OLP_RETRY_INITIAL_INTERVAL: must not exceed'],
    [{ OLP_LOG_LEVEL: 'chatty' }, 'OLP_LOG_LEVEL:'],
    [{ OLP_GRPC_ENDPOINT: 'localhost' }, 'OLP_GRPC_ENDPOINT: expected host:port'],
    [{ OLP_METRICS_ENDPOINT: ':8888x' }, 'OLP_METRICS_ENDPOINT: expected host:port'],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: '127.0.0.1:4317' }, 'OTEL_EXPORTER_OTLP_ENDPOINT: "127.0.0.1:4317" has no scheme: write http://127.0.0.1:4317 for plaintext or https://127.0.0.1:4317 for TLS'],
    [{ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf', OTEL_EXPORTER_OTLP_ENDPOINT: 'c:4318' }, 'OTEL_EXPORTER_OTLP_ENDPOINT: "c:4318" has no scheme: write http://c:4318'],
    [{ OLP_EXPORTERS: 'audit', OLP_EXPORTER_AUDIT_ENDPOINT: 'audit:4317' }, 'OLP_EXPORTER_AUDIT_ENDPOINT: "audit:4317" has no scheme'],
    [{ OLP_GRPC_ENDPOINT: '0.0.0.0:99999' }, 'OLP_GRPC_ENDPOINT: port 99999 is out of range (0-65535'],
    [{ OLP_METRICS_ENDPOINT: '[::]:65536' }, 'OLP_METRICS_ENDPOINT: port 65536 is out of range'],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:99999' }, 'OTEL_EXPORTER_OTLP_ENDPOINT: invalid OTLP/gRPC endpoint "http://c:99999": port 99999 is out of range (1-65535)'],
    [{ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:99999' }, 'OTEL_EXPORTER_OTLP_ENDPOINT: invalid OTLP/HTTP endpoint'],
    [{ OLP_QUEUE_MAX_RECORDS: '99999999999999999999' }, 'OLP_QUEUE_MAX_RECORDS: integer out of range'],
    [{ OLP_RETRY_MAX_ELAPSED: '1000h' }, 'OLP_RETRY_MAX_ELAPSED: must be at most 596h'],
  ])('rejects %j with a message naming the variable', (env, message) => {
    expect(problemsOf(env).join('\n')).toContain(message);
  });

  test('a request limit left at its default follows a smaller queue; one set above the queue is an error naming both', () => {
    expect(resolve({ OLP_QUEUE_MAX_RECORDS: '10000' }).service.limits.max_records).toBe(10000);
    expect(resolve({}).service.limits.max_records).toBe(50_000);
    expect(problemsOf({ OLP_QUEUE_MAX_RECORDS: '10000', OLP_LIMITS_MAX_RECORDS: '20000' })).toEqual([
      'OLP_LIMITS_MAX_RECORDS: 20000 records per request is more than an exporter queue holds (OLP_QUEUE_MAX_RECORDS=10000); lower it or raise the queue',
    ]);
    expect(resolve({ OLP_QUEUE_MAX_RECORDS: '10000', OLP_LIMITS_MAX_RECORDS: '20000', OLP_QUEUE_FULL_POLICY: 'drop_oldest' }).service.limits.max_records).toBe(20000);
  });

  test.each([
    [{ OTEL_EXPORTER_OTLP_ENDPIONT: 'http://c:4317' }, 'OTEL_EXPORTER_OTLP_ENDPIONT: not a variable this service reads (did you mean OTEL_EXPORTER_OTLP_ENDPOINT?)'],
    [{ OTEL_EXPORTER_OTLP_LOG_ENDPOINT: 'http://c:4317' }, 'did you mean OTEL_EXPORTER_OTLP_LOGS_ENDPOINT?'],
    [{ OTEL_SERVICE_NAEM: 'api' }, 'did you mean OTEL_SERVICE_NAME?'],
    [{ K8S_POD_NAM: 'p' }, 'K8S_POD_NAM: not a variable this service reads (did you mean K8S_POD_NAME?)'],
  ])('warns about %j, a near miss of a variable it reads, without refusing to start', (env, warning) => {
    expect(resolve(env).warnings.join('\n')).toContain(warning);
  });

  test.each([
    ['spec names of other signals and SDK settings', { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4317', OTEL_TRACES_EXPORTER: 'otlp', OTEL_METRICS_EXPORTER: 'none' }],
    ['unrelated names that share a prefix', { OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'http', K8S_SOMETHING_ELSE: 'x' }],
  ])('does not warn about %s', (_what, env) => {
    expect(resolve(env).warnings).toEqual([]);
  });

  test('an unset ${env:VAR} without a default in the YAML file is an error naming VAR', () => {
    const file = tempYaml('otlp:\n  endpoint: ${env:DOWNSTREAM}\n  headers:\n    authorization: Bearer ${env:TOKEN}\n    x-tenant: ${env:TENANT:-none}\n');
    const problems = problemsOf({ OLP_CONFIG: file });
    expect(problems).toEqual([
      `${file}: \${env:DOWNSTREAM}: DOWNSTREAM is not set (give a default with \${env:DOWNSTREAM:-value})`,
      `${file}: \${env:TOKEN}: TOKEN is not set (give a default with \${env:TOKEN:-value})`,
    ]);
  });

  test('a scheme-less gRPC endpoint is accepted when OTEL_EXPORTER_OTLP_INSECURE chooses plaintext or TLS explicitly', () => {
    expect(resolve({ OTEL_EXPORTER_OTLP_ENDPOINT: 'c:4317', OTEL_EXPORTER_OTLP_INSECURE: 'false' }).exporters).toEqual(['otlp']);
  });

  test('reports every problem at once', () => {
    expect(problemsOf({ OLP_GRPC_MAX_RECV_MIB: 'x', OLP_BATCH_MAX_DELAY: 'y', OLP_NOPE: '1' })).toHaveLength(3);
  });

  test('does not echo secret values in messages', () => {
    const text = problemsOf({ OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%zzsecret' }).join('\n');
    expect(text).toContain('OTEL_EXPORTER_OTLP_HEADERS');
    expect(text).not.toContain('Bearer%zzsecret');
  });

  test('reads a YAML file, expands ${env:VAR}, and lets env vars override it', () => {
    const file = tempYaml(`
processors: [severity, attributes]
grpc:
  endpoint: 127.0.0.1:5317
  max_recv_mib: 8
batch:
  max_delay: 50ms
otlp:
  endpoint: \${env:DOWNSTREAM}
  headers:
    x-token: \${env:TOKEN:-none}
attributes:
  actions:
    - { action: insert, key: env, value: prod }
    - { action: upsert, key: retries, value: 3 }
`);
    const c = resolve({ OLP_CONFIG: file, DOWNSTREAM: 'http://down:4317', OLP_GRPC_MAX_RECV_MIB: '4' });
    expect(c.service[''].processors).toEqual(['severity', 'attributes']);
    expect(c.service.grpc).toMatchObject({ endpoint: '127.0.0.1:5317', max_recv_mib: 4 });
    expect(c.origins['grpc.max_recv_mib']).toBe('OLP_GRPC_MAX_RECV_MIB');
    expect(c.origins['grpc.endpoint']).toBe('file');
    expect(c.service.batch.max_delay).toBe(50);
    expect(c.service.otlp.endpoint).toBe('http://down:4317');
    expect(c.service.otlp.headers).toEqual({ 'x-token': 'none' });
    expect(c.exporters).toEqual(['otlp']);
    expect(c.processorOptions.attributes!.actions).toEqual([
      { action: 'insert', key: 'env', value: 'prod' },
      { action: 'upsert', key: 'retries', value: 3 },
    ]);
  });

  test('rejects unknown keys and bad values in the YAML file, naming file and key', () => {
    const file = tempYaml('grpc:\n  endpiont: x\n  max_recv_mib: many\nbogus: 1\n');
    const text = problemsOf({ OLP_CONFIG: file }).join('\n');
    expect(text).toContain(`${file}: grpc.endpiont: unknown key (did you mean endpoint?)`);
    expect(text).toContain(`${file}: grpc.max_recv_mib: expected an integer`);
    expect(text).toContain(`${file}: bogus: unknown key`);
  });

  test('reports an unreadable config file naming OLP_CONFIG', () => {
    expect(problemsOf({ OLP_CONFIG: '/nonexistent/olp.yaml' }).join('\n')).toContain('OLP_CONFIG=/nonexistent/olp.yaml: cannot read');
  });
});
