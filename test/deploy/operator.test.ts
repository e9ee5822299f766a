/**
 * deploy/kubernetes/operator: the OpenTelemetry Operator variant. The OpenTelemetryCollector is
 * a CRD, so it is checked as YAML and for what the Operator needs (sidecar mode, a pod
 * annotation naming it, a Collector config that feeds the processor); the ordinary Kubernetes
 * objects beside it are validated against the Kubernetes schemas like the kustomize renderings.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { resolveConfig } from '../../src/config/resolve';
import { builtinProcessors } from '../../src/processors/registry';
import {
  GRPC_PORT,
  HTTP_PORT,
  KUBERNETES,
  collectorConfigProblems,
  collectorListenPorts,
  containersOf,
  effectiveEnv,
  isProcessorContainer,
  knownEnvNames,
  memorySizingProblems,
  otlpGrpcExporters,
  resolvePort,
  validateAgainstSchemas,
} from './helpers';
import { isObject, podContainers, podSpec, podTemplate, readYamlDocuments, type JsonObject, type Manifest } from './kustomize';

const DIR = path.join(KUBERNETES, 'operator');
const files = fs.readdirSync(DIR).sort();

test('holds YAML files only', () => {
  expect(files.length).toBeGreaterThan(0);
  for (const f of files) expect(f).toMatch(/\.yaml$/);
});

describe.each(files)('%s', (file) => {
  const docs = readYamlDocuments(path.join(DIR, file)) as Manifest[];
  const crs = docs.filter((d) => d.apiVersion.startsWith('opentelemetry.io/'));
  const plain = docs.filter((d) => !d.apiVersion.startsWith('opentelemetry.io/'));

  test('an OpenTelemetryCollector in sidecar mode', () => {
    expect(crs.map((c) => [c.apiVersion, c.kind])).toEqual([['opentelemetry.io/v1beta1', 'OpenTelemetryCollector']]);
    expect((crs[0]!.spec as JsonObject).mode).toBe('sidecar');
    expect(String((crs[0]!.spec as JsonObject).image)).toMatch(/^otel\/opentelemetry-collector-contrib:\d+\.\d+\.\d+$/);
  });

  test('the pod template carries sidecar.opentelemetry.io/inject naming that collector', () => {
    const names = crs.map((c) => c.metadata.name);
    const annotated = plain.filter((m) => podTemplate(m) !== undefined);
    expect(annotated.length).toBeGreaterThan(0);
    for (const w of annotated) {
      const annotations = ((podTemplate(w)!.metadata as JsonObject).annotations ?? {}) as JsonObject;
      expect(names).toContain(annotations['sidecar.opentelemetry.io/inject']);
    }
  });

  test('the collector config feeds the processor on localhost:4317 and keeps off its ports', () => {
    const config = (crs[0]!.spec as JsonObject).config as JsonObject;
    expect(collectorConfigProblems(config)).toEqual([]);
    const exporters = otlpGrpcExporters(config);
    expect(exporters).toHaveLength(1);
    expect(exporters[0]![1].endpoint).toBe(`localhost:${GRPC_PORT}`);
    expect(exporters[0]![1].tls).toMatchObject({ insecure: true });
    expect(collectorListenPorts(config).filter((p) => p.port === GRPC_PORT || p.port === HTTP_PORT)).toEqual([]);
  });

  test('the injected collector mounts a volume the pod has (the app’s logs) and matches filelog’s include', () => {
    const spec = crs[0]!.spec as JsonObject;
    const mounts = (spec.volumeMounts as JsonObject[] | undefined) ?? [];
    const include = (((spec.config as JsonObject).receivers as JsonObject).filelog as JsonObject | undefined)?.include as string[] | undefined;
    for (const w of plain.filter((m) => podSpec(m) !== undefined)) {
      const volumes = ((podSpec(w)!.volumes as JsonObject[] | undefined) ?? []).map((v) => v.name);
      for (const m of mounts) expect(volumes).toContain(m.name);
    }
    for (const glob of include ?? []) expect(mounts.some((m) => glob.startsWith(`${String(m.mountPath)}/`))).toBe(true);
    expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
  });

  test('the other objects validate against the Kubernetes schemas, no unknown fields', () => {
    const results = validateAgainstSchemas(plain);
    expect(results.flatMap((r) => [...r.errors, ...r.unknownFields.map((f) => `${f}: unknown field`)].map((e) => `${r.kind}/${r.name}: ${e}`))).toEqual([]);
  });

  test('the processor container: loopback receiver, probes on 8888, hardened, known env vars the service accepts', () => {
    const refs = containersOf(plain, isProcessorContainer);
    expect(refs).toHaveLength(1);
    const { workload, container: c } = refs[0]!;
    const env = effectiveEnv(plain, workload, c);
    const known = knownEnvNames();
    expect([...Object.keys(env.values), ...env.secretNames].filter((n) => !known.has(n))).toEqual([]);
    const config = resolveConfig(env.values, builtinProcessors);
    expect(config.service.grpc.endpoint).toBe(`127.0.0.1:${GRPC_PORT}`);
    expect(env.sources).toMatchObject({ K8S_POD_NAME: 'fieldRef metadata.name', K8S_NAMESPACE_NAME: 'fieldRef metadata.namespace', K8S_POD_UID: 'fieldRef metadata.uid' });
    const ports = podContainers(workload);
    expect(resolvePort(((c.livenessProbe as JsonObject).httpGet as JsonObject).port, ports)).toBe(HTTP_PORT);
    expect(((c.livenessProbe as JsonObject).httpGet as JsonObject).path).toBe('/healthz');
    expect(resolvePort(((c.readinessProbe as JsonObject).httpGet as JsonObject).port, ports)).toBe(HTTP_PORT);
    expect(((c.readinessProbe as JsonObject).httpGet as JsonObject).path).toBe('/readyz');
    expect(c.securityContext).toMatchObject({
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(isObject((podSpec(workload)!.volumes as JsonObject[]).find((v) => v.name === (c.volumeMounts as JsonObject[]).find((m) => m.mountPath === '/tmp')?.name)?.emptyDir)).toBe(true);
  });

  test('the processor container is sized from the measured RSS, with the memory limiter on', () => {
    const { workload, container: c } = containersOf(plain, isProcessorContainer)[0]!;
    const config = resolveConfig(effectiveEnv(plain, workload, c).values, builtinProcessors);
    expect(memorySizingProblems(config, c.resources as JsonObject)).toEqual([]);
  });
});
