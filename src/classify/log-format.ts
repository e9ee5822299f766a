/**
 * Log line headers in the Loghub benchmark's notation: field names in angle brackets, the text
 * between them a regular expression in which runs of spaces match any whitespace, e.g.
 * `<Date> <Time> <Level> \[<Process>\] <Component>: <Content>`. Each field matches lazily and
 * the whole (trimmed) line must match; templates are mined from `<Content>`.
 */

export interface LogFormat {
  readonly fields: readonly string[];
  /** The Content of a line, or undefined when the line does not have this format. */
  content(line: string): string | undefined;
}

const FIELD = /(<[^<>]+>)/;

export function parseLogFormat(format: string): LogFormat {
  const parts = format.split(FIELD);
  const fields: string[] = [];
  let source = '';
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (i % 2 === 0) {
      source += part.replace(/ +/g, '\\s+');
    } else {
      fields.push(part.slice(1, -1));
      source += '(.*?)';
    }
  }
  const contentIndex = fields.indexOf('Content');
  if (contentIndex < 0) throw new Error(`log format "${format}" has no <Content> field`);
  if (new Set(fields).size !== fields.length) throw new Error(`log format "${format}" names a field twice`);
  let re: RegExp;
  try {
    re = new RegExp(`^${source}$`, 's');
  } catch (e) {
    throw new Error(`log format "${format}" is not a valid pattern: ${(e as Error).message}`, { cause: e });
  }
  // Optional groups in the literal text (`(\[<PID>\])?`) shift numbering: find Content's group.
  const group = contentGroup(source, contentIndex);
  return {
    fields,
    content(line: string): string | undefined {
      const m = re.exec(line.trim());
      return m ? (m[group] ?? '') : undefined;
    },
  };
}

/** Group number of the n-th `(.*?)` field among all capturing groups of the source. */
function contentGroup(source: string, fieldIndex: number): number {
  let group = 0;
  let field = -1;
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (c === '\\') {
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') inClass = true;
    else if (c === '(' && source[i + 1] !== '?') {
      group++;
      if (source.startsWith('(.*?)', i)) {
        field++;
        if (field === fieldIndex) return group;
      }
    } else if (c === '(' && source.startsWith('(?<', i) && source[i + 3] !== '=' && source[i + 3] !== '!') {
      group++;
    }
  }
  return group;
}
