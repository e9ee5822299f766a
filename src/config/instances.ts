/**
 * Named processor instances, as in the Collector: `type/name` in OLP_PROCESSORS (`parse/json`,
 * `parse/syslog`) is one more instance of processor `type` with options of its own, read from
 * OLP_<TYPE>__<NAME>_<OPTION> (two underscores before the name) or the YAML key `type/name`.
 * Names are lower-case letters and digits, so the variable names stay unambiguous.
 */
import type { Option, OptionShape } from './options';

export const INSTANCE_NAME = /^[a-z0-9]+$/;

/** The processor type of a chain entry and its instance name, if any. */
export function splitInstance(entry: string): { readonly type: string; readonly name: string | undefined } {
  const slash = entry.indexOf('/');
  return slash < 0 ? { type: entry, name: undefined } : { type: entry.slice(0, slash), name: entry.slice(slash + 1) };
}

/** Whether `entry` is `type/name` for one of the processor types `known`, with a valid name. */
export function isInstanceOf(entry: string, known: ReadonlySet<string>): boolean {
  const { type, name } = splitInstance(entry);
  return name !== undefined && INSTANCE_NAME.test(name) && known.has(type);
}

/**
 * An instance's options: the type's, read only from the instance's own variables (an option
 * the type reads from a shared variable, such as OTEL_RESOURCE_ATTRIBUTES, is the plain
 * instance's).
 */
export function instanceOptions(shape: OptionShape): OptionShape {
  return Object.fromEntries(Object.entries(shape).map(([key, option]) => [key, { ...option, env: undefined } as Option<unknown>]));
}
