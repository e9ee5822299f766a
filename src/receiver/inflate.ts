/**
 * Inflates a compressed request chunk by chunk, charging every inflated byte to the request's
 * receive-budget lease as it appears and stopping at the size limit: a gzip bomb costs at most
 * the limit, and many at once at most the budget.
 */
import * as zlib from 'node:zlib';
import type { BudgetLease } from './receive-budget';

export type Coding = 'gzip' | 'deflate';

export interface InflateLimits {
  readonly maxBytes: number;
  readonly lease: BudgetLease;
  readonly tooLarge: () => Error;
  readonly overBudget: () => Error;
  readonly corrupt: (message: string) => Error;
}

export function inflate(bytes: Uint8Array, coding: Coding, limits: InflateLimits): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const inflater = coding === 'gzip' ? zlib.createGunzip() : zlib.createInflate();
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    const fail = (e: Error): void => {
      if (failed) return;
      failed = true;
      inflater.destroy();
      reject(e);
    };
    inflater.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limits.maxBytes) fail(limits.tooLarge());
      else if (!limits.lease.grow(chunk.length)) fail(limits.overBudget());
      else chunks.push(chunk);
    });
    inflater.on('error', (err) => fail(limits.corrupt(err.message)));
    inflater.on('end', () => {
      if (!failed) resolve(Buffer.concat(chunks, size));
    });
    inflater.end(bytes);
  });
}
