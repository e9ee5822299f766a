/** Help text and the env var reference, generated from the option declarations. */
import { envNames, formatDefault, type OptionShape } from '../config/options';
import { CONFIG_FILE_ENV, optionPath, type Sections } from '../config/load';
import type { ProcessorFactory } from '../processors/contract';
import { serviceSections } from '../config/settings';
import { allSections } from '../config/resolve';

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

/** A processor's options as configured: its own plus those every processor gets (`where`). */
function processorRows(p: ProcessorFactory<OptionShape>, processors: readonly ProcessorFactory<OptionShape>[]): OptionRow[] {
  return optionRows(p.name, allSections(processors)[p.name]!);
}

export function runHelp(processors: readonly ProcessorFactory<OptionShape>[]): string {
  const procs = processors
    .map((p) => `  ${p.name}: ${p.summary}\n${plain(processorRows(p, processors)).replace(/^/gm, '  ')}`)
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

const TABLE_HEADER = '| Env var | YAML key | Type | Default | Description |';

/** Replaces the first option table after `heading` with `table`; throws when the heading or table is missing. */
function replaceTableAfter(readme: string, heading: string, table: string): string {
  const at = readme.indexOf(`\n${heading}\n`);
  if (at < 0) throw new Error(`README has no "${heading}" section`);
  const start = readme.indexOf(TABLE_HEADER, at);
  const next = readme.indexOf('\n#', at + heading.length + 2);
  if (start < 0 || (next >= 0 && start > next)) throw new Error(`README section "${heading}" has no option table`);
  let end = start;
  while (end < readme.length && readme.startsWith('|', end)) {
    const nl = readme.indexOf('\n', end);
    end = nl < 0 ? readme.length : nl + 1;
  }
  return readme.slice(0, start) + table + '\n' + readme.slice(end);
}

/** README with the service settings table and every processor's option table regenerated from the declarations. */
export function updateReadmeTables(readme: string, processors: readonly ProcessorFactory<OptionShape>[]): string {
  let out = replaceTableAfter(readme, '### Service settings', markdownTable(serviceRows()));
  for (const p of processors) out = replaceTableAfter(out, `#### ${p.name}`, markdownTable(processorRows(p, processors)));
  return out;
}

export const MAIN_HELP = `Usage: otlp-log-processor <command> [options]

Commands:
  run             Run the service (default). Configured by env vars; see 'run --help'.
  send [FILE...]  Send log lines from files or stdin as OTLP log records; see 'send --help'.
  validate        Check the configuration (env vars, OLP_CONFIG) and report every problem.
  print-config    Print the effective configuration, secrets redacted (--format yaml|json).
  explain         Run the configured processors over sample logs and show what each one changes.
  templates       Mine message templates from a log file (CSV LineId,EventTemplate); see 'templates --help'.
  top             Watch a running service: rates, drops, queues, templates; see 'top --help'.
  tap             Print records of a running service as they leave the chain or a processor; see 'tap --help'.

Options:
  -h, --help      Show help.
  -v, --version   Show the version.
`;
