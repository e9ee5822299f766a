/** `validate` and `print-config`: check or show the configuration without starting the service. */
import { parseArgs } from 'node:util';
import pino from 'pino';
import { stringify } from 'yaml';
import { ConfigError } from '../config/load';
import { configDocument } from '../config/print';
import { resolveServiceConfig, type ServiceConfig } from '../processors/custom';
import { createStages } from '../pipeline/stages';

export const VALIDATE_HELP = `Usage: otlp-log-processor validate

Checks the configuration — the same env vars and OLP_CONFIG file as 'run' (see 'run --help') —
including processor options, and prints every problem with the variable or file key it came from,
and every warning (an OTEL_* or K8S_* variable a typo away from one the service reads, which
'run' only logs). Exit code 0 when valid without warnings, 1 otherwise.
`;

export const PRINT_CONFIG_HELP = `Usage: otlp-log-processor print-config [--format yaml|json]

Prints the effective configuration (env vars over OLP_CONFIG over defaults) in the OLP_CONFIG
file layout, secrets redacted. Reads the same env vars as 'run' (see 'run --help').
Exit code 1 when the configuration is invalid.
`;

/** Resolves the config and creates the processors (catching option errors) without starting anything. */
function check(env: NodeJS.ProcessEnv): ServiceConfig {
  const resolved = resolveServiceConfig(env);
  createStages(resolved.config, resolved.processors, { logger: pino({ level: 'silent' }), clock: { now: () => Date.now() }, env });
  return resolved;
}

function report(e: unknown): number {
  if (!(e instanceof ConfigError)) throw e;
  process.stderr.write(`otlp-log-processor: ${e.message}\n`);
  return 1;
}

export function validateCommand(argv: string[], env: NodeJS.ProcessEnv): number {
  const { values } = parseArgs({ args: argv, options: { help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    process.stdout.write(VALIDATE_HELP);
    return 0;
  }
  try {
    const c = check(env).config;
    const s = c.service;
    if (c.warnings.length > 0) {
      process.stderr.write(`otlp-log-processor: configuration warnings:\n  - ${c.warnings.join('\n  - ')}\n`);
      return 1;
    }
    process.stdout.write(
      `configuration is valid${c.file ? ` (${c.file} and env)` : ' (env only)'}\n` +
        `  receiver   grpc ${s.grpc.endpoint}\n` +
        `  processors ${s[''].processors.join(', ') || '(none: passthrough)'}\n` +
        `  exporters  ${c.exporters.map((e) => (e === 'otlp' ? `otlp → ${s.otlp.endpoint}` : e)).join(', ')}\n`,
    );
    return 0;
  } catch (e) {
    return report(e);
  }
}

export function printConfigCommand(argv: string[], env: NodeJS.ProcessEnv): number {
  const { values } = parseArgs({ args: argv, options: { format: { type: 'string', default: 'yaml' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    process.stdout.write(PRINT_CONFIG_HELP);
    return 0;
  }
  if (values.format !== 'yaml' && values.format !== 'json') {
    process.stderr.write(`otlp-log-processor print-config: --format must be yaml or json, got "${values.format}"\n`);
    return 2;
  }
  try {
    const doc = configDocument(check(env).config);
    process.stdout.write(values.format === 'json' ? `${JSON.stringify(doc, null, 2)}\n` : stringify(doc));
    return 0;
  } catch (e) {
    return report(e);
  }
}
