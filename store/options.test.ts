import { describe, expect, it } from 'vitest';
import { isoClock, uuidv7 } from './options.js';

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

describe('uuidv7', () => {
  it('is a version 7, variant 1 UUID carrying the milliseconds, unique across pool refills', () => {
    const ms = 1_700_000_000_123;
    const ids = Array.from({ length: 1_000 }, () => uuidv7(ms));
    for (const id of ids) {
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(Number.parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(ms);
    }
    expect(new Set(ids).size).toBe(ids.length);
  });
});
