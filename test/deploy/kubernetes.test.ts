/**
 * deploy/kubernetes: every kustomization is rendered in-process (./kustomize.ts), validated
 * against the Kubernetes schemas (kubernetes-models, in a child process, unknown fields
 * included), and checked for what the service needs: hardened containers, probes on the
 * service's health endpoints, env vars the service knows and accepts, the Downward API, and
 * the wiring of the sidecar and gateway modes.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { resolveConfig } from '../../src/config/resolve';
import { builtinProcessors } from '../../src/processors/registry';
import { readDockerfile } from './dockerfile';
import {
  GRPC_PORT,
  HTTP_PORT,
  KUBERNETES,
  ROOT,
  collectorConfigOf,
  collectorListenPorts,
  containersOf,
  effectiveEnv,
  isCollectorContainer,
  isProcessorContainer,
  knownEnvNames,
  kustomizationDirs,
  memorySizingProblems,
  otlpGrpcExporters,
  resolvePort,
  validateAgainstSchemas,
  type ContainerRef,
  type ValidationResult,
} from './helpers';
import { imageTag, isObject, podContainers, podSpec, podTemplate, renderManifests, type Json, type JsonObject, type Manifest } from './kustomize';
import { makePki } from '../helpers/certs';

const dirs = kustomizationDirs();
const rel = (d: string): string => path.relative(KUBERNETES, d);
const rendered = new Map(dirs.map((d) => [rel(d), renderManifests(d)]));
const overlays = [...rendered.keys()].filter((d) => d.startsWith('overlays/'));
const pkgVersion = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

const manifestsOf = (dir: string): Manifest[] => rendered.get(dir)!;
const processors = (dir: string): ContainerRef[] => containersOf(manifestsOf(dir), isProcessorContainer);
const label = (r: ContainerRef): string => `${r.workload.kind}/${r.workload.metadata.name}/${String(r.container.name)}`;
/** Files a kubernetes.io/tls Secret holds, made by a test CA, so the loader can read what the pod would mount. */
const tlsSecretFiles = (() => {
  const pki = makePki();
  const ca = pki.ca('test-ca');
  const server = pki.issue('gateway', ca, true);
  return new Map([
    ['tls.crt', server.cert],
    ['tls.key', server.key],
    ['ca.crt', ca.cert],
  ]);
})();

/** Mount paths of the Secret volumes of a container. */
function secretMounts(r: ContainerRef): string[] {
  const volumes = ((podSpec(r.workload)!.volumes as JsonObject[] | undefined) ?? []).filter((v) => isObject(v.secret)).map((v) => v.name);
  return ((r.container.volumeMounts as JsonObject[] | undefined) ?? []).filter((m) => volumes.includes(m.name)).map((m) => String(m.mountPath));
}

/** The container's env; values naming a file in a mounted Secret point at a test file with that key instead. */
const envOf = (dir: string, r: ContainerRef) => {
  const env = effectiveEnv(manifestsOf(dir), r.workload, r.container);
  const mounts = secretMounts(r);
  for (const [name, value] of Object.entries(env.values)) {
    const mount = mounts.find((m) => value.startsWith(`${m}/`));
    if (mount) env.values[name] = tlsSecretFiles.get(value.slice(mount.length + 1)) ?? value;
  }
  return env;
};

/** Replicas of a workload: its own count, or the minimum of the HorizontalPodAutoscaler that owns it. */
const replicasOf = (dir: string, workload: Manifest): number => {
  const hpa = manifestsOf(dir).find((m) => m.kind === 'HorizontalPodAutoscaler' && ((m.spec as JsonObject).scaleTargetRef as JsonObject).name === workload.metadata.name);
  return hpa ? Number((hpa.spec as JsonObject).minReplicas) : Number((workload.spec as JsonObject).replicas ?? 1);
};

const processorCases = (dirsToUse: readonly string[]) => dirsToUse.flatMap((d) => processors(d).map((r) => [`${d}: ${label(r)}`, d, r] as const));
const workloads = (ms: readonly Manifest[]) => ms.filter((m) => podSpec(m) !== undefined);
const matches = (selector: Json | undefined, labels: Json | undefined): boolean =>
  isObject(selector) && Object.keys(selector).length > 0 && isObject(labels) && Object.entries(selector).every(([k, v]) => labels[k] === v);

