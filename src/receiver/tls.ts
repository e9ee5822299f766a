/**
 * TLS credentials for the receivers (the exporters' are in exporters/client-tls.ts). Certificates, keys and CA bundles
 * are read by grpc-js file watchers, re-read every reload interval, so rotated files (e.g. a
 * cert-manager Secret update) take effect without a restart.
 */
import * as fs from 'node:fs';
import type * as https from 'node:https';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';

export interface ServerTlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
  /** Non-empty: clients must present a certificate signed by this CA (mTLS). */
  readonly clientCaFile: string;
  readonly reloadIntervalMs: number;
}

export interface LoadedServerCredentials {
  readonly credentials: grpc.ServerCredentials;
  /** Stops watching the files. */
  close(): void;
}

/**
 * Server credentials whose files have been read once already: grpc-js reads them
 * asynchronously, and a handshake before the first read would fail. Each later re-read
 * is logged; an unreadable file keeps the previous certificate.
 */
export async function loadServerCredentials(tls: ServerTlsFiles, logger: Logger): Promise<LoadedServerCredentials> {
  if (!tls.certFile) return { credentials: grpc.ServerCredentials.createInsecure(), close: () => undefined };
  const identity = new grpc.experimental.FileWatcherCertificateProvider({
    certificateFile: tls.certFile,
    privateKeyFile: tls.keyFile,
    refreshIntervalMs: tls.reloadIntervalMs,
  });
  const clientCa = tls.clientCaFile
    ? new grpc.experimental.FileWatcherCertificateProvider({ caCertificateFile: tls.clientCaFile, refreshIntervalMs: tls.reloadIntervalMs })
    : null;
  const keepers: (() => void)[] = [];
  const firstLoads: Promise<void>[] = [];
  const watch = (provider: grpc.experimental.FileWatcherCertificateProvider, kind: 'identity' | 'ca', file: string): void => {
    let first: (() => void) | undefined;
    firstLoads.push(new Promise<void>((resolve) => (first = resolve)));
    let last: Buffer | undefined;
    const listener = (update: grpc.experimental.IdentityCertificateUpdate | grpc.experimental.CaCertificateUpdate | null): void => {
      if (update === null) logger.error({ file }, 'cannot read TLS file; keeping the previous one');
      const content = update && ('certificate' in update ? update.certificate : update.caCertificate);
      if (content && last && !content.equals(last)) logger.info({ file }, 'TLS file changed; new handshakes use it');
      if (content) last = content;
      first?.();
      first = undefined;
    };
    if (kind === 'identity') {
      provider.addIdentityCertificateListener(listener);
      keepers.push(() => provider.removeIdentityCertificateListener(listener));
    } else {
      provider.addCaCertificateListener(listener);
      keepers.push(() => provider.removeCaCertificateListener(listener));
    }
  };
  watch(identity, 'identity', tls.certFile);
  if (clientCa) watch(clientCa, 'ca', tls.clientCaFile);
  await Promise.all(firstLoads);
  // grpc-js passes its first two arguments to the credentials as (identity, CA), whatever the
  // parameter names in its typings say; the handshake tests pin this down.
  const credentials = grpc.experimental.createCertificateProviderServerCredentials(
    identity,
    clientCa as unknown as grpc.experimental.CertificateProvider,
    clientCa !== null,
  );
  return { credentials, close: () => keepers.forEach((k) => k()) };
}

export interface HttpsContext {
  /** Options for https.createServer, read from the files now. */
  readonly options: https.ServerOptions;
  /** Re-reads the files every interval and swaps the server's context when they changed. */
  watch(server: https.Server): void;
  close(): void;
}

/**
 * TLS for the OTLP/HTTP receiver from the same kind of files as the gRPC receiver. Node's https
 * server takes a new secure context for new handshakes, so rotated files apply without restart.
 */
export function httpsContext(tls: ServerTlsFiles, logger: Logger): HttpsContext {
  const read = (): https.ServerOptions => ({
    cert: fs.readFileSync(tls.certFile),
    key: fs.readFileSync(tls.keyFile),
    ...(tls.clientCaFile ? { ca: fs.readFileSync(tls.clientCaFile), requestCert: true, rejectUnauthorized: true } : {}),
  });
  let current = read();
  let timer: NodeJS.Timeout | undefined;
  const same = (a: https.ServerOptions, b: https.ServerOptions): boolean =>
    (a.cert as Buffer).equals(b.cert as Buffer) && (a.key as Buffer).equals(b.key as Buffer) && (!a.ca || (a.ca as Buffer).equals(b.ca as Buffer));
  return {
    options: current,
    watch(server) {
      timer = setInterval(() => {
        let next: https.ServerOptions;
        try {
          next = read();
        } catch (e) {
          logger.error({ err: (e as Error).message }, 'cannot read TLS file; keeping the previous one');
          return;
        }
        if (same(current, next)) return;
        try {
          server.setSecureContext(next);
          current = next;
          logger.info({ file: tls.certFile }, 'TLS files changed; new handshakes use them');
        } catch (e) {
          logger.error({ err: (e as Error).message }, 'new TLS files rejected; keeping the previous ones');
        }
      }, tls.reloadIntervalMs);
      timer.unref();
    },
    close() {
      if (timer) clearInterval(timer);
    },
  };
}
