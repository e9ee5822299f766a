/** One table of failure codes: what the receivers answer, what the exporters retry, and nothing classified elsewhere. */
import { httpReceiverOptions } from '../helpers/http-pipeline';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import pino from 'pino';
import { FAILURE_CODES, PipelineError, classifyGrpcExportFailure, classifyHttpExportFailure, type FailureKind } from '../../src/errors';
import { OtlpHttpTransport } from '../../src/exporters/otlp-http';
import { encodeLogsData } from '../../src/otlp/codec';
import { HttpReceiver } from '../../src/receiver/http-receiver';
import { Metrics } from '../../src/telemetry/metrics';
import { record, request } from '../helpers/builders';

const kinds = Object.keys(FAILURE_CODES) as FailureKind[];

describe('failure codes', () => {
  test.each(kinds)('%s: our gRPC and OTLP/HTTP exporters retry what the receivers answer exactly when the table says so', (kind) => {
    const { grpc: grpcCode, http, retryable } = FAILURE_CODES[kind];
    // Receivers attach RetryInfo / Retry-After to retryable answers.
    const delay = retryable ? 1000 : undefined;
    expect([classifyGrpcExportFailure(grpcCode, 'm', delay).retryable, classifyHttpExportFailure(http, 'm', delay).retryable]).toEqual([retryable, retryable]);
  });

  test.each([
    [408, true],
    [429, true],
    [502, true],
    [503, true],
    [504, true],
    [400, false],
    [401, false],
    [403, false],
    [404, false],
    [405, false],
    [413, false],
    [415, false],
    [500, false],
    [501, false],
  ])('OTLP/HTTP status %i: retryable %s (OTLP/HTTP spec), Retry-After kept only when retryable', (status, retryable) => {
    const err = classifyHttpExportFailure(status, 'm', 7000);
    expect([err.retryable, err.code, err.retryAfterMs]).toEqual([retryable, `HTTP_${status}`, retryable ? 7000 : undefined]);
  });

  test.each(kinds.filter((k) => !['not_found', 'method_not_allowed', 'unsupported_media_type'].includes(k)))(
    '%s thrown behind the HTTP receiver reaches the OTLP/HTTP exporter with the table status, Retry-After when retryable',
    async (kind) => {
      const consumer = {
        consume: () => Promise.reject(new PipelineError(kind, `refused: ${kind}`, 3000)),
        consumeData: () => Promise.reject(new PipelineError(kind, `refused: ${kind}`, 3000)),
      };
      const metrics = new Metrics();
      const receiver = new HttpReceiver(httpReceiverOptions(metrics, { endpoint: '127.0.0.1:0', maxRecvBytes: 1 << 20 }), consumer, metrics, pino({ level: 'silent' }));
      const port = await receiver.start();
      const t = new OtlpHttpTransport({ url: `http://127.0.0.1:${port}/v1/logs`, protocol: 'http/protobuf', headers: {}, compression: 'none' });
      try {
        const err = await t.send({ bytes: encodeLogsData(request([record('x')])), records: 1 }, 5000).then(
          () => undefined,
          (e: unknown) => e as { retryable: boolean; code: string; retryAfterMs?: number },
        );
        const { http, retryable } = FAILURE_CODES[kind];
        expect(err && [err.code, err.retryable, err.retryAfterMs]).toEqual([`HTTP_${http}`, retryable, retryable ? 3000 : undefined]);
      } finally {
        await t.close();
        await receiver.stop(Date.now() + 1000);
      }
    },
  );

  test('the receivers and exporters keep no status lists of their own', () => {
    const root = path.resolve(__dirname, '../../src');
    const files = ['receiver', 'exporters', 'pipeline'].flatMap((d) => fs.readdirSync(path.join(root, d)).map((f) => path.join(root, d, f)));
    const offences = files.flatMap((file) => {
      const code = fs
        .readFileSync(file, 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/\/\/.*$/gm, '');
      const found = [
        ...code.matchAll(/(?:===?|!==?|\[|,|\(|case)\s*[45]\d\d\b/g),
        ...code.matchAll(/\bRPC_[A-Z_]+\s*=/g),
        ...code.matchAll(new RegExp(`\\bstatus\\.(?:${Object.keys(grpc.status).filter((k) => /^[A-Z_]+$/.test(k)).join('|')})\\b`, 'g')),
      ];
      return found.map((m) => `${path.relative(root, file)}: ${m[0]}`);
    });
    expect(offences).toEqual([]);
  });
});
