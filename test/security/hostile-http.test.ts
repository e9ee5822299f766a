/**
 * Hostile OTLP/HTTP clients, scaled to seconds: JSON that is small on the wire and huge once
 * parsed, unfinished bodies against the receive budget and read timeout, silent and surplus
 * connections, error texts quoting megabytes of input.
 */
import { gzip, jsonEmptyRecords, jsonHugeTimestamp, jsonNumbersInUnknownField, partialHttpPost } from '../../bench/attack-clients';
import { decodeStatusJson } from '../../src/otlp/json';
import { MAX_ERROR_TEXT_CHARS } from '../../src/errors';
import { REQUEST_OVERHEAD_BYTES } from '../../src/receiver/receive-budget';
import { encodeLogsData } from '../../src/otlp/codec';
import { record, request } from '../helpers/builders';
import { eventually } from '../helpers/eventually';
import { httpRequest, postLogs } from '../helpers/http-client';
import { useServiceFixture } from '../helpers/service-fixture';
import { expectConnectionCap, expectSilentConnectionClosed } from '../helpers/connection-limits';
import type { TestService } from '../helpers/service';

jest.setTimeout(30_000);

const url = (svc: TestService): string => `http://127.0.0.1:${svc.httpPort}/v1/logs`;
const refused = (svc: TestService, reason: string): Promise<number> => svc.metrics.total(svc.metrics.receiverRequestsRefused, { transport: 'http', reason });
const budgetInUse = async (svc: TestService): Promise<number> => (await svc.metrics.receiveBudgetInUse.get()).values[0]?.value ?? 0;
const served = async (svc: TestService): Promise<void> =>
  expect((await postLogs(url(svc), encodeLogsData(request([record('ordinary client')])), 'application/x-protobuf')).status).toBe(200);

describe('OTLP/HTTP receiver under hostile clients', () => {
  const f = useServiceFixture();

  test.each([
    ['a gzip body inflating to 600,000 empty records', gzip(jsonEmptyRecords(1_800_000)), { 'content-encoding': 'gzip' }, {}, 'json_too_many_records', /more than 50000 log records/],
    ['an unknown field holding 300,000 numbers', jsonNumbersInUnknownField(300_000), {}, { OLP_LIMITS_MAX_JSON_VALUES: '100000' }, 'json_too_many_values', /more than 100000 JSON values/],
    ['arrays nested 10,000 deep', Buffer.from(`{"junk":${'['.repeat(10_000)}${']'.repeat(10_000)}}`), {}, {}, 'json_too_deep', /deeper than 144 levels/],
  ])('OTLP/JSON with %s is refused by the scan before parsing: 413, counted, connection closed', async (_name, body, headers, env, reason, message) => {
    const svc = await f.start(env);
    const answer = await postLogs(url(svc), body, 'application/json', headers);
    expect(answer.status).toBe(413);
    expect(answer.headers.connection).toBe('close');
    expect(decodeStatusJson(answer.body).message).toMatch(message);
    expect(await refused(svc, reason)).toBe(1);
    await served(svc);
  });

  test.each([
    ['a timestamp of a million digits', jsonHugeTimestamp(1_000_000)],
    ['a severity name of a million letters', Buffer.from(`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"severityNumber":"${'A'.repeat(1_000_000)}"}]}]}]}`)],
  ])('%s gets a 400 whose text is cut to a bounded length', async (_name, body) => {
    const svc = await f.start();
    const answer = await postLogs(url(svc), body, 'application/json');
    expect(answer.status).toBe(400);
    expect(answer.body.length).toBeLessThan(MAX_ERROR_TEXT_CHARS + 200);
  });

  test('a gzip body over the size limit once inflated gets 413 and the connection is closed', async () => {
    const svc = await f.start({ OLP_HTTP_MAX_RECV_MIB: '1' });
    const answer = await postLogs(url(svc), gzip(Buffer.alloc(4 * 1024 * 1024)), 'application/x-protobuf', { 'content-encoding': 'gzip' });
    expect(answer.status).toBe(413);
    expect(answer.headers.connection).toBe('close');
    expect(await refused(svc, 'too_large')).toBe(1);
  });

  test('unfinished bodies hold at most the receive budget; the rest get 429 with Retry-After at once; the read timeout frees the budget', async () => {
    const svc = await f.start({ OLP_MEMORY_RECEIVE_BUDGET_MIB: '3', OLP_HTTP_MAX_RECV_MIB: '1', OLP_GRPC_MAX_RECV_MIB: '1', OLP_HTTP_READ_TIMEOUT: '1500ms' });
    const declared = 900 * 1024;
    const posts = [];
    for (let i = 0; i < 6; i++) posts.push(await partialHttpPost(svc.httpPort!, declared));
    try {
      // Three fit (the declared length is taken up front), the next three are refused before their bodies are read.
      await eventually(async () => expect(await refused(svc, 'receive_budget')).toBe(3));
      expect(await budgetInUse(svc)).toBe(3 * (declared + REQUEST_OVERHEAD_BYTES));
      await served(svc);
      const answers = await Promise.all(posts.map((p) => p.answer));
      const tooMany = answers.filter((a) => a.startsWith('HTTP/1.1 429'));
      expect(tooMany.length).toBe(3);
      expect(tooMany.every((a) => /retry-after: 1\r\n/i.test(a) && /connection: close\r\n/i.test(a))).toBe(true);
      expect(answers.filter((a) => a.startsWith('HTTP/1.1 408')).length).toBe(3);
      expect(await refused(svc, 'read_timeout')).toBe(3);
      expect(await budgetInUse(svc)).toBe(0);
      await served(svc);
    } finally {
      for (const p of posts) p.socket.destroy();
    }
  });

  test('a chunked body (no declared length) is charged as it arrives and refused with 429 once the budget is spent', async () => {
    const svc = await f.start({ OLP_MEMORY_RECEIVE_BUDGET_MIB: '3', OLP_HTTP_MAX_RECV_MIB: '1', OLP_GRPC_MAX_RECV_MIB: '1' });
    const posts = [];
    for (let i = 0; i < 3; i++) posts.push(await partialHttpPost(svc.httpPort!, 900 * 1024));
    try {
      await eventually(async () => expect(await budgetInUse(svc)).toBe(3 * (900 * 1024 + REQUEST_OVERHEAD_BYTES)));
      const chunks = Array.from({ length: 8 }, () => Buffer.alloc(100 * 1024));
      const answer = await httpRequest(url(svc), undefined, { headers: { 'content-type': 'application/x-protobuf' }, chunks });
      expect(answer.status).toBe(429);
      expect(answer.headers['retry-after']).toBe('1');
      expect(await refused(svc, 'receive_budget')).toBe(1);
      expect(await budgetInUse(svc)).toBe(3 * (900 * 1024 + REQUEST_OVERHEAD_BYTES));
    } finally {
      for (const p of posts) p.socket.destroy();
    }
    await eventually(async () => expect(await budgetInUse(svc)).toBe(0));
  });

  test('connections over OLP_HTTP_MAX_CONNECTIONS are closed at once and counted; others are still served', async () => {
    const svc = await f.start({ OLP_HTTP_MAX_CONNECTIONS: '5' });
    await expectConnectionCap(svc, 'http', svc.httpPort!, served);
  });

  test('a connection that never sends a byte is closed after OLP_HTTP_HEADERS_TIMEOUT and counted', async () => {
    const svc = await f.start({ OLP_HTTP_HEADERS_TIMEOUT: '300ms' });
    await expectSilentConnectionClosed(svc, 'http', svc.httpPort!);
    await served(svc);
  });
});
