/** The service's own HTTP endpoints: Prometheus metrics, liveness / readiness probes, the admin API and status page. */
import * as http from 'node:http';

export interface RouteRequest {
  readonly query: URLSearchParams;
  readonly authorization: string | undefined;
  readonly method: string;
  /** The peer's address (to tell loopback connections apart). */
  readonly remoteAddress: string | undefined;
}

export interface RouteAnswer {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/** An answer written over time (GET /api/tap): the head is sent, then `stream` owns the response until it ends it. */
export interface StreamAnswer {
  readonly status: number;
  readonly contentType: string;
  readonly headers?: Readonly<Record<string, string>>;
  stream(res: http.ServerResponse): void;
}

export type Route = (req: RouteRequest) => Promise<RouteAnswer | StreamAnswer>;

/**
 * Scrapers and probes send a short GET and read the answer: a connection that takes longer, or
 * stays silent, is closed, and connections beyond the cap are refused, so a flood cannot hold
 * descriptors or memory on this port.
 */
const ENDPOINT_TIMEOUTS: http.ServerOptions = { headersTimeout: 10_000, requestTimeout: 10_000, keepAliveTimeout: 5_000, connectionsCheckingInterval: 1_000 };
const ENDPOINT_MAX_CONNECTIONS = 256;

/** Listens on host:port (port 0 picks a free one) and serves GET routes by path. */
export function startHttpEndpoint(endpoint: string, variable: string, routes: Readonly<Record<string, Route>>): Promise<http.Server> {
  const m = /^(.*):(\d+)$/.exec(endpoint);
  if (!m) return Promise.reject(new Error(`${variable}: expected host:port, got "${endpoint}"`));
  const server = http.createServer(ENDPOINT_TIMEOUTS, (req, res) => {
    const url = req.url ?? '';
    const q = url.indexOf('?');
    const route = routes[q < 0 ? url : url.slice(0, q)];
    if (!route) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
      return;
    }
    route({ query: new URLSearchParams(q < 0 ? '' : url.slice(q + 1)), authorization: req.headers.authorization, method: req.method, remoteAddress: req.socket.remoteAddress }).then(
      (r) => {
        res.writeHead(r.status, { ...r.headers, 'content-type': r.contentType });
        if ('stream' in r) r.stream(res);
        else res.end(req.method === 'HEAD' ? undefined : r.body);
      },
      (err: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${err.message}\n`),
    );
  });
  server.maxConnections = ENDPOINT_MAX_CONNECTIONS;
  return new Promise((resolve, reject) => {
    server.once('error', (e) => reject(new Error(`cannot listen on ${endpoint} (${variable}): ${e.message}`)));
    server.listen(Number(m[2]), m[1]!.replace(/^\[|\]$/g, ''), () => resolve(server));
  });
}

export function boundPort(server: http.Server): number {
  return (server.address() as { port: number }).port;
}

export function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}
