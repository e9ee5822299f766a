// @ts-check
/**
 * An example custom processor: derives a `tenant` attribute from the Kubernetes namespace in
 * the resource (e.g. namespace `team-payments` → tenant `payments`) and marks records whose
 * resource names no namespace with the `unknown` tenant. Load it with:
 *
 *   OLP_PROCESSORS=severity,resource,./examples/custom-processor/tenant-processor.js npx otlp-log-processor run
 *
 * Its options are env vars like any processor's: OLP_TENANT_ATTRIBUTE, OLP_TENANT_PREFIX,
 * OLP_TENANT_UNKNOWN, and OLP_TENANT_ON_ERROR (added by the service).
 */
const { defineProcessor, opt } = require('otlp-log-processor');

exports.processor = defineProcessor({
  name: 'tenant',
  summary: 'Sets a tenant attribute from the k8s.namespace.name resource attribute.',
  options: {
    attribute: opt.string('tenant', 'Record attribute to write the tenant to.', { nonEmpty: true }),
    prefix: opt.string('team-', 'Namespace prefix removed to get the tenant name.'),
    unknown: opt.string('unknown', 'Tenant for records whose resource has no namespace.'),
  },
  create(options) {
    /** @param {string | undefined} namespace */
    const tenantOf = (namespace) => (namespace === undefined ? options.unknown : namespace.startsWith(options.prefix) ? namespace.slice(options.prefix.length) : namespace);
    return {
      process(batch) {
        // Records of one resource share its object: work the tenant out once per resource.
        /** @type {import('otlp-log-processor').Resource | undefined} */
        let resource;
        let tenant = options.unknown;
        for (const record of batch) {
          if (record.resource !== resource) {
            resource = record.resource;
            tenant = tenantOf(resource.attributes.getString('k8s.namespace.name'));
          }
          // Assigning writes: set() replaces the attribute, or appends it.
          record.attributes.set(options.attribute, tenant);
        }
      },
    };
  },
});
