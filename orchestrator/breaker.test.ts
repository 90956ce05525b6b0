import { describe, expect, it } from 'vitest';
import { backoffDelay } from './backoff.js';
import { CircuitBreaker } from './breaker.js';
import { RateLimiter } from './rate-limiter.js';

describe('CircuitBreaker', () => {
  it('opens after the threshold, lets exactly one trial through when half-open, and closes on its success', () => {
    const b = new CircuitBreaker({ threshold: 3, openMs: 100 });
    for (let i = 0; i < 2; i++) b.failure(0);
    expect(b.state(0)).toBe('closed');
    b.failure(0);
    expect(b.state(0)).toBe('open');
    expect(b.allow(50)).toBe(false);
    expect(b.waitMs(50)).toBe(50);
    expect(b.state(100)).toBe('half_open');
    expect(b.allow(100)).toBe(true);
    expect(b.allow(100)).toBe(false);
    b.success();
    expect(b.state(100)).toBe('closed');
    expect(b.allow(100)).toBe(true);
  });

  it('re-opens when the trial fails', () => {
    const b = new CircuitBreaker({ threshold: 1, openMs: 10 });
    b.failure(0);
    expect(b.allow(10)).toBe(true);
    b.failure(10);
    expect(b.state(15)).toBe('open');
    expect(b.state(20)).toBe('half_open');
  });
});

describe('backoffDelay', () => {
  it.each([
    [1, 0.999, 99],
    [2, 0.999, 199],
    [3, 0.5, 200],
    [20, 0.999, 999],
    [5, 0, 0],
  ])('attempt %i with draw %f waits %i ms (full jitter, capped)', (attempt, draw, want) => {
    expect(backoffDelay(attempt, { baseMs: 100, maxMs: 1_000 }, () => draw)).toBe(want);
  });
});

describe('RateLimiter', () => {
  it('allows a burst of one second, then the rate', () => {
    let now = 0;
    const r = new RateLimiter(5, { now: () => now });
    let taken = 0;
    while (r.tryTake()) taken++;
    expect(taken).toBe(5);
    expect(r.waitMs()).toBe(200);
    now += 200;
    expect(r.tryTake()).toBe(true);
    expect(r.tryTake()).toBe(false);
  });
});
