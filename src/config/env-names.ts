/**
 * Near-miss detection for env var names. The service reads OLP_*, some OTEL_* and K8S_* names
 * (declared with the options); a misspelt one is otherwise ignored in silence and its value lost.
 */

/**
 * OTEL_* names of the OTel SDK and OTLP exporter specifications that this service does not read
 * (other signals, other exporters, SDK internals). A sidecar often inherits them from a shared
 * ConfigMap; they are correct names, not near misses of ours (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
 * is two edits from nothing of ours, but TRACES vs LOGS must never be "corrected").
 */
const OTLP_FIELDS = ['ENDPOINT', 'HEADERS', 'COMPRESSION', 'TIMEOUT', 'PROTOCOL', 'INSECURE', 'CERTIFICATE', 'CLIENT_CERTIFICATE', 'CLIENT_KEY'];
export const FOREIGN_OTEL_NAMES: ReadonlySet<string> = new Set([
  ...['TRACES', 'METRICS'].flatMap((signal) => OTLP_FIELDS.map((f) => `OTEL_EXPORTER_OTLP_${signal}_${f}`)),
  'OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE',
  'OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION',
  'OTEL_SDK_DISABLED',
  'OTEL_PROPAGATORS',
  'OTEL_TRACES_SAMPLER',
  'OTEL_TRACES_SAMPLER_ARG',
  'OTEL_TRACES_EXPORTER',
  'OTEL_METRICS_EXPORTER',
  'OTEL_LOGS_EXPORTER',
  'OTEL_METRIC_EXPORT_INTERVAL',
  'OTEL_METRIC_EXPORT_TIMEOUT',
  'OTEL_METRICS_EXEMPLAR_FILTER',
  'OTEL_BSP_SCHEDULE_DELAY',
  'OTEL_BSP_EXPORT_TIMEOUT',
  'OTEL_BSP_MAX_QUEUE_SIZE',
  'OTEL_BSP_MAX_EXPORT_BATCH_SIZE',
  'OTEL_BLRP_SCHEDULE_DELAY',
  'OTEL_BLRP_EXPORT_TIMEOUT',
  'OTEL_BLRP_MAX_QUEUE_SIZE',
  'OTEL_BLRP_MAX_EXPORT_BATCH_SIZE',
  'OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT',
  'OTEL_ATTRIBUTE_COUNT_LIMIT',
  'OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT',
  'OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT',
  'OTEL_SPAN_EVENT_COUNT_LIMIT',
  'OTEL_SPAN_LINK_COUNT_LIMIT',
  'OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT',
  'OTEL_LINK_ATTRIBUTE_COUNT_LIMIT',
  'OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT',
  'OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT',
  'OTEL_EXPORTER_ZIPKIN_ENDPOINT',
  'OTEL_EXPORTER_ZIPKIN_TIMEOUT',
  'OTEL_EXPORTER_PROMETHEUS_HOST',
  'OTEL_EXPORTER_PROMETHEUS_PORT',
  'OTEL_EXPERIMENTAL_CONFIG_FILE',
  'OTEL_CONFIG_FILE',
  'OTEL_NODE_RESOURCE_DETECTORS',
  'OTEL_SEMCONV_STABILITY_OPT_IN',
]);

/** Edit distance counting a swap of two adjacent letters as one edit (ENDPIONT → ENDPOINT is 1). */
export function editDistance(a: string, b: string): number {
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = d;
    }
  }
  return rows[a.length]![b.length]!;
}

/** The candidate nearest to `word` within `maxDistance` edits (ties: the first), if any. */
export function closest(word: string, candidates: Iterable<string>, maxDistance: number): string | undefined {
  let best: string | undefined;
  let bestD = maxDistance + 1;
  for (const c of candidates) {
    const d = editDistance(word, c);
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best;
}

/** Typos worth naming: up to two edits, one for short words (where two edits reach unrelated names). */
export function typoDistance(word: string): number {
  return word.length < 8 ? 1 : 2;
}

export interface EnvNameFindings {
  /** Unknown OLP_* variables: the service owns the prefix, so each is an error. */
  readonly errors: string[];
  /** OTEL_* and K8S_* variables a typo away from one the service reads: shared prefixes, so warnings. */
  readonly warnings: string[];
}

/** Checks the names in `env` against the variables the service reads (`known`). */
export function checkEnvNames(env: NodeJS.ProcessEnv, known: ReadonlySet<string>): EnvNameFindings {
  const errors: string[] = [];
  const warnings: string[] = [];
  const knownList = [...known];
  for (const name of Object.keys(env)) {
    if (known.has(name)) continue;
    if (name.startsWith('OLP_')) {
      const hint = closest(name, knownList.filter((n) => n.startsWith('OLP_')), Math.max(2, Math.floor(name.length / 4)));
      errors.push(`${name}: unknown variable${hint ? ` (did you mean ${hint}?)` : ''}`);
    } else if ((name.startsWith('OTEL_') && !FOREIGN_OTEL_NAMES.has(name)) || name.startsWith('K8S_')) {
      const prefix = name.startsWith('OTEL_') ? 'OTEL_' : 'K8S_';
      const hint = closest(name, knownList.filter((n) => n.startsWith(prefix)), typoDistance(name));
      if (hint) warnings.push(`${name}: not a variable this service reads (did you mean ${hint}?); its value is ignored`);
    }
  }
  return { errors, warnings };
}
