/**
 * Bearer-token authentication for receivers. Tokens come from config and/or a file (one per
 * line, re-read when it changes, so tokens rotate without restart). Presented tokens are
 * compared by SHA-256 digest with timingSafeEqual against every accepted token, so timing
 * reveals neither the token nor which one matched. Tokens are never logged.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import * as fs from 'node:fs';
import type { Logger } from 'pino';

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

export function readTokenFile(file: string): string[] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

export class BearerAuth {
  private fileDigests: Buffer[] = [];
  private readonly configDigests: Buffer[];
  private readonly onChange: (() => void) | undefined;

  /** Throws when the token file cannot be read at start-up. */
  constructor(
    tokens: readonly string[],
    private readonly file: string,
    private readonly logger: Logger,
    pollIntervalMs = 5000,
  ) {
    this.configDigests = tokens.map(digest);
    if (file) {
      this.fileDigests = readTokenFile(file).map(digest);
      this.onChange = () => this.reload();
      fs.watchFile(file, { interval: pollIntervalMs, persistent: false }, this.onChange);
    }
  }

  /** Whether the value of an `authorization` header carries an accepted token. */
  verify(authorization: string | undefined): boolean {
    const m = authorization === undefined ? null : BEARER.exec(authorization);
    const presented = digest(m ? m[1]! : '');
    let ok = false;
    for (const d of this.configDigests) ok = timingSafeEqual(d, presented) || ok;
    for (const d of this.fileDigests) ok = timingSafeEqual(d, presented) || ok;
    return ok && m !== null;
  }

  close(): void {
    if (this.onChange) fs.unwatchFile(this.file, this.onChange);
  }

  private reload(): void {
    try {
      const tokens = readTokenFile(this.file);
      this.fileDigests = tokens.map(digest);
      this.logger.info({ file: this.file, tokens: tokens.length }, 'bearer token file reloaded');
    } catch (e) {
      // Keep the previous tokens: a file being replaced must not lock everyone out.
      this.logger.error({ file: this.file, err: (e as Error).message }, 'cannot re-read bearer token file; keeping the previous tokens');
    }
  }
}
