/**
 * Positions `0…n−1` kept in ascending order of a value each (ties by position) while single
 * values change: the sorted access of {@link CandidateIndex}.
 */
export class SortedPositions {
  /** Rank → position, ascending by value. */
  readonly order: Int32Array;
  /** Position → rank. */
  private readonly rankOf: Int32Array;

  /** Orders the positions of `values` (indexed by position; the instance keeps and updates it). */
  constructor(readonly values: Float64Array) {
    const n = values.length;
    const order = new Int32Array(n);
    for (let p = 0; p < n; p++) order[p] = p;
    order.sort((a, b) => (values[a] ?? 0) - (values[b] ?? 0) || a - b);
    const rankOf = new Int32Array(n);
    for (let r = 0; r < n; r++) rankOf[order[r] ?? 0] = r;
    this.order = order;
    this.rankOf = rankOf;
  }

  get size(): number {
    return this.order.length;
  }

  /** Sets the value of position `p` and moves it to its rank: O(how far it moves). */
  set(p: number, value: number): void {
    const { values, order, rankOf } = this;
    values[p] = value;
    let r = rankOf[p] ?? 0;
    while (r > 0) {
      const q = order[r - 1] ?? 0;
      const vq = values[q] ?? 0;
      if (!(value < vq || (value === vq && p < q))) break;
      order[r] = q;
      rankOf[q] = r;
      r--;
    }
    const last = order.length - 1;
    while (r < last) {
      const q = order[r + 1] ?? 0;
      const vq = values[q] ?? 0;
      if (!(vq < value || (vq === value && q < p))) break;
      order[r] = q;
      rankOf[q] = r;
      r++;
    }
    order[r] = p;
    rankOf[p] = r;
  }

  /** How many positions hold a value below `v`: they are `order[0…count−1]`. */
  countBelow(v: number): number {
    const { values, order } = this;
    let lo = 0;
    let hi = order.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((values[order[mid] ?? 0] ?? 0) < v) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
