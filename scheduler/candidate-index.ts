/**
 * The candidate index of one request signature: its statically passing clouds ordered by what
 * the scorers and the capacity filter read — free capacity per resource, current utilisation,
 * price per resource, locality depth — so that a decision can rank the candidates by sorted
 * access and stop early (see `sorted-access.ts`) instead of scoring every one.
 *
 * Kept per snapshot lineage (in the snapshot's memo table, beside the static verdicts) and moved
 * along with it: an allocation changes the free capacity of one cloud, so the orders that depend
 * on free capacity — buckets, {@link BucketedPositions} — move that cloud to its new bucket in
 * O(1) (`follow`) rather than being built again. The price and depth orders depend only on static
 * fields and are fully sorted ({@link ascendingOrder}), once.
 */
import { BucketedPositions, OCTAVE_QUARTERS, unitBuckets } from './bucketed-positions.js';
import type { Bucketing } from './bucketed-positions.js';
import { R } from './snapshot.js';
import type { Snapshot } from './snapshot.js';

/** Utilisation buckets: 1/256 wide, so a bucket's edge overstates its candidates' bound by under 0.4 % of a weight. */
export const UTILISATION_BUCKETS: Bucketing = unitBuckets(256);

/** The current utilisation over the resources of `needed` (those of non-zero capacity), as the binpack scorer computes it before a replica lands. */
function utilisationNow(snap: Snapshot, slot: number, needed: readonly number[]): number {
  const free = snap.free;
  const capacity = snap.capacity;
  let sum = 0;
  let n = 0;
  for (const r of needed) {
    const cp = capacity[slot * R + r] ?? 0;
    if (cp <= 0) continue;
    const used = cp - (free[slot * R + r] ?? 0);
    sum += used >= cp ? 1 : used <= 0 ? 0 : used / cp;
    n++;
  }
  return n === 0 ? 0 : sum / n;
}

/** A bit per resource index. */
function maskOf(needed: readonly number[]): number {
  let mask = 0;
  for (const r of needed) mask |= 1 << r;
  return mask;
}

const changedScratch: number[] = [];

/** The positions of `values` (indexed by position) in ascending order of value, ties by position, as one class. */
export function ascendingOrder(values: Float64Array): ClassedOrder {
  const n = values.length;
  const positions = new Int32Array(n);
  for (let p = 0; p < n; p++) positions[p] = p;
  positions.sort((a, b) => (values[a] ?? 0) - (values[b] ?? 0) || a - b);
  return { positions, starts: Int32Array.of(0, n), values };
}

/**
 * Locality depth classes: the shared depth of each slot with a preference (`depth`, per slot),
 * `classes` of them (the preference's own depth + 1). Orders split by class let a reader bound
 * the locality term of each class exactly instead of by its maximum.
 */
export interface DepthClasses {
  readonly depth: Uint8Array;
  readonly classes: number;
}

/** Candidates in one order per class: class c's positions are `positions[starts[c] … starts[c + 1])`, ascending by `values`. */
export interface ClassedOrder {
  readonly positions: Int32Array;
  readonly starts: Int32Array;
  /** By position. */
  readonly values: Float64Array;
}

/** How many utilisation orders (per needed resources and locality classes) and classed price orders an index keeps, each. */
const ORDERS_KEPT = 8;

/** See the module comment. Positions index {@link CandidateIndex.slots}. */
export class CandidateIndex {
  /** The free-capacity version the orders reflect. */
  private version: number;
  private readonly capacity: Float64Array;
  private readonly cost: Float64Array;
  private readonly freeOrders: (BucketedPositions | undefined)[] = new Array<BucketedPositions | undefined>(R);
  private readonly utilOrders: { readonly mask: number; readonly depth: Uint8Array | null; readonly needed: readonly number[]; readonly order: BucketedPositions }[] = [];
  private readonly costOrders: (ClassedOrder | undefined)[] = new Array<ClassedOrder | undefined>(R);
  private readonly costByClass: { readonly r: number; readonly depth: Uint8Array; readonly order: ClassedOrder }[] = [];
  private readonly depthOrders = new Map<Uint8Array, ClassedOrder>();
  /** Per resource: the lowest and highest price, and the lowest non-zero capacity, over the candidates. */
  readonly minCost = new Float64Array(R);
  readonly maxCost = new Float64Array(R);
  readonly minCapacity = new Float64Array(R);
  /** Candidates per tier rank, indexed by rank + 1. */
  readonly perRank: Int32Array;
  /** Per position: the last catch-up that moved it (a slot often changes many times between two). */
  private readonly movedIn: Int32Array;
  /** Per slot: its position, or -1. */
  private readonly positionBySlot: Int32Array;
  private catchUps = 0;

  constructor(
    snap: Snapshot,
    /** The statically passing slots, ascending. */
    readonly slots: Int32Array,
  ) {
    this.version = snap.freeVersion;
    this.capacity = snap.capacity;
    this.cost = snap.cost;
    this.minCost.fill(Number.POSITIVE_INFINITY);
    this.maxCost.fill(Number.NEGATIVE_INFINITY);
    this.minCapacity.fill(Number.POSITIVE_INFINITY);
    const ranks = snap.tierRanks;
    const perRank = new Int32Array(snap.tiers.scale.levels.length + 1);
    for (const slot of slots) {
      for (let r = 0; r < R; r++) {
        const c = this.cost[slot * R + r] ?? 0;
        if (c < (this.minCost[r] ?? 0)) this.minCost[r] = c;
        if (c > (this.maxCost[r] ?? 0)) this.maxCost[r] = c;
        const cp = this.capacity[slot * R + r] ?? 0;
        if (cp > 0 && cp < (this.minCapacity[r] ?? 0)) this.minCapacity[r] = cp;
      }
      const at = (ranks[slot] ?? 0) + 1;
      perRank[at] = (perRank[at] ?? 0) + 1;
    }
    this.perRank = perRank;
    this.movedIn = new Int32Array(slots.length);
    this.positionBySlot = new Int32Array(snap.slotCount).fill(-1);
    for (let p = 0; p < slots.length; p++) this.positionBySlot[slots[p] ?? 0] = p;
  }

