/**
 * Routes of the metrics port beyond /metrics: the admin API (/api/status, /api/templates, the
 * live record stream /api/tap) and the status page (/, static files under ./static, read once at
 * start). The API answers only with a bearer token when authentication is configured; the tap
 * also only to the peers OLP_METRICS_TAP allows. The page holds no data of its own.
 */
import * as fs from 'node:fs';
import type * as http from 'node:http';
import * as path from 'node:path';
import type { Registry } from 'prom-client';
import { mergeTemplates, RateWindow, statusReport, templateLimit, type ServiceSummary } from './admin';
import { type ProcessorTemplates } from '../processors/contract';
import type { Route, RouteAnswer } from './http-endpoint';
import type { TapHub } from '../pipeline/tap';

export interface AdminDeps {
  /** Read on each request (ports are bound after the routes exist). */
  summary(): ServiceSummary;
  /** The merged metrics of every thread. */
  collect(): Promise<Registry>;
  /** Every thread's templates (one list per thread), `limit` per processor. */
  templates(limit: number): Promise<readonly (readonly ProcessorTemplates[])[]>;
  /** Whether an `authorization` header value is accepted; undefined: no authentication. */
  readonly verify: ((authorization: string | undefined) => boolean) | undefined;
  readonly now: () => number;
  /** The open tap streams (GET /api/tap). */
  readonly taps: TapHub;
  /** OLP_METRICS_TAP: which peers may open one. */
  readonly tapAccess: 'loopback' | 'any' | 'off';
}

const STATIC_DIR = path.join(__dirname, 'static');
const STATIC_FILES: Readonly<Record<string, { file: string; contentType: string }>> = {
  '/': { file: 'index.html', contentType: 'text/html; charset=utf-8' },
  '/status.css': { file: 'status.css', contentType: 'text/css; charset=utf-8' },
  '/status.js': { file: 'status.js', contentType: 'text/javascript; charset=utf-8' },
};
// The page loads only its own files and talks only to this port.
const PAGE_HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-cache',
};
const API_HEADERS = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' };

export function adminRoutes(deps: AdminDeps): Record<string, Route> {
  const window = new RateWindow();
  const json = (status: number, body: unknown): RouteAnswer => ({ status, contentType: 'application/json', headers: API_HEADERS, body: `${JSON.stringify(body)}\n` });
  const guarded =
    (route: Route): Route =>
    async (req) => {
      if (deps.verify && !deps.verify(req.authorization)) {
        return { ...json(401, { error: 'a bearer token is required (Authorization: Bearer <token>)' }), headers: { ...API_HEADERS, 'www-authenticate': 'Bearer' } };
      }
      return route(req);
    };
  const routes: Record<string, Route> = {
    '/api/status': guarded(async () => {
      const metrics = await (await deps.collect()).getMetricsAsJSON();
      return json(200, statusReport(metrics, deps.summary(), window, deps.now(), process.memoryUsage()));
    }),
    '/api/templates': guarded(async (req) => {
      const limit = templateLimit(req.query.get('limit'));
      if (limit === undefined) return json(400, { error: 'limit: expected a positive integer' });
      return json(200, { now: deps.now(), processors: mergeTemplates(await deps.templates(limit), limit) });
    }),
    '/api/tap': guarded(async (req) => {
      if (deps.tapAccess === 'off') return json(403, { error: 'the tap is off (OLP_METRICS_TAP=off)' });
      if (deps.tapAccess === 'loopback' && !isLoopback(req.remoteAddress)) {
        return json(403, { error: 'the tap answers loopback connections only (OLP_METRICS_TAP=loopback): use kubectl port-forward, or set OLP_METRICS_TAP=any' });
      }
      const tap = deps.taps.request(req.query);
      if ('error' in tap) return json(tap.status, { error: tap.error });
      if (req.method === 'HEAD') return { status: 200, contentType: 'application/x-ndjson', headers: API_HEADERS, body: '' };
      // One stream per connection: when it ends, so does the connection. A client gone mid-write ends its tap ('close'), not the service.
      const stream = (res: http.ServerResponse): void => {
        res.on('error', () => undefined);
        deps.taps.attach(tap, res);
      };
      return { status: 200, contentType: 'application/x-ndjson', headers: { ...API_HEADERS, connection: 'close' }, stream };
    }),
  };
  for (const [route, { file, contentType }] of Object.entries(STATIC_FILES)) {
    const body = fs.readFileSync(path.join(STATIC_DIR, file), 'utf8');
    routes[route] = async () => ({ status: 200, contentType, headers: PAGE_HEADERS, body });
  }
  return routes;
}

/** 127.0.0.0/8 or ::1, also as IPv4-mapped IPv6. */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const a = address.startsWith('::ffff:') ? address.slice(7) : address;
  return a === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(a);
}
