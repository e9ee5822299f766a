/**
 * Hostile clients for the receiver attack tests (scaled down) and `npm run bench:attacks` (full
 * size): a raw HTTP/2 frame writer that ignores the server's limits, slow and silent sockets,
 * and OTLP/JSON and gzip payloads that are small on the wire and huge once parsed.
 * Loopback only.
 */
import * as http2 from 'node:http2';
import * as net from 'node:net';
import * as zlib from 'node:zlib';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
const FRAME_DATA = 0x0;
const FRAME_HEADERS = 0x1;
const FRAME_RST_STREAM = 0x3;
const FRAME_SETTINGS = 0x4;
const FRAME_GOAWAY = 0x7;
const FLAG_END_STREAM = 0x1;
const FLAG_END_HEADERS = 0x4;
const FLAG_ACK = 0x1;
export const EXPORT_PATH = '/opentelemetry.proto.collector.logs.v1.LogsService/Export';

function frame(type: number, flags: number, streamId: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(streamId & 0x7fffffff, 5);
  return Buffer.concat([head, payload]);
}

/** HPACK integer with an n-bit prefix (RFC 7541 §5.1). */
function hpackInt(value: number, prefixBits: number, firstByte: number): number[] {
  const max = (1 << prefixBits) - 1;
  if (value < max) return [firstByte | value];
  const out = [firstByte | max];
  let v = value - max;
  while (v >= 128) {
    out.push((v % 128) + 128);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

/** A header block of literals without indexing (no Huffman): every block stands alone. */
export function headerBlock(headers: readonly (readonly [string, string])[]): Buffer {
  const parts: Buffer[] = [];
  for (const [name, value] of headers) {
    const n = Buffer.from(name);
    const v = Buffer.from(value);
    parts.push(Buffer.from([0x00, ...hpackInt(n.length, 7, 0)]), n, Buffer.from(hpackInt(v.length, 7, 0)), v);
  }
  return Buffer.concat(parts);
}

/** The request headers of a gRPC Export call, plus `extra`. */
export function grpcRequestHeaders(extra: readonly (readonly [string, string])[] = []): (readonly [string, string])[] {
  return [
    [':method', 'POST'],
    [':scheme', 'http'],
    [':path', EXPORT_PATH],
    [':authority', 'localhost'],
    ['content-type', 'application/grpc'],
    ['te', 'trailers'],
    ...extra,
  ];
}

/** A gRPC length-prefixed message: flag, 4-byte length, body. */
export function grpcMessage(body: Buffer, flag = 0, declaredLength = body.length): Buffer {
  const prefix = Buffer.alloc(5);
  prefix[0] = flag;
  prefix.writeUInt32BE(declaredLength, 1);
  return Buffer.concat([prefix, body]);
}

/** One HTTP/2 connection that writes frames as told, whatever the server advertised. */
export class RawHttp2 {
  rstStreams = 0;
  responseHeaders = 0;
  goaway = false;
  closed = false;
  /** SETTINGS_MAX_CONCURRENT_STREAMS the server advertised (undefined: not advertised). */
  maxConcurrentStreams: number | undefined;
  private nextStreamId = 1;
  private buffered = Buffer.alloc(0);
  private settingsSeen!: Promise<void>;

  private constructor(readonly socket: net.Socket) {}

  static connect(port: number): Promise<RawHttp2> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1');
      const c = new RawHttp2(socket);
      let seen!: () => void;
      c.settingsSeen = new Promise((r) => (seen = r));
      socket.on('data', (d: Buffer) => c.read(d, seen));
      socket.on('close', () => {
        c.closed = true;
        // Refused before the server's SETTINGS (e.g. over its connection cap).
        reject(new Error('connection closed before the server sent SETTINGS'));
      });
      socket.on('error', () => undefined);
      socket.once('connect', () => {
        socket.write(Buffer.concat([PREFACE, frame(FRAME_SETTINGS, 0, 0, Buffer.alloc(0))]));
        void c.settingsSeen.then(() => resolve(c));
      });
      socket.once('error', reject);
    });
  }

  private read(data: Buffer, seen: () => void): void {
    this.buffered = Buffer.concat([this.buffered, data]);
    while (this.buffered.length >= 9) {
      const length = this.buffered.readUIntBE(0, 3);
      if (this.buffered.length < 9 + length) return;
      const type = this.buffered[3]!;
      const flags = this.buffered[4]!;
      const payload = this.buffered.subarray(9, 9 + length);
      this.buffered = this.buffered.subarray(9 + length);
      if (type === FRAME_SETTINGS && (flags & FLAG_ACK) === 0) {
        for (let i = 0; i + 6 <= payload.length; i += 6) if (payload.readUInt16BE(i) === 0x3) this.maxConcurrentStreams = payload.readUInt32BE(i + 2);
        if (!this.closed) this.socket.write(frame(FRAME_SETTINGS, FLAG_ACK, 0, Buffer.alloc(0)));
        seen();
      } else if (type === FRAME_RST_STREAM) {
        this.rstStreams++;
      } else if (type === FRAME_HEADERS) {
        this.responseHeaders++;
      } else if (type === FRAME_GOAWAY) {
        this.goaway = true;
      }
    }
  }

  /** Opens a stream with HEADERS (END_STREAM only when `endStream`); returns its id. */
  openStream(headers: readonly (readonly [string, string])[], endStream = false): number {
    const id = this.nextStreamId;
    this.nextStreamId += 2;
    this.socket.write(frame(FRAME_HEADERS, FLAG_END_HEADERS | (endStream ? FLAG_END_STREAM : 0), id, headerBlock(headers)));
    return id;
  }

  /** DATA frames of at most 16 KiB carrying `bytes`. */
  send(streamId: number, bytes: Buffer, endStream = false): void {
    const max = 16 * 1024;
    if (bytes.length === 0) {
      this.socket.write(frame(FRAME_DATA, endStream ? FLAG_END_STREAM : 0, streamId, bytes));
      return;
    }
    for (let i = 0; i < bytes.length; i += max) {
      const last = i + max >= bytes.length;
      this.socket.write(frame(FRAME_DATA, last && endStream ? FLAG_END_STREAM : 0, streamId, bytes.subarray(i, i + max)));
    }
  }

  /** Resolves once everything written so far left the socket buffer. */
  flushed(): Promise<void> {
    return new Promise((resolve) => this.socket.write(Buffer.alloc(0), () => resolve()));
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Opens `count` TCP connections and sends nothing; resolves once all are connected or refused. */
export async function silentSockets(port: number, count: number): Promise<net.Socket[]> {
  const sockets: net.Socket[] = [];
  await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<void>((resolve) => {
          const s = net.connect(port, '127.0.0.1');
          s.on('error', () => resolve());
          s.once('connect', () => {
            sockets.push(s);
            resolve();
          });
        }),
    ),
  );
  return sockets;
}

