// @ts-check
/**
 * An example custom processor: derives a `tenant` attribute from the Kubernetes namespace in
 * the resource (e.g. namespace `team-payments` → tenant `payments`) and marks records of
 * unknown tenants. Load it with:
 *
 *   OLP_PROCESSORS=severity,resource,./examples/custom-processor/tenant-processor.js npx otlp-log-processor run
 *
 * Its options are env vars like any processor's: OLP_TENANT_ATTRIBUTE, OLP_TENANT_PREFIX,
 * OLP_TENANT_UNKNOWN, and OLP_TENANT_ON_ERROR (added by the service).
 */
const { defineProcessor, opt, getAttribute, asString, upsertAttribute, stringValue } = require('otlp-log-processor');

exports.processor = defineProcessor({
  name: 'tenant',
  summary: 'Sets a tenant attribute from the k8s.namespace.name resource attribute.',
  options: {
    attribute: opt.string('tenant', 'Record attribute to write the tenant to.', { nonEmpty: true }),
    prefix: opt.string('team-', 'Namespace prefix removed to get the tenant name.'),
    unknown: opt.string('unknown', 'Tenant for records whose resource has no namespace.'),
  },
  create(options) {
    return {
      process(batch) {
        for (const rl of batch.resourceLogs) {
          const namespace = asString(getAttribute(rl.resource?.attributes ?? [], 'k8s.namespace.name'));
          const tenant = namespace === undefined ? options.unknown : namespace.startsWith(options.prefix) ? namespace.slice(options.prefix.length) : namespace;
          for (const sl of rl.scopeLogs) {
            for (const record of sl.logRecords) upsertAttribute(record.attributes, options.attribute, stringValue(tenant));
          }
        }
        return batch;
      },
    };
  },
});
