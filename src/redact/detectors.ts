/** The built-in detectors by name, in priority order (on equal spans the earlier one labels the match). */
import { CreditCardDetector } from './credit-card';
import { EmailDetector } from './email';
import { Ipv4Detector, Ipv6Detector } from './ip';
import { BearerDetector, JwtDetector, SecretKvDetector } from './secrets';
import type { Detector } from './spans';

/**
 * Specific before generic: a JWT given as `token=eyJ…` is labelled jwt, not secret_kv, and
 * `Authorization: Bearer …` is labelled bearer.
 */
export const BUILTIN_DETECTORS = ['jwt', 'bearer', 'credit_card', 'email', 'ipv6', 'ipv4', 'secret_kv'] as const;
export type BuiltinDetectorName = (typeof BUILTIN_DETECTORS)[number];

/** Fresh detector instances (each owns its regex state) for the names given, in priority order. */
export function createBuiltinDetectors(names: readonly BuiltinDetectorName[], skipPrefixes: readonly string[]): Detector[] {
  const wanted = new Set(names);
  const out: Detector[] = [];
  for (const name of BUILTIN_DETECTORS) {
    if (!wanted.has(name)) continue;
    switch (name) {
      case 'jwt':
        out.push(new JwtDetector());
        break;
      case 'bearer':
        out.push(new BearerDetector(skipPrefixes));
        break;
      case 'credit_card':
        out.push(new CreditCardDetector(skipPrefixes));
        break;
      case 'email':
        out.push(new EmailDetector());
        break;
      case 'ipv6':
        out.push(new Ipv6Detector());
        break;
      case 'ipv4':
        out.push(new Ipv4Detector());
        break;
      case 'secret_kv':
        out.push(new SecretKvDetector(skipPrefixes));
        break;
    }
  }
  return out;
}