/** Dockerfile USER uid:gid, to check the pod specs agree with the image. */
const imageUser = (() => {
  const final = readDockerfile(path.join(ROOT, 'Dockerfile')).stages.at(-1)!;
  const user = final.instructions.filter((i) => i.keyword === 'USER').at(-1)!.rest;
  const [uid, gid] = user.split(':').map(Number);
  return { uid: uid!, gid };
})();

let validation: Map<string, ValidationResult[]>;
beforeAll(() => {
  // One child process for every rendering.
  const all = dirs.flatMap((d) => manifestsOf(rel(d)).map((m) => ({ dir: rel(d), m })));
  const results = validateAgainstSchemas(all.map((x) => x.m));
  validation = new Map();
  results.forEach((r, i) => {
    const dir = all[i]!.dir;
    validation.set(dir, [...(validation.get(dir) ?? []), r]);
  });
});

test('the layout is as documented: base, downstream, overlays/sidecar, overlays/gateway', () => {
  expect([...rendered.keys()]).toEqual(expect.arrayContaining(['base', 'downstream', 'overlays/sidecar', 'overlays/gateway']));
});

describe.each([...rendered.keys()])('%s', (dir) => {
  const ms = manifestsOf(dir);

  test('renders to Kubernetes objects', () => {
    expect(ms.length).toBeGreaterThan(0);
  });

  test('validates against the Kubernetes schemas, no unknown fields', () => {
    const results = validation.get(dir)!;
    const problems = results.flatMap((r) => [...r.errors, ...r.unknownFields.map((f) => `${f}: unknown field`)].map((e) => `${r.kind}/${r.name}: ${e}`));
    expect(problems).toEqual([]);
  });

  test('workload selectors match their pod templates; Services and PDBs select a workload of the rendering', () => {
    for (const w of workloads(ms)) {
      const spec = w.spec as JsonObject;
      const sel = isObject(spec.selector) ? spec.selector.matchLabels : undefined;
      expect(matches(sel, (podTemplate(w)!.metadata as JsonObject).labels)).toBe(true);
    }
    for (const s of ms.filter((m) => m.kind === 'Service' || m.kind === 'PodDisruptionBudget')) {
      const spec = s.spec as JsonObject;
      const selector = s.kind === 'Service' ? spec.selector : (spec.selector as JsonObject).matchLabels;
      const targets = workloads(ms).filter((w) => w.metadata.namespace === s.metadata.namespace && matches(selector, (podTemplate(w)!.metadata as JsonObject).labels));
      expect({ [`${s.kind}/${s.metadata.name}`]: targets.length }).toEqual({ [`${s.kind}/${s.metadata.name}`]: 1 });
      if (s.kind === 'Service') {
        for (const p of spec.ports as JsonObject[]) {
          expect({ port: p.port, resolved: resolvePort(p.targetPort ?? p.port, podContainers(targets[0]!)) !== undefined }).toEqual({ port: p.port, resolved: true });
        }
      }
    }
  });

  test('volume mounts, ConfigMap volumes and envFrom refer to what exists', () => {
    for (const w of workloads(ms)) {
      const spec = podSpec(w)!;
      const volumes = ((spec.volumes as JsonObject[] | undefined) ?? []).map((v) => v.name);
      for (const c of podContainers(w)) {
        for (const vm of (c.volumeMounts as JsonObject[] | undefined) ?? []) expect(volumes).toContain(vm.name);
        expect(() => effectiveEnv(ms, w, c)).not.toThrow();
      }
      for (const v of (spec.volumes as JsonObject[] | undefined) ?? []) {
        if (isObject(v.configMap)) {
          const name = v.configMap.name;
          expect({ configMap: name, found: ms.some((m) => m.kind === 'ConfigMap' && m.metadata.name === name && m.metadata.namespace === w.metadata.namespace) }).toEqual({ configMap: name, found: true });
        }
      }
    }
  });

  test('containers of a pod declare distinct ports', () => {
    for (const w of workloads(ms)) {
      const ports = podContainers(w).flatMap((c) => ((c.ports as JsonObject[] | undefined) ?? []).map((p) => p.containerPort));
      expect(new Set(ports).size).toBe(ports.length);
    }
  });

  test('every container is hardened (Pod Security "restricted") and has requests and limits', () => {
    for (const w of workloads(ms)) {
      const spec = podSpec(w)!;
      const podSc = isObject(spec.securityContext) ? spec.securityContext : {};
      expect(spec.hostNetwork ?? false).toBe(false);
      expect(spec.hostPID ?? false).toBe(false);
      expect(spec.hostIPC ?? false).toBe(false);
      for (const v of (spec.volumes as JsonObject[] | undefined) ?? []) expect(v.hostPath).toBeUndefined();
      for (const c of podContainers(w)) {
        const sc = isObject(c.securityContext) ? c.securityContext : {};
        const where = `${w.metadata.name}/${String(c.name)}`;
        expect({ where, runAsNonRoot: sc.runAsNonRoot ?? podSc.runAsNonRoot }).toEqual({ where, runAsNonRoot: true });
        expect({ where, readOnlyRootFilesystem: sc.readOnlyRootFilesystem }).toEqual({ where, readOnlyRootFilesystem: true });
        expect({ where, allowPrivilegeEscalation: sc.allowPrivilegeEscalation }).toEqual({ where, allowPrivilegeEscalation: false });
        expect({ where, privileged: sc.privileged ?? false }).toEqual({ where, privileged: false });
        expect({ where, drop: (sc.capabilities as JsonObject | undefined)?.drop }).toEqual({ where, drop: ['ALL'] });
        expect({ where, add: (sc.capabilities as JsonObject | undefined)?.add ?? [] }).toEqual({ where, add: [] });
        const seccomp = (sc.seccompProfile ?? podSc.seccompProfile) as JsonObject | undefined;
        expect({ where, seccomp: seccomp?.type }).toEqual({ where, seccomp: 'RuntimeDefault' });
        const res = c.resources as JsonObject;
        for (const k of ['requests', 'limits']) for (const r of ['cpu', 'memory']) expect({ where, [`${k}.${r}`]: (res?.[k] as JsonObject | undefined)?.[r] !== undefined }).toEqual({ where, [`${k}.${r}`]: true });
      }
    }
  });

  test('images are pinned (a tag that is not latest) with imagePullPolicy IfNotPresent', () => {
    for (const w of workloads(ms)) {
      for (const c of podContainers(w)) {
        const tag = imageTag(String(c.image));
        expect({ image: c.image, pinned: tag !== undefined && tag !== 'latest' }).toEqual({ image: c.image, pinned: true });
        expect(c.imagePullPolicy).toBe('IfNotPresent');
      }
    }
  });

  test('service account tokens are not mounted (nothing here talks to the API server)', () => {
    for (const w of workloads(ms)) expect(podSpec(w)!.automountServiceAccountToken).toBe(false);
  });
});

