/**
 * User patterns: named regular expressions compiled with RE2JS, whose matching time is linear
 * in the input whatever the pattern (`(a+)+$` cannot backtrack), since they come from config.
 */
import { RE2JS, type Matcher } from 're2js';
import { z } from 'zod';
import type { Detector, Spans } from './spans';

export interface UserPattern {
  readonly name: string;
  readonly regex: string;
}

const NAME = /^[A-Za-z][A-Za-z0-9_]*$/;

export const userPatternsSchema: z.ZodType<readonly UserPattern[]> = z
  .array(
    z
      .object({
        name: z.string().regex(NAME, 'pattern names are a letter followed by letters, digits or _'),
        regex: z.string().min(1, 'the regex must not be empty'),
      })
      .strict(),
  )
  .readonly();

/**
 * Env form: `name1=regex1;name2=regex2` — split at the first `=`; a literal `;` in a regex is
 * written `\;` (RE2 reads that as `;`). YAML form: a mapping name → regex, or a list of
 * `name=regex` strings or `{name, regex}` objects. Regexes are compiled by the processor.
 */
export function parseUserPatterns(raw: unknown): readonly UserPattern[] {
  if (Array.isArray(raw)) return raw.map((item) => (typeof item === 'string' ? splitPattern(item) : item) as UserPattern);
  if (raw !== null && typeof raw === 'object') return Object.entries(raw as Record<string, unknown>).map(([name, regex]) => ({ name, regex: String(regex) }));
  const out: UserPattern[] = [];
  for (const part of splitUnescaped(String(raw))) if (part.trim() !== '') out.push(splitPattern(part));
  return out;
}

function splitPattern(text: string): UserPattern {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new Error(`expected name=regex, got "${text.trim()}"`);
  return { name: text.slice(0, eq).trim(), regex: text.slice(eq + 1).trim() };
}

/** Splits at `;` not escaped by a backslash; escapes are kept for the regex parser. */
function splitUnescaped(text: string): string[] {
  const parts: string[] = [];
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 92) i++;
    else if (c === 59) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

/** Thrown for a pattern that does not compile; the processor turns it into an OptionError. */
export class PatternError extends Error {}

/** Compiles a pattern, or throws a PatternError naming it. */
export function compileUserPattern(p: UserPattern): PatternDetector {
  let re: RE2JS;
  try {
    re = RE2JS.compile(p.regex);
  } catch (e) {
    throw new PatternError(`pattern "${p.name}": ${(e as Error).message}`);
  }
  return new PatternDetector(p.name, re);
}

/**
 * Redacts every match, or only its first capturing group when the regex has one (so that
 * `emp_id=(\d+)` keeps `emp_id=`). Zero-length matches are ignored.
 */
export class PatternDetector implements Detector {
  // One matcher per instance, re-pointed at each string: no allocation per string.
  private readonly matcher: Matcher;
  private readonly group: number;

  constructor(
    readonly name: string,
    re: RE2JS,
  ) {
    this.matcher = re.matcher('');
    this.group = re.groupCount() > 0 ? 1 : 0;
  }

  find(s: string, out: Spans, id: number): void {
    if (s.length === 0) return;
    const m = this.matcher.resetMatcherInput(s);
    const g = this.group;
    while (m.find()) {
      const a = m.start(g);
      if (a >= 0) out.add(a, m.end(g), id);
    }
    // Do not keep the (possibly secret-bearing) string alive until the next call.
    m.resetMatcherInput('');
  }
}
