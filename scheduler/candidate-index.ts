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
 * fields and are fully sorted ({@link SortedPositions}), once.
 */
import { BucketedPositions, OCTAVE_QUARTERS, unitBuckets } from './bucketed-positions.js';
import type { Bucketing } from './bucketed-positions.js';
import { R } from './snapshot.js';
import type { Snapshot } from './snapshot.js';
import { SortedPositions } from './sorted-positions.js';

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

/** See the module comment. Positions index {@link CandidateIndex.slots}. */
export class CandidateIndex {
  /** The free-capacity version the orders reflect. */
  private version: number;
  private readonly capacity: Float64Array;
  private readonly cost: Float64Array;
  private readonly freeOrders: (BucketedPositions | undefined)[] = new Array<BucketedPositions | undefined>(R);
  private readonly utilOrders = new Map<number, { readonly needed: readonly number[]; readonly order: BucketedPositions }>();
  private readonly costOrders: (SortedPositions | undefined)[] = new Array<SortedPositions | undefined>(R);
  private readonly depthOrders = new Map<Uint8Array, SortedPositions>();
  /** Per resource: the lowest and highest price, and the lowest non-zero capacity, over the candidates. */
  readonly minCost = new Float64Array(R);
  readonly maxCost = new Float64Array(R);
  readonly minCapacity = new Float64Array(R);
  /** Candidates per tier rank, indexed by rank + 1. */
  readonly perRank: Int32Array;

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
      // Not a recent descendant (an older snapshot, or a long way on): sort again when asked.
      this.freeOrders.fill(undefined);
      this.utilOrders.clear();
    } else {
      const free = snap.free;
      for (const slot of changed) {
        const p = this.positionOf(slot);
        if (p < 0) continue;
        for (let r = 0; r < R; r++) this.freeOrders[r]?.set(p, free[slot * R + r] ?? 0);
        for (const u of this.utilOrders.values()) u.order.set(p, utilisationNow(snap, slot, u.needed));
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

  /** The candidates bucketed by current utilisation over the resources of `needed` ({@link UTILISATION_BUCKETS}). */
  byUtilisation(snap: Snapshot, needed: readonly number[]): BucketedPositions {
    const mask = maskOf(needed);
    let u = this.utilOrders.get(mask);
    if (u === undefined) {
      u = { needed: [...needed], order: new BucketedPositions(Float64Array.from(this.slots, (slot) => utilisationNow(snap, slot, needed)), UTILISATION_BUCKETS) };
      this.utilOrders.set(mask, u);
    }
    return u.order;
  }

  /** The candidates ascending by price of resource `r`. */
  byCost(r: number): SortedPositions {
    let order = this.costOrders[r];
    if (order === undefined) {
      const cost = this.cost;
      order = new SortedPositions(Float64Array.from(this.slots, (slot) => cost[slot * R + r] ?? 0));
      this.costOrders[r] = order;
    }
    return order;
  }

  /** The candidates by locality depth (`depth`, per slot), deepest first: ascending by −depth. */
  byDepth(depth: Uint8Array): SortedPositions {
    let order = this.depthOrders.get(depth);
    if (order === undefined) {
      order = new SortedPositions(Float64Array.from(this.slots, (slot) => -(depth[slot] ?? 0)));
      if (this.depthOrders.size >= 16) this.depthOrders.clear();
      this.depthOrders.set(depth, order);
    }
    return order;
  }

  /** The position of `slot` among the candidates, or -1. */
  positionOf(slot: number): number {
    const slots = this.slots;
    let lo = 0;
    let hi = slots.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const s = slots[mid] ?? 0;
      if (s === slot) return mid;
      if (s < slot) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }
}