describe.each(overlays)('%s (deployable overlay)', (dir) => {
  const ms = manifestsOf(dir);

  test('has the processor', () => {
    expect(processors(dir).length).toBeGreaterThan(0);
  });

  test('every namespaced object lands in a Namespace the overlay creates', () => {
    const namespaces = ms.filter((m) => m.kind === 'Namespace').map((m) => m.metadata.name);
    expect(namespaces).toHaveLength(1);
    for (const m of ms.filter((x) => x.kind !== 'Namespace')) expect(m.metadata.namespace).toBe(namespaces[0]);
    const ns = ms.find((m) => m.kind === 'Namespace')!;
    expect(ns.metadata.labels?.['pod-security.kubernetes.io/enforce']).toBe('restricted');
  });

  test('the processor exports to a Service of the rendering (the demo downstream Collector)', () => {
    for (const r of processors(dir)) {
      const endpoint = envOf(dir, r).values.OTEL_EXPORTER_OTLP_LOGS_ENDPOINT ?? envOf(dir, r).values.OTEL_EXPORTER_OTLP_ENDPOINT;
      expect(endpoint).toBeDefined();
      const u = new URL(endpoint!);
      const [svc, ns] = u.hostname.split('.');
      const service = ms.find((m) => m.kind === 'Service' && m.metadata.name === svc && m.metadata.namespace === (ns ?? r.workload.metadata.namespace));
      expect(service).toBeDefined();
      expect((service!.spec as JsonObject).ports).toEqual(expect.arrayContaining([expect.objectContaining({ port: Number(u.port) })]));
    }
  });
});

