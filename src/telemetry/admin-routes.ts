/**
 * Routes of the metrics port beyond /metrics: the admin API (/api/status, /api/templates) and
 * the status page (/, static files under ./static, read once at start). The API answers only
 * with a bearer token when authentication is configured; the page holds no data of its own.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Registry } from 'prom-client';
import { mergeTemplates, RateWindow, statusReport, templateLimit, type ServiceSummary } from './admin';
import { type ProcessorTemplates } from '../processors/contract';
import type { Route, RouteAnswer } from './http-endpoint';

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
  };
  for (const [route, { file, contentType }] of Object.entries(STATIC_FILES)) {
    const body = fs.readFileSync(path.join(STATIC_DIR, file), 'utf8');
    routes[route] = async () => ({ status: 200, contentType, headers: PAGE_HEADERS, body });
  }
  return routes;
}
