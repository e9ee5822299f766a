/** The command line as users run it: the built CLI in real processes, over loopback. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { getAttribute } from '../../src/otlp/values';
import { OtlpTestServer } from '../helpers/otlp-test-server';
import { runCli, startServiceProcess } from '../helpers/cli';
import { bodies } from '../helpers/builders';
import { serviceRows } from '../../src/cli/help';
import { eventually } from '../helpers/eventually';

const pkg = require('../../package.json') as { version: string };

describe('command line', () => {
  let sink: OtlpTestServer;
  beforeEach(async () => {
    sink = await new OtlpTestServer().start();
  });
  afterEach(() => sink.stop());

  test('--version prints the package version and --help lists the commands', async () => {
    expect((await runCli(['--version'])).stdout.trim()).toBe(pkg.version);
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/run\s+Run the service/);
    expect(help.stdout).toMatch(/send \[FILE\.\.\.\]/);
  });

  test('run --help documents every env var', async () => {
    const help = await runCli(['run', '--help']);
    expect(help.code).toBe(0);
    for (const row of serviceRows()) for (const name of row.env.split(', ')) expect(help.stdout).toContain(name);
    for (const name of ['OLP_SEVERITY_INFER', 'OTEL_RESOURCE_ATTRIBUTES', 'K8S_POD_NAME', 'OLP_ATTRIBUTES_ACTIONS']) expect(help.stdout).toContain(name);
  });

  test('an unknown command exits 2 with the usage', async () => {
    const r = await runCli(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown command "frobnicate"/);
  });

  test('run refuses to start on bad configuration, naming each variable, exit code 1', async () => {
    const r = await runCli(['run'], { OLP_GRPC_MAX_RECV_MIB: 'big', OLP_PROCESSORS: 'severity,nope', OLP_TYPO: '1' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('OLP_GRPC_MAX_RECV_MIB: expected an integer, got "big"');
    expect(r.stderr).toContain('OLP_PROCESSORS: unknown processor "nope"');
    expect(r.stderr).toContain('OLP_TYPO: unknown variable');
  });

  test('run reports an invalid processor option combination naming the variable', async () => {
    const r = await runCli(['run'], { OLP_SEVERITY_CLASS_ATTRIBUTE: 'log.severity.inferred' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('OLP_SEVERITY_CLASS_ATTRIBUTE: must not be log.severity.inferred');
  });

  test('send → run → downstream: lines from a file arrive enriched; SIGTERM exits 0', async () => {
    const svc = await startServiceProcess({ OTEL_EXPORTER_OTLP_ENDPOINT: sink.endpoint, K8S_POD_NAME: 'pod-a' });
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'olp-send-')), 'app.log');
    fs.writeFileSync(file, '2024-01-01 10:00:00 INFO started\r\n2024-01-01 10:00:01 ERROR failed to connect\r\n\r\nno level here\n');
    const sent = await runCli(['send', '--endpoint', `http://127.0.0.1:${svc.port}`, '--service', 'cli-test', file]);
    expect(sent.code).toBe(0);
    expect(sent.stderr).toMatch(/sent 3 records/);
    await sink.waitForRecords(3);
    const records = sink.records();
    expect(bodies(records)).toEqual(['2024-01-01 10:00:00 INFO started', '2024-01-01 10:00:01 ERROR failed to connect', 'no level here']);
    expect(records.map((r) => r.severityText)).toEqual(['INFO', 'ERROR', 'INFO']);
    expect(getAttribute(records[0]!.attributes, 'log.file.name')?.stringValue).toBe('app.log');
    expect(records[0]!.observedTimeUnixNano.isZero()).toBe(false);
    const resource = sink.requests[0]!.resourceLogs[0]!.resource!.attributes;
    expect(getAttribute(resource, 'service.name')?.stringValue).toBe('cli-test');
    expect(getAttribute(resource, 'k8s.pod.name')?.stringValue).toBe('pod-a');
    expect(await svc.stop('SIGTERM')).toBe(0);
    expect(svc.stderr()).toMatch(/"msg":"stopped"/);
  });

  test('SIGINT flushes a pending batch before exiting 0', async () => {
    const svc = await startServiceProcess({ OTEL_EXPORTER_OTLP_ENDPOINT: sink.endpoint, OLP_BATCH_MAX_DELAY: '1h' });
    expect((await runCli(['send', '--endpoint', `http://127.0.0.1:${svc.port}`, '--quiet'], {}, 'a\nb\n')).code).toBe(0);
    expect(sink.recordCount).toBe(0);
    expect(await svc.stop('SIGINT')).toBe(0);
    expect(bodies(sink.records())).toEqual(['a', 'b']);
  });

  test('exits 0 within OLP_SHUTDOWN_TIMEOUT when downstream is gone, counting what it could not send', async () => {
    await sink.stop();
    const svc = await startServiceProcess({ OTEL_EXPORTER_OTLP_ENDPOINT: sink.endpoint, OLP_SHUTDOWN_TIMEOUT: '500ms', OLP_BATCH_MAX_DELAY: '1ms' });
    expect((await runCli(['send', '--endpoint', `http://127.0.0.1:${svc.port}`, '--quiet'], {}, 'x\ny\n')).code).toBe(0);
    // Stop while the exporter is in its retry backoff.
    await eventually(() => expect(svc.stderr()).toMatch(/export failed; will retry/));
    const t0 = Date.now();
    expect(await svc.stop('SIGTERM')).toBe(0);
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(svc.stderr()).toMatch(/"dropped":2/);
    sink = await new OtlpTestServer().start();
  });

  test('run with no downstream prints records to stdout (debug exporter)', async () => {
    const svc = await startServiceProcess({});
    await runCli(['send', '--endpoint', `http://127.0.0.1:${svc.port}`, '--quiet'], {}, 'WARN: disk almost full\n');
    await eventually(() => expect(svc.stdout()).toMatch(/WARN WARN: disk almost full/));
    expect(await svc.stop()).toBe(0);
  });

  test('send fails with exit 1 and a message when nobody listens', async () => {
    await sink.stop();
    const r = await runCli(['send', '--endpoint', sink.endpoint], {}, 'x\n');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/otlp-log-processor send: .*(UNAVAILABLE|connect|No connection)/i);
    sink = await new OtlpTestServer().start();
  });

  test('send rejects a bad option value', async () => {
    const r = await runCli(['send', '--batch', 'zero']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--batch: expected a positive integer/);
  });
});
