/**
 * Builds the frozen runtime config from env vars and the optional YAML file (OLP_CONFIG).
 * Precedence per option: env var > YAML file > default. Every problem is collected and
 * reported together, each naming the env var or the file and key it came from.
 */
import * as fs from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { checkEnvNames, closest } from './env-names';
import { envNames, type Option, type OptionShape } from './options';
import { parseList } from './values';

export type Sections = Record<string, OptionShape>;
export type SectionValues = Record<string, Readonly<Record<string, unknown>>>;

export interface LoadedConfig {
  /** Values by section ('' for top-level options) and option key. */
  readonly values: SectionValues;
  /** Where each value came from, by `section.key`: an env var name, `file`, or `default`. */
  readonly origins: Readonly<Record<string, string>>;
  readonly file: string | undefined;
  /** Every problem found; values with a problem hold their default so that later checks can run. */
  readonly problems: readonly string[];
  /** Suspicious but not fatal at start-up (an OTEL_* or K8S_* name a typo away from one read); `validate` fails on them. */
  readonly warnings: readonly string[];
}

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

export const CONFIG_FILE_ENV = 'OLP_CONFIG';

/** Reads an env var; an empty value counts as unset except for OLP_* (where empty is meaningful, e.g. OLP_PROCESSORS= for passthrough). */
function readEnv(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const v = env[name];
  if (v === undefined) return undefined;
  if (v === '' && !name.startsWith('OLP_')) return undefined;
  return v;
}

/**
 * A list setting as written (env var, else the OLP_CONFIG file's top-level key), before
 * validation: what must be known to decide which sections exist (custom processors, named exporters).
 */
export function peekList(env: NodeJS.ProcessEnv, envName: string, yamlKey: string): string[] {
  if (env[envName] !== undefined) return parseList(env[envName]);
  const file = readEnv(env, CONFIG_FILE_ENV);
  if (!file) return [];
  try {
    const doc = parseYaml(fs.readFileSync(file, 'utf8')) as Record<string, unknown> | null;
    return doc?.[yamlKey] === undefined ? [] : parseList(doc[yamlKey]);
  } catch {
    return []; // the loader reports an unreadable file
  }
}

export function optionPath(section: string, key: string): string {
  return section === '' ? key : `${section}.${key}`;
}

export function loadConfig(sections: Sections, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  const problems: string[] = [];
  const file = readEnv(env, CONFIG_FILE_ENV);
  const fileValues = file ? readConfigFile(file, env, sections, problems) : {};

  const knownEnv = new Set<string>([CONFIG_FILE_ENV]);
  const values: Record<string, Record<string, unknown>> = {};
  const origins: Record<string, string> = {};

  for (const [section, shape] of Object.entries(sections)) {
    const out: Record<string, unknown> = {};
    for (const [key, option] of Object.entries(shape)) {
      const names = envNames(section, key, option);
      for (const n of names) knownEnv.add(n);
      const path = optionPath(section, key);
      const envName = names.find((n) => readEnv(env, n) !== undefined);
      let raw: unknown;
      let origin: string;
      let where: string;
      if (envName) {
        raw = readEnv(env, envName);
        origin = envName;
        where = envName;
      } else if (Object.prototype.hasOwnProperty.call(fileValues, path)) {
        raw = fileValues[path];
        origin = 'file';
        where = `${file}: ${path}`;
      } else {
        out[key] = option.default;
        origins[path] = 'default';
        continue;
      }
      const result = convert(option, raw);
      if (result.ok) {
        out[key] = result.value;
        origins[path] = origin;
      } else {
        out[key] = option.default;
        // Parser messages quote the input, so a secret's message is replaced, not trimmed.
        problems.push(
          option.secret
            ? `${where}: invalid value (not shown: it may hold a secret); expected ${option.type}`
            : `${where}: ${result.message}${result.quoted ? '' : ` (got ${show(raw)})`}`,
        );
      }
    }
    values[section] = out;
  }

  const names = checkEnvNames(env, knownEnv);
  problems.push(...names.errors);

  return { values, origins, file, problems, warnings: names.warnings };
}

type Converted = { ok: true; value: unknown } | { ok: false; message: string; quoted: boolean };

function convert(option: Option<unknown>, raw: unknown): Converted {
  let parsed: unknown;
  try {
    parsed = option.parse(raw);
  } catch (e) {
    // Parsers name the offending input themselves.
    return { ok: false, message: (e as Error).message, quoted: true };
  }
  const r = option.schema.safeParse(parsed);
  if (!r.success) {
    return { ok: false, message: r.error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ` : '') + i.message).join('; '), quoted: false };
  }
  return { ok: true, value: r.data };
}

function show(raw: unknown): string {
  return typeof raw === 'string' ? JSON.stringify(raw) : JSON.stringify(raw) ?? String(raw);
}

/** Parses the YAML file into a map `section.key` → raw value, reporting unknown keys. */
function readConfigFile(file: string, env: NodeJS.ProcessEnv, sections: Sections, problems: string[]): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = parseYaml(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    problems.push(`${CONFIG_FILE_ENV}=${file}: cannot read: ${(e as Error).message}`);
    return {};
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    problems.push(`${file}: expected a mapping at the top level`);
    return {};
  }
  const out: Record<string, unknown> = {};
  const top = sections[''] ?? {};
  const unset = new Set<string>();
  const expanded = interpolate(doc, env, unset) as Record<string, unknown>;
  for (const name of unset) problems.push(`${file}: \${env:${name}}: ${name} is not set (give a default with \${env:${name}:-value})`);
  for (const [k, v] of Object.entries(expanded)) {
    if (k in top) {
      out[k] = v;
    } else if (k !== '' && k in sections) {
      if (v === null) continue;
      if (typeof v !== 'object' || Array.isArray(v)) {
        problems.push(`${file}: ${k}: expected a mapping of options`);
        continue;
      }
      for (const [ok, ov] of Object.entries(v as Record<string, unknown>)) {
        if (ok in sections[k]!) out[`${k}.${ok}`] = ov;
        else problems.push(`${file}: ${k}.${ok}: unknown key${suggest(ok, Object.keys(sections[k]!))}`);
      }
    } else {
      problems.push(`${file}: ${k}: unknown key${suggest(k, [...Object.keys(top), ...Object.keys(sections).filter((s) => s !== '')])}`);
    }
  }
  return out;
}

const ENV_REF = /\$\{env:([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * Expands ${env:VAR} and ${env:VAR:-default} in string scalars, as the Collector does. A VAR
 * that is unset and has no default is collected in `unset`: expanding it to nothing would turn
 * an endpoint into the debug exporter or `Bearer ${env:TOKEN}` into `Bearer ` without a word.
 */
function interpolate(v: unknown, env: NodeJS.ProcessEnv, unset: Set<string>): unknown {
  if (typeof v === 'string') {
    return v.replace(ENV_REF, (_m, name: string, def: string | undefined) => {
      const value = env[name] ?? def;
      if (value === undefined) unset.add(name);
      return value ?? '';
    });
  }
  if (Array.isArray(v)) return v.map((x) => interpolate(x, env, unset));
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = interpolate(x, env, unset);
    return out;
  }
  return v;
}

function suggest(word: string, candidates: string[]): string {
  const c = closest(word, candidates, Math.max(2, Math.floor(word.length / 4)));
  return c ? ` (did you mean ${c}?)` : '';
}

export function deepFreeze<T>(o: T): T {
  if (o !== null && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}
