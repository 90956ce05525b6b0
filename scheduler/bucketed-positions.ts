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

/** See the module comment. */
export class BucketedPositions {
  /** Per bucket: its first position, or -1. */
  readonly head: Int32Array;
  /** Per position: the next position in its bucket, or -1. */
  readonly next: Int32Array;
  private readonly prev: Int32Array;
  private readonly bucketAt: Int32Array;

  /** Buckets the positions of `values` (indexed by position; the instance keeps and updates it). */
  constructor(
    readonly values: Float64Array,
    readonly bucketing: Bucketing,
  ) {
    const n = values.length;
    this.head = new Int32Array(bucketing.buckets).fill(-1);
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

  private link(p: number, b: number): void {
    const first = this.head[b] ?? -1;
    this.next[p] = first;
    this.prev[p] = -1;
    if (first >= 0) this.prev[first] = p;
    this.head[b] = p;
    this.bucketAt[p] = b;
  }

  private unlink(p: number): void {
    const before = this.prev[p] ?? -1;
    const after = this.next[p] ?? -1;
    if (before >= 0) this.next[before] = after;
    else this.head[this.bucketAt[p] ?? 0] = after;
    if (after >= 0) this.prev[after] = before;
  }
}
