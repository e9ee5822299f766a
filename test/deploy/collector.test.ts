/**
 * deploy/collector: OpenTelemetry Collector configs around the processor. Every file is parsed
 * and checked for structure (pipelines name defined components, extensions enabled); the two
 * named ones for their role and ports; and the copies embedded in the Kubernetes ConfigMaps are
 * kept identical to them.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  DEPLOY,
  GRPC_PORT,
  HTTP_PORT,
  KUBERNETES,
  collectorConfigOf,
  collectorConfigProblems,
  collectorListenPorts,
  containersOf,
  isCollectorContainer,
  otlpGrpcExporters,
  parseCollectorConfig,
  resolvePort,
  usedExporters,
} from './helpers';
import { isObject, renderManifests, type JsonObject } from './kustomize';

const DIR = path.join(DEPLOY, 'collector');
const files = fs.readdirSync(DIR).sort();
const load = (name: string): JsonObject => parseCollectorConfig(fs.readFileSync(path.join(DIR, name), 'utf8'), name);

test('holds the documented configs, as YAML', () => {
  expect(files).toEqual(expect.arrayContaining(['collector-to-processor.yaml', 'collector-from-processor.yaml', 'collector-to-gateway-by-service.yaml']));
  for (const f of files) expect(f).toMatch(/\.yaml$/);
});

describe.each(files)('%s', (file) => {
  const config = load(file);

  test('parses; every pipeline names defined components; every extension is enabled', () => {
    expect(collectorConfigProblems(config)).toEqual([]);
  });

  test('uses current component names (otlp_grpc, debug; not the removed logging exporter)', () => {
    const exporters = Object.keys((config.exporters as JsonObject) ?? {}).map((id) => id.split('/')[0]);
    expect(exporters).not.toContain('logging');
    expect(exporters).not.toContain('otlp'); // deprecated alias of otlp_grpc since Collector v0.144
  });

  test('every OTLP exporter retries and queues', () => {
    for (const [, e] of otlpGrpcExporters(config)) {
      expect(e.retry_on_failure).toMatchObject({ enabled: true });
      expect(e.sending_queue).toMatchObject({ enabled: true });
    }
  });
});

describe('collector-to-processor.yaml', () => {
  const config = load('collector-to-processor.yaml');

  test('filelog and otlp receivers → batch → OTLP/gRPC exporter to localhost:4317, plaintext', () => {
    const logs = ((config.service as JsonObject).pipelines as JsonObject).logs as JsonObject;
    expect(logs.receivers).toEqual(expect.arrayContaining(['filelog', 'otlp']));
    expect(logs.processors).toContain('batch');
    const exporters = otlpGrpcExporters(config);
    expect(exporters).toHaveLength(1);
    const [id, e] = exporters[0]!;
    expect(logs.exporters).toEqual([id]);
    expect(e.endpoint).toMatch(new RegExp(`^(localhost|127\\.0\\.0\\.1):${GRPC_PORT}$`));
    expect(e.tls).toMatchObject({ insecure: true });
  });

  test('memory_limiter runs first in the pipeline (before batch)', () => {
    const procs = (((config.service as JsonObject).pipelines as JsonObject).logs as JsonObject).processors as string[];
    expect(procs[0]).toBe('memory_limiter');
    expect(procs.indexOf('batch')).toBeGreaterThan(0);
  });

  test('listens on none of the processor’s ports (it runs beside it: 4317 receiver, 8888 metrics/health)', () => {
    const ports = collectorListenPorts(config);
    expect(ports.length).toBeGreaterThan(0);
    expect(ports.filter((p) => p.port === GRPC_PORT || p.port === HTTP_PORT)).toEqual([]);
  });

  test('filelog keeps its offsets in the file_storage extension', () => {
    const filelog = (config.receivers as JsonObject).filelog as JsonObject;
    expect(filelog.storage).toBe('file_storage');
    expect(((config.extensions as JsonObject).file_storage as JsonObject).directory).toBeDefined();
  });
});

describe('collector-from-processor.yaml', () => {
  const config = load('collector-from-processor.yaml');

  test('otlp receiver on 0.0.0.0:4317 (what the processor exports to)', () => {
    const grpc = (((config.receivers as JsonObject).otlp as JsonObject).protocols as JsonObject).grpc as JsonObject;
    expect(grpc.endpoint).toBe(`0.0.0.0:${GRPC_PORT}`);
    const logs = ((config.service as JsonObject).pipelines as JsonObject).logs as JsonObject;
    expect(logs.receivers).toEqual(['otlp']);
  });

  test('exports to debug, with an OTLP backend exporter ready to add', () => {
    expect(usedExporters(config)).toContain('debug');
    const backend = otlpGrpcExporters(config);
    expect(backend).toHaveLength(1);
    expect(String(backend[0]![1].endpoint)).toMatch(/^\$\{env:[A-Z_]+:-[^}]+:\d+\}$/); // env with a default
  });
});

describe('collector-to-gateway-by-service.yaml', () => {
  const config = load('collector-to-gateway-by-service.yaml');
  const exporters = config.exporters as JsonObject;
  const [id, lb] = Object.entries(exporters).find(([k]) => k.split('/')[0] === 'loadbalancing') as [string, JsonObject];
  const gateway = renderManifests(path.join(KUBERNETES, 'overlays/gateway'));

  test('routes each service to one gateway replica: loadbalancing exporter, routing_key service, the only exporter of the logs pipeline', () => {
    expect(lb.routing_key).toBe('service');
    const logs = ((config.service as JsonObject).pipelines as JsonObject).logs as JsonObject;
    expect(logs.exporters).toEqual([id]);
    expect((logs.processors as string[])[0]).toBe('memory_limiter');
  });

  test('resolves the replicas through the gateway’s headless Service on its OTLP port', () => {
    const dns = (lb.resolver as JsonObject).dns as JsonObject;
    const [service, namespace] = String(dns.hostname).split('.');
    const headless = gateway.find((m) => m.kind === 'Service' && m.metadata.name === service && m.metadata.namespace === namespace);
    expect(headless).toBeDefined();
    expect((headless!.spec as JsonObject).clusterIP).toBe('None');
    expect(((headless!.spec as JsonObject).ports as JsonObject[]).map((p) => p.port)).toContain(dns.port);
    expect(dns.port).toBe(GRPC_PORT);
  });

  test('speaks TLS to the gateway (a CA to trust, never insecure), retries and queues', () => {
    const otlp = (lb.protocol as JsonObject).otlp as JsonObject;
    expect((otlp.tls as JsonObject).ca_file).toBeDefined();
    expect((otlp.tls as JsonObject).insecure ?? false).toBe(false);
    // The resolver hands out pod IPs: the certificate is checked against the gateway Service's name.
    const [name, namespace] = String((otlp.tls as JsonObject).server_name_override).split('.');
    expect(gateway.some((m) => m.kind === 'Service' && m.metadata.name === name && m.metadata.namespace === namespace)).toBe(true);
    expect(otlp.retry_on_failure).toMatchObject({ enabled: true });
    expect(otlp.sending_queue).toMatchObject({ enabled: true });
  });
});

describe('the Kubernetes ConfigMaps embed these configs unchanged', () => {
  test.each([
    ['base', 'collector-to-processor.yaml'],
    ['downstream', 'collector-from-processor.yaml'],
  ])('deploy/kubernetes/%s runs %s', (dir, file) => {
    const ms = renderManifests(path.join(KUBERNETES, dir));
    const collectors = containersOf(ms, isCollectorContainer);
    expect(collectors).toHaveLength(1);
    const embedded = collectorConfigOf(ms, collectors[0]!.workload, collectors[0]!.container);
    expect(embedded).toEqual(load(file));
  });

  test('the downstream Collector’s Service and container expose its 4317 receiver', () => {
    const ms = renderManifests(path.join(KUBERNETES, 'downstream'));
    const svc = ms.find((m) => m.kind === 'Service')!;
    expect(((svc.spec as JsonObject).ports as JsonObject[]).map((p) => p.port)).toContain(GRPC_PORT);
    const [c] = containersOf(ms, isCollectorContainer);
    expect(((c!.container.ports as JsonObject[]) ?? []).map((p) => p.containerPort)).toContain(GRPC_PORT);
  });

  test.each(['base', 'downstream'])('deploy/kubernetes/%s: the Collector’s probes hit its health_check extension', (dir) => {
    const ms = renderManifests(path.join(KUBERNETES, dir));
    const [c] = containersOf(ms, isCollectorContainer);
    const config = collectorConfigOf(ms, c!.workload, c!.container);
    const health = ((config.extensions as JsonObject).health_check as JsonObject).endpoint as string;
    expect(health).toMatch(/^0\.0\.0\.0:\d+$/); // the kubelet probes the pod IP
    for (const probe of ['livenessProbe', 'readinessProbe']) {
      const get = (c!.container[probe] as JsonObject).httpGet as JsonObject;
      expect(resolvePort(get.port, [c!.container])).toBe(Number(health.split(':')[1]));
    }
    expect(isObject(c!.container.readinessProbe)).toBe(true);
  });
});