/** Resolves true when the server closes `socket` within `timeoutMs`. */
export function closedWithin(socket: net.Socket, timeoutMs: number): Promise<boolean> {
  if (socket.destroyed || socket.readableEnded) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    const done = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    socket.once('close', done);
    socket.once('end', done);
    socket.resume();
  });
}

/**
 * An OTLP/HTTP POST that declares `declared` bytes and sends all but the last `holdBack`; the
 * socket stays open. Resolves with the socket once the bytes are written, and with what the
 * server answered, if it did, in `answer`.
 */
export function partialHttpPost(port: number, declared: number, holdBack = 1, contentType = 'application/x-protobuf'): Promise<{ socket: net.Socket; answer: Promise<string> }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    // The server may answer and end its side while this one is still blocked writing: 'end' is the answer.
    const answer = new Promise<string>((r) => {
      socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
      socket.on('end', () => r(text));
      socket.on('close', () => r(text));
    });
    socket.on('error', () => undefined);
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.write(`POST /v1/logs HTTP/1.1\r\nhost: localhost\r\ncontent-type: ${contentType}\r\ncontent-length: ${declared}\r\n\r\n`);
      const body = Buffer.alloc(Math.max(0, declared - holdBack), 0x20);
      socket.write(body, () => resolve({ socket, answer }));
    });
  });
}

/** `{"resourceLogs":[{"scopeLogs":[{"logRecords":[{},{},…]}]}]}` of about `bytes` bytes. */
export function jsonEmptyRecords(bytes: number): Buffer {
  const head = '{"resourceLogs":[{"scopeLogs":[{"logRecords":[';
  const tail = '{}]}]}]}';
  const count = Math.max(1, Math.floor((bytes - head.length - tail.length) / 3));
  return Buffer.from(head + '{},'.repeat(count - 1) + tail);
}

/** A valid request with one record and an unknown field holding `count` numbers. */
export function jsonNumbersInUnknownField(count: number): Buffer {
  return Buffer.from(`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"x"}}]}]}],"junk":[${'1,'.repeat(count - 1)}1]}`);
}

/** A record whose timeUnixNano is `digits` digits long. */
export function jsonHugeTimestamp(digits: number): Buffer {
  return Buffer.from(`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":${'9'.repeat(digits)}}]}]}]}`);
}

export function gzip(bytes: Buffer): Buffer {
  return zlib.gzipSync(bytes, { level: 9 });
}

export interface Http2Answer {
  /** grpc-status of the trailers (or trailers-only headers); undefined when the stream was reset. */
  readonly grpcStatus: number | undefined;
  readonly grpcMessage: string;
  /** RST_STREAM code when the server reset the stream instead of answering. */
  readonly rstCode: number | undefined;
}

/**
 * A gRPC call written by hand with node:http2: exactly `body` as DATA (ended when `end`), extra
 * headers as given. Answers how the server ended the stream, or undefined after `timeoutMs`.
 */
export function rawGrpcCall(
  session: http2.ClientHttp2Session,
  body: Buffer,
  options: { readonly headers?: Record<string, string | string[]>; readonly end?: boolean; readonly timeoutMs?: number } = {},
): Promise<Http2Answer | undefined> {
  return new Promise((resolve) => {
    const stream = session.request({ ':method': 'POST', ':path': EXPORT_PATH, 'content-type': 'application/grpc', te: 'trailers', ...options.headers });
    let status: number | undefined;
    let message = '';
    const timer = setTimeout(() => {
      stream.close(http2.constants.NGHTTP2_CANCEL);
      resolve(undefined);
    }, options.timeoutMs ?? 5000);
    const take = (h: Record<string, unknown>): void => {
      if (h['grpc-status'] === undefined) return;
      status = Number(h['grpc-status']);
      message = decodeURIComponent(String(h['grpc-message'] ?? ''));
      // A call still sending would keep the stream open: the status is the answer.
      stream.close(http2.constants.NGHTTP2_CANCEL);
    };
    stream.on('response', take);
    stream.on('trailers', take);
    stream.on('error', () => undefined);
    stream.on('data', () => undefined);
    stream.on('close', () => {
      clearTimeout(timer);
      resolve({ grpcStatus: status, grpcMessage: message, rstCode: status === undefined ? stream.rstCode : undefined });
    });
    if (options.end === false) stream.write(body);
    else stream.end(body);
  });
}
