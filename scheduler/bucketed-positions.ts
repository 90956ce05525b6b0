/**
 * Positions `0…n−1` grouped into ordered buckets by a value each, moved between buckets in O(1)
 * as values change: the sorted access of {@link CandidateIndex} over what allocations move (free
 * capacity, utilisation). Within a bucket positions are unordered; a reader walks the buckets in
 * order and bounds a whole bucket by its edge, so a change costs an unlink and a link instead of
 * shifting a sorted array (which cost more than the decisions it served once every admission
 * moved a few clouds).
 */

/** Which bucket a value falls in: non-decreasing in the value, within `[0, buckets)`. */
export interface Bucketing {
  readonly buckets: number;
  bucketOf(value: number): number;
  /** The least value bucket `b` can hold (a lower bound; −∞ for the first bucket). */
  lowerEdge(b: number): number;
  /** The greatest value bucket `b` can hold (an upper bound; +∞ for the last bucket). */
  upperEdge(b: number): number;
}

/** `buckets` equal buckets over [0, 1] (values outside go to the end buckets): for utilisation. */
export function unitBuckets(buckets: number): Bucketing {
  return {
    buckets,
    bucketOf: (v) => (v <= 0 ? 0 : v >= 1 ? buckets - 1 : Math.min(buckets - 1, Math.floor(v * buckets))),
    lowerEdge: (b) => (b === 0 ? Number.NEGATIVE_INFINITY : b / buckets - 1e-12),
    upperEdge: (b) => (b === buckets - 1 ? Number.POSITIVE_INFINITY : (b + 1) / buckets + 1e-12),
  };
}

/**
 * Buckets a quarter of an octave wide over the positive numbers (everything below 1 in the first):
 * for free capacity, whatever its unit and scale. Edges are not needed by the readers (they
 * check each value of the buckets they read), so they are the trivial bounds.
 */
export const OCTAVE_QUARTERS: Bucketing = {
  buckets: 256,
  bucketOf: (v) => (v < 1 ? 0 : Math.min(255, 1 + Math.floor(Math.log2(v) * 4))),
  lowerEdge: () => Number.NEGATIVE_INFINITY,
  upperEdge: () => Number.POSITIVE_INFINITY,
};

/**
 * See the module comment. Positions may also belong to one of `classes` classes (`classOf`, fixed
 * for the instance's life), each with its own buckets: `head[class × buckets + bucket]`.
 */
export class BucketedPositions {
  /** Per class and bucket (`class × buckets + bucket`): its first position, or -1. */
  readonly head: Int32Array;
  /** Per position: the next position in its bucket, or -1. */
  readonly next: Int32Array;
  private readonly prev: Int32Array;
  private readonly bucketAt: Int32Array;
  /** A bit per class and bucket, set while the bucket holds a position: readers skip empty buckets 32 at a time. */
  private readonly occupied: Uint32Array;
  private readonly words: number;

  /** Buckets the positions of `values` (indexed by position; the instance keeps and updates it). */
  constructor(
    readonly values: Float64Array,
    readonly bucketing: Bucketing,
    private readonly classOf: Uint8Array | null = null,
    readonly classes = 1,
  ) {
    const n = values.length;
    this.head = new Int32Array(classes * bucketing.buckets).fill(-1);
    this.words = (bucketing.buckets + 31) >>> 5;
    this.occupied = new Uint32Array(classes * this.words);
    this.next = new Int32Array(n);
    this.prev = new Int32Array(n);
    this.bucketAt = new Int32Array(n);
    // Linked back to front, so that each bucket lists its positions ascending.
    for (let p = n - 1; p >= 0; p--) this.link(p, bucketing.bucketOf(values[p] ?? 0));
  }

  /** Sets the value of position `p`, moving it to its bucket. */
  set(p: number, value: number): void {
    this.values[p] = value;
    const b = this.bucketing.bucketOf(value);
    if (b === this.bucketAt[p]) return;
    this.unlink(p);
    this.link(p, b);
  }

  /**
   * The first non-empty bucket of class `c` from bucket `from` on, downwards when `descending`;
   * -1 when there is none.
   */
  nextBucket(c: number, from: number, descending: boolean): number {
    const occupied = this.occupied;
    const base = c * this.words;
    if (descending) {
      if (from < 0) return -1;
      let w = from >>> 5;
      // Bits 0…(from mod 32) of the first word.
      let bits = (occupied[base + w] ?? 0) & (0xffffffff >>> (31 - (from & 31)));
      for (;;) {
        if (bits !== 0) return (w << 5) + 31 - Math.clz32(bits);
        if (--w < 0) return -1;
        bits = occupied[base + w] ?? 0;
      }
    }
    const buckets = this.bucketing.buckets;
    if (from >= buckets) return -1;
    let w = from >>> 5;
    // Bits (from mod 32)…31 of the first word.
    let bits = (occupied[base + w] ?? 0) & ~((1 << (from & 31)) - 1);
    for (;;) {
      if (bits !== 0) {
        const b = (w << 5) + 31 - Math.clz32(bits & -bits);
        return b < buckets ? b : -1;
      }
      if (++w >= this.words) return -1;
      bits = occupied[base + w] ?? 0;
    }
  }

  private link(p: number, b: number): void {
    const c = this.classOf === null ? 0 : (this.classOf[p] ?? 0);
    const h = c * this.bucketing.buckets + b;
    const first = this.head[h] ?? -1;
    this.next[p] = first;
    this.prev[p] = -1;
    if (first >= 0) this.prev[first] = p;
    else this.occupied[c * this.words + (b >>> 5)] = (this.occupied[c * this.words + (b >>> 5)] ?? 0) | (1 << (b & 31));
    this.head[h] = p;
    this.bucketAt[p] = b;
  }

  private unlink(p: number): void {
    const before = this.prev[p] ?? -1;
    const after = this.next[p] ?? -1;
    if (before >= 0) this.next[before] = after;
    else {
      const c = this.classOf === null ? 0 : (this.classOf[p] ?? 0);
      const b = this.bucketAt[p] ?? 0;
      this.head[c * this.bucketing.buckets + b] = after;
      if (after < 0) this.occupied[c * this.words + (b >>> 5)] = (this.occupied[c * this.words + (b >>> 5)] ?? 0) & ~(1 << (b & 31));
    }
    if (after >= 0) this.prev[after] = before;
  }
}
