/**
 * Seeded randomness for tie-breaking. Nothing here reads a clock or `Math.random`: the same seed
 * always yields the same draws, so any decision replays. (The string hash itself is
 * `domain/random.ts`'s, shared with the simulated cloud.)
 */

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
