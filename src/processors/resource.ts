/**
 * `resource`: adds resource attributes describing where the records were processed —
 * OTEL_RESOURCE_ATTRIBUTES, OTEL_SERVICE_NAME, the Kubernetes Downward-API variables, and
 * OLP_RESOURCE_ATTRIBUTES — without overwriting what the sender set unless `override` is on.
 */
import { opt, type OptionValues } from '../config/options';
import { defineProcessor } from './contract';
import type { LogBatch, Resource } from '../records/types';

/** Downward-API env var → semantic-convention attribute. */
export const K8S_ENV_ATTRIBUTES = {
  K8S_POD_NAME: 'k8s.pod.name',
  K8S_POD_UID: 'k8s.pod.uid',
  K8S_NAMESPACE_NAME: 'k8s.namespace.name',
  K8S_NODE_NAME: 'k8s.node.name',
  K8S_CONTAINER_NAME: 'k8s.container.name',
  K8S_DEPLOYMENT_NAME: 'k8s.deployment.name',
  K8S_CLUSTER_NAME: 'k8s.cluster.name',
} as const;

type K8sEnv = keyof typeof K8S_ENV_ATTRIBUTES;

const k8sOptions = Object.fromEntries(
  (Object.entries(K8S_ENV_ATTRIBUTES) as [K8sEnv, string][]).map(([env, attr]) => [
    env.toLowerCase(),
    opt.string('', `Sets \`${attr}\` (Downward API).`, { env: [env] }),
  ]),
) as Record<Lowercase<K8sEnv>, ReturnType<typeof opt.string>>;

export const resourceProcessor = defineProcessor({
  name: 'resource',
  summary: 'Adds resource attributes from OTEL_RESOURCE_ATTRIBUTES, OTEL_SERVICE_NAME, Kubernetes Downward-API env vars and OLP_RESOURCE_ATTRIBUTES.',
  options: {
    otel_resource_attributes: opt.map('Resource attributes in the OTel SDK format (`key=value,…`, percent-decoded).', {
      env: ['OTEL_RESOURCE_ATTRIBUTES'],
    }),
    service_name: opt.string('', 'Sets `service.name`; takes precedence over OTEL_RESOURCE_ATTRIBUTES.', { env: ['OTEL_SERVICE_NAME'] }),
    ...k8sOptions,
    attributes: opt.map('More resource attributes (`key=value,…`); applied last, so they win over the sources above.'),
    override: opt.bool(false, 'Overwrite attributes the sender already set. Off: only missing attributes are added.'),
  },
  create(o) {
    const entries = resourceAttributes(o);
    const override = o.override;

    return {
      process(batch: LogBatch): void {
        if (entries.length === 0) return;
        // The records of a resource share one object and come together: one update per resource.
        // (Applying it twice would be harmless: the update is idempotent.)
        let last: Resource | undefined;
        for (const rec of batch) {
          const resource = rec.resource;
          if (resource === last) continue;
          last = resource;
          const attrs = resource.attributes;
          for (const [key, value] of entries) {
            const current = attrs.get(key);
            // Setting an equal value would only cost the resource its received bytes.
            if (current === undefined || (override && current.stringValue !== value)) attrs.set(key, value);
          }
        }
      },
    };
  },
});

/** The attributes `resource` adds, from its resolved options (later sources win). */
export function resourceAttributes(o: OptionValues<typeof resourceProcessor.options>): [string, string][] {
  const merged = new Map<string, string>(Object.entries(o.otel_resource_attributes));
  if (o.service_name) merged.set('service.name', o.service_name);
  for (const [env, attr] of Object.entries(K8S_ENV_ATTRIBUTES) as [K8sEnv, string][]) {
    const v = o[env.toLowerCase() as Lowercase<K8sEnv>];
    if (v) merged.set(attr, v);
  }
  for (const [k, v] of Object.entries(o.attributes)) merged.set(k, v);
  return [...merged];
}
