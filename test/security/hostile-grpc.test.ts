/**
 * Hostile OTLP/gRPC clients, scaled to seconds: stream floods, unfinished messages, silent and
 * surplus connections, malformed framing. Each asserts the refusal, its count by reason, a
 * bound on what the service holds, and that an ordinary client is still served.
 */
import * as http2 from 'node:http2';
import { status } from '@grpc/grpc-js';
import { RawHttp2, grpcMessage, gzip, grpcRequestHeaders, rawGrpcCall } from '../../bench/attack-clients';
import { encodeLogsData } from '../../src/otlp/codec';
import { REQUEST_OVERHEAD_BYTES } from '../../src/receiver/receive-budget';
import { exportLogs, exportRaw } from '../helpers/grpc-client';
import { record, request } from '../helpers/builders';
import { eventually } from '../helpers/eventually';
import { useServiceFixture } from '../helpers/service-fixture';
import { expectConnectionCap, expectSilentConnectionClosed } from '../helpers/connection-limits';
import type { TestService } from '../helpers/service';

jest.setTimeout(30_000);

const refused = (svc: TestService, reason: string): Promise<number> => svc.metrics.total(svc.metrics.receiverRequestsRefused, { transport: 'grpc', reason });
const budgetInUse = async (svc: TestService): Promise<number> => (await svc.metrics.receiveBudgetInUse.get()).values[0]?.value ?? 0;
const served = async (svc: TestService): Promise<void> => expect((await exportLogs(svc.endpoint, request([record('ordinary client')]))).code).toBe(status.OK);

