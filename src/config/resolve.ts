/**
 * The whole configuration: service settings plus the options of every known processor,
 * checked across fields (processor and exporter names, endpoint syntax) and frozen.
 */
import * as fs from 'node:fs';
import type { ProcessorFactory } from '../processors/contract';
import { otlpHttpLogsUrl, parseGrpcEndpoint } from './endpoints';
import { ConfigError, deepFreeze, loadConfig, peekList, type SectionValues, type Sections } from './load';
import { INSTANCE_NAME, instanceOptions, isInstanceOf, splitInstance } from './instances';
import type { OptionShape, OptionValues } from './options';
import { minReceiveBudgetMib, namedExporterOptions, serviceSections, type ServiceConfig } from './settings';
import { whereOption } from '../conditions';

const LISTEN_ADDRESS = /^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.-]+):\d{1,5}$/;
const MAX_PORT = 65535;

function portOf(hostPort: string): number {
  return Number(hostPort.slice(hostPort.lastIndexOf(':') + 1));
}

/** Exporter names: `otlp` (OTEL_EXPORTER_OTLP_*), `debug`, or any other name configured by OLP_EXPORTER_<NAME>_*. */
const EXPORTER_NAME = /^[a-z][a-z0-9_]*$/;

export interface OtlpExporterSettings {
  readonly endpoint: string;
  readonly protocol: 'grpc' | 'http/protobuf' | 'http/json';
  readonly headers: Readonly<Record<string, string>>;
  readonly compression: 'gzip' | 'none';
  readonly timeoutMs: number;
  readonly insecure: boolean;
  readonly certificate: string;
  readonly clientCertificate: string;
  readonly clientKey: string;
  /** The logs URL when the protocol is OTLP/HTTP. */
  readonly httpUrl: string | undefined;
}

export interface ExporterSpec {
  readonly name: string;
  readonly type: 'otlp' | 'debug';
  readonly otlp?: OtlpExporterSettings;
}

export function exporterSection(name: string): string {
  return `exporter_${name}`;
}

export interface ResolvedConfig {
  readonly service: ServiceConfig;
  /** Options of every known processor, by processor name (also those not in the chain). */
  readonly processorOptions: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  /** Names of the exporters in use, after applying the default. */
  readonly exporters: readonly string[];
  /** The same exporters, resolved. */
  readonly exporterSpecs: readonly ExporterSpec[];
  /** Every config section in force (service, processors, named exporters) and its values, for print-config. */
  readonly sections: Sections;
  readonly values: SectionValues;
  readonly origins: Readonly<Record<string, string>>;
  readonly file: string | undefined;
  /** Not fatal at start-up (logged); `validate` fails on them. */
  readonly warnings: readonly string[];
}

export function allSections(processors: readonly ProcessorFactory<OptionShape>[]): Sections {
  const sections: Sections = { ...serviceSections };
  for (const p of processors) {
    if (p.name in sections) throw new Error(`processor name "${p.name}" collides with a config section`);
    if ('where' in p.options) throw new Error(`processor "${p.name}" declares option "where", which every processor gets`);
    // Every processor gets `where` (OLP_<NAME>_WHERE): a condition selecting the records it sees.
    sections[p.name] = { ...p.options, where: whereOption };
  }
  return sections;
}

/**
 * `aliases` maps chain entries that name loaded code (`./my-processor.js`) to the name of the
 * processor they provided, so the resolved chain holds processor names only.
 */
function otlpSettings(
  o: { endpoint: string; protocol: OtlpExporterSettings['protocol']; headers: Readonly<Record<string, string>>; compression: 'gzip' | 'none'; insecure: boolean; certificate: string; client_certificate: string; client_key: string },
  timeoutMs: number,
  httpUrl: string | undefined,
): OtlpExporterSettings {
  return {
    endpoint: o.endpoint,
    protocol: o.protocol,
    headers: o.headers,
    compression: o.compression,
    timeoutMs,
    insecure: o.insecure,
    certificate: o.certificate,
    clientCertificate: o.client_certificate,
    clientKey: o.client_key,
    httpUrl,
  };
}

function isReadable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.R_OK);
    return true;
  } catch {
    return false;
  }
}

