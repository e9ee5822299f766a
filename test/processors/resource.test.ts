import { resourceProcessor } from '../../src/processors/resource';
import { getAttribute } from '../../src/otlp/values';
import { anyValueToString } from '../../src/otlp/values';
import type { LogsData } from '../../src/otlp/model';
import { createProcessor, RecordingDrops } from '../helpers/processors';
import { record, request } from '../helpers/builders';

function resourceAttrs(data: LogsData, i = 0): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of data.resourceLogs[i]!.resource!.attributes) out[kv.key] = anyValueToString(kv.value);
  return out;
}

describe('resource processor', () => {
  test('adds OTEL_RESOURCE_ATTRIBUTES, OTEL_SERVICE_NAME and Downward-API attributes the sender did not set', () => {
    const p = createProcessor(resourceProcessor, {
      otel_resource_attributes: { 'deployment.environment.name': 'prod', 'service.name': 'from-attrs' },
      service_name: 'checkout',
      k8s_pod_name: 'checkout-7d9f',
      k8s_namespace_name: 'shop',
      k8s_node_name: 'node-1',
      k8s_pod_uid: 'uid-1',
      k8s_container_name: 'app',
    });
    const out = p.process(request([record('x')], { 'host.name': 'h1' }), new RecordingDrops());
    expect(resourceAttrs(out)).toEqual({
      'host.name': 'h1',
      'deployment.environment.name': 'prod',
      'service.name': 'checkout',
      'k8s.pod.name': 'checkout-7d9f',
      'k8s.namespace.name': 'shop',
      'k8s.node.name': 'node-1',
      'k8s.pod.uid': 'uid-1',
      'k8s.container.name': 'app',
    });
  });

  test('keeps what the sender set unless override is on', () => {
    const data = (): LogsData => request([record('x')], { 'service.name': 'sender' });
    const keep = createProcessor(resourceProcessor, { service_name: 'ours' }).process(data(), new RecordingDrops());
    expect(resourceAttrs(keep)['service.name']).toBe('sender');
    const over = createProcessor(resourceProcessor, { service_name: 'ours', override: true }).process(data(), new RecordingDrops());
    expect(resourceAttrs(over)['service.name']).toBe('ours');
    expect(over.resourceLogs[0]!.resource!.attributes.filter((a) => a.key === 'service.name')).toHaveLength(1);
  });

  test('OLP_RESOURCE_ATTRIBUTES wins over the other sources', () => {
    const p = createProcessor(resourceProcessor, { service_name: 'a', attributes: { 'service.name': 'b', team: 'core' } });
    expect(resourceAttrs(p.process(request([record('x')], {}), new RecordingDrops()))).toEqual({ 'service.name': 'b', team: 'core' });
  });

  test('creates a resource when the sender sent none, and gives each resource its own values', () => {
    const data = request([record('x')]);
    data.resourceLogs[0]!.resource = null;
    data.resourceLogs.push({ ...request([record('y')]).resourceLogs[0]!, resource: null });
    const out = createProcessor(resourceProcessor, { k8s_pod_name: 'p' }).process(data, new RecordingDrops());
    expect(resourceAttrs(out, 0)).toEqual({ 'k8s.pod.name': 'p' });
    expect(getAttribute(out.resourceLogs[0]!.resource!.attributes, 'k8s.pod.name')).not.toBe(
      getAttribute(out.resourceLogs[1]!.resource!.attributes, 'k8s.pod.name'),
    );
  });

  test('changes nothing when no attribute is configured', () => {
    const data = request([record('x')], { a: '1' });
    expect(resourceAttrs(createProcessor(resourceProcessor).process(data, new RecordingDrops()))).toEqual({ a: '1' });
  });
});
