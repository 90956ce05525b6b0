/**
 * Seeded, portable randomness: a string hash and a small generator. Nothing here reads a clock or
 * `Math.random`, so whatever draws from it (the scheduler's tie-breaks, a simulated cloud's
 * injected faults, benchmark fleets) replays exactly from its seed.
 */

/** A 32-bit FNV-1a hash of a string: cheap, stable across runs and platforms. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A seeded pseudo-random generator (mulberry32): a function returning uniform draws in [0, 1). */
export function seededRandom(seed: number | string): () => number {
  let a = typeof seed === 'string' ? hashString(seed) : seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
