import { describe, expect, it } from 'vitest';
import { hashString, seededRandom } from './random.js';

describe('seeded randomness', () => {
  it('hashes with FNV-1a (published test vectors)', () => {
    expect(hashString('')).toBe(0x811c9dc5);
    expect(hashString('a')).toBe(0xe40c292c);
    expect(hashString('foobar')).toBe(0xbf9cf968);
  });

  it('replays the same draws from the same seed, as a number or a string', () => {
    const draw = (r: () => number): number[] => Array.from({ length: 5 }, r);
    expect(draw(seededRandom(42))).toEqual(draw(seededRandom(42)));
    expect(draw(seededRandom('cloud-a'))).toEqual(draw(seededRandom(hashString('cloud-a'))));
    expect(draw(seededRandom(1))).not.toEqual(draw(seededRandom(2)));
  });

  it('draws uniformly from [0, 1)', () => {
    const r = seededRandom(7);
    const draws = Array.from({ length: 10_000 }, r);
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...draws)).toBeLessThan(1);
    const mean = draws.reduce((a, b) => a + b, 0) / draws.length;
    expect(mean).toBeGreaterThan(0.48);
    expect(mean).toBeLessThan(0.52);
  });
});
