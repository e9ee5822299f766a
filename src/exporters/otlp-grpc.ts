/** OTLP/gRPC transport: one Export call per batch, the request already encoded. */
import * as grpc from '@grpc/grpc-js';
import Long from 'long';
import { EXPORT_METHOD_PATH, decodeExportResponse, retryDelayFromStatusDetails } from '../otlp/codec';
import { ExportError, classifyGrpcExportFailure } from '../errors';
import type { SendResult, Transport } from './transport';
import type { EncodedBatch } from '../otlp/encoded-batch';
import { channelCredentials, type ClientTlsFiles } from './client-tls';
import { parseGrpcEndpoint } from '../config/endpoints';

export interface OtlpGrpcOptions {
  readonly endpoint: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly compression: 'gzip' | 'none';
  readonly insecure: boolean;
  /** TLS files; used when the endpoint means TLS. Absent: system roots, no client certificate. */
  readonly tls?: ClientTlsFiles;
  /** Export method called; default the logs service's (traces and metrics are forwarded through their own). */
  readonly methodPath?: string;
}



const identity = (b: Buffer): Buffer => b;

export class OtlpGrpcTransport implements Transport {
  private readonly client: grpc.Client;
  private readonly metadata: grpc.Metadata;
  private readonly methodPath: string;

  constructor(options: OtlpGrpcOptions) {
    const target = parseGrpcEndpoint(options.endpoint, options.insecure);
    const channelOptions: grpc.ChannelOptions = {
      // The downstream enforces its own limit; do not cap what we send below it.
      'grpc.max_send_message_length': -1,
      'grpc.max_receive_message_length': 4 * 1024 * 1024,
    };
    if (options.compression === 'gzip') channelOptions['grpc.default_compression_algorithm'] = 2;
    const creds = target.tls
      ? channelCredentials(options.tls ?? { caFile: '', certFile: '', keyFile: '', reloadIntervalMs: 60_000 })
      : grpc.credentials.createInsecure();
    this.client = new grpc.Client(target.address, creds, channelOptions);
    this.methodPath = options.methodPath ?? EXPORT_METHOD_PATH;
    this.metadata = new grpc.Metadata();
    for (const [k, v] of Object.entries(options.headers)) this.metadata.set(k.toLowerCase(), v);
  }

  send(batch: EncodedBatch, timeoutMs: number): Promise<SendResult> {
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest<Buffer, Buffer>(
        this.methodPath,
        identity,
        identity,
        Buffer.from(batch.bytes.buffer, batch.bytes.byteOffset, batch.bytes.byteLength),
        batch.metadata ? this.withForwarded(batch.metadata) : this.metadata,
        { deadline: Date.now() + timeoutMs },
        (err, response) => {
          if (err) {
            const details = err.metadata?.get('grpc-status-details-bin')[0];
            const delay = retryDelayFromStatusDetails(typeof details === 'string' ? Buffer.from(details) : details);
            reject(classifyGrpcExportFailure(err.code, err.details || err.message, delay));
            return;
          }
          try {
            const res = decodeExportResponse(response ?? Buffer.alloc(0));
            const ps = res.partialSuccess;
            resolve({ rejected: ps ? Long.fromValue(ps.rejectedLogRecords).toNumber() : 0, message: ps?.errorMessage ?? '' });
          } catch (e) {
            reject(new ExportError(`undecodable ExportLogsServiceResponse: ${(e as Error).message}`, false, 'BAD_RESPONSE'));
          }
        },
      );
    });
  }

  async close(): Promise<void> {
    this.client.close();
  }

  /** Configured headers plus the forwarded incoming metadata (which wins: it is the sender's). */
  private withForwarded(forwarded: Readonly<Record<string, string>>): grpc.Metadata {
    const md = this.metadata.clone();
    for (const [k, v] of Object.entries(forwarded)) md.set(k, v);
    return md;
  }
}