  get size(): number {
    return this.slots.length;
  }

  /**
   * Brings the orders that depend on free capacity to `snap`, a snapshot of the same lineage;
   * false when its capacity or price columns are not the ones indexed (build a new index then).
   */
  follow(snap: Snapshot): boolean {
    if (snap.capacity !== this.capacity || snap.cost !== this.cost) return false;
    const version = snap.freeVersion;
    if (version === this.version) return true;
    const changed = changedScratch;
    changed.length = 0;
    if (!snap.freeChangedSince(this.version, changed)) {
      // Not a recent descendant (an older snapshot, or a long way on): build them again when asked.
      this.freeOrders.fill(undefined);
      this.utilOrders.length = 0;
    } else {
      const free = snap.free;
      const round = ++this.catchUps;
      for (const slot of changed) {
        const p = this.positionOf(slot);
        if (p < 0 || this.movedIn[p] === round) continue;
        this.movedIn[p] = round;
        for (let r = 0; r < R; r++) this.freeOrders[r]?.set(p, free[slot * R + r] ?? 0);
        for (const u of this.utilOrders) u.order.set(p, utilisationNow(snap, slot, u.needed));
      }
    }
    this.version = version;
    return true;
  }

  /** The candidates bucketed by free capacity of resource `r` ({@link OCTAVE_QUARTERS}). */
  byFree(snap: Snapshot, r: number): BucketedPositions {
    let order = this.freeOrders[r];
    if (order === undefined) {
      const free = snap.free;
      order = new BucketedPositions(
        Float64Array.from(this.slots, (slot) => free[slot * R + r] ?? 0),
        OCTAVE_QUARTERS,
      );
      this.freeOrders[r] = order;
    }
    return order;
  }

  /**
   * The candidates bucketed by current utilisation over the resources of `needed`
   * ({@link UTILISATION_BUCKETS}), per locality class when `classes` is given.
   */
  byUtilisation(snap: Snapshot, needed: readonly number[], classes: DepthClasses | null): BucketedPositions {
    const mask = maskOf(needed);
    const depth = classes?.depth ?? null;
    let u = this.utilOrders.find((o) => o.mask === mask && o.depth === depth);
    if (u === undefined) {
      const values = Float64Array.from(this.slots, (slot) => utilisationNow(snap, slot, needed));
      const order = classes === null ? new BucketedPositions(values, UTILISATION_BUCKETS) : new BucketedPositions(values, UTILISATION_BUCKETS, this.classesOf(classes), classes.classes);
      u = { mask, depth, needed: [...needed], order };
      if (this.utilOrders.length >= ORDERS_KEPT) this.utilOrders.shift();
      this.utilOrders.push(u);
    }
    return u.order;
  }

  /** The candidates ascending by price of resource `r`: one class, or one order per locality class. */
  byCost(r: number, classes: DepthClasses | null = null): ClassedOrder {
    let sorted = this.costOrders[r];
    if (sorted === undefined) {
      const cost = this.cost;
      sorted = ascendingOrder(Float64Array.from(this.slots, (slot) => cost[slot * R + r] ?? 0));
      this.costOrders[r] = sorted;
    }
    if (classes === null) return sorted;
    let hit = this.costByClass.find((o) => o.r === r && o.depth === classes.depth);
    if (hit === undefined) {
      hit = { r, depth: classes.depth, order: this.split(sorted, classes) };
      if (this.costByClass.length >= ORDERS_KEPT) this.costByClass.shift();
      this.costByClass.push(hit);
    }
    return hit.order;
  }

  /** The candidates by locality depth (`depth`, per slot), deepest first: one class ascending by −depth. */
  byDepth(depth: Uint8Array): ClassedOrder {
    let order = this.depthOrders.get(depth);
    if (order === undefined) {
      order = ascendingOrder(Float64Array.from(this.slots, (slot) => -(depth[slot] ?? 0)));
      if (this.depthOrders.size >= 16) this.depthOrders.clear();
      this.depthOrders.set(depth, order);
    }
    return order;
  }

  /** Each candidate's locality class. */
  private classesOf(classes: DepthClasses): Uint8Array {
    const top = classes.classes - 1;
    return Uint8Array.from(this.slots, (slot) => Math.min(top, classes.depth[slot] ?? 0));
  }

  /** `sorted` (one class) split by locality class, each class keeping its order. */
  private split(sorted: ClassedOrder, classes: DepthClasses): ClassedOrder {
    const classOf = this.classesOf(classes);
    const starts = new Int32Array(classes.classes + 1);
    for (const c of classOf) starts[c + 1] = (starts[c + 1] ?? 0) + 1;
    for (let c = 0; c < classes.classes; c++) starts[c + 1] = (starts[c + 1] ?? 0) + (starts[c] ?? 0);
    const fill = starts.slice(0, classes.classes);
    const positions = new Int32Array(sorted.positions.length);
    for (const p of sorted.positions) {
      const c = classOf[p] ?? 0;
      positions[fill[c] ?? 0] = p;
      fill[c] = (fill[c] ?? 0) + 1;
    }
    return { positions, starts, values: sorted.values };
  }

  /** The position of `slot` among the candidates, or -1. */
  positionOf(slot: number): number {
    return this.positionBySlot[slot] ?? -1;
  }
}
