/**
 * A circuit breaker per cloud: `closed` (calls flow) → `open` after `threshold` consecutive
 * availability failures (calls are held back for `openMs`) → `half_open` (exactly one trial call)
 * → `closed` on its success, `open` again on its failure. Only UNAVAILABLE errors count: a cloud
 * that answers "no" (PROVIDER_ERROR) is reachable.
 *
 * @packageDocumentation
 */

/** The breaker's states, as the metrics name them. */
export type BreakerState = 'closed' | 'open' | 'half_open';

/** Breaker settings. */
export interface BreakerConfig {
  /** Consecutive failures that open the breaker. */
  readonly threshold: number;
  /** How long an open breaker holds calls back before a trial. */
  readonly openMs: number;
}

/** One cloud's breaker. Pure state machine over an injected time. */
export class CircuitBreaker {
  private current: BreakerState = 'closed';
  private failures = 0;
  private openedAt = 0;
  private trialInFlight = false;

  constructor(private readonly config: BreakerConfig) {}

  /** The state at `now` (an open breaker whose wait has passed reads as half-open). */
  state(now: number): BreakerState {
    if (this.current === 'open' && now - this.openedAt >= this.config.openMs) return 'half_open';
    return this.current;
  }

  /**
   * Whether a call may go out now; a `true` in half-open state claims the single trial, which
   * must be settled with {@link CircuitBreaker.success} or {@link CircuitBreaker.failure}.
   */
  allow(now: number): boolean {
    const s = this.state(now);
    if (s === 'closed') return true;
    if (s === 'open' || this.trialInFlight) return false;
    this.current = 'half_open';
    this.trialInFlight = true;
    return true;
  }

  /** Milliseconds until a held-back call may be tried (0 when calls flow). */
  waitMs(now: number): number {
    if (this.current === 'open') return Math.max(0, this.openedAt + this.config.openMs - now);
    return this.trialInFlight ? this.config.openMs : 0;
  }

  /** A call reached the cloud. */
  success(): void {
    this.current = 'closed';
    this.failures = 0;
    this.trialInFlight = false;
  }

  /** A call failed for availability reasons. */
  failure(now: number): void {
    this.trialInFlight = false;
    this.failures++;
    if (this.current === 'half_open' || this.failures >= this.config.threshold) {
      this.current = 'open';
      this.openedAt = now;
    }
  }

  /** A call ended without telling anything about availability (e.g. it was never made). */
  release(): void {
    this.trialInFlight = false;
  }

  /** Consecutive failures so far. */
  get consecutiveFailures(): number {
    return this.failures;
  }
}
