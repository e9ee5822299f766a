/**
 * The status page at / in a real browser (headless Chromium): after its scripts ran it shows the
 * pipeline with live rates and the template table. Skipped, with a message, when chromium is
 * not installed (Debian: apt-get install -y chromium). On failure the screenshot is kept in
 * .tmp-test-output/status-page/.
 */
import { execFile, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { record, request } from '../helpers/builders';
import { exportLogs } from '../helpers/grpc-client';
import { httpRequest } from '../helpers/http-client';
import { useSharedService } from '../helpers/service-fixture';

const OUTPUT = path.resolve(__dirname, '../../.tmp-test-output/status-page');

function chromiumPath(): string | undefined {
  for (const name of ['chromium', 'chromium-browser']) {
    try {
      return execFileSync('sh', ['-c', `command -v ${name}`]).toString().trim() || undefined;
    } catch {
      // not this one
    }
  }
  return undefined;
}

function chromium(bin: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(bin, ['--headless', '--disable-gpu', '--no-sandbox', '--no-first-run', '--user-data-dir=' + path.join(OUTPUT, 'profile'), ...args], { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout),
    );
  });
}

const bin = chromiumPath();
if (!bin) process.stderr.write('status-page.test.ts: chromium is not installed: the browser test is skipped (Debian: apt-get install -y chromium)\n');

(bin ? describe : describe.skip)('status page in headless Chromium', () => {
  const f = useSharedService({ OLP_PROCESSORS: 'severity,classify', OLP_BATCH_MAX_DELAY: '1ms' });

  test('renders the pipeline with live rates and the template table with new templates marked', async () => {
    const url = `http://127.0.0.1:${f.service.metricsPort}/`;
    // A first status request is the sample the page's first rates are measured against.
    expect((await httpRequest(`${url}api/status`, undefined, { method: 'GET' })).status).toBe(200);
    for (let i = 0; i < 10; i++) {
      const records = [record(`order ${i} shipped to warehouse ${i % 3}`, { severityNumber: 9 }), record(`payment ${i} failed: card declined`, { severityNumber: 17 })];
      expect((await exportLogs(f.service.endpoint, request(records))).code).toBe(grpc.status.OK);
    }
    await f.sink.waitForRecords(20);

    fs.mkdirSync(OUTPUT, { recursive: true });
    // Virtual time lets the page poll a few times before the DOM is dumped.
    const dom = await chromium(bin!, ['--virtual-time-budget=3000', '--dump-dom', url]);
    try {
      expect(dom).toMatch(/<tr class="new" data-id="[0-9a-f]{16}">.*order &lt;\*&gt; shipped to warehouse &lt;\*&gt;/);
      expect(dom).toContain('payment &lt;*&gt; failed: card declined');
      expect(dom).toMatch(/<td>error 100%<\/td>/);
      expect(dom).toMatch(/id="receiver-grpc">.*?<div class="rate">[1-9][\d.]* \/s in<\/div>/);
      expect(dom).toMatch(/id="processor-classify">.*?<div class="rate">[1-9][\d.]* → [1-9][\d.]* \/s<\/div>/);
      expect(dom).toMatch(/id="exporter-otlp">.*?queue \d+ \/ [\d.]+k?/);
      expect(dom).toMatch(/<svg id="errors"[^>]*><polyline points="[\d., ]+">/);
      expect(dom).not.toContain('connecting…');
    } catch (e) {
      const shot = path.join(OUTPUT, 'status-page.png');
      fs.writeFileSync(path.join(OUTPUT, 'status-page.html'), dom);
      await chromium(bin!, ['--virtual-time-budget=3000', '--window-size=1280,1000', `--screenshot=${shot}`, url]).catch(() => undefined);
      throw new Error(`${(e as Error).message}\n(screenshot: ${shot}, DOM: ${path.join(OUTPUT, 'status-page.html')})`, { cause: e });
    }
  }, 90_000);
});
