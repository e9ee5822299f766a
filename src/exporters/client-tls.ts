/**
 * TLS files of the OTLP exporters (CA bundle, client certificate and key), re-read every reload
 * interval like the receivers', so rotated files (e.g. a cert-manager Secret update) apply to
 * new connections without a restart.
 */
import * as fs from 'node:fs';
import * as tls from 'node:tls';
import * as grpc from '@grpc/grpc-js';

export interface ClientTlsFiles {
  /** CA bundle to trust instead of the system roots. */
  readonly caFile: string;
  /** Client certificate and key for mTLS. */
  readonly certFile: string;
  readonly keyFile: string;
  readonly reloadIntervalMs: number;
}

/**
 * The trust store grpc-js uses when given no CA (GRPC_DEFAULT_SSL_ROOTS_FILE_PATH, else Node's
 * default store), as a certificate provider: the watcher API needs one beside a client certificate.
 */
function defaultRootsProvider(): grpc.experimental.CertificateProvider {
  return {
    addCaCertificateListener(listener) {
      const file = process.env.GRPC_DEFAULT_SSL_ROOTS_FILE_PATH;
      listener({ caCertificate: file ? fs.readFileSync(file) : Buffer.from(tls.getCACertificates('default').join('\n')) });
    },
    removeCaCertificateListener: () => undefined,
    addIdentityCertificateListener: () => undefined,
    removeIdentityCertificateListener: () => undefined,
  };
}

export function channelCredentials(files: ClientTlsFiles): grpc.ChannelCredentials {
  if (!files.caFile && !files.certFile) return grpc.credentials.createSsl();
  const identity = files.certFile
    ? new grpc.experimental.FileWatcherCertificateProvider({ certificateFile: files.certFile, privateKeyFile: files.keyFile, refreshIntervalMs: files.reloadIntervalMs })
    : null;
  const ca = files.caFile
    ? new grpc.experimental.FileWatcherCertificateProvider({ caCertificateFile: files.caFile, refreshIntervalMs: files.reloadIntervalMs })
    : defaultRootsProvider();
  return grpc.experimental.createCertificateProviderChannelCredentials(ca, identity);
}

export interface HttpsClientOptions {
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
}

/**
 * The files' contents for an https agent, read now (an unreadable file throws: a start-up
 * error) and again every interval; `onChange` gets new contents. Files unreadable later, or a
 * certificate and key that do not match (read between the two writes of a rotation), keep the
 * previous contents until the next interval.
 */
export function watchHttpsClientFiles(files: ClientTlsFiles, onChange: (options: HttpsClientOptions) => void): { readonly current: HttpsClientOptions; close(): void } {
  const read = (): HttpsClientOptions => ({
    ...(files.caFile ? { ca: fs.readFileSync(files.caFile) } : {}),
    ...(files.certFile ? { cert: fs.readFileSync(files.certFile), key: fs.readFileSync(files.keyFile) } : {}),
  });
  const same = (a: Buffer | undefined, b: Buffer | undefined): boolean => (a && b ? a.equals(b) : a === b);
  const state = { current: read() };
  const timer = setInterval(() => {
    let next: HttpsClientOptions;
    try {
      next = read();
      tls.createSecureContext(next);
    } catch {
      return;
    }
    const prev = state.current;
    if (same(prev.ca, next.ca) && same(prev.cert, next.cert) && same(prev.key, next.key)) return;
    state.current = next;
    onChange(next);
  }, files.reloadIntervalMs);
  timer.unref();
  return {
    get current() {
      return state.current;
    },
    close: () => clearInterval(timer),
  };
}
