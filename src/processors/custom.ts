/**
 * User-written processors: OLP_PROCESSORS entries that are a file path (`./my-processor.js`,
 * `/opt/olp/redact-tenant.js`), a module path (`@team/olp-processors/geo`) or `module:<package>`
 * are loaded with require() at start-up. The module exports a ProcessorFactory (as `processor`,
 * `default`, or the module itself) built with `defineProcessor` from this package.
 *
 * A custom processor is guarded: if it throws (or returns a Promise: processors are
 * synchronous), only that batch is affected, by the processor's `on_error` option — `pass`
 * lets the failure through to the chain runner, which puts the batch back as it was before the
 * processor and passes it on; `drop` drops every record of the batch (reason
 * `processor_error`). Either way the failure is counted (`error`) and logged; the process
 * carries on.
 */
import { registerHooks } from 'node:module';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { opt, type OptionShape, type OptionValues } from '../config/options';
import { ConfigError, peekList } from '../config/load';
import { resolveConfig, type ResolvedConfig } from '../config/resolve';
import type { Processor, ProcessorContext, ProcessorFactory } from './contract';
import { builtinProcessors } from './registry';
import { splitInstance } from '../config/instances';

const NAME = /^[a-z][a-z0-9_]*$/;
const MODULE_PREFIX = 'module:';

/**
 * Whether a chain entry names code to load rather than a processor: `type/name` of a known
 * processor (`known`) is a named instance, not a module path.
 */
export function isProcessorReference(entry: string, known: ReadonlySet<string> = new Set()): boolean {
  // `parse/Json` too: the configuration then says what is wrong with the instance name.
  const { type, name } = splitInstance(entry);
  if (name !== undefined && known.has(type)) return false;
  return entry.startsWith(MODULE_PREFIX) || entry.startsWith('.') || entry.startsWith('/') || entry.startsWith('@') || entry.includes('/');
}

function looksLikeFactory(x: unknown): x is ProcessorFactory<OptionShape> {
  const f = x as Partial<ProcessorFactory<OptionShape>> | null;
  return !!f && typeof f === 'object' && typeof f.name === 'string' && typeof f.create === 'function' && typeof f.options === 'object' && f.options !== null;
}

const guardOptions = {
  on_error: opt.enum(['pass', 'drop'] as const, 'pass', 'When this custom processor throws: `pass` forwards the batch as it was before the processor, `drop` drops it (counted as `processor_error`).'),
};

function isPromiseLike(x: unknown): x is PromiseLike<unknown> {
  return typeof x === 'object' && x !== null && typeof (x as PromiseLike<unknown>).then === 'function';
}

/** Wraps a user factory: adds `on_error` and contains failures of the processors it creates. */
export function guardFactory(factory: ProcessorFactory<OptionShape>, reference: string): ProcessorFactory<OptionShape> {
  if ('on_error' in factory.options) throw new Error(`custom processor "${factory.name}" (${reference}) must not declare an option named on_error: the service adds it`);
  return {
    name: factory.name,
    summary: `${factory.summary} (custom processor, ${reference})`,
    options: { ...factory.options, ...guardOptions },
    ...(factory.parallel !== undefined ? { parallel: factory.parallel } : {}),
    create(options: OptionValues<OptionShape>, ctx: ProcessorContext): Processor {
      const onError = (options as unknown as { on_error: 'pass' | 'drop' }).on_error;
      const inner = factory.create(options, ctx);
      const counts = new Map<string, number>();
      const guarded: Processor = {
        counts: inner.counts ? mergedCounts(inner.counts, counts) : counts,
        state: inner.state,
        thins: inner.thins,
        process(batch) {
          try {
            const out: unknown = inner.process(batch);
            if (isPromiseLike(out)) {
              // Nobody awaits it: a later rejection must not become an unhandled one.
              out.then(undefined, () => undefined);
              throw new Error('process() returned a Promise: processors must be synchronous');
            }
          } catch (err) {
            counts.set('error', (counts.get('error') ?? 0) + 1);
            // The runner undoes the processor's changes, drops and additions, and logs the error.
            if (onError === 'pass') throw err;
            ctx.logger.error({ err: err instanceof Error ? err.message : String(err), on_error: onError }, 'custom processor failed on a batch; its records dropped');
            // Not rolled back (nothing was rethrown): what the processor dropped keeps its reason.
            for (const r of batch) r.drop('processor_error');
          }
        },
      };
      if (inner.flush && inner.flushIntervalMs) {
        // The runner contains a throwing flush (nothing emitted) and counts it.
        return { ...guarded, flushIntervalMs: inner.flushIntervalMs, flush: (now, final, out) => inner.flush!(now, final, out) };
      }
      return guarded;
    },
  };
}

