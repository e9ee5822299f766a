/**
 * The severity test corpus: test/severity/corpus/<format>.txt, one line per record as
 * `EXPECTED<TAB>line`, where EXPECTED is an OTel base level (TRACE DEBUG INFO WARN ERROR FATAL)
 * and the line uses `↵` for a newline, `⇥` for a tab and `␛` for ESC (so that Windows paths keep
 * their backslashes). Lines starting with `#` describe the format, its source and ambiguous rules.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export const BASE_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'] as const;
export type BaseLevel = (typeof BASE_LEVELS)[number];

export interface CorpusLine {
  readonly format: string;
  readonly lineNo: number;
  readonly expected: BaseLevel;
  readonly body: string;
}

/** test/severity/corpus of this checkout, from bench/ (ts-jest) or dist/bench/ (compiled). */
export const CORPUS_DIR = ((): string => {
  const near = path.resolve(__dirname, '..', 'test', 'severity', 'corpus');
  return fs.existsSync(near) ? near : path.resolve(__dirname, '..', '..', 'test', 'severity', 'corpus');
})();

/** Base level of a SeverityNumber (1–24), or undefined for 0 / out of range. */
export function baseLevel(n: number): BaseLevel | undefined {
  return n >= 1 && n <= 24 ? BASE_LEVELS[Math.floor((n - 1) / 4)] : undefined;
}

/** error (≥ ERROR), warn, or info (anything else, unset included), as the class_attribute does. */
export function severityClass(n: number): 'error' | 'warn' | 'info' {
  return n >= 17 ? 'error' : n >= 13 ? 'warn' : 'info';
}

export function decodeCorpusLine(s: string): string {
  return s.replace(/↵/g, '\n').replace(/⇥/g, '\t').replace(/␛/g, '\x1b');
}

export function loadCorpus(dir: string = CORPUS_DIR): CorpusLine[] {
  const out: CorpusLine[] = [];
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.txt')).sort()) {
    const format = file.slice(0, -4);
    const lines = fs.readFileSync(path.join(dir, file), 'utf8').split('\n');
    lines.forEach((line, i) => {
      if (line.trim() === '' || line.startsWith('#')) return;
      const tab = line.indexOf('\t');
      const expected = line.slice(0, tab) as BaseLevel;
      if (tab < 0 || !BASE_LEVELS.includes(expected)) throw new Error(`${file}:${i + 1}: expected LEVEL<TAB>line`);
      out.push({ format, lineNo: i + 1, expected, body: decodeCorpusLine(line.slice(tab + 1)) });
    });
  }
  return out;
}
