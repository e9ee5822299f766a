/** Exponential backoff with jitter, as the Collector's exporterhelper retry sender does. */

export interface RetryPolicy {
  readonly enabled: boolean;
  readonly initialIntervalMs: number;
  readonly maxIntervalMs: number;
  /** 0 = retry until shutdown. */
  readonly maxElapsedMs: number;
}

export const BACKOFF_MULTIPLIER = 1.5;
export const RANDOMIZATION_FACTOR = 0.5;

/**
 * Delay before retry number `attempt` (0-based): initial × 1.5^attempt capped at max, then
 * randomised within ±50% so that many senders do not retry in step. A server's RetryInfo
 * delay is a floor.
 */
export function backoffDelay(policy: RetryPolicy, attempt: number, random: number, serverDelayMs?: number): number {
  const base = Math.min(policy.maxIntervalMs, policy.initialIntervalMs * BACKOFF_MULTIPLIER ** attempt);
  const jittered = base * (1 - RANDOMIZATION_FACTOR + 2 * RANDOMIZATION_FACTOR * random);
  return Math.max(Math.round(jittered), serverDelayMs ?? 0);
}
