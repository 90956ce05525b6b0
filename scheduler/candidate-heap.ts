/**
 * The order candidates are ranked in, and a binary heap over it: the replica division's fill
 * (best on top) and the top-k selections (worst on top) of the division and the engine's hot path.
 */

/**
 * The candidate order: by key, then tie-break draw, descending, then index ascending — or, given
 * `order`, ascending by `order[index]` (the slot, when candidates are not held in slot order).
 */
export function above(key: Float64Array, tie: Float64Array, a: number, b: number, order?: Int32Array): boolean {
  const ka = key[a] ?? 0;
  const kb = key[b] ?? 0;
  if (ka !== kb) return ka > kb;
  const ta = tie[a] ?? 0;
  const tb = tie[b] ?? 0;
  if (ta !== tb) return ta > tb;
  return order === undefined ? a < b : (order[a] ?? 0) < (order[b] ?? 0);
}

/**
 * A binary heap of candidate indexes over caller-owned storage: best on top in {@link above}
 * order for the fill, or worst on top (`worstOnTop`) for the top-k selection.
 */
export class CandidateHeap {
  size = 0;

  constructor(
    private readonly items: Int32Array,
    private readonly key: Float64Array,
    private readonly tie: Float64Array,
    private readonly worstOnTop = false,
    /** The last tie-break, as in {@link above}. */
    private readonly order?: Int32Array,
  ) {}

  /** True when `a` belongs nearer the top than `b`. */
  private first(a: number, b: number): boolean {
    return this.worstOnTop ? above(this.key, this.tie, b, a, this.order) : above(this.key, this.tie, a, b, this.order);
  }

  pushUnordered(i: number): void {
    this.items[this.size++] = i;
  }

  heapify(): void {
    for (let p = (this.size >> 1) - 1; p >= 0; p--) this.down(p);
  }

  peek(): number {
    return this.items[0] ?? 0;
  }

  push(i: number): void {
    let at = this.size++;
    const items = this.items;
    while (at > 0) {
      const parent = (at - 1) >> 1;
      const p = items[parent] ?? 0;
      if (!this.first(i, p)) break;
      items[at] = p;
      at = parent;
    }
    items[at] = i;
  }

  pop(): number {
    const items = this.items;
    const top = items[0] ?? 0;
    this.size--;
    if (this.size > 0) {
      items[0] = items[this.size] ?? 0;
      this.down(0);
    }
    return top;
  }

  /** Replaces the top with `i`; returns the one replaced. */
  replaceTop(i: number): number {
    const out = this.items[0] ?? 0;
    this.items[0] = i;
    this.down(0);
    return out;
  }

  private down(from: number): void {
    const items = this.items;
    const n = this.size;
    const x = items[from] ?? 0;
    let at = from;
    for (;;) {
      const l = 2 * at + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      if (r < n && this.first(items[r] ?? 0, items[l] ?? 0)) c = r;
      const child = items[c] ?? 0;
      if (!this.first(child, x)) break;
      items[at] = child;
      at = c;
    }
    items[at] = x;
  }
}
