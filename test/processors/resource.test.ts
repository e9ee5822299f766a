import { resourceProcessor } from '../../src/processors/resource';
import { anyValueToString } from '../../src/otlp/values';
import { encodeLogsData } from '../../src/otlp/codec';
import type { LogsData } from '../../src/otlp/model';
import { RecordBatch } from '../../src/records/batch';
import { createProcessor, runProcessor } from '../helpers/processors';
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
    const { out } = runProcessor(p, request([record('x')], { 'host.name': 'h1' }));
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
    const keep = runProcessor(createProcessor(resourceProcessor, { service_name: 'ours' }), data()).out;
    expect(resourceAttrs(keep)['service.name']).toBe('sender');
    const over = runProcessor(createProcessor(resourceProcessor, { service_name: 'ours', override: true }), data()).out;
    expect(resourceAttrs(over)['service.name']).toBe('ours');
    expect(over.resourceLogs[0]!.resource!.attributes.filter((a) => a.key === 'service.name')).toHaveLength(1);
  });

  test('OLP_RESOURCE_ATTRIBUTES wins over the other sources', () => {
    const p = createProcessor(resourceProcessor, { service_name: 'a', attributes: { 'service.name': 'b', team: 'core' } });
    expect(resourceAttrs(runProcessor(p, request([record('x')], {})).out)).toEqual({ 'service.name': 'b', team: 'core' });
  });

  test('creates a resource when the sender sent none, and gives each resource its own values', () => {
    const data = request([record('x')]);
    data.resourceLogs[0]!.resource = null;
    data.resourceLogs.push({ ...request([record('y')]).resourceLogs[0]!, resource: null });
    const p = createProcessor(resourceProcessor, { k8s_pod_name: 'p' });
    const { out } = runProcessor(p, data);
    expect(resourceAttrs(out, 0)).toEqual({ 'k8s.pod.name': 'p' });
    expect(resourceAttrs(out, 1)).toEqual({ 'k8s.pod.name': 'p' });
    const batch = new RecordBatch(encodeLogsData(data));
    p.process(batch);
    const [a, b] = [...batch];
    expect(a!.resource).not.toBe(b!.resource);
    expect(a!.resource.attributes.get('k8s.pod.name')).not.toBe(b!.resource.attributes.get('k8s.pod.name'));
  });

  test('updates each resource once, for all of its records', () => {
    const data = request([record('x'), record('y'), record('z')], { a: '1' });
    const batch = new RecordBatch(encodeLogsData(data));
    const resource = [...batch][0]!.resource;
    const set = jest.spyOn(resource.attributes, 'set');
    createProcessor(resourceProcessor, { k8s_pod_name: 'p', override: true }).process(batch);
    expect(set).toHaveBeenCalledTimes(1);
  });

  test.each([
    ['nothing is configured', {}],
    ['the sender set the attributes', { k8s_pod_name: 'p' }],
    ['override sets the values the sender set', { k8s_pod_name: 'p', override: true }],
  ])('leaves the request as received when %s', (_name, options) => {
    const bytes = encodeLogsData(request([record('x')], { a: '1', 'k8s.pod.name': 'p' }));
    const batch = new RecordBatch(bytes);
    createProcessor(resourceProcessor, options).process(batch);
    expect(batch.encode(1000)[0]!.bytes).toBe(bytes);
  });
});
