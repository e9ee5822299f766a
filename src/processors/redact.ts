/**
 * `redact`: masks or hashes sensitive values — payment card numbers, e-mail and IP addresses,
 * bearer tokens, secrets given as key=value, JWTs, and user regexes — in string bodies, in the
 * strings of structured bodies, and in attribute values. Never drops a record.
 *
 * Detectors live in src/redact; this file turns options into a Redactor. Cumulative
 * replacements per detector are exposed as `counts` on the processor for metrics.
 */
import { z } from 'zod';
import { opt } from '../config/options';
import { parseList } from '../config/values';
import { OptionError, defineProcessor, type Processor } from './contract';
import type { LogBatch } from '../records/types';
import { BUILTIN_DETECTORS, createBuiltinDetectors, type BuiltinDetectorName } from '../redact/detectors';
import { PatternError, compileUserPattern, parseUserPatterns, userPatternsSchema, type UserPattern } from '../redact/patterns';
import { ATTRIBUTE_KEY_LABEL, MASK_PLACEHOLDER, Redactor, TOO_DEEP_LABEL, redactedPrefixes } from '../redact/redactor';
import type { Detector } from '../redact/spans';

export interface RedactProcessor extends Processor {
  /** Cumulative replacements per detector or pattern name (plus attribute_key, too_deep). */
  readonly counts: ReadonlyMap<string, number>;
}

/** Documentation order; matching priority is BUILTIN_DETECTORS'. */
const DEFAULT_DETECTORS: readonly BuiltinDetectorName[] = ['credit_card', 'email', 'ipv4', 'ipv6', 'bearer', 'secret_kv', 'jwt'];

const DEFAULT_MASK = `[REDACTED:${MASK_PLACEHOLDER}]`;

export const redactProcessor = defineProcessor({
  name: 'redact',
  summary: 'Masks or hashes card numbers, e-mail and IP addresses, bearer tokens, key=value secrets, JWTs and user regexes in bodies and attribute values.',
  options: {
    detectors: opt.custom<readonly BuiltinDetectorName[]>(
      'list',
      parseList as (raw: unknown) => BuiltinDetectorName[],
      z.array(z.enum(BUILTIN_DETECTORS)).readonly(),
      DEFAULT_DETECTORS,
      `Built-in detectors to run: ${DEFAULT_DETECTORS.join(', ')}. Empty: none (only \`patterns\` and \`attribute_keys\`).`,
      { defaultText: DEFAULT_DETECTORS.join(',') },
    ),
    patterns: opt.custom<readonly UserPattern[]>(
      'name=regex;…',
      parseUserPatterns,
      userPatternsSchema,
      [],
      'Extra detectors as RE2 regexes (linear time), e.g. `emp_id=EMP-\\d{6};ticket=(?i)tkt-[0-9a-f]{8}`; write `;` inside a regex as `\\;`. With a capturing group only group 1 is redacted. YAML: mapping name → regex.',
      { defaultText: '' },
    ),
    mode: opt.enum(['mask', 'hash'] as const, 'mask', '`mask`: replace each match by `mask`. `hash`: by `sha256:` and 16 hex digits of HMAC-SHA-256(`hash_key`, value), so that equal values stay joinable.'),
    mask: opt.string(DEFAULT_MASK, 'Replacement text in mask mode; `{detector}` becomes the detector or pattern name.', { nonEmpty: true }),
    hash_key: opt.string('', 'HMAC key for hash mode. Without one, anyone can confirm a guessed value by hashing it: set it for e-mails, IPs and other guessable values.', { secret: true }),
    allow_keys: opt.list([], 'Attribute (and structured-body map) keys whose values are never touched.'),
    attribute_keys: opt.list([], 'Attribute (and structured-body map) keys whose whole value is always redacted, whatever it contains, e.g. `password,session_id`.'),
    resource: opt.bool(false, 'Also redact resource attributes.'),
  },
  create(o, ctx) {
    const builtins = new Set<string>(BUILTIN_DETECTORS);
    const seen = new Set<string>();
    const patterns: Detector[] = [];
    for (const p of o.patterns) {
      if (builtins.has(p.name) || p.name === ATTRIBUTE_KEY_LABEL || p.name === TOO_DEEP_LABEL) {
        throw new OptionError('patterns', `pattern name "${p.name}" is taken by a built-in detector or label`);
      }
      if (seen.has(p.name)) throw new OptionError('patterns', `pattern name "${p.name}" is used twice`);
      seen.add(p.name);
      try {
        patterns.push(compileUserPattern(p));
      } catch (e) {
        if (e instanceof PatternError) throw new OptionError('patterns', e.message);
        throw e;
      }
    }
    const both = o.attribute_keys.filter((k) => o.allow_keys.includes(k));
    if (both.length > 0) throw new OptionError('allow_keys', `${both.join(', ')} also listed in attribute_keys`);
    if (o.mode === 'mask' && o.hash_key !== '') ctx.logger.warn('hash_key is set but mode is mask: it is not used');
    if (o.mode === 'hash' && o.mask !== DEFAULT_MASK) ctx.logger.warn('mask is set but mode is hash: it is not used');

    // User patterns first: on an identical span the name the user chose labels it.
    const detectors = [...patterns, ...createBuiltinDetectors(o.detectors, redactedPrefixes(o.mode, o.mask))];
    if (detectors.length === 0 && o.attribute_keys.length === 0) ctx.logger.warn('no detectors, patterns or attribute_keys: redact changes nothing');
    const redactor = new Redactor({
      detectors,
      mode: o.mode,
      mask: o.mask,
      hashKey: o.hash_key,
      allowKeys: o.allow_keys,
      attributeKeys: o.attribute_keys,
      secretKeys: o.detectors.includes('secret_kv'),
      resource: o.resource,
    });
    const processor: RedactProcessor = {
      process(batch: LogBatch): void {
        redactor.redactBatch(batch);
      },
      counts: redactor.counts,
    };
    return processor;
  },
});
