/** TLS, mTLS and bearer authentication with certificates made for the test. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as https from 'node:https';
import * as grpc from '@grpc/grpc-js';
import { encodeLogsData } from '../../src/otlp/codec';
import { makePki, type Pki } from '../helpers/certs';
import { OtlpTestServer } from '../helpers/otlp-test-server';
import { startTestService, type TestService } from '../helpers/service';
import { exportLogs } from '../helpers/grpc-client';
import { bodies, record, request } from '../helpers/builders';
import { eventually } from '../helpers/eventually';

const read = (f: string): Buffer => fs.readFileSync(f);

describe('TLS and authentication', () => {
  let pki: Pki;
  let ca: { cert: string; key: string };
  let otherCa: { cert: string; key: string };
  let server: { cert: string; key: string };
  let client: { cert: string; key: string };
  let strangerClient: { cert: string; key: string };
  let sink: OtlpTestServer;
  let service: TestService | undefined;

  beforeAll(() => {
    pki = makePki();
    ca = pki.ca('ca');
    otherCa = pki.ca('other-ca');
    server = pki.issue('server', ca, true);
    client = pki.issue('client', ca, false);
    strangerClient = pki.issue('stranger', otherCa, false);
  });
  beforeEach(async () => {
    sink = await new OtlpTestServer().start();
  });
  afterEach(async () => {
    await service?.shutdown();
    service = undefined;
    await sink.stop();
  });

  const tlsClient = (withCert?: { cert: string; key: string }, trust = ca.cert) =>
    grpc.credentials.createSsl(read(trust), withCert ? read(withCert.key) : null, withCert ? read(withCert.cert) : null);

  test('a TLS receiver accepts clients that trust its CA and refuses plaintext and untrusting clients', async () => {
    service = await startTestService({ OTEL_EXPORTER_OTLP_ENDPOINT: sink.endpoint, OLP_GRPC_TLS_CERT_FILE: server.cert, OLP_GRPC_TLS_KEY_FILE: server.key });
    expect((await exportLogs(service.endpoint, request([record('over tls')]), { credentials: tlsClient() })).code).toBe(grpc.status.OK);
    expect((await exportLogs(service.endpoint, request([record('plaintext')]))).code).toBe(grpc.status.UNAVAILABLE);
    expect((await exportLogs(service.endpoint, request([record('wrong trust')]), { credentials: tlsClient(undefined, otherCa.cert) })).code).toBe(grpc.status.UNAVAILABLE);
    await sink.waitForRecords(1);
    expect(bodies(sink.records())).toEqual(['over tls']);
  });

  test('mTLS accepts a client certificate from the client CA, refuses a missing or foreign one', async () => {
    service = await startTestService({
      OTEL_EXPORTER_OTLP_ENDPOINT: sink.endpoint,
      OLP_GRPC_TLS_CERT_FILE: server.cert,
      OLP_GRPC_TLS_KEY_FILE: server.key,
      OLP_GRPC_TLS_CLIENT_CA_FILE: ca.cert,
    });
    expect((await exportLogs(service.endpoint, request([record('mutual')]), { credentials: tlsClient(client) })).code).toBe(grpc.status.OK);
    expect((await exportLogs(service.endpoint, request([record('no cert')]), { credentials: tlsClient() })).code).toBe(grpc.status.UNAVAILABLE);
    expect((await exportLogs(service.endpoint, request([record('foreign cert')]), { credentials: tlsClient(strangerClient) })).code).toBe(grpc.status.UNAVAILABLE);
    await sink.waitForRecords(1);
    expect(bodies(sink.records())).toEqual(['mutual']);
  });

  test('picks up a rotated server certificate without restart', async () => {
    const dir = fs.mkdtempSync(path.join(pki.dir, 'rotate-'));
    const certFile = path.join(dir, 'tls.crt');
    const keyFile = path.join(dir, 'tls.key');
    fs.copyFileSync(server.cert, certFile);
    fs.copyFileSync(server.key, keyFile);
    service = await startTestService({ OTEL_EXPORTER_OTLP_ENDPOINT: sink.endpoint, OLP_GRPC_TLS_CERT_FILE: certFile, OLP_GRPC_TLS_KEY_FILE: keyFile, OLP_GRPC_TLS_RELOAD_INTERVAL: '1s' });
    expect((await exportLogs(service.endpoint, request([record('old cert')]), { credentials: tlsClient() })).code).toBe(grpc.status.OK);
    const rotated = pki.issue('server-rotated', otherCa, true);
    fs.copyFileSync(rotated.cert, certFile);
    fs.copyFileSync(rotated.key, keyFile);
    await eventually(async () => {
      expect((await exportLogs(service!.endpoint, request([record('new cert')]), { credentials: tlsClient(undefined, otherCa.cert) })).code).toBe(grpc.status.OK);
    }, 8000);
  });

  test('exports over TLS with OTEL_EXPORTER_OTLP_CERTIFICATE and over mTLS with the client certificate variables', async () => {
    await sink.stop();
    sink = await new OtlpTestServer().start(grpc.ServerCredentials.createSsl(read(ca.cert), [{ cert_chain: read(server.cert), private_key: read(server.key) }], true));
    service = await startTestService({
      OTEL_EXPORTER_OTLP_ENDPOINT: `https://127.0.0.1:${sink.port}`,
      OTEL_EXPORTER_OTLP_CERTIFICATE: ca.cert,
      OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: client.cert,
      OTEL_EXPORTER_OTLP_CLIENT_KEY: client.key,
    });
    expect((await exportLogs(service.endpoint, request([record('to a tls sink')]))).code).toBe(grpc.status.OK);
    await sink.waitForRecords(1);
    expect(bodies(sink.records())).toEqual(['to a tls sink']);
  });

  test('the OTLP/HTTP receiver speaks HTTPS with OLP_HTTP_TLS_* and checks client certificates with a client CA', async () => {
    service = await startTestService({
      OTEL_EXPORTER_OTLP_ENDPOINT: sink.endpoint,
      OLP_HTTP_TLS_CERT_FILE: server.cert,
      OLP_HTTP_TLS_KEY_FILE: server.key,
      OLP_HTTP_TLS_CLIENT_CA_FILE: ca.cert,
    });
    const body = Buffer.from(encodeLogsData(request([record('over https')])));
    const post = (options: https.RequestOptions): Promise<number> =>
      new Promise((resolve) => {
        const req = https.request(
          { host: '127.0.0.1', port: service!.httpPort, path: '/v1/logs', method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, ca: read(ca.cert), ...options },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on('error', () => resolve(-1));
        req.end(body);
      });
    expect(await post({ cert: read(client.cert), key: read(client.key) })).toBe(200);
    expect(await post({})).toBe(-1); // no client certificate: handshake refused
    expect(await post({ cert: read(strangerClient.cert), key: read(strangerClient.key) })).toBe(-1);
    await sink.waitForRecords(1);
    expect(bodies(sink.records())).toEqual(['over https']);
  });

  test('bearer auth accepts listed tokens and answers UNAUTHENTICATED to missing or wrong ones', async () => {
    service = await startTestService({ OTEL_EXPORTER_OTLP_ENDPOINT: sink.endpoint, OLP_AUTH_BEARER_TOKENS: 'alpha-token,beta-token' });
    const send = (metadata?: Record<string, string>) => exportLogs(service!.endpoint, request([record('x')]), { metadata });
    expect((await send({ authorization: 'Bearer beta-token' })).code).toBe(grpc.status.OK);
    expect((await send({ authorization: 'bearer alpha-token' })).code).toBe(grpc.status.OK);
    expect((await send()).code).toBe(grpc.status.UNAUTHENTICATED);
    expect((await send({ authorization: 'Bearer alpha-token-x' })).code).toBe(grpc.status.UNAUTHENTICATED);
    expect((await send({ authorization: 'Basic YWxwaGEtdG9rZW4=' })).code).toBe(grpc.status.UNAUTHENTICATED);
    expect((await send({ authorization: 'Bearer ' })).code).toBe(grpc.status.UNAUTHENTICATED);
    expect(await service.metrics.total(service.metrics.receiverRequestsFailed, { code: 'UNAUTHENTICATED' })).toBe(4);
  });

  test('a token file is re-read when it changes', async () => {
    const file = path.join(pki.dir, 'tokens.txt');
    fs.writeFileSync(file, '# rotated by the secret manager\nfirst-token\n');
    service = await startTestService({ OTEL_EXPORTER_OTLP_ENDPOINT: sink.endpoint, OLP_AUTH_BEARER_TOKEN_FILE: file, OLP_GRPC_TLS_RELOAD_INTERVAL: '1s' });
    const send = (token: string) => exportLogs(service!.endpoint, request([record('x')]), { metadata: { authorization: `Bearer ${token}` } });
    expect((await send('first-token')).code).toBe(grpc.status.OK);
    fs.writeFileSync(file, 'second-token\n');
    await eventually(async () => expect((await send('second-token')).code).toBe(grpc.status.OK), 10_000);
    expect((await send('first-token')).code).toBe(grpc.status.UNAUTHENTICATED);
  });

  test('rejects TLS settings that do not fit together or files that cannot be read, naming the variables', async () => {
    await expect(startTestService({ OLP_GRPC_TLS_CERT_FILE: server.cert })).rejects.toThrow(/OLP_GRPC_TLS_KEY_FILE: required with OLP_GRPC_TLS_CERT_FILE/);
    await expect(startTestService({ OLP_GRPC_TLS_CLIENT_CA_FILE: ca.cert })).rejects.toThrow(/OLP_GRPC_TLS_CLIENT_CA_FILE: mTLS needs/);
    await expect(startTestService({ OLP_AUTH_BEARER_TOKEN_FILE: '/nonexistent/tokens' })).rejects.toThrow(/OLP_AUTH_BEARER_TOKEN_FILE: cannot read \/nonexistent\/tokens: ENOENT/);
  });
});
