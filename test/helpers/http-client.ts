/** A bare node:http client for OTLP/HTTP tests: sends exactly the headers given, one connection per request. */
import * as http from 'node:http';

export interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export interface PostOptions {
  method?: string;
  headers?: Record<string, string | number>;
  /** Send the body in these pieces with chunked encoding (no content-length). */
  chunks?: Buffer[];
  agent?: http.Agent;
}

export function httpRequest(url: string, body: Uint8Array | string | undefined, options: PostOptions = {}): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...options.headers };
    if (body !== undefined && !options.chunks) headers['content-length'] = Buffer.byteLength(body);
    const req = http.request(url, { method: options.method ?? 'POST', headers, agent: options.agent ?? false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (options.chunks) {
      for (const c of options.chunks) req.write(c);
      req.end();
    } else {
      req.end(body);
    }
  });
}

/** POSTs an OTLP body with the given content type (and gzip encoding when asked). */
export function postLogs(url: string, body: Uint8Array | string, contentType: string, extra: Record<string, string> = {}): Promise<HttpAnswer> {
  return httpRequest(url, body, { headers: { 'content-type': contentType, ...extra } });
}
