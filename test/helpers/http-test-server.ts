/** A scripted HTTP server for exporter tests: records each request and answers with the next planned response. */
import * as http from 'node:http';
import * as zlib from 'node:zlib';

export interface ReceivedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  /** The body as received (still compressed if it was). */
  raw: Buffer;
  /** The body, gunzipped when content-encoding says gzip. */
  body: Buffer;
  /** When it arrived (epoch ms). */
  at: number;
}

export interface PlannedResponse {
  status: number;
  headers?: Record<string, string>;
  body?: Uint8Array | string;
  /** Wait this long before answering. */
  delayMs?: number;
}

export class HttpTestServer {
  readonly requests: ReceivedRequest[] = [];
  /** Answered in order; when empty, 200 with an empty body. */
  readonly responses: PlannedResponse[] = [];
  private readonly server = http.createServer((req, res) => this.handle(req, res));
  private readonly timers = new Set<NodeJS.Timeout>();
  port = 0;

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const body = req.headers['content-encoding'] === 'gzip' ? zlib.gunzipSync(raw) : raw;
      this.requests.push({ method: req.method!, url: req.url!, headers: req.headers, raw, body, at: Date.now() });
      const planned = this.responses.shift() ?? { status: 200 };
      const answer = (): void => {
        res.writeHead(planned.status, planned.headers ?? {}).end(planned.body ?? '');
      };
      if (!planned.delayMs) return answer();
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        answer();
      }, planned.delayMs);
      this.timers.add(timer);
    });
  }
}
