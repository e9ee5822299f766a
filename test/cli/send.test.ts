/** `send` as a live forwarder: stdin and followed files are sent as lines arrive, not at EOF. */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { OtlpTestServer } from '../helpers/otlp-test-server';
import { CLI, runCli } from '../helpers/cli';
import { bodies } from '../helpers/builders';
import { makePki } from '../helpers/certs';
import * as grpc from '@grpc/grpc-js';

interface Sender {
  readonly child: ChildProcessWithoutNullStreams;
  readonly exited: Promise<number | null>;
  stderr(): string;
}

function startSend(args: string[]): Sender {
  const child = spawn(process.execPath, [CLI, 'send', ...args], { env: { PATH: process.env.PATH ?? '' }, stdio: 'pipe' });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, exited, stderr: () => err };
}

describe('send, live', () => {
  let sink: OtlpTestServer;
  let sender: Sender | undefined;
  let dir: string;
  beforeEach(async () => {
    sink = await new OtlpTestServer().start();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'olp-send-live-'));
  });
  afterEach(async () => {
    if (sender && sender.child.exitCode === null) {
      sender.child.kill('SIGKILL');
      await sender.exited;
    }
    sender = undefined;
    await sink.stop();
  });

  test('forwards stdin lines while stdin stays open, within the maximum delay', async () => {
    sender = startSend(['--endpoint', sink.endpoint, '--quiet']);
    sender.child.stdin.write('first\n');
    await sink.waitForRecords(1, 5000);
    sender.child.stdin.write('second\nthird\n');
    await sink.waitForRecords(3, 5000);
    sender.child.stdin.end();
    expect(await sender.exited).toBe(0);
    expect(bodies(sink.records())).toEqual(['first', 'second', 'third']);
  });

  test('sends a full batch at once, without waiting for the delay', async () => {
    sender = startSend(['--endpoint', sink.endpoint, '--quiet', '--batch', '2', '--max-delay', '1h']);
    sender.child.stdin.write('a\nb\n');
    await sink.waitForRecords(2, 5000);
    expect(sink.requests).toHaveLength(1);
  });

  test('--follow sends lines appended to a file, across rename-and-recreate and truncation, and stops on SIGTERM', async () => {
    const file = path.join(dir, 'app.log');
    fs.writeFileSync(file, 'before start\n');
    sender = startSend(['--endpoint', sink.endpoint, '--quiet', '--follow', file]);
    await sink.waitForRecords(1, 5000);

    fs.appendFileSync(file, 'appended\npartial');
    await sink.waitForRecords(2, 5000);
    fs.appendFileSync(file, ' line\n');
    await sink.waitForRecords(3, 5000);

    // logrotate `create`: rename, the writer finishes its line in the old file, a new file appears.
    fs.renameSync(file, `${file}.1`);
    fs.appendFileSync(`${file}.1`, 'last in old file\n');
    fs.writeFileSync(file, 'first in new file\n');
    await sink.waitForRecords(5, 5000);

    // logrotate `copytruncate`: the same file, cut to zero, written again from the start.
    fs.truncateSync(file, 0);
    fs.appendFileSync(file, 'after\n');
    await sink.waitForRecords(6, 5000);

    sender.child.kill('SIGTERM');
    expect(await sender.exited).toBe(0);
    expect(bodies(sink.records())).toEqual(['before start', 'appended', 'partial line', 'last in old file', 'first in new file', 'after']);
  });

  test('--follow --from-end skips what the file already holds', async () => {
    const file = path.join(dir, 'app.log');
    fs.writeFileSync(file, 'old\n');
    sender = startSend(['--endpoint', sink.endpoint, '--quiet', '--follow', '--from-end', file]);
    // The follower has opened the file once the line written now arrives; nothing before it may.
    const appendUntilSent = setInterval(() => fs.appendFileSync(file, 'new\n'), 100);
    try {
      await sink.waitForRecords(1, 5000);
    } finally {
      clearInterval(appendUntilSent);
    }
    expect(bodies(sink.records())).not.toContain('old');
  });

  test('--ca-file trusts a private CA for an https:// endpoint (a TLS gateway)', async () => {
    const pki = makePki();
    const ca = pki.ca('ca');
    const server = pki.issue('server', ca, true);
    const tlsSink = await new OtlpTestServer().start(grpc.ServerCredentials.createSsl(null, [{ cert_chain: fs.readFileSync(server.cert), private_key: fs.readFileSync(server.key) }]));
    try {
      const r = await runCli(['send', '--endpoint', `https://localhost:${tlsSink.port}`, '--ca-file', ca.cert, '--quiet'], {}, 'over tls\n');
      expect(r.code).toBe(0);
      expect(bodies(tlsSink.records())).toEqual(['over tls']);
    } finally {
      await tlsSink.stop();
    }
  });

  test.each([
    [['--follow'], '--follow: expected exactly one FILE'],
    [['--follow', 'a', 'b'], '--follow: expected exactly one FILE'],
    [['--from-end', 'a'], '--from-end: only with --follow'],
    [['--max-delay', 'soon'], '--max-delay: expected a duration'],
  ])('rejects %j', async (args, message) => {
    const r = await runCli(['send', ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
  });
});
