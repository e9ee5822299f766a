/** Shared helpers of the deploy tests: paths, schema validation, container and Collector-config inspection. */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { optionRows, serviceRows } from '../../src/cli/help';
import { builtinProcessors } from '../../src/processors/registry';
import type { ResolvedConfig } from '../../src/config/resolve';
import { imageName, isObject, podContainers, podSpec, type Json, type JsonObject, type Manifest } from './kustomize';

export const ROOT = path.resolve(__dirname, '../..');
export const DEPLOY = path.join(ROOT, 'deploy');
export const KUBERNETES = path.join(DEPLOY, 'kubernetes');
export const PROCESSOR_IMAGE = 'otlp-log-processor';
export const GRPC_PORT = 4317;
export const HTTP_PORT = 8888;

/** Every file below dir, absolute paths. */
export function walk(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? walk(p) : [p];
  });
}

/** Directories below deploy/kubernetes holding a kustomization. */
export function kustomizationDirs(): string[] {
  return walk(KUBERNETES)
    .filter((f) => path.basename(f) === 'kustomization.yaml')
    .map((f) => path.dirname(f))
    .sort();
}

export interface ValidationResult {
  readonly kind: string;
  readonly name: string;
  readonly errors: readonly string[];
  readonly unknownFields: readonly string[];
}

