/** A Dockerfile parser good enough for lint-style checks: instructions grouped by build stage. */
import * as fs from 'node:fs';

export interface Instruction {
  /** Upper-case keyword: FROM, RUN, COPY, … */
  readonly keyword: string;
  /** Everything after the keyword, continuation lines joined with a space. */
  readonly args: string;
  /** `--name=value` flags at the start of args (COPY --from=…, HEALTHCHECK --interval=…). */
  readonly flags: Readonly<Record<string, string>>;
  /** args without the leading flags. */
  readonly rest: string;
  /** 1-based line of the keyword. */
  readonly line: number;
}

export interface Stage {
  readonly index: number;
  readonly image: string;
  readonly name: string | undefined;
  readonly from: Instruction;
  readonly instructions: readonly Instruction[];
}

export interface Dockerfile {
  readonly directives: Readonly<Record<string, string>>;
  /** Instructions before the first FROM (ARG only, normally). */
  readonly preamble: readonly Instruction[];
  readonly stages: readonly Stage[];
}

function splitFlags(args: string): { flags: Record<string, string>; rest: string } {
  const flags: Record<string, string> = {};
  let rest = args;
  for (;;) {
    const m = /^--([a-z-]+)(?:=(\S*))?\s*/.exec(rest);
    if (!m) break;
    flags[m[1]!] = m[2] ?? 'true';
    rest = rest.slice(m[0].length);
  }
  return { flags, rest };
}

export function parseDockerfile(text: string): Dockerfile {
  const lines = text.split(/\r?\n/);
  const directives: Record<string, string> = {};
  const instructions: Instruction[] = [];
  let inDirectives = true;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    if (inDirectives) {
      const d = /^#\s*([a-z]+)\s*=\s*(.+?)\s*$/i.exec(raw);
      if (d) {
        directives[d[1]!.toLowerCase()] = d[2]!;
        continue;
      }
      inDirectives = false;
    }
    if (/^\s*(#|$)/.test(raw)) continue;
    const start = i;
    let text = raw.trim();
    // Continuation lines; comment lines inside a continued instruction are dropped, as Docker does.
    while (text.endsWith('\\') && i + 1 < lines.length) {
      text = text.slice(0, -1).trimEnd();
      i++;
      const next = lines[i]!;
      if (/^\s*#/.test(next)) {
        text += ' \\';
        continue;
      }
      text += ` ${next.trim()}`;
    }
    const m = /^([A-Za-z]+)\s*(.*)$/.exec(text);
    if (!m) throw new Error(`line ${start + 1}: cannot parse "${raw}"`);
    const args = m[2]!.trim();
    instructions.push({ keyword: m[1]!.toUpperCase(), args, ...splitFlags(args), line: start + 1 });
  }

  const preamble: Instruction[] = [];
  const stages: { index: number; image: string; name: string | undefined; from: Instruction; instructions: Instruction[] }[] = [];
  for (const ins of instructions) {
    if (ins.keyword === 'FROM') {
      const [image, as, name] = ins.rest.split(/\s+/);
      if (as !== undefined && as.toUpperCase() !== 'AS') throw new Error(`line ${ins.line}: FROM image [AS name]`);
      stages.push({ index: stages.length, image: image!, name, from: ins, instructions: [] });
    } else if (stages.length === 0) {
      preamble.push(ins);
    } else {
      stages[stages.length - 1]!.instructions.push(ins);
    }
  }
  return { directives, preamble, stages };
}

export function readDockerfile(file: string): Dockerfile {
  return parseDockerfile(fs.readFileSync(file, 'utf8'));
}

/** Arguments of an instruction in JSON (exec) form, or undefined when it is in shell form. */
export function execForm(rest: string): string[] | undefined {
  if (!rest.trim().startsWith('[')) return undefined;
  try {
    const v = JSON.parse(rest) as unknown;
    return Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : undefined;
  } catch {
    return undefined;
  }
}

/** `name:tag@digest` parts of an image reference. */
export function splitImage(image: string): { name: string; tag: string | undefined; digest: string | undefined } {
  const [ref, digest] = image.split('@') as [string, string | undefined];
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  return colon > slash ? { name: ref.slice(0, colon), tag: ref.slice(colon + 1), digest } : { name: ref, tag: undefined, digest };
}

/**
 * Whether a path of the build context is excluded by .dockerignore patterns (Docker's rules:
 * patterns in order, the last match wins, `!` re-includes, a pattern matching a directory
 * excludes what is below it, `*` does not cross `/`, `**` does).
 */
export function dockerIgnored(patterns: readonly string[], file: string): boolean {
  let ignored = false;
  const parts = file.split('/');
  for (const raw of patterns) {
    let p = raw.trim();
    if (p === '' || p.startsWith('#')) continue;
    const negate = p.startsWith('!');
    if (negate) p = p.slice(1).trim();
    p = p.replace(/^\/+/, '').replace(/\/+$/, '');
    const re = globToRegExp(p);
    // The pattern matches the path itself or one of its parent directories.
    let matched = false;
    for (let n = 1; n <= parts.length && !matched; n++) matched = re.test(parts.slice(0, n).join('/'));
    if (matched) ignored = !negate;
  }
  return ignored;
}

function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i]!;
    if (ch === '*') {
      if (glob[i + 1] === '*') {
        // `**/` matches any number of directories, `**` at the end anything.
        if (glob[i + 2] === '/') {
          re += '(?:.*/)?';
          i += 2;
        } else {
          re += '.*';
          i += 1;
        }
      } else re += '[^/]*';
    } else if (ch === '?') re += '[^/]';
    else re += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}
