/**
 * `templates`: mines templates from a plain log file with the default configuration and
 * writes one CSV row per input line — the same mining the `classify` processor does, offline,
 * to preview templates on one's own logs and to measure accuracy (bench/eval-templates.ts).
 */
import * as fs from 'node:fs';
import type { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { mineStream, type OfflineMiner } from '../classify/batch';
import { csvRow } from '../classify/csv';
import { parseLogFormat, type LogFormat } from '../classify/log-format';

export const TEMPLATES_HELP = `Usage: otlp-log-processor templates --input FILE [--log-format FORMAT] [--output FILE]

Mines message templates from a plain log file (one message per line) with the default
configuration of the classify processor, and writes CSV (RFC 4180) with the header
LineId,EventTemplate: one row per input line, LineId counting from 1.

Options:
  --input FILE          Log file to read ("-" for stdin)
  --log-format FORMAT   Line header in the Loghub benchmark's notation: field names in angle
                        brackets, the text between them a regular expression whose spaces match
                        any whitespace, e.g. '<Date> <Time> <Level> <Component>: <Content>'.
                        Templates are mined from <Content>; lines that do not match are mined
                        whole. Without it, whole lines are mined.
  --output FILE         CSV to write [default: stdout]
  --templates FILE      Also write the distinct templates: EventId,EventTemplate,Occurrences
                        (EventId is the template id the processor sets as log.template.id)
  -h, --help            Show this help
`;

interface TemplatesOptions {
  readonly input: string;
  readonly format: LogFormat | undefined;
  readonly output: string | undefined;
  readonly templates: string | undefined;
}

/** Parsed options, 'help', or an error message for a usage error. */
export function parseTemplatesArgs(argv: string[]): TemplatesOptions | 'help' | { error: string } {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: false,
      options: {
        input: { type: 'string', short: 'i' },
        'log-format': { type: 'string' },
        output: { type: 'string', short: 'o' },
        templates: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    return { error: (e as Error).message };
  }
  const v = parsed.values;
  if (v.help) return 'help';
  if (!v.input) return { error: '--input FILE is required' };
  let format: LogFormat | undefined;
  if (v['log-format'] !== undefined) {
    try {
      format = parseLogFormat(v['log-format']);
    } catch (e) {
      return { error: `--log-format: ${(e as Error).message}` };
    }
  }
  return { input: v.input, format, output: v.output, templates: v.templates };
}

export async function templatesCommand(argv: string[]): Promise<number> {
  const opts = parseTemplatesArgs(argv);
  if (opts === 'help') {
    process.stdout.write(TEMPLATES_HELP);
    return 0;
  }
  if ('error' in opts) {
    process.stderr.write(`otlp-log-processor templates: ${opts.error}\n\n${TEMPLATES_HELP}`);
    return 2;
  }
  // Streamed: per line only a reference to its template is kept, so large files fit.
  let offline: OfflineMiner;
  try {
    offline = await mineStream(opts.input === '-' ? process.stdin : fs.createReadStream(opts.input), opts.format);
  } catch (e) {
    process.stderr.write(`otlp-log-processor templates: cannot read ${opts.input}: ${(e as Error).message}\n`);
    return 1;
  }
  try {
    await writeCsv(opts.output, function* () {
      yield csvRow(['LineId', 'EventTemplate']);
      for (let i = 0; i < offline.lineCount; i++) yield csvRow([String(i + 1), offline.template(i).text]);
    });
    if (opts.templates !== undefined) {
      const counts = new Map<string, { text: string; n: number }>();
      for (let i = 0; i < offline.lineCount; i++) {
        const f = offline.template(i);
        const c = counts.get(f.id);
        if (c) c.n++;
        else counts.set(f.id, { text: f.text, n: 1 });
      }
      await writeCsv(opts.templates, function* () {
        yield csvRow(['EventId', 'EventTemplate', 'Occurrences']);
        for (const [id, c] of [...counts].sort((a, b) => b[1].n - a[1].n)) yield csvRow([id, c.text, String(c.n)]);
      });
    }
  } catch (e) {
    process.stderr.write(`otlp-log-processor templates: cannot write: ${(e as Error).message}\n`);
    return 1;
  }
  const unmatched = opts.format && offline.unmatched > 0 ? `; ${offline.unmatched} did not match --log-format and were mined whole` : '';
  process.stderr.write(`${offline.lineCount} lines, ${offline.templateCount} templates${unmatched}\n`);
  return 0;
}

const CHUNK_CHARS = 64 * 1024;

/** Writes rows to a file (or stdout for none / "-") in chunks, waiting for each to drain. */
async function writeCsv(file: string | undefined, rows: () => Iterable<string>): Promise<void> {
  const toStdout = file === undefined || file === '-';
  const out: Writable = toStdout ? process.stdout : fs.createWriteStream(file);
  const write = (text: string): Promise<void> => new Promise((resolve, reject) => out.write(text, (err) => (err ? reject(err) : resolve())));
  try {
    let chunk = '';
    for (const row of rows()) {
      chunk += row;
      if (chunk.length >= CHUNK_CHARS) {
        await write(chunk);
        chunk = '';
      }
    }
    if (chunk !== '') await write(chunk);
  } finally {
    if (!toStdout) await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  }
}