const allProcessorDirs = [...rendered.keys()].filter((d) => processors(d).length > 0);

describe.each(processorCases(allProcessorDirs))('processor container %s', (_name, dir, r) => {
  const c = r.container;
  const env = envOf(dir, r);
  const ports = podContainers(r.workload);

  test('securityContext: runAsNonRoot, numeric runAsUser (the image’s), read-only root FS, no privilege escalation, drop ALL, seccomp RuntimeDefault', () => {
    const sc = c.securityContext as JsonObject;
    expect(sc).toMatchObject({
      runAsNonRoot: true,
      runAsUser: imageUser.uid,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(sc.runAsUser).toBeGreaterThan(0);
    if (imageUser.gid !== undefined) expect(sc.runAsGroup).toBe(imageUser.gid);
  });

  test('/tmp (the image’s only VOLUME) is a writable emptyDir', () => {
    const mount = (c.volumeMounts as JsonObject[]).find((m) => m.mountPath === '/tmp');
    expect(mount).toBeDefined();
    expect(mount!.readOnly ?? false).toBe(false);
    const volume = (podSpec(r.workload)!.volumes as JsonObject[]).find((v) => v.name === mount!.name)!;
    expect(isObject(volume.emptyDir)).toBe(true);
  });

  test('image is otlp-log-processor tagged with the package version', () => {
    expect(imageTag(String(c.image))).toBe(pkgVersion);
    expect(c.args ?? ['run']).toEqual(['run']);
  });

  test('liveness probes GET /healthz and readiness probes GET /readyz on 8888, the port the service serves them on', () => {
    const config = resolveConfig(env.values, builtinProcessors);
    const healthEndpoint = config.service.health.endpoint || config.service.metrics.endpoint;
    expect(Number(/:(\d+)$/.exec(healthEndpoint)![1])).toBe(HTTP_PORT);
    const live = (c.livenessProbe as JsonObject).httpGet as JsonObject;
    const ready = (c.readinessProbe as JsonObject).httpGet as JsonObject;
    expect(live.path).toBe('/healthz');
    expect(ready.path).toBe('/readyz');
    expect(resolvePort(live.port, ports)).toBe(HTTP_PORT);
    expect(resolvePort(ready.port, ports)).toBe(HTTP_PORT);
    if (c.startupProbe) {
      const startup = (c.startupProbe as JsonObject).httpGet as JsonObject;
      expect(['/healthz', '/readyz']).toContain(startup.path);
      expect(resolvePort(startup.port, ports)).toBe(HTTP_PORT);
    }
    // The health endpoint must listen beyond loopback for the kubelet to reach it.
    expect(healthEndpoint).toMatch(/^(0\.0\.0\.0|\[::\]):/);
  });

  test('every env var name it is given is one the service knows (README settings and processor tables)', () => {
    const known = knownEnvNames();
    const unknown = [...Object.keys(env.values), ...env.secretNames].filter((n) => !known.has(n));
    expect(unknown).toEqual([]);
  });

  test('the service accepts the configuration (its own loader, values included)', () => {
    expect(() => resolveConfig(env.values, builtinProcessors)).not.toThrow();
    const config = resolveConfig(env.values, builtinProcessors);
    expect(config.exporters).toContain('otlp');
  });

  test('Downward API: pod name, namespace, node, uid; container and deployment names as literals', () => {
    expect(env.sources).toMatchObject({
      K8S_POD_NAME: 'fieldRef metadata.name',
      K8S_NAMESPACE_NAME: 'fieldRef metadata.namespace',
      K8S_NODE_NAME: 'fieldRef spec.nodeName',
      K8S_POD_UID: 'fieldRef metadata.uid',
      K8S_CONTAINER_NAME: 'env',
    });
    // The container whose logs the processor carries exists in the pod.
    expect(podContainers(r.workload).map((x) => x.name)).toContain(env.values.K8S_CONTAINER_NAME);
    if (env.values.K8S_DEPLOYMENT_NAME !== undefined) expect(env.values.K8S_DEPLOYMENT_NAME).toBe(r.workload.metadata.name);
  });

  test('memory: requests cover the measured idle RSS; the memory limiter is on, below the container limit, and a full queue fits under its soft limit', () => {
    expect(memorySizingProblems(resolveConfig(env.values, builtinProcessors), c.resources as JsonObject)).toEqual([]);
  });

  test('terminationGracePeriodSeconds leaves time for OLP_SHUTDOWN_TIMEOUT', () => {
    const config = resolveConfig(env.values, builtinProcessors);
    const grace = (podSpec(r.workload)!.terminationGracePeriodSeconds as number | undefined) ?? 30;
    expect(grace * 1000).toBeGreaterThan(config.service[''].shutdown_timeout);
  });
});

describe('overlays/sidecar', () => {
  const dir = 'overlays/sidecar';
  const ms = () => manifestsOf(dir);
  const pod = () => processors(dir)[0]!.workload;

  test('one pod holds the app, a Collector and the processor', () => {
    expect(processors(dir)).toHaveLength(1);
    const names = podContainers(pod()).map((c) => c.name);
    expect(names).toEqual(expect.arrayContaining(['app', 'otel-collector', 'otlp-log-processor']));
  });

  test('the processor receives on loopback only: OLP_GRPC_ENDPOINT=127.0.0.1:4317, 4317 not exposed', () => {
    const r = processors(dir)[0]!;
    expect(envOf(dir, r).values.OLP_GRPC_ENDPOINT).toBe(`127.0.0.1:${GRPC_PORT}`);
    const declared = ((r.container.ports as JsonObject[]) ?? []).map((p) => p.containerPort);
    expect(declared).not.toContain(GRPC_PORT);
    for (const s of ms().filter((m) => m.kind === 'Service')) {
      const targets = (s.spec as JsonObject).ports as JsonObject[];
      expect(matches((s.spec as JsonObject).selector, (podTemplate(pod())!.metadata as JsonObject).labels) && targets.some((p) => p.port === GRPC_PORT)).toBe(false);
    }
  });

  test('the Collector exports to the processor: localhost:4317, plaintext, retry and queue on', () => {
    const [collector] = containersOf([pod()], isCollectorContainer);
    const config = collectorConfigOf(ms(), pod(), collector!.container);
    const exporters = otlpGrpcExporters(config);
    expect(exporters).toHaveLength(1);
    const [, e] = exporters[0]!;
    expect(e.endpoint).toMatch(new RegExp(`^(localhost|127\\.0\\.0\\.1):${GRPC_PORT}$`));
    expect(e.tls).toMatchObject({ insecure: true });
    expect(e.retry_on_failure).toMatchObject({ enabled: true });
    expect(e.sending_queue).toMatchObject({ enabled: true });
  });

  test('the Collector listens on none of the processor’s ports (4317, 8888) in the shared pod network', () => {
    const [collector] = containersOf([pod()], isCollectorContainer);
    const listen = collectorListenPorts(collectorConfigOf(ms(), pod(), collector!.container));
    expect(listen.filter((l) => l.port === GRPC_PORT || l.port === HTTP_PORT)).toEqual([]);
  });

  test('the app’s log volume is shared: written by the app, read-only for the Collector, and matches filelog’s include', () => {
    const containers = podContainers(pod());
    const app = containers.find((c) => c.name === 'app')!;
    const [collector] = containersOf([pod()], isCollectorContainer);
    const appMount = (app.volumeMounts as JsonObject[])[0]!;
    const colMount = (collector!.container.volumeMounts as JsonObject[]).find((m) => m.name === appMount.name);
    expect(colMount).toBeDefined();
    expect(colMount!.readOnly).toBe(true);
    const volume = (podSpec(pod())!.volumes as JsonObject[]).find((v) => v.name === appMount.name)!;
    expect(isObject(volume.emptyDir)).toBe(true);
    const config = collectorConfigOf(ms(), pod(), collector!.container);
    const include = ((config.receivers as JsonObject).filelog as JsonObject).include as string[];
    for (const glob of include) expect(glob.startsWith(`${String(colMount!.mountPath)}/`)).toBe(true);
  });

  test('native sidecars: the processor starts before the Collector (and so stops after it)', () => {
    const init = (podSpec(pod())!.initContainers as JsonObject[]).map((c) => c);
    const p = init.findIndex(isProcessorContainer);
    const col = init.findIndex(isCollectorContainer);
    expect(p).toBeGreaterThanOrEqual(0);
    expect(col).toBeGreaterThan(p);
    for (const c of [init[p]!, init[col]!]) expect(c.restartPolicy).toBe('Always');
    // A native sidecar gates the next init container on its startup probe: the processor is ready first.
    expect(((init[p]!.startupProbe as JsonObject).httpGet as JsonObject).path).toBe('/readyz');
  });

  test('the overlay’s patches were applied (ConfigMap merge, container merge by name)', () => {
    const cm = ms().find((m) => m.kind === 'ConfigMap' && m.metadata.name === 'otlp-log-processor-env')!;
    expect((cm.data as JsonObject).OLP_PROCESSORS).toBe('severity,resource,attributes');
    expect((cm.data as JsonObject).OLP_LOG_LEVEL).toBe('info'); // kept from the base
    const r = processors(dir)[0]!;
    expect((r.container.resources as JsonObject).requests).toEqual({ cpu: '50m', memory: '128Mi' });
    expect(r.container.securityContext).toBeDefined(); // merged, not replaced
  });
});

describe('overlays/gateway', () => {
  const dir = 'overlays/gateway';
  const ms = () => manifestsOf(dir);

  test('the processor runs alone, several replicas, receiving on 0.0.0.0:4317', () => {
    const [r, ...others] = processors(dir);
    expect(others).toEqual([]);
    expect(r!.workload.kind).toBe('Deployment');
    expect(replicasOf(dir, r!.workload)).toBeGreaterThanOrEqual(2);
    expect(podContainers(r!.workload)).toHaveLength(1);
    const config = resolveConfig(envOf(dir, r!).values, builtinProcessors);
    expect(config.service.grpc.endpoint).toBe(`0.0.0.0:${GRPC_PORT}`);
    expect(resolvePort('otlp-grpc', podContainers(r!.workload))).toBe(GRPC_PORT);
  });

  test('a Service exposes 4317 (gRPC) to senders, plus a headless one for client-side balancing', () => {
    const r = processors(dir)[0]!;
    const labels = (podTemplate(r.workload)!.metadata as JsonObject).labels;
    const services = ms().filter((m) => m.kind === 'Service' && matches((m.spec as JsonObject).selector, labels));
    expect(services.length).toBe(2);
    for (const s of services) {
      const port = ((s.spec as JsonObject).ports as JsonObject[]).find((p) => p.port === GRPC_PORT)!;
      expect(resolvePort(port.targetPort, podContainers(r.workload))).toBe(GRPC_PORT);
      expect(port.appProtocol).toBe('grpc');
    }
    expect(services.filter((s) => (s.spec as JsonObject).clusterIP === 'None')).toHaveLength(1);
  });

  test('a PodDisruptionBudget keeps replicas up during voluntary disruptions without blocking drains', () => {
    const r = processors(dir)[0]!;
    const replicas = replicasOf(dir, r.workload);
    const pdb = ms().find((m) => m.kind === 'PodDisruptionBudget')!;
    const spec = pdb.spec as JsonObject;
    expect(matches((spec.selector as JsonObject).matchLabels, (podTemplate(r.workload)!.metadata as JsonObject).labels)).toBe(true);
    const allowed = spec.maxUnavailable !== undefined ? Number(spec.maxUnavailable) : replicas - Number(spec.minAvailable);
    expect(allowed).toBeGreaterThanOrEqual(1);
    expect(allowed).toBeLessThan(replicas);
  });

  test('the receiver speaks TLS with a certificate and key from a Secret, mounted read-only', () => {
    const r = processors(dir)[0]!;
    const config = resolveConfig(envOf(dir, r).values, builtinProcessors);
    expect(config.service.grpc.tls_cert_file).toBe(tlsSecretFiles.get('tls.crt'));
    expect(config.service.grpc.tls_key_file).toBe(tlsSecretFiles.get('tls.key'));
    const raw = effectiveEnv(ms(), r.workload, r.container).values;
    const [mount] = secretMounts(r);
    expect(raw.OLP_GRPC_TLS_CERT_FILE).toBe(`${mount}/tls.crt`);
    expect(raw.OLP_GRPC_TLS_KEY_FILE).toBe(`${mount}/tls.key`);
    expect(((r.container.volumeMounts as JsonObject[]).find((m) => m.mountPath === mount))!.readOnly).toBe(true);
    // The Secret's files are readable by the service's group only.
    expect((podSpec(r.workload)!.securityContext as JsonObject).fsGroup).toBe((r.container.securityContext as JsonObject).runAsGroup);
  });

  test('a NetworkPolicy admits OTLP and metrics to the replicas only on their ports, and lets them reach only the downstream and DNS', () => {
    const r = processors(dir)[0]!;
    const labels = (podTemplate(r.workload)!.metadata as JsonObject).labels;
    const policies = ms().filter((m) => m.kind === 'NetworkPolicy' && matches(((m.spec as JsonObject).podSelector as JsonObject).matchLabels, labels));
    expect(policies).toHaveLength(1);
    const spec = policies[0]!.spec as JsonObject;
    expect(spec.policyTypes).toEqual(['Ingress', 'Egress']);
    const ports = (rules: Json | undefined) => ((rules as JsonObject[]) ?? []).flatMap((rule) => ((rule.ports as JsonObject[]) ?? []).map((p) => p.port));
    expect(ports(spec.ingress).sort()).toEqual([GRPC_PORT, HTTP_PORT]);
    for (const rule of spec.ingress as JsonObject[]) expect((rule.from as JsonObject[]).length).toBeGreaterThan(0); // no rule open to all
    // Egress: the exporter's endpoint port on the downstream's pods, and DNS.
    const downstream = new URL(envOf(dir, r).values.OTEL_EXPORTER_OTLP_ENDPOINT!);
    const collector = ms().find((m) => m.kind === 'Deployment' && m.metadata.name === downstream.hostname.split('.')[0])!;
    const egress = spec.egress as JsonObject[];
    const toDownstream = egress.find((rule) => (rule.to as JsonObject[]).some((t) => isObject(t.podSelector) && matches(t.podSelector.matchLabels, (podTemplate(collector)!.metadata as JsonObject).labels)));
    expect(ports(toDownstream ? [toDownstream] : [])).toEqual([Number(downstream.port)]);
    expect(ports(egress).filter((p) => p === 53)).toHaveLength(2);
    expect(ports(egress).sort()).toEqual([53, 53, Number(downstream.port)].sort());
  });

  test('a HorizontalPodAutoscaler owns the replica count: CPU-driven, at least as many replicas as the PDB needs, scale-down one pod at a time', () => {
    const r = processors(dir)[0]!;
    expect((r.workload.spec as JsonObject).replicas).toBeUndefined();
    const hpas = ms().filter((m) => m.kind === 'HorizontalPodAutoscaler');
    expect(hpas).toHaveLength(1);
    const spec = hpas[0]!.spec as JsonObject;
    expect(spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: r.workload.metadata.name });
    expect(spec.minReplicas).toBeGreaterThanOrEqual(2);
    expect(spec.maxReplicas).toBeGreaterThan(spec.minReplicas as number);
    expect(spec.metrics).toEqual([expect.objectContaining({ type: 'Resource', resource: expect.objectContaining({ name: 'cpu' }) })]);
    // Utilization is relative to the request: there must be one.
    expect(((r.container.resources as JsonObject).requests as JsonObject).cpu).toBeDefined();
    const scaleDown = (spec.behavior as JsonObject).scaleDown as JsonObject;
    expect(scaleDown.policies).toEqual([expect.objectContaining({ type: 'Pods', value: 1 })]);
  });

  test('rolling updates never drop below the desired replicas', () => {
    const r = processors(dir)[0]!;
    const strategy = (r.workload.spec as JsonObject).strategy as JsonObject;
    expect((strategy.rollingUpdate as JsonObject).maxUnavailable).toBe(0);
  });
});
