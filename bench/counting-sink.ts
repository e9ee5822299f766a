/**
 * The downstream of the service under test: an OTLP/gRPC Export endpoint that counts records by
 * a wire scan (no decode, so the sink stays cheap next to the service) and, for requests sent
 * inside the current latency window, records arrival − send per stamped resource.
 */
import * as grpc from '@grpc/grpc-js';
import { EXPORT_METHOD_PATH, encodeExportResponse } from '../src/otlp/codec';
import { scanExportRequest } from './bench-requests';

export interface CountingSink {
  port: number;
  records(): number;
  /** Export requests received: records() / exports() is the service's effective batch size. */
  exports(): number;
  bytes(): number;
  malformed(): number;
  /** Zero the counters (between services). */
  reset(): void;
  /** Keep latencies only of requests sent within [fromNs, toNs] (monotonic clock). */
  window(fromNs: bigint, toNs: bigint): void;
  /** Latencies (ms) collected since the last window() call. */
  latenciesMs(): number[];
  stop(): void;
}

export function startSink(): Promise<CountingSink> {
  let records = 0;
  let exports = 0;
  let bytes = 0;
  let malformed = 0;
  let from = 0n;
  let to = -1n;
  let latencies: number[] = [];
  const ok = Buffer.from(encodeExportResponse({}));
  const id = (b: Buffer): Buffer => b;
  const server = new grpc.Server({ 'grpc.max_receive_message_length': 256 * 1024 * 1024 });
  server.addService(
    { Export: { path: EXPORT_METHOD_PATH, requestStream: false, responseStream: false, requestSerialize: id, requestDeserialize: id, responseSerialize: id, responseDeserialize: id } },
    {
      Export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
        const arrived = process.hrtime.bigint();
        try {
          const scan = scanExportRequest(call.request);
          records += scan.records;
          exports++;
          bytes += call.request.length;
          for (const sent of scan.sentNs) if (sent >= from && sent <= to) latencies.push(Number(arrived - sent) / 1e6);
        } catch {
          malformed++;
        }
        // Always accept: a refusal would make the service retry and measure its backoff instead.
        cb(null, ok);
      },
    },
  );
  return new Promise((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => {
      if (err) return reject(err);
      resolve({
        port,
        records: () => records,
        exports: () => exports,
        bytes: () => bytes,
        malformed: () => malformed,
        reset: () => {
          records = 0;
          exports = 0;
          bytes = 0;
          malformed = 0;
        },
        window: (fromNs, toNs) => {
          from = fromNs;
          to = toNs;
          latencies = [];
        },
        latenciesMs: () => latencies,
        stop: () => server.forceShutdown(),
      });
    }),
  );
}
