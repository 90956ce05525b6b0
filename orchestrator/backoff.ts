/**
 * Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"):
 * the delay is uniform in `[0, min(max, base · 2^attempt))`, so a fleet of failing slices spreads
 * its retries instead of hammering a recovering cloud in lock-step.
 *
 * @packageDocumentation
 */

/** Backoff settings, in milliseconds. */
export interface BackoffConfig {
  readonly baseMs: number;
  readonly maxMs: number;
}

/**
 * The delay before retry number `attempt` (1 for the first retry), full jitter drawn from
 * `random` (uniform in [0, 1)). Never negative, never above `maxMs`.
 */
export function backoffDelay(attempt: number, config: BackoffConfig, random: () => number): number {
  const exp = Math.min(config.maxMs, config.baseMs * 2 ** Math.min(Math.max(0, attempt - 1), 30));
  return Math.floor(random() * exp);
}