export function resolveConfig(
  env: NodeJS.ProcessEnv,
  processors: readonly ProcessorFactory<OptionShape>[],
  aliases: ReadonlyMap<string, string> = new Map(),
): ResolvedConfig {
  const sections = allSections(processors);
  // Named exporters get their own sections, so their OLP_EXPORTER_<NAME>_* variables are known.
  for (const name of peekList(env, 'OLP_EXPORTERS', 'exporters')) {
    if (name !== 'otlp' && name !== 'debug' && EXPORTER_NAME.test(name)) sections[exporterSection(name)] ??= namedExporterOptions;
  }
  // Named processor instances (`parse/json`) likewise, with their type's options.
  const types = new Set(processors.map((p) => p.name));
  for (const entry of peekList(env, 'OLP_PROCESSORS', 'processors')) {
    if (isInstanceOf(entry, types)) sections[entry] ??= instanceOptions(sections[splitInstance(entry).type]!);
  }
  const loaded = loadConfig(sections, env);
  const service = loaded.values as unknown as ServiceConfig;
  if (aliases.size > 0) {
    (service[''] as { processors: readonly string[] }).processors = service[''].processors.map((n) => aliases.get(n) ?? n);
  }
  const problems = [...loaded.problems];
  // Names the source of a value in messages: its env var, or the file and key.
  const where = (path: string, envName: string): string => {
    const origin = loaded.origins[path];
    if (origin === 'file') return `${loaded.file}: ${path}`;
    return origin && origin !== 'default' ? origin : envName;
  };

  const known = processors.map((p) => p.name);
  const seen = new Set<string>();
  for (const name of service[''].processors) {
    const { type, name: instance } = splitInstance(name);
    if (!known.includes(type)) problems.push(`${where('processors', 'OLP_PROCESSORS')}: unknown processor "${name}" (known: ${known.join(', ')})`);
    else if (instance !== undefined && !INSTANCE_NAME.test(instance)) {
      problems.push(`${where('processors', 'OLP_PROCESSORS')}: "${name}": an instance name is lower-case letters and digits (e.g. ${type}/json)`);
    } else if (seen.has(name)) problems.push(`${where('processors', 'OLP_PROCESSORS')}: processor "${name}" is listed twice (name another instance ${type}/<name>)`);
    seen.add(name);
  }

  // A request larger than a queue can hold would be refused as retryable forever: senders would retry it without end.
  // Left at its default, the request limit follows a smaller queue; set explicitly, the conflict is an error.
  if (service.queue.full_policy !== 'drop_oldest' && service.limits.max_records > service.queue.max_records) {
    if ((loaded.origins['limits.max_records'] ?? 'default') === 'default') (service.limits as { max_records: number }).max_records = service.queue.max_records;
    else problems.push(
      `${where('limits.max_records', 'OLP_LIMITS_MAX_RECORDS')}: ${service.limits.max_records} records per request is more than an exporter queue holds (${where('queue.max_records', 'OLP_QUEUE_MAX_RECORDS')}=${service.queue.max_records}); lower it or raise the queue`,
    );
  }

  const endpoint = service.otlp.endpoint;
  let exporters = service[''].exporters as readonly string[];
  if (exporters.length === 0) exporters = endpoint ? ['otlp'] : ['debug'];
  for (const name of exporters) {
    if (!EXPORTER_NAME.test(name)) problems.push(`${where('exporters', 'OLP_EXPORTERS')}: invalid exporter name "${name}" (lower-case letters, digits, _)`);
  }
  if (new Set(exporters).size !== exporters.length) problems.push(`${where('exporters', 'OLP_EXPORTERS')}: an exporter is listed twice`);
  const checkEndpoint = (e: { endpoint: string; protocol: string; insecure: boolean }, signalSpecific: boolean, source: string, insecurePath: string): string | undefined => {
    // Without a scheme the OTel spec lets *_INSECURE choose; left at its default, the choice is TLS,
    // which against a plaintext Collector fails only at the first export ("wrong version number").
    const explicitInsecure = e.protocol === 'grpc' && loaded.origins[insecurePath] !== 'default';
    if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(e.endpoint.trim()) && !explicitInsecure) {
      const bare = e.endpoint.trim();
      problems.push(`${source}: "${bare}" has no scheme: write http://${bare} for plaintext or https://${bare} for TLS`);
      return undefined;
    }
    try {
      if (e.protocol === 'grpc') parseGrpcEndpoint(e.endpoint, e.insecure);
      else return otlpHttpLogsUrl(e.endpoint, signalSpecific);
    } catch (err) {
      problems.push(`${source}: ${(err as Error).message}`);
    }
    return undefined;
  };
  const exporterSpecs: ExporterSpec[] = [];
  for (const name of exporters) {
    if (name === 'debug') {
      exporterSpecs.push({ name, type: 'debug' });
    } else if (name === 'otlp') {
      const o = service.otlp;
      let httpUrl: string | undefined;
      if (!endpoint) {
        problems.push(`${where('exporters', 'OLP_EXPORTERS')}: the otlp exporter needs OTEL_EXPORTER_OTLP_LOGS_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT`);
      } else {
        // Only the generic variable is a base URL (OTel spec); the _LOGS_ one and the YAML key are the full URL.
        httpUrl = checkEndpoint(o, loaded.origins['otlp.endpoint'] !== 'OTEL_EXPORTER_OTLP_ENDPOINT', where('otlp.endpoint', 'OTEL_EXPORTER_OTLP_ENDPOINT'), 'otlp.insecure');
      }
      exporterSpecs.push({ name, type: 'otlp', otlp: otlpSettings(o, o.timeout, httpUrl) });
    } else if (EXPORTER_NAME.test(name)) {
      const section = exporterSection(name);
      const o = loaded.values[section] as unknown as OptionValues<typeof namedExporterOptions>;
      if (o.type === 'debug') {
        exporterSpecs.push({ name, type: 'debug' });
        continue;
      }
      const envName = `OLP_EXPORTER_${name.toUpperCase()}_ENDPOINT`;
      let httpUrl: string | undefined;
      if (!o.endpoint) problems.push(`${where(`${section}.endpoint`, envName)}: required for exporter "${name}"`);
      else httpUrl = checkEndpoint(o, true, where(`${section}.endpoint`, envName), `${section}.insecure`);
      exporterSpecs.push({ name, type: 'otlp', otlp: otlpSettings(o, o.timeout, httpUrl) });
      for (const key of ['certificate', 'client_certificate', 'client_key'] as const) {
        if (o[key] && !isReadable(o[key])) problems.push(`${where(`${section}.${key}`, `OLP_EXPORTER_${name.toUpperCase()}_${key.toUpperCase()}`)}: cannot read ${o[key]}`);
      }
    }
  }
  const listenAddresses: [string, string, string][] = [
    ['grpc.endpoint', 'OLP_GRPC_ENDPOINT', service.grpc.endpoint],
    ['metrics.endpoint', 'OLP_METRICS_ENDPOINT', service.metrics.endpoint],
    ['health.endpoint', 'OLP_HEALTH_ENDPOINT', service.health.endpoint],
    ['http.endpoint', 'OLP_HTTP_ENDPOINT', service.http.endpoint],
  ];
  for (const [path, envName, value] of listenAddresses) {
    if (value !== '' && !LISTEN_ADDRESS.test(value)) problems.push(`${where(path, envName)}: expected host:port (e.g. 0.0.0.0:4317 or [::]:4317), got "${value}"`);
    else if (value !== '' && portOf(value) > MAX_PORT) problems.push(`${where(path, envName)}: port ${portOf(value)} is out of range (0-${MAX_PORT}; 0 picks a free port)`);
  }
  const pairs: [string, string, string, string, string, string][] = [
    ['grpc.tls_cert_file', 'OLP_GRPC_TLS_CERT_FILE', service.grpc.tls_cert_file, 'grpc.tls_key_file', 'OLP_GRPC_TLS_KEY_FILE', service.grpc.tls_key_file],
    ['otlp.client_certificate', 'OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE', service.otlp.client_certificate, 'otlp.client_key', 'OTEL_EXPORTER_OTLP_CLIENT_KEY', service.otlp.client_key],
    ['http.tls_cert_file', 'OLP_HTTP_TLS_CERT_FILE', service.http.tls_cert_file, 'http.tls_key_file', 'OLP_HTTP_TLS_KEY_FILE', service.http.tls_key_file],
  ];
  for (const [certPath, certEnv, cert, keyPath, keyEnv, key] of pairs) {
    if (cert && !key) problems.push(`${where(keyPath, keyEnv)}: required with ${where(certPath, certEnv)}`);
    if (key && !cert) problems.push(`${where(certPath, certEnv)}: required with ${where(keyPath, keyEnv)}`);
  }
  if (service.http.tls_client_ca_file && !service.http.tls_cert_file) {
    problems.push(`${where('http.tls_client_ca_file', 'OLP_HTTP_TLS_CLIENT_CA_FILE')}: mTLS needs the receiver's own certificate (OLP_HTTP_TLS_CERT_FILE, OLP_HTTP_TLS_KEY_FILE)`);
  }
  if (service.grpc.tls_client_ca_file && !service.grpc.tls_cert_file) {
    problems.push(`${where('grpc.tls_client_ca_file', 'OLP_GRPC_TLS_CLIENT_CA_FILE')}: mTLS needs the receiver's own certificate (OLP_GRPC_TLS_CERT_FILE, OLP_GRPC_TLS_KEY_FILE)`);
  }
  const files: [string, string, string][] = [
    ['grpc.tls_cert_file', 'OLP_GRPC_TLS_CERT_FILE', service.grpc.tls_cert_file],
    ['grpc.tls_key_file', 'OLP_GRPC_TLS_KEY_FILE', service.grpc.tls_key_file],
    ['grpc.tls_client_ca_file', 'OLP_GRPC_TLS_CLIENT_CA_FILE', service.grpc.tls_client_ca_file],
    ['auth.bearer_token_file', 'OLP_AUTH_BEARER_TOKEN_FILE', service.auth.bearer_token_file],
    ['http.tls_cert_file', 'OLP_HTTP_TLS_CERT_FILE', service.http.tls_cert_file],
    ['http.tls_key_file', 'OLP_HTTP_TLS_KEY_FILE', service.http.tls_key_file],
    ['http.tls_client_ca_file', 'OLP_HTTP_TLS_CLIENT_CA_FILE', service.http.tls_client_ca_file],
    ['otlp.certificate', 'OTEL_EXPORTER_OTLP_CERTIFICATE', service.otlp.certificate],
    ['otlp.client_certificate', 'OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE', service.otlp.client_certificate],
    ['otlp.client_key', 'OTEL_EXPORTER_OTLP_CLIENT_KEY', service.otlp.client_key],
  ];
  for (const [path, envName, file] of files) {
    if (!file) continue;
    try {
      fs.accessSync(file, fs.constants.R_OK);
    } catch (e) {
      problems.push(`${where(path, envName)}: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  if (service.retry.initial_interval > service.retry.max_interval) {
    problems.push(`${where('retry.initial_interval', 'OLP_RETRY_INITIAL_INTERVAL')}: must not exceed the max interval (OLP_RETRY_MAX_INTERVAL)`);
  }
  const minBudget = minReceiveBudgetMib(service.grpc.max_recv_mib, service.http.max_recv_mib);
  if (service.memory.receive_budget_mib > 0 && service.memory.receive_budget_mib < minBudget) {
    problems.push(
      `${where('memory.receive_budget_mib', 'OLP_MEMORY_RECEIVE_BUDGET_MIB')}: must be at least ${minBudget} (twice the larger OLP_GRPC_MAX_RECV_MIB / OLP_HTTP_MAX_RECV_MIB, plus 1), or the largest requests could never be received`,
    );
  }
  if (service.queue.max_records < service.batch.max_records) {
    problems.push(`${where('queue.max_records', 'OLP_QUEUE_MAX_RECORDS')}: must be at least the batch size (OLP_BATCH_MAX_RECORDS)`);
  }
  // Warnings go along with errors: a typo'd variable is often the cause of the error next to it.
  if (problems.length > 0) throw new ConfigError([...problems, ...loaded.warnings]);

  const processorOptions: Record<string, Readonly<Record<string, unknown>>> = {};
  for (const p of processors) processorOptions[p.name] = loaded.values[p.name]!;
  for (const entry of service[''].processors) if (loaded.values[entry] && !(entry in processorOptions)) processorOptions[entry] = loaded.values[entry]!;
  const values = deepFreeze({ service, processorOptions, exporters, exporterSpecs, values: loaded.values, origins: loaded.origins, file: loaded.file, warnings: loaded.warnings });
  // The option declarations hold zod schemas, which must not be frozen; they are not ours to change anyway.
  return Object.freeze({ ...values, sections });
}
