/**
 * The queue gauges during a downstream outage, scraped from /metrics of the real service: the
 * records held for retry are in olp_exporter_queue_size and _bytes, whether they wait in the
 * queue or in a consumer's retry loop, with the memory queue and the persistent queue alike.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { OtlpTestServer } from '../helpers/otlp-test-server';
import { runCli, startServiceProcess, type ServiceProcess } from '../helpers/cli';
import { eventually } from '../helpers/eventually';

function scrape(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: '/metrics' }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

function gauge(text: string, name: string): number {
  const m = new RegExp(`^${name}\\{exporter="otlp"\\} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

const RECORDS = 10_000;

describe('queue gauges in an outage', () => {
  let service: ServiceProcess | undefined;
  afterEach(async () => {
    await service?.stop('SIGKILL');
    service = undefined;
  });

  test.each([
    ['the memory queue', false],
    ['the persistent queue', true],
  ])('%s: olp_exporter_queue_size and _bytes count every record waiting while the sink is down', async (_what, persistent) => {
    // A sink that is down: its port, closed.
    const sink = await new OtlpTestServer().start();
    await sink.stop();
    const env: Record<string, string> = { OTEL_EXPORTER_OTLP_ENDPOINT: sink.endpoint, OLP_WORKERS: '0', OLP_PROCESSORS: '', OLP_SHUTDOWN_TIMEOUT: '1s' };
    if (persistent) env.OLP_QUEUE_DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'olp-gauges-'));
    service = await startServiceProcess(env);
    const metricsPort = Number(/"metrics":"[^"]*:(\d+)"/.exec(service.stderr())![1]);

    const lines = Array.from({ length: RECORDS }, (_, i) => `line ${i}`).join('\n') + '\n';
    expect((await runCli(['send', '--endpoint', `http://127.0.0.1:${service.port}`, '--quiet'], {}, lines)).code).toBe(0);

    await eventually(async () => {
      const text = await scrape(metricsPort);
      expect(gauge(text, 'olp_exporter_queue_size')).toBe(RECORDS);
      // Each record's body alone is at least 6 bytes encoded.
      expect(gauge(text, 'olp_exporter_queue_bytes')).toBeGreaterThan(RECORDS * 6);
    }, 10_000);
  });
});
