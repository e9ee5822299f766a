/** Steady OTLP load for fault tests: concurrent senders that retry refused requests, like an upstream collector, and remember what was acknowledged. */
import * as fs from 'node:fs';
import { status } from '@grpc/grpc-js';
import { exportLogs } from '../helpers/grpc-client';
import { record, request } from '../helpers/builders';
import type { OtlpTestServer } from '../helpers/otlp-test-server';

export interface LoadOptions {
  readonly concurrency?: number;
  readonly recordsPerRequest?: number;
  /** Body prefix, so runs against the same sink do not collide. */
  readonly prefix?: string;
}

export class Load {
  /** Bodies of records whose request was answered OK. */
  readonly acked = new Set<string>();
  /** Answers other than OK, by gRPC code name. */
  readonly refusals: Record<string, number> = {};
  private running = true;
  private readonly loops: Promise<void>[] = [];
  private seq = 0;
  private endpoint: string;

  constructor(
    endpoint: string,
    private readonly options: LoadOptions = {},
  ) {
    this.endpoint = endpoint;
    for (let i = 0; i < (options.concurrency ?? 8); i++) this.loops.push(this.loop());
  }

  /** Points later requests at another address (a restarted service). */
  retarget(endpoint: string): void {
    this.endpoint = endpoint;
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  private async loop(): Promise<void> {
    const n = this.options.recordsPerRequest ?? 50;
    while (this.running) {
      const id = this.seq++;
      const names = Array.from({ length: n }, (_, i) => `${this.options.prefix ?? 'r'}-${id}-${i}`);
      const data = request(names.map((b) => record(b)));
      // Retry the same request until acknowledged (or the run ends), as an OTLP exporter does.
      while (this.running) {
        const out = await exportLogs(this.endpoint, data).catch(() => ({ code: status.UNAVAILABLE, retryAfterMs: undefined }));
        if (out.code === status.OK) {
          for (const b of names) this.acked.add(b);
          break;
        }
        const code = status[out.code] ?? String(out.code);
        this.refusals[code] = (this.refusals[code] ?? 0) + 1;
        await new Promise((r) => setTimeout(r, Math.min(out.retryAfterMs ?? 50, 200)));
      }
    }
  }
}

/** Records the sink received, as body → times received. */
export function received(sink: OtlpTestServer): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of sink.records()) {
    const b = r.body?.stringValue ?? '';
    out.set(b, (out.get(b) ?? 0) + 1);
  }
  return out;
}

export function lossesAndDuplicates(acked: Set<string>, sink: OtlpTestServer): { lost: number; duplicates: number; receivedRecords: number } {
  const got = received(sink);
  let lost = 0;
  for (const b of acked) if (!got.has(b)) lost++;
  let duplicates = 0;
  for (const n of got.values()) duplicates += n - 1;
  return { lost, duplicates, receivedRecords: sink.recordCount };
}

/** Waits until every acknowledged record arrived (or the timeout), polling. */
export async function waitForAll(acked: Set<string>, sink: OtlpTestServer, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const got = received(sink);
    if ([...acked].every((b) => got.has(b))) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Resident set size of a process in bytes (Linux /proc). */
export function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

/** Service env for fault tests: passthrough, quick retries, quiet logs except start-up. */
export function serviceEnv(sinkEndpoint: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    OTEL_EXPORTER_OTLP_ENDPOINT: sinkEndpoint,
    OLP_PROCESSORS: '',
    OLP_BATCH_MAX_DELAY: '20ms',
    OLP_RETRY_INITIAL_INTERVAL: '100ms',
    OLP_RETRY_MAX_INTERVAL: '500ms',
    OLP_RETRY_MAX_ELAPSED: '0s',
    OLP_SHUTDOWN_TIMEOUT: '10s',
    ...extra,
  };
}
