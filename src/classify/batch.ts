/**
 * Offline mining of a whole log file with the default configuration: what the `templates`
 * command and the accuracy evaluation run. Each line is reported with the final template of
 * its family, i.e. as it stands after the whole file was read (as the Loghub benchmark's
 * parsers report it).
 */
import * as readline from 'node:readline';
import { parseLogFormat, type LogFormat } from './log-format';
import { TemplateMiner, type MinerOptions, type Shape, type TemplateRef } from './template-miner';

/** Mines lines one at a time and keeps, per line, only a reference to its shape. */
export class OfflineMiner {
  readonly miner: TemplateMiner;
  private readonly shapes: Shape[] = [];
  /** The text mined of each line, to read its event words again at the end. */
  private readonly contents: string[] = [];
  /** Lines that did not have the log format (mined whole). */
  unmatched = 0;

  constructor(
    private readonly format?: LogFormat,
    options: Partial<MinerOptions> = {},
  ) {
    this.miner = new TemplateMiner(options);
  }

  /** A line without its line break: its <Content> is mined when a format is given and matches, else the whole line. */
  add(line: string): void {
    let content = this.format ? this.format.content(line) : undefined;
    if (content === undefined) {
      if (this.format) this.unmatched++;
      content = line.trim();
    }
    this.shapes.push(this.miner.add(content));
    this.contents.push(content);
  }

  get lineCount(): number {
    return this.shapes.length;
  }

  /** The final template of line i (from 0). */
  template(i: number): TemplateRef {
    return this.miner.templateOf(this.shapes[i]!, this.contents[i]!);
  }

  get templateCount(): number {
    return this.miner.stats().templates;
  }
}

export interface MinedFile {
  /** Final template text per input line. */
  readonly templates: string[];
  /** Final template id per input line. */
  readonly ids: string[];
  /** Lines that did not have the log format (mined whole). */
  readonly unmatched: number;
  readonly templateCount: number;
}

/** Mines every line of a stream (LF, CRLF or CR line ends), as the `templates` command reads its input. */
export async function mineStream(input: NodeJS.ReadableStream, format?: LogFormat, options: Partial<MinerOptions> = {}): Promise<OfflineMiner> {
  const offline = new OfflineMiner(format, options);
  const lines = readline.createInterface({ input, crlfDelay: Infinity });
  for await (const line of lines) offline.add(line);
  return offline;
}

/** Splits file text into lines (LF or CRLF); a final line break does not start another line. */
export function splitLines(text: string): string[] {
  const lines = text.split(/\r?\n/);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

export function mineLines(lines: readonly string[], format?: LogFormat | string, options: Partial<MinerOptions> = {}): MinedFile {
  const offline = new OfflineMiner(typeof format === 'string' ? parseLogFormat(format) : format, options);
  for (const line of lines) offline.add(line);
  const templates: string[] = [];
  const ids: string[] = [];
  for (let i = 0; i < offline.lineCount; i++) {
    const f = offline.template(i);
    templates.push(f.text);
    ids.push(f.id);
  }
  return { templates, ids, unmatched: offline.unmatched, templateCount: offline.templateCount };
}

/** The text mined of each line (for timing the miner alone): <Content>, or the whole line. */
export function extractContents(lines: readonly string[], format: LogFormat | undefined): string[] {
  return lines.map((line) => (format ? format.content(line) : undefined) ?? line.trim());
}
