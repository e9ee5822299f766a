/** OTLP exporter endpoints as the OTel exporter specification reads them, checked by the configuration and used by the exporters. */

export interface GrpcTarget {
  readonly address: string;
  readonly tls: boolean;
}

/**
 * OTLP endpoint → grpc-js target. `http://` means plaintext and `https://` TLS; without a
 * scheme, `insecure` decides (OTEL_EXPORTER_OTLP_INSECURE). The port defaults to 4317.
 */
export function parseGrpcEndpoint(endpoint: string, insecure: boolean): GrpcTarget {
  const m = /^(https?):\/\/([^/]+)\/?$/.exec(endpoint.trim());
  const hostPort = m ? m[2]! : endpoint.trim().replace(/\/$/, '');
  if (!hostPort || hostPort.includes('/')) throw new Error(`invalid OTLP/gRPC endpoint "${endpoint}": expected http(s)://host:port`);
  const hasPort = /:\d+$/.test(hostPort) && !/^\[[^\]]*\]$/.test(hostPort);
  const port = hasPort ? Number(hostPort.slice(hostPort.lastIndexOf(':') + 1)) : 4317;
  if (port < 1 || port > 65535) throw new Error(`invalid OTLP/gRPC endpoint "${endpoint}": port ${port} is out of range (1-65535)`);
  return { address: hasPort ? hostPort : `${hostPort}:4317`, tls: m ? m[1] === 'https' : !insecure };
}

/**
 * The URL to POST logs to, per the OTel exporter spec: the generic OTEL_EXPORTER_OTLP_ENDPOINT
 * is a base to which `v1/logs` is appended (after its own path, if any); the signal-specific
 * OTEL_EXPORTER_OTLP_LOGS_ENDPOINT is used as is (an empty path meaning `/`).
 */

export function otlpHttpLogsUrl(endpoint: string, signalSpecific: boolean): string {
  let url: URL | undefined;
  try {
    url = new URL(endpoint.trim());
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || !url.hostname) {
    throw new Error(`invalid OTLP/HTTP endpoint "${endpoint}": expected http(s)://host[:port][/path]`);
  }
  if (!signalSpecific) url.pathname = url.pathname.replace(/\/?$/, '/v1/logs');
  return url.toString();
}

/**
 * The URL of another signal next to a logs URL: `…/v1/logs` becomes `…/v1/traces`; undefined
 * when the logs URL does not end in `/v1/logs` (a signal-specific endpoint with its own path).
 */
export function otlpHttpSignalUrl(logsUrl: string, httpPath: string): string | undefined {
  const url = new URL(logsUrl);
  if (!url.pathname.endsWith('/v1/logs')) return undefined;
  url.pathname = url.pathname.slice(0, -'/v1/logs'.length) + httpPath;
  return url.toString();
}
