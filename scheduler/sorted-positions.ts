/**
 * Positions `0…n−1` in ascending order of a value each (ties by position): the orders of
 * {@link CandidateIndex} over what allocations do not change (price, locality depth). What they
 * change is bucketed instead (`bucketed-positions.ts`).
 */
export class SortedPositions {
  /** Rank → position, ascending by value. */
  readonly order: Int32Array;

  /** Orders the positions of `values` (indexed by position). */
  constructor(readonly values: Float64Array) {
    const n = values.length;
    const order = new Int32Array(n);
    for (let p = 0; p < n; p++) order[p] = p;
    order.sort((a, b) => (values[a] ?? 0) - (values[b] ?? 0) || a - b);
    this.order = order;
  }

  get size(): number {
    return this.order.length;
  }
}