/** Schema-validates objects with kubernetes-models in a child node process (see k8s-validate.mjs). */
export function validateAgainstSchemas(objects: readonly Json[]): ValidationResult[] {
  const r = spawnSync(process.execPath, [path.join(__dirname, 'k8s-validate.mjs')], {
    cwd: ROOT,
    input: JSON.stringify(objects),
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (r.status !== 0) throw new Error(`k8s-validate.mjs failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as ValidationResult[];
}

export function isProcessorContainer(c: JsonObject): boolean {
  return typeof c.image === 'string' && imageName(c.image).split('/').pop() === PROCESSOR_IMAGE;
}

export function isCollectorContainer(c: JsonObject): boolean {
  return typeof c.image === 'string' && /opentelemetry-collector/.test(imageName(c.image));
}

export interface ContainerRef {
  readonly workload: Manifest;
  readonly container: JsonObject;
}

export function containersOf(manifests: readonly Manifest[], pick: (c: JsonObject) => boolean): ContainerRef[] {
  return manifests.flatMap((m) => podContainers(m).filter(pick).map((container) => ({ workload: m, container })));
}

/** Every env var name the service knows: the README tables, generated from the declarations. */
export function knownEnvNames(): Set<string> {
  const rows = [...serviceRows(), ...builtinProcessors.flatMap((p) => optionRows(p.name, p.options))];
  return new Set(rows.flatMap((r) => r.env.split(',').map((s) => s.trim())));
}

function findConfigMap(manifests: readonly Manifest[], name: string, namespace: string | undefined): Manifest | undefined {
  return manifests.find((m) => m.kind === 'ConfigMap' && m.metadata.name === name && m.metadata.namespace === namespace);
}

/** Placeholder values for Downward-API fields, as the kubelet would fill them. */
const FIELD_VALUES: Record<string, string> = {
  'metadata.name': 'example-pod-7d9f8',
  'metadata.namespace': 'example-ns',
  'metadata.uid': '0b9e4c1a-5d1e-4f0e-9c1b-1f2e3d4c5b6a',
  'spec.nodeName': 'node-1',
  'status.podIP': '10.0.0.1',
  'spec.serviceAccountName': 'default',
};

export interface EffectiveEnv {
  /** name → value (Downward-API fields replaced by placeholders; Secret values left out, see secretNames). */
  readonly values: Record<string, string>;
  /** Names set from a Secret (secretKeyRef): their values are not in the manifests. */
  readonly secretNames: readonly string[];
  /** name → where it came from: `ConfigMap <name>`, `env`, or `fieldRef <path>`. */
  readonly sources: Record<string, string>;
}

/** The environment a container starts with: envFrom ConfigMaps, then env (which wins). */
export function effectiveEnv(manifests: readonly Manifest[], workload: Manifest, c: JsonObject): EffectiveEnv {
  const values: Record<string, string> = {};
  const sources: Record<string, string> = {};
  const secretNames: string[] = [];
  for (const from of (c.envFrom as Json[] | undefined) ?? []) {
    if (!isObject(from)) continue;
    const prefix = typeof from.prefix === 'string' ? from.prefix : '';
    if (isObject(from.configMapRef)) {
      const name = String(from.configMapRef.name);
      const cm = findConfigMap(manifests, name, workload.metadata.namespace);
      if (!cm) {
        if (from.configMapRef.optional === true) continue;
        throw new Error(`${workload.metadata.name}/${String(c.name)}: envFrom ConfigMap ${name} is not in the rendered manifests`);
      }
      for (const [k, v] of Object.entries((cm.data as JsonObject | undefined) ?? {})) {
        values[prefix + k] = String(v);
        sources[prefix + k] = `ConfigMap ${name}`;
      }
    } else {
      // envFrom secretRef: names and values unknown here.
      throw new Error(`${workload.metadata.name}/${String(c.name)}: envFrom secretRef hides the variable names from the tests; use env[].valueFrom.secretKeyRef`);
    }
  }
  for (const e of (c.env as Json[] | undefined) ?? []) {
    if (!isObject(e) || typeof e.name !== 'string') continue;
    if (typeof e.value === 'string') {
      values[e.name] = e.value;
      sources[e.name] = 'env';
    } else if (isObject(e.valueFrom) && isObject(e.valueFrom.fieldRef)) {
      const fieldPath = String(e.valueFrom.fieldRef.fieldPath);
      values[e.name] = FIELD_VALUES[fieldPath] ?? `<${fieldPath}>`;
      sources[e.name] = `fieldRef ${fieldPath}`;
    } else if (isObject(e.valueFrom) && isObject(e.valueFrom.configMapKeyRef)) {
      const ref = e.valueFrom.configMapKeyRef;
      const cm = findConfigMap(manifests, String(ref.name), workload.metadata.namespace);
      const v = (cm?.data as JsonObject | undefined)?.[String(ref.key)];
      if (v === undefined) throw new Error(`${String(c.name)}: ${e.name} refers to missing ConfigMap key ${String(ref.name)}/${String(ref.key)}`);
      values[e.name] = String(v);
      sources[e.name] = `ConfigMap ${String(ref.name)}`;
    } else if (isObject(e.valueFrom) && isObject(e.valueFrom.secretKeyRef)) {
      delete values[e.name];
      secretNames.push(e.name);
      sources[e.name] = `Secret ${String(e.valueFrom.secretKeyRef.name)}`;
    } else {
      throw new Error(`${String(c.name)}: ${e.name}: unsupported valueFrom`);
    }
  }
  return { values, secretNames, sources };
}

/** Resolves a probe's or Service's port (a number or a container port name) to a number. */
export function resolvePort(port: Json | undefined, containers: readonly JsonObject[]): number | undefined {
  if (typeof port === 'number') return port;
  for (const c of containers) {
    for (const p of (c.ports as Json[] | undefined) ?? []) {
      if (isObject(p) && p.name === port && typeof p.containerPort === 'number') return p.containerPort;
    }
  }
  return undefined;
}

/** The ConfigMap-mounted Collector config of a Collector container (its --config file), parsed. */
export function collectorConfigOf(manifests: readonly Manifest[], workload: Manifest, c: JsonObject): JsonObject {
  const args = [...((c.command as Json[] | undefined) ?? []), ...((c.args as Json[] | undefined) ?? [])].map(String);
  const configArg = args.find((a) => a.startsWith('--config='));
  if (!configArg) throw new Error(`${String(c.name)}: no --config=FILE argument`);
  const file = configArg.slice('--config='.length);
  const mount = ((c.volumeMounts as Json[] | undefined) ?? []).filter(isObject).find((vm) => file.startsWith(`${String(vm.mountPath).replace(/\/$/, '')}/`));
  if (!mount) throw new Error(`${String(c.name)}: ${file} is not on a mounted volume`);
  const volume = ((podSpec(workload)?.volumes as Json[] | undefined) ?? []).filter(isObject).find((v) => v.name === mount.name);
  if (!volume || !isObject(volume.configMap)) throw new Error(`${String(c.name)}: volume ${String(mount.name)} is not a ConfigMap`);
  const cm = findConfigMap(manifests, String(volume.configMap.name), workload.metadata.namespace);
  if (!cm) throw new Error(`ConfigMap ${String(volume.configMap.name)} is not in the rendered manifests`);
  const key = file.slice(String(mount.mountPath).replace(/\/$/, '').length + 1);
  const text = (cm.data as JsonObject | undefined)?.[key];
  if (typeof text !== 'string') throw new Error(`ConfigMap ${cm.metadata.name} has no key ${key}`);
  return parseCollectorConfig(text, `ConfigMap ${cm.metadata.name} ${key}`);
}

export function parseCollectorConfig(text: string, where: string): JsonObject {
  const doc = parseYaml(text) as Json;
  if (!isObject(doc)) throw new Error(`${where}: not a mapping`);
  return doc;
}

/** Component type of a Collector component id: `otlp_grpc/log-processor` → `otlp_grpc`. */
export function componentType(id: string): string {
  return id.split('/')[0]!;
}

/**
 * Structural problems of a Collector config: pipelines naming undefined components, defined
 * extensions not enabled, pipelines without receivers or exporters.
 */
export function collectorConfigProblems(config: JsonObject): string[] {
  const problems: string[] = [];
  const section = (name: string): JsonObject => (isObject(config[name]) ? config[name] : {});
  const service = section('service');
  const pipelines = isObject(service.pipelines) ? service.pipelines : {};
  if (Object.keys(pipelines).length === 0) problems.push('service.pipelines is empty');
  for (const [pname, p] of Object.entries(pipelines)) {
    if (!isObject(p)) {
      problems.push(`pipeline ${pname} is not a mapping`);
      continue;
    }
    for (const kind of ['receivers', 'processors', 'exporters'] as const) {
      const ids = (p[kind] as Json[] | undefined) ?? [];
      if (kind !== 'processors' && ids.length === 0) problems.push(`pipeline ${pname} has no ${kind}`);
      for (const id of ids) if (typeof id !== 'string' || !(id in section(kind))) problems.push(`pipeline ${pname}: ${kind} ${String(id)} is not defined`);
    }
  }
  const enabled = (service.extensions as Json[] | undefined) ?? [];
  for (const id of enabled) if (typeof id !== 'string' || !(id in section('extensions'))) problems.push(`service.extensions: ${String(id)} is not defined`);
  for (const id of Object.keys(section('extensions'))) if (!enabled.includes(id)) problems.push(`extension ${id} is defined but not enabled`);
  // Components referring to a storage extension need it defined.
  for (const kind of ['receivers', 'exporters'] as const) {
    for (const [id, c] of Object.entries(section(kind))) {
      const storages = [isObject(c) ? c.storage : undefined, isObject(c) && isObject(c.sending_queue) ? c.sending_queue.storage : undefined];
      for (const s of storages) if (typeof s === 'string' && !enabled.includes(s)) problems.push(`${kind} ${id}: storage ${s} is not an enabled extension`);
    }
  }
  return problems;
}

function endpointPort(endpoint: string): number | undefined {
  const m = /:(\d+)$/.exec(endpoint.replace(/^[a-z]+:\/\//, '').replace(/\/.*$/, ''));
  return m ? Number(m[1]) : undefined;
}

/** Ports a Collector config listens on, with where each comes from (default self-metrics port 8888 included). */
export function collectorListenPorts(config: JsonObject): { port: number; where: string }[] {
  const out: { port: number; where: string }[] = [];
  const visit = (v: Json, where: string): void => {
    if (!isObject(v)) return;
    for (const [k, x] of Object.entries(v)) {
      if (k === 'endpoint' && typeof x === 'string') {
        const port = endpointPort(x);
        if (port !== undefined) out.push({ port, where: `${where}.endpoint` });
      } else visit(x, `${where}.${k}`);
    }
  };
  for (const kind of ['receivers', 'extensions'] as const) if (isObject(config[kind])) visit(config[kind], kind);
  // Internal telemetry: 8888 unless readers say otherwise.
  const service = isObject(config.service) ? config.service : {};
  const telemetry = isObject(service.telemetry) ? service.telemetry : {};
  const metrics = isObject(telemetry.metrics) ? telemetry.metrics : {};
  const readers = Array.isArray(metrics.readers) ? metrics.readers : undefined;
  if (metrics.level === 'none') return out;
  if (!readers) {
    out.push({ port: 8888, where: 'service.telemetry.metrics (default)' });
  } else {
    for (const r of readers) {
      const prom = isObject(r) && isObject(r.pull) && isObject(r.pull.exporter) && isObject(r.pull.exporter.prometheus) ? r.pull.exporter.prometheus : undefined;
      if (prom && typeof prom.port === 'number') out.push({ port: prom.port, where: 'service.telemetry.metrics.readers' });
    }
  }
  return out;
}

/** The OTLP/gRPC exporters of a Collector config (type otlp_grpc, or otlp before v0.144), by id. */
export function otlpGrpcExporters(config: JsonObject): [string, JsonObject][] {
  const exporters = isObject(config.exporters) ? config.exporters : {};
  return Object.entries(exporters).filter((e): e is [string, JsonObject] => ['otlp', 'otlp_grpc'].includes(componentType(e[0])) && isObject(e[1]));
}

/** Exporter ids used by some pipeline. */
export function usedExporters(config: JsonObject): Set<string> {
  const service = isObject(config.service) ? config.service : {};
  const pipelines = isObject(service.pipelines) ? service.pipelines : {};
  return new Set(Object.values(pipelines).flatMap((p) => (isObject(p) && Array.isArray(p.exporters) ? p.exporters.map(String) : [])));
}


/** A Kubernetes memory quantity (`128Mi`, `1Gi`) in MiB. */
export function mib(quantity: Json | undefined): number {
  const m = /^(\d+)(Mi|Gi)$/.exec(String(quantity));
  if (!m) throw new Error(`unsupported memory quantity ${String(quantity)}`);
  return Number(m[1]) * (m[2] === 'Gi' ? 1024 : 1);
}

/**
 * RSS measured with the service (README "Sizing the containers"): idle by worker threads, and
 * RSS per MiB of encoded records in a full queue (100,000 records ≈ 22 MiB encoded added 83 MiB
 * without threads and 99 MiB with one: ≤ 4.5×).
 */
export const IDLE_RSS_MIB: Readonly<Record<number, number>> = { 0: 104, 1: 151, 2: 196 };
export const RSS_PER_QUEUED_MIB = 4.5;

/**
 * Whether a processor container's memory settings agree with the measured figures: requests at
 * least the idle RSS of its worker threads, the memory limiter on and below the container limit
 * (so it refuses data before the OOM killer acts), and a full byte-bounded queue under its soft limit.
 */
export function memorySizingProblems(config: ResolvedConfig, resources: JsonObject): string[] {
  const problems: string[] = [];
  const { workers } = config.service[''];
  if (typeof workers !== 'number' || IDLE_RSS_MIB[workers] === undefined) return [`OLP_WORKERS must be a measured count (${Object.keys(IDLE_RSS_MIB).join(', ')}), got ${workers}`];
  const idle = IDLE_RSS_MIB[workers]!;
  const requests = mib((resources.requests as JsonObject | undefined)?.memory);
  const limit = mib((resources.limits as JsonObject | undefined)?.memory);
  if (requests < idle) problems.push(`requests.memory ${requests}Mi is below the idle RSS of ${idle} MiB`);
  const { limit_mib: hard, spike_mib: spike } = config.service.memory;
  if (hard === 0) problems.push('OLP_MEMORY_LIMIT_MIB is not set');
  if (limit <= hard) problems.push(`limits.memory ${limit}Mi is not above OLP_MEMORY_LIMIT_MIB ${hard}`);
  const soft = hard - (spike || Math.floor(hard / 5));
  const queueMib = config.service.queue.max_mib;
  if (queueMib === 0) problems.push('OLP_QUEUE_MAX_MIB is unbounded');
  else if (idle + RSS_PER_QUEUED_MIB * queueMib > soft) problems.push(`a full queue (${idle} + ${RSS_PER_QUEUED_MIB} × ${queueMib} MiB) exceeds the soft limit ${soft} MiB`);
  return problems;
}
