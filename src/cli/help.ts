/** Help text and the env var reference, generated from the option declarations. */
import { envNames, formatDefault, type OptionShape } from '../config/options';
import { CONFIG_FILE_ENV, optionPath, type Sections } from '../config/load';
import type { ProcessorFactory } from '../pipeline/processor';
import { serviceSections } from '../config/settings';

export interface OptionRow {
  readonly env: string;
  readonly yaml: string;
  readonly type: string;
  readonly default: string;
  readonly doc: string;
}

export function optionRows(section: string, shape: OptionShape): OptionRow[] {
  return Object.entries(shape).map(([key, o]) => ({
    env: envNames(section, key, o).join(', '),
    yaml: optionPath(section, key),
    type: o.type,
    default: formatDefault(o),
    doc: o.doc,
  }));
}

/** Markdown table, as in README. */
export function markdownTable(rows: readonly OptionRow[]): string {
  const esc = (s: string): string => s.replace(/\|/g, '\\|');
  const lines = ['| Env var | YAML key | Type | Default | Description |', '| --- | --- | --- | --- | --- |'];
  for (const r of rows) {
    lines.push(`| \`${r.env.split(', ').join('`, `')}\` | \`${r.yaml}\` | ${esc(r.type)} | ${r.default === '' ? '—' : `\`${esc(r.default)}\``} | ${esc(r.doc)} |`);
  }
  return lines.join('\n');
}

export function serviceRows(): OptionRow[] {
  return [
    { env: CONFIG_FILE_ENV, yaml: '—', type: 'path', default: '', doc: 'YAML file with the same settings (keys as in the YAML column; `${env:VAR}` expanded). Env vars override it.' },
    ...Object.entries(serviceSections as Sections).flatMap(([section, shape]) => optionRows(section, shape)),
  ];
}

function plain(rows: readonly OptionRow[]): string {
  return rows
    .map((r) => `  ${r.env}\n      ${r.doc}${r.default !== '' ? ` [default: ${r.default}]` : ''}`)
    .join('\n');
}

export function runHelp(processors: readonly ProcessorFactory<OptionShape>[]): string {
  const procs = processors
    .map((p) => `  ${p.name}: ${p.summary}\n${plain(optionRows(p.name, p.options)).replace(/^/gm, '  ')}`)
    .join('\n\n');
  return `Usage: otlp-log-processor [run]

Receives OTLP/gRPC logs, runs them through the processing chain and exports them.
Configured by environment variables (and optionally a YAML file, OLP_CONFIG).

Service settings:
${plain(serviceRows())}

Processors (enable with OLP_PROCESSORS, in order):
${procs}
`;
}

export const MAIN_HELP = `Usage: otlp-log-processor <command> [options]

Commands:
  run             Run the service (default). Configured by env vars; see 'run --help'.
  send [FILE...]  Send log lines from files or stdin as OTLP log records; see 'send --help'.
  validate        Check the configuration (env vars, OLP_CONFIG) and report every problem.
  print-config    Print the effective configuration, secrets redacted (--format yaml|json).
  explain         Run the configured processors over sample logs and show what each one changes.

Options:
  -h, --help      Show help.
  -v, --version   Show the version.
`;
