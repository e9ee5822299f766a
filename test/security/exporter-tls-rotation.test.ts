/** The OTLP exporters re-read their TLS files: a rotated CA bundle or client certificate applies without restart. */
import * as fs from 'node:fs';
import * as https from 'node:https';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { makePki, type Pki } from '../helpers/certs';
import { eventually } from '../helpers/eventually';
import { exportLogs } from '../helpers/grpc-client';
import { OtlpTestServer } from '../helpers/otlp-test-server';
import { record, request } from '../helpers/builders';
import { startTestService, type TestService } from '../helpers/service';

type Pair = { cert: string; key: string };

/** An OTLP/HTTP sink over HTTPS that requires a client certificate signed by `clientCa`. */
async function httpsSink(server: Pair, clientCa: string): Promise<{ port: number; requests: () => number; stop(): Promise<void> }> {
  let requests = 0;
  const srv = https.createServer({ cert: fs.readFileSync(server.cert), key: fs.readFileSync(server.key), ca: fs.readFileSync(clientCa), requestCert: true, rejectUnauthorized: true }, (req, res) => {
    req.resume();
    req.on('end', () => {
      requests++;
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return {
    port: (srv.address() as { port: number }).port,
    requests: () => requests,
    stop: () => new Promise((r) => (srv.closeAllConnections(), srv.close(() => r()))),
  };
}

describe('exporter TLS file rotation', () => {
  let pki: Pki;
  let ca: Pair;
  let otherCa: Pair;
  let server: Pair;
  let client: Pair;
  let stranger: Pair;
  let service: TestService | undefined;
  const cleanups: (() => Promise<void> | void)[] = [];

  beforeAll(() => {
    pki = makePki();
    ca = pki.ca('ca');
    otherCa = pki.ca('other-ca');
    server = pki.issue('server', ca, true);
    client = pki.issue('client', ca, false);
    stranger = pki.issue('stranger', otherCa, false);
  });
  afterEach(async () => {
    await service?.shutdown();
    service = undefined;
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  test.each([
    ['grpc', 'client certificate', true],
    ['grpc', 'client certificate', false],
    ['grpc', 'CA bundle', true],
    ['http/protobuf', 'client certificate', true],
    ['http/protobuf', 'CA bundle', true],
  ] as const)('%s: a rotated %s (CA file set: %s) is used without restart', async (protocol, rotated, withCaFile) => {
    const dir = fs.mkdtempSync(path.join(pki.dir, 'rotate-'));
    const files = { ca: path.join(dir, 'ca.crt'), cert: path.join(dir, 'tls.crt'), key: path.join(dir, 'tls.key') };
    const install = (trust: string, pair: Pair) => {
      fs.copyFileSync(trust, files.ca);
      fs.copyFileSync(pair.cert, files.cert);
      fs.copyFileSync(pair.key, files.key);
    };
    // Before: the downstream refuses us (a client certificate it does not trust, or we do not trust it).
    install(rotated === 'CA bundle' ? otherCa.cert : ca.cert, rotated === 'CA bundle' ? client : stranger);
    if (!withCaFile) {
      // Without a CA file the default trust store applies; grpc-js reads it from this variable when set.
      const previous = process.env.GRPC_DEFAULT_SSL_ROOTS_FILE_PATH;
      process.env.GRPC_DEFAULT_SSL_ROOTS_FILE_PATH = ca.cert;
      cleanups.push(() => {
        if (previous === undefined) delete process.env.GRPC_DEFAULT_SSL_ROOTS_FILE_PATH;
        else process.env.GRPC_DEFAULT_SSL_ROOTS_FILE_PATH = previous;
      });
    }
    let delivered: () => number;
    let port: number;
    if (protocol === 'grpc') {
      const sink = await new OtlpTestServer().start(grpc.ServerCredentials.createSsl(fs.readFileSync(ca.cert), [{ cert_chain: fs.readFileSync(server.cert), private_key: fs.readFileSync(server.key) }], true));
      cleanups.push(() => sink.stop());
      delivered = () => sink.records().length;
      port = sink.port;
    } else {
      const sink = await httpsSink(server, ca.cert);
      cleanups.push(() => sink.stop());
      delivered = sink.requests;
      port = sink.port;
    }
    service = await startTestService({
      OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: protocol === 'grpc' ? `https://127.0.0.1:${port}` : `https://127.0.0.1:${port}/v1/logs`,
      OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: protocol,
      ...(withCaFile ? { OTEL_EXPORTER_OTLP_CERTIFICATE: files.ca } : {}),
      OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: files.cert,
      OTEL_EXPORTER_OTLP_CLIENT_KEY: files.key,
      OLP_GRPC_TLS_RELOAD_INTERVAL: '1s',
      OLP_RETRY_INITIAL_INTERVAL: '100ms',
      OLP_RETRY_MAX_INTERVAL: '200ms',
      OLP_PROCESSORS: '',
      OLP_SHUTDOWN_TIMEOUT: '1s',
    });
    expect((await exportLogs(service.endpoint, request([record('across a rotation')]))).code).toBe(grpc.status.OK);
    await eventually(async () => expect(await service!.metrics.total(service!.metrics.exporterSendFailed)).toBeGreaterThan(0));
    expect(delivered()).toBe(0);

    install(ca.cert, client);
    await eventually(() => expect(delivered()).toBe(1), 15_000);
  }, 25_000);
});
