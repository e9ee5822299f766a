/** `validate` and `print-config` as users run them. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse } from 'yaml';
import { runCli, startServiceProcess } from '../helpers/cli';

describe('validate', () => {
  test('reports a valid configuration with a summary, exit 0', async () => {
    const r = await runCli(['validate'], { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4317', OLP_PROCESSORS: 'severity,attributes' });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/configuration is valid/);
    expect(r.stdout).toMatch(/processors severity, attributes/);
    expect(r.stdout).toMatch(/otlp → http:\/\/collector:4317/);
  });

  test('lists every problem with its variable, including processor option errors, exit 1', async () => {
    const r = await runCli(['validate'], { OLP_GRPC_ENDPOINT: 'nohost', OLP_BATCH_MAX_DELAY: 'fast', OLP_SEVERITY_CLASS_ATTRIBUTE: 'log.severity.inferred' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('OLP_GRPC_ENDPOINT: expected host:port');
    expect(r.stderr).toContain('OLP_BATCH_MAX_DELAY: expected a duration');
    const processorProblem = await runCli(['validate'], { OLP_SEVERITY_CLASS_ATTRIBUTE: 'log.severity.inferred' });
    expect(processorProblem.stderr).toContain('OLP_SEVERITY_CLASS_ATTRIBUTE: must not be');
  });

  test('fails on a misspelt OTEL_* or K8S_* variable, naming the one it meant; run starts but logs the warning', async () => {
    const env = { OTEL_EXPORTER_OTLP_ENDPIONT: 'http://collector:4317', K8S_POD_NAM: 'p1' };
    const r = await runCli(['validate'], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('OTEL_EXPORTER_OTLP_ENDPIONT: not a variable this service reads (did you mean OTEL_EXPORTER_OTLP_ENDPOINT?)');
    expect(r.stderr).toContain('K8S_POD_NAM: not a variable this service reads (did you mean K8S_POD_NAME?)');
    const service = await startServiceProcess(env);
    try {
      expect(service.stderr()).toContain('did you mean OTEL_EXPORTER_OTLP_ENDPOINT?');
    } finally {
      await service.stop();
    }
  });

  test.each([
    ['an endpoint without a scheme', { OTEL_EXPORTER_OTLP_ENDPOINT: '127.0.0.1:4317' }, 'write http://127.0.0.1:4317 for plaintext or https://127.0.0.1:4317 for TLS'],
    ['a port out of range', { OLP_GRPC_ENDPOINT: '0.0.0.0:99999' }, 'OLP_GRPC_ENDPOINT: port 99999 is out of range'],
  ])('refuses %s before anything runs', async (_what, env, message) => {
    const r = await runCli(['validate'], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(message);
  });

  test('refuses an OLP_CONFIG file that uses an unset ${env:VAR} without a default', async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'olp-validate-')), 'config.yaml');
    fs.writeFileSync(file, 'otlp:\n  endpoint: ${env:DOWNSTREAM}\n');
    const r = await runCli(['validate'], { OLP_CONFIG: file });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('DOWNSTREAM is not set');
  });

  test('--help explains it', async () => {
    expect((await runCli(['validate', '--help'])).stdout).toMatch(/Usage: otlp-log-processor validate/);
  });
});

describe('print-config', () => {
  test('prints the effective config with secrets redacted', async () => {
    const r = await runCli(['print-config'], {
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4317',
      OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20s3cr3t,x-tenant=a',
      OLP_AUTH_BEARER_TOKENS: 'tok3n-one,tok3n-two',
      OLP_BATCH_MAX_DELAY: '1s',
    });
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('s3cr3t');
    expect(r.stdout).not.toContain('tok3n');
    const doc = parse(r.stdout) as Record<string, any>;
    expect(doc.otlp.headers).toEqual({ authorization: '<redacted>', 'x-tenant': '<redacted>' });
    expect(doc.auth.bearer_tokens).toEqual(['<redacted>', '<redacted>']);
    expect(doc.batch).toEqual({ max_records: 8192, max_delay: '1s' });
    expect(doc.exporters).toEqual(['otlp']);
    expect(doc.processors).toEqual(['severity', 'resource']);
  });

  test('its YAML output loads back as OLP_CONFIG to the same configuration', async () => {
    const env = { OLP_PROCESSORS: 'severity,attributes', OLP_ATTRIBUTES_ACTIONS: 'insert a=1;rename b=c', OLP_RETRY_MAX_ELAPSED: '90s', K8S_POD_NAME: 'p1' };
    const first = await runCli(['print-config'], env);
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'olp-print-')), 'config.yaml');
    fs.writeFileSync(file, first.stdout);
    const second = await runCli(['print-config'], { OLP_CONFIG: file });
    expect(second.code).toBe(0);
    expect(second.stdout).toBe(first.stdout);
  });

  test('prints JSON with --format json and refuses an unknown format', async () => {
    const r = await runCli(['print-config', '--format', 'json']);
    expect(JSON.parse(r.stdout).grpc).toMatchObject({ endpoint: '0.0.0.0:4317', max_recv_mib: 16 });
    const bad = await runCli(['print-config', '--format', 'xml']);
    expect(bad.code).toBe(2);
  });

  test('fails with the problems when the configuration is invalid', async () => {
    const r = await runCli(['print-config'], { OLP_PROCESSORS: 'nope' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('OLP_PROCESSORS: unknown processor "nope"');
  });
});
