import { describe, expect, it } from 'vitest';
import { isoClock } from './options.js';

describe('isoClock', () => {
  it('reads the clock on every call and formats each millisecond as toISOString does', () => {
    const times = [0, 0, 1, 1, 1_700_000_000_123, 0, -1];
    let i = 0;
    let calls = 0;
    const now = isoClock(() => {
      calls++;
      return new Date(times[i++] ?? 0);
    });
    const out = times.map(() => now());
    expect(out).toEqual(times.map((t) => new Date(t).toISOString()));
    expect(calls).toBe(times.length);
  });

  it('still throws for an invalid date', () => {
    const now = isoClock(() => new Date(Number.NaN));
    expect(() => now()).toThrow(RangeError);
    expect(() => now()).toThrow(RangeError);
  });
});
