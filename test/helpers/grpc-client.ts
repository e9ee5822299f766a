/** Sends raw bytes to LogsService/Export and returns the status as a client sees it. */
import * as grpc from '@grpc/grpc-js';
import { EXPORT_METHOD_PATH, decodeExportResponse, encodeLogsData, retryDelayFromStatusDetails } from '../../src/otlp/codec';
import type { ExportLogsServiceResponse, LogsData } from '../../src/otlp/model';

export interface ExportOutcome {
  code: grpc.status;
  details: string;
  response?: ExportLogsServiceResponse;
  retryAfterMs?: number;
  /** The answer's bytes, as received. */
  readonly raw?: Buffer;
}

export interface ExportOptions {
  gzip?: boolean;
  credentials?: grpc.ChannelCredentials;
  metadata?: Record<string, string>;
  /** Method called; default the logs Export. */
  readonly path?: string;
}

export async function exportRaw(endpoint: string, bytes: Uint8Array, options: ExportOptions = {}): Promise<ExportOutcome> {
  const target = endpoint.replace(/^https?:\/\//, '');
  const channelOptions: grpc.ChannelOptions = { 'grpc.max_send_message_length': -1 };
  if (options.gzip) channelOptions['grpc.default_compression_algorithm'] = 2;
  const client = new grpc.Client(target, options.credentials ?? grpc.credentials.createInsecure(), channelOptions);
  const metadata = new grpc.Metadata();
  for (const [k, v] of Object.entries(options.metadata ?? {})) metadata.set(k, v);
  try {
    return await new Promise<ExportOutcome>((resolve) => {
      const identity = (b: Buffer): Buffer => b;
      client.makeUnaryRequest<Buffer, Buffer>(options.path ?? EXPORT_METHOD_PATH, identity, identity, Buffer.from(bytes), metadata, { deadline: Date.now() + 10_000 }, (err, res) => {
        if (err) {
          const d = err.metadata?.get('grpc-status-details-bin')[0];
          resolve({ code: err.code, details: err.details, retryAfterMs: retryDelayFromStatusDetails(typeof d === 'string' ? Buffer.from(d) : d) });
        } else {
          resolve({ code: grpc.status.OK, details: '', response: decodeExportResponse(res!), raw: res! });
        }
      });
    });
  } finally {
    client.close();
  }
}

export function exportLogs(endpoint: string, data: LogsData, options: ExportOptions = {}): Promise<ExportOutcome> {
  return exportRaw(endpoint, encodeLogsData(data), options);
}
