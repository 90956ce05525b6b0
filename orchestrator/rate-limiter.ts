/**
 * A token bucket on the injected clock: drains and rebalances move at most `ratePerSecond`
 * deployments per second, with a burst of one second's worth.
 *
 * @packageDocumentation
 */
import type { Clock } from './clock.js';

/** A token bucket. */
export class RateLimiter {
  private tokens: number;
  private last: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly clock: Pick<Clock, 'now'>,
  ) {
    this.tokens = Math.max(1, ratePerSecond);
    this.last = clock.now();
  }

  /** Takes a token if one is available. */
  tryTake(): boolean {
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Milliseconds until the next token. */
  waitMs(): number {
    this.refill();
    return this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) / this.ratePerSecond) * 1000);
  }

  private refill(): void {
    const now = this.clock.now();
    this.tokens = Math.min(Math.max(1, this.ratePerSecond), this.tokens + ((now - this.last) / 1000) * this.ratePerSecond);
    this.last = now;
  }
}
