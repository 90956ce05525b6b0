/**
 * Seeded randomness for tie-breaking. Nothing here reads a clock or `Math.random`: the same seed
 * always yields the same draws, so any decision replays.
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

/** A 32-bit integer finaliser (murmur3's fmix32): spreads every input bit over the output. */
export function mix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The per-cloud half of a tie-break draw, precomputed once per cloud by the snapshot. */
export function tieKeyOf(cloudHash: number): number {
  return mix32(cloudHash + 0x9e3779b9);
}

/**
 * The tie-break draw of one cloud under one seed, in [0, 1). Keyed by the cloud's id (through its
 * {@link tieKeyOf}) rather than its position, so a decision does not depend on the order clouds
 * were registered in.
 */
export function tieBreak(seedHash: number, tieKey: number): number {
  return mix32(seedHash ^ tieKey) / 4294967296;
}

/** A seeded pseudo-random generator (mulberry32): a function returning draws in [0, 1). */
export function createRandom(seed: string): () => number {
  let a = hashString(seed);
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