/** The user's counts plus the guard's `error` count, read live. */
function mergedCounts(user: ReadonlyMap<string, number>, guard: ReadonlyMap<string, number>): ReadonlyMap<string, number> {
  return {
    get size() {
      return user.size + guard.size;
    },
    *[Symbol.iterator]() {
      yield* user;
      yield* guard;
    },
  } as unknown as ReadonlyMap<string, number>;
}

/** The name processor modules import the API by (package.json `name`). */
export const PACKAGE_NAME = 'otlp-log-processor';
let apiResolvable = false;

/**
 * Makes `require('otlp-log-processor')` and `import … from 'otlp-log-processor'` resolve to
 * the running package from any file, wherever it lies (a mounted folder, /opt, a temp dir):
 * Node would otherwise look for node_modules next to the processor file. Also keeps one copy
 * of the API in the process, so a processor never sees a second, differently configured one.
 * Hooks are per thread; each worker thread loads its chain through here too.
 */
function makeApiResolvable(): void {
  if (apiResolvable) return;
  apiResolvable = true;
  const api = pathToFileURL(require.resolve('../index')).href;
  try {
    registerHooks({
      resolve(specifier, context, nextResolve) {
        return specifier === PACKAGE_NAME ? { url: api, shortCircuit: true } : nextResolve(specifier, context);
      },
    });
  } catch {
    // A host that owns module loading refuses hooks (Jest) and maps the name itself.
  }
}

/** Loads one reference relative to `cwd`; throws a message naming the reference. */
export function loadProcessorModule(reference: string, cwd: string): ProcessorFactory<OptionShape> {
  makeApiResolvable();
  const spec = reference.startsWith(MODULE_PREFIX) ? reference.slice(MODULE_PREFIX.length) : reference;
  const target = spec.startsWith('.') ? path.resolve(cwd, spec) : spec;
  let mod: unknown;
  try {
    mod = require(require.resolve(target, { paths: [cwd] }));
  } catch (e) {
    throw new Error(`cannot load processor "${reference}": ${(e as Error).message.split('\n')[0]}`, { cause: e });
  }
  const m = mod as { processor?: unknown; default?: unknown };
  const factory = [m.processor, m.default, mod].find(looksLikeFactory);
  if (!factory) throw new Error(`processor "${reference}" exports no processor factory (export one built with defineProcessor as \`processor\` or default)`);
  if (!NAME.test(factory.name)) throw new Error(`processor "${reference}" has an invalid name "${factory.name}" (lower-case letters, digits, _)`);
  return guardFactory(factory, reference);
}

export interface ServiceConfig {
  readonly config: ResolvedConfig;
  /** Built-in and loaded custom processor factories. */
  readonly processors: readonly ProcessorFactory<OptionShape>[];
}

/** Loads the custom processors the chain names, then resolves the whole configuration. */
export function resolveServiceConfig(env: NodeJS.ProcessEnv, cwd = process.cwd()): ServiceConfig {
  const problems: string[] = [];
  const custom: ProcessorFactory<OptionShape>[] = [];
  const aliases = new Map<string, string>();
  const builtinNames = new Set(builtinProcessors.map((p) => p.name));
  const known = new Set(builtinNames);
  for (const entry of peekList(env, 'OLP_PROCESSORS', 'processors')) {
    if (!isProcessorReference(entry, known) || aliases.has(entry)) continue;
    try {
      const factory = loadProcessorModule(entry, cwd);
      if (builtinNames.has(factory.name) || custom.some((c) => c.name === factory.name)) {
        throw new Error(`processor "${entry}" is named "${factory.name}", which is already taken`);
      }
      custom.push(factory);
      known.add(factory.name);
      aliases.set(entry, factory.name);
    } catch (e) {
      problems.push(`OLP_PROCESSORS: ${(e as Error).message}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const processors = [...builtinProcessors, ...custom];
  return { config: resolveConfig(env, processors, aliases), processors };
}