describe('OTLP/gRPC receiver under hostile clients', () => {
  const f = useServiceFixture();
  const sessions: http2.ClientHttp2Session[] = [];
  const raws: RawHttp2[] = [];
  const connect = (svc: TestService): http2.ClientHttp2Session => {
    const s = http2.connect(`http://127.0.0.1:${svc.grpcPort}`);
    s.on('error', () => undefined);
    sessions.push(s);
    return s;
  };
  afterEach(() => {
    for (const s of sessions.splice(0)) s.destroy();
    for (const r of raws.splice(0)) r.close();
  });

  test('a connection may hold the advertised 100 unfinished calls, each charged its overhead; the 101st stream closes it', async () => {
    const svc = await f.start();
    const raw = await RawHttp2.connect(svc.grpcPort);
    raws.push(raw);
    expect(raw.maxConcurrentStreams).toBe(100);
    for (let i = 0; i < 100; i++) raw.openStream(grpcRequestHeaders());
    await eventually(async () => expect(await budgetInUse(svc)).toBe(100 * REQUEST_OVERHEAD_BYTES));
    await served(svc);
    expect(raw.closed).toBe(false);
    // Past the limit nghttp2 ends the connection (PROTOCOL_ERROR), which frees its calls.
    for (let i = 0; i < 1000; i++) raw.openStream(grpcRequestHeaders());
    await eventually(() => expect(raw.closed).toBe(true));
    expect(raw.goaway).toBe(true);
    await eventually(async () => expect(await budgetInUse(svc)).toBe(0));
    await served(svc);
  });

  test('calls that stop inside a message hold at most the receive budget, then get RESOURCE_EXHAUSTED with RetryInfo; the read timeout frees it', async () => {
    const svc = await f.start({ OLP_MEMORY_RECEIVE_BUDGET_MIB: '3', OLP_GRPC_MAX_RECV_MIB: '1', OLP_HTTP_MAX_RECV_MIB: '1', OLP_GRPC_READ_TIMEOUT: '1500ms' });
    const session = connect(svc);
    const piece = Buffer.alloc(512 * 1024, 1);
    // Each declares 1 MiB and sends half of it: seven of them pass the 3 MiB budget.
    const calls = Array.from({ length: 7 }, () => rawGrpcCall(session, grpcMessage(piece, 0, 1024 * 1024), { end: false, timeoutMs: 10_000 }));
    await eventually(async () => expect(await refused(svc, 'receive_budget')).toBeGreaterThan(0));
    expect(await budgetInUse(svc)).toBeLessThanOrEqual(3 * 1024 * 1024);
    // A small request still fits beside them; one that does not is told when to retry.
    await served(svc);
    const big = await exportRaw(svc.endpoint, Buffer.alloc(900 * 1024));
    expect(big.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(big.retryAfterMs).toBe(1000);
    const answers = await Promise.all(calls);
    expect(await budgetInUse(svc)).toBe(0);
    const codes = answers.map((a) => a?.grpcStatus);
    expect(codes).toContain(status.RESOURCE_EXHAUSTED);
    expect(codes).toContain(status.DEADLINE_EXCEEDED);
    expect(codes.every((c) => c === status.RESOURCE_EXHAUSTED || c === status.DEADLINE_EXCEEDED)).toBe(true);
    expect(await refused(svc, 'read_timeout')).toBeGreaterThan(0);
    await served(svc);
  });

  test('compressed messages are inflated under the budget: a gzip bomb is refused at the size limit, a corrupt one and an unknown coding are answered', async () => {
    const svc = await f.start({ OLP_MEMORY_RECEIVE_BUDGET_MIB: '3', OLP_GRPC_MAX_RECV_MIB: '1', OLP_HTTP_MAX_RECV_MIB: '1' });
    expect((await exportLogs(svc.endpoint, request([record('compressed')]), { gzip: true })).code).toBe(status.OK);
    const session = connect(svc);
    const bomb = await rawGrpcCall(session, grpcMessage(gzip(Buffer.alloc(8 * 1024 * 1024)), 1), { headers: { 'grpc-encoding': 'gzip' } });
    expect(bomb).toMatchObject({ grpcStatus: status.RESOURCE_EXHAUSTED, grpcMessage: expect.stringMatching(/inflates to more than 1048576 bytes/) });
    const corrupt = await rawGrpcCall(session, grpcMessage(Buffer.from('not gzip at all'), 1), { headers: { 'grpc-encoding': 'gzip' } });
    expect(corrupt).toMatchObject({ grpcStatus: status.INVALID_ARGUMENT, grpcMessage: expect.stringMatching(/cannot decompress/) });
    const unknown = await rawGrpcCall(session, grpcMessage(Buffer.from('x'), 1), { headers: { 'grpc-encoding': 'snappy' } });
    expect(unknown).toMatchObject({ grpcStatus: status.UNIMPLEMENTED, grpcMessage: expect.stringMatching(/"snappy" is not supported/) });
    expect(await refused(svc, 'too_large')).toBe(1);
    expect(await refused(svc, 'bad_compression')).toBe(1);
    expect(await refused(svc, 'unsupported_encoding')).toBe(1);
    await eventually(async () => expect(await budgetInUse(svc)).toBe(0));
    await served(svc);
  });

  test('a burst of 100 compressed calls on one connection is served whole', async () => {
    const svc = await f.start();
    const session = connect(svc);
    const body = grpcMessage(gzip(Buffer.from(encodeLogsData(request(Array.from({ length: 200 }, (_, i) => record(`record ${i} `.repeat(50))))))), 1);
    const answers = await Promise.all(Array.from({ length: 100 }, () => rawGrpcCall(session, body, { headers: { 'grpc-encoding': 'gzip' } })));
    expect(answers.map((a) => a?.grpcStatus)).toEqual(Array(100).fill(status.OK));
    await eventually(async () => expect(await budgetInUse(svc)).toBe(0));
  });

  const oneRecord = grpcMessage(Buffer.from(encodeLogsData(request([record('x')]))));
  const manyMetadata = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`x-entry-${i}`, 'v']));
  test.each([
    ['a compressed flag of 7', grpcMessage(oneRecord.subarray(5), 7), {}, status.INVALID_ARGUMENT, 'bad_frame', /invalid compressed flag 7/],
    ['a compressed flag without grpc-encoding', grpcMessage(oneRecord.subarray(5), 1), {}, status.INVALID_ARGUMENT, 'bad_frame', /no grpc-encoding/],
    ['a message cut short by the end of the stream', grpcMessage(Buffer.alloc(10), 0, 1000), {}, status.INVALID_ARGUMENT, 'truncated_message', /truncated/],
    ['a prefix cut short by the end of the stream', Buffer.from([0, 0, 0]), {}, status.INVALID_ARGUMENT, 'truncated_message', /truncated/],
    ['no message at all', Buffer.alloc(0), {}, status.INVALID_ARGUMENT, 'no_message', /no request message/],
    ['a grpc-timeout that passed before the message was complete', oneRecord, { 'grpc-timeout': '1n' }, status.DEADLINE_EXCEEDED, 'deadline_exceeded', /deadline/],
    ['200 metadata entries', oneRecord, manyMetadata, status.RESOURCE_EXHAUSTED, 'too_much_metadata', /200 metadata entries, over the limit of 128/],
  ])('%s is answered with a status, counted, and nothing is exported', async (_name, body, headers, code, reason, message) => {
    const svc = await f.start();
    const answer = await rawGrpcCall(connect(svc), body, { headers });
    expect(answer?.grpcStatus).toBe(code);
    expect(answer?.grpcMessage).toMatch(message);
    expect(await refused(svc, reason)).toBe(1);
    expect(await budgetInUse(svc)).toBe(0);
    expect(await svc.metrics.total(svc.metrics.receiverAccepted)).toBe(0);
  });

  test('a connection with no call open is closed after OLP_GRPC_MAX_CONNECTION_IDLE', async () => {
    const svc = await f.start({ OLP_GRPC_MAX_CONNECTION_IDLE: '300ms' });
    const session = connect(svc);
    const closed = new Promise<void>((resolve) => session.once('close', resolve));
    expect((await rawGrpcCall(session, oneRecord))?.grpcStatus).toBe(status.OK);
    await closed;
    expect(session.closed || session.destroyed).toBe(true);
  });

  test('connections over OLP_GRPC_MAX_CONNECTIONS are closed at once and counted; others are still served', async () => {
    const svc = await f.start({ OLP_GRPC_MAX_CONNECTIONS: '5' });
    await expectConnectionCap(svc, 'grpc', svc.grpcPort, served);
  });

  test('a connection that never sends a byte is closed after OLP_GRPC_HANDSHAKE_TIMEOUT and counted', async () => {
    const svc = await f.start({ OLP_GRPC_HANDSHAKE_TIMEOUT: '300ms' });
    await expectSilentConnectionClosed(svc, 'grpc', svc.grpcPort);
    await served(svc);
  });
});
