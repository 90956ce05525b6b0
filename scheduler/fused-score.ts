/**
 * The engine's hot path for the default registry: the dynamic filters and the default scorers
 * fused into two passes over the statically passing clouds, and the best few candidates selected
 * on the way, so that the replica division usually runs over a dozen candidates instead of every
 * feasible cloud.
 *
 * Same formulas and order of operations as the capacity and quota filters plus the binpack,
 * spread, cost, locality and taints scorers, summed in registry order, so the scores are
 * bit-for-bit the per-scorer path's (the property tests hold it there). What the per-scorer path
 * computes for every candidate but the division needs only for the ones it takes (how many
 * replicas fit, the seeded tie-break draw, the topology domain) is computed here only for the
 * selected candidates; {@link completeCandidates} fills it in for all of them when the division
 * must look beyond the selection.
 */
import { above, CandidateHeap } from './candidate-heap.js';
import type { PreparedRequest } from './framework.js';
import { replicasThatFit } from './prepare.js';
import { tieBreak } from './random.js';
import { sharedDepths } from './scorers/locality.js';
import { taintsScorer } from './scorers/taints.js';
import { topologyScore } from './scorers/topology.js';
import type { Snapshot } from './snapshot.js';
import { R } from './snapshot.js';
import type { Floor } from './split.js';
import type { Weights } from './weights.js';

/** The number of segments of a locality path, without splitting it. */
export function depthOf(path: string): number {
  let n = 1;
  for (let i = 0; i < path.length; i++) if (path.charCodeAt(i) === 47 /* '/' */) n++;
  return n;
}

/** The columns {@link fusedKeys} and {@link selectTop} fill, one entry per feasible candidate (and per dynamic rejection). */
export interface FusedColumns {
  slots: Int32Array;
  base: Float64Array;
  /** The division's starting key: `base` plus the topology and stickiness terms before any replica lands. */
  key: Float64Array;
  tie: Float64Array;
  cap: Float64Array;
  rank: Int32Array;
  domain: Int32Array;
  held: Float64Array;
  /** At least `2 ×` the column length. */
  work: Float64Array;
  dynSlots: Int32Array;
  dynReason: Uint8Array;
  counts: Uint32Array;
}

/** What {@link fusedKeys} reports besides the feasible count; one per scheduler, overwritten per evaluation. */
export interface FusedKeysOut {
  /** The number of dynamic rejections. */
  dynamic: number;
  /** The smallest and the largest key. */
  keyMin: number;
  keyMax: number;
}

/** The reason id of a capacity shortfall per resource index, and of quota (see `reasons.ts`). */
export interface FusedReasonIds {
  readonly capacity: readonly number[];
  readonly quota: number;
}

/**
 * The best candidates of one evaluation, in ascending candidate order, with the columns the
 * replica division reads; and the best candidate left out, the division's {@link Floor}. Reused
 * across decisions by one scheduler, so the hot path allocates nothing proportional to the fleet.
 */
export class TopCandidates {
  /** Candidate indexes: the selection heap while selecting, then ascending. */
  index = new Int32Array(16);
  size = 0;
  base = new Float64Array(16);
  tie = new Float64Array(16);
  cap = new Float64Array(16);
  rank = new Int32Array(16);
  domain = new Int32Array(16);
  held = new Float64Array(16);
  /** The best candidate not selected, or null when every feasible candidate was. */
  floor: Floor | null = null;
  /** Scratch of {@link selectionBound}: a histogram of keys. */
  readonly histogram = new Uint32Array(64);

  /** Grows the columns to hold `n` candidates. */
  ensure(n: number): void {
    if (this.index.length >= n) return;
    const m = Math.max(n, this.index.length * 2);
    this.index = new Int32Array(m);
    this.base = new Float64Array(m);
    this.tie = new Float64Array(m);
    this.cap = new Float64Array(m);
    this.rank = new Int32Array(m);
    this.domain = new Int32Array(m);
    this.held = new Float64Array(m);
  }
}

/** The statically passing slots of a request, and what the fused pass needs to know of them as a whole. */
export interface PassingSlots {
  /** Ascending. */
  readonly slots: Int32Array;
  /**
   * Whether any of them carries a PreferNoSchedule taint (`snap.preferTaints`). Only then does
   * the taints scorer run; otherwise every candidate's taint term is the untainted one.
   */
  readonly anyPreferTaint: boolean;
}

/**
 * Passes 1 and 2a over `passing` (the statically passing slots), into `cols`: capacity with held
 * replicas credited back, then quota, then utilisation and raw cost (pass 1); the weighted `base`
 * in registry order and the division's starting `key` of every feasible candidate (pass 2a). The
 * raw cost of candidate `i` is left in `cols.work[passing.slots.length + i]`. Pass 1 stores only
 * what every candidate needs: `cols.held` only when the request holds replicas somewhere, and
 * `cols.rank` not at all (readers take the tier rank from the snapshot for the few they read).
 * Adds the dynamic rejections to `cols.counts` (which must already hold the static counts),
 * returns the number of feasible candidates and reports the number of dynamic rejections and the
 * range of the keys in `out`. `depthMemo` caches the locality depths per preference string for the snapshot lineage
 * (see {@link sharedDepths}). The decision then runs {@link selectTop}; the stored explanation
 * reads the keys to find the few candidates that can rank among the best.
 */
export function fusedKeys(
  req: PreparedRequest,
  snap: Snapshot,
  passing: PassingSlots,
  w: Weights,
  cols: FusedColumns,
  ids: FusedReasonIds,
  depthMemo: Map<string, Uint8Array>,
  out: FusedKeysOut,
): number {
  const free = snap.free;
  const capacity = snap.capacity;
  const cost = snap.cost;
  const tierRanks = snap.tierRanks;
  const need = req.need;
  const needed = req.needed;
  const nNeeded = needed.length;
  const heldBySlot = req.heldBySlot;
  const hasHeld = heldBySlot.size > 0;
  const admitsOne = req.quota.admitsOneByRank;
  const slots = cols.slots;
  const heldCol = cols.held;
  const work = cols.work;
  const capacityIds = ids.capacity;
  const quotaId = ids.quota;
  const wBin = w.binpack;
  const wSpread = w.spread;
  const wCost = w.cost;
  const wLoc = w.locality;
  const wTaints = w.taints;
  const stride = R;
  const slotsIn = passing.slots;
  const m = slotsIn.length;
  const costAt = m;
  let c = 0;
  let d = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  // Pass 1 over the statically passing slots: capacity, quota, utilisation, raw cost. The common
  // request (CPU and memory, no replicas held) takes a loop with both resources unrolled; any
  // other takes the general loop over the needed resources. Both compute the same numbers in the
  // same order (the property tests hold either to the per-scorer path).
  if (nNeeded === 2 && !hasHeld) {
    const r0 = needed[0] ?? 0;
    const r1 = needed[1] ?? 0;
    const n0 = need[r0] ?? 0;
    const n1 = need[r1] ?? 0;
    for (let p = 0; p < m; p++) {
      const slot = slotsIn[p] ?? 0;
      const a0 = slot * stride + r0;
      const a1 = slot * stride + r1;
      const f0 = free[a0] ?? 0;
      if (f0 < n0) {
        d = recordRejection(cols, d, slot, capacityIds[r0] ?? 0);
        continue;
      }
      const f1 = free[a1] ?? 0;
      if (f1 < n1) {
        d = recordRejection(cols, d, slot, capacityIds[r1] ?? 0);
        continue;
      }
      const rank = tierRanks[slot] ?? 0;
      if (admitsOne[rank + 1] === 0) {
        d = recordRejection(cols, d, slot, quotaId);
        continue;
      }
      const c0 = capacity[a0] ?? 0;
      const c1 = capacity[a1] ?? 0;
      let sum = 0;
      let n = 0;
      if (c0 > 0) {
        const used = c0 - f0 + n0;
        sum += used >= c0 ? 1 : used <= 0 ? 0 : used / c0;
        n++;
      }
      if (c1 > 0) {
        const used = c1 - f1 + n1;
        sum += used >= c1 ? 1 : used <= 0 ? 0 : used / c1;
        n++;
      }
      const x = (cost[a0] ?? 0) * n0 + (cost[a1] ?? 0) * n1;
      slots[c] = slot;
      work[c] = n === 0 ? 0 : n === 1 ? sum : sum * 0.5;
      work[costAt + c] = x;
      if (x < min) min = x;
      if (x > max) max = x;
      c++;
    }
  } else {
    for (let p = 0; p < m; p++) {
      const slot = slotsIn[p] ?? 0;
      const at = slot * stride;
      const h = hasHeld ? (heldBySlot.get(slot) ?? 0) : 0;
      // One loop over the needed resources: does one more replica fit (as `replicasThatFit` asks),
      // the utilisation after it, and the raw cost. The last two are discarded for a rejected cloud.
      let short = -1;
      let sum = 0;
      let n = 0;
      let x = 0;
      for (let j = 0; j < nNeeded; j++) {
        const r = needed[j] ?? 0;
        const nr = need[r] ?? 0;
        const f = (free[at + r] ?? 0) + h * nr;
        if (f < nr) {
          short = r;
          break;
        }
        const cp = capacity[at + r] ?? 0;
        if (cp > 0) {
          const used = cp - f + nr;
          sum += used >= cp ? 1 : used <= 0 ? 0 : used / cp;
          n++;
        }
        x += (cost[at + r] ?? 0) * nr;
      }
      if (short >= 0) {
        d = recordRejection(cols, d, slot, capacityIds[short] ?? 0);
        continue;
      }
      const rank = tierRanks[slot] ?? 0;
      if (admitsOne[rank + 1] === 0) {
        d = recordRejection(cols, d, slot, quotaId);
        continue;
      }
      slots[c] = slot;
      heldCol[c] = h;
      // x / 1 and x / 2 are exact, so x and x * 0.5 are the same numbers without a division.
      work[c] = n === 0 ? 0 : n === 1 ? sum : n === 2 ? sum * 0.5 : sum / n;
      work[costAt + c] = x;
      if (x < min) min = x;
      if (x > max) max = x;
      c++;
    }
  }
  out.dynamic = d;
  if (c === 0) return 0;
  // Untolerated PreferNoSchedule taints are rare: only then run the scorer itself.
  let taintTerms: Float64Array | null = null;
  if (wTaints !== 0 && passing.anyPreferTaint) {
    taintTerms = new Float64Array(c);
    taintsScorer.score(req, { count: c, slots }, snap, taintTerms);
  }
  const preference = req.spec.localityPreference;
  let depth: Uint8Array | null = null;
  if (wLoc !== 0 && preference !== undefined) depth = depthsFor(depthMemo, snap, preference);
  const full = preference === undefined ? 1 : depthOf(preference);
  // The weighted locality term per shared depth, wLoc × ((100 × depth) / full), computed once
  // rather than per cloud (the same products the per-cloud expression gives).
  const locByDepth = new Float64Array(full + 1);
  for (let dd = 0; dd <= full; dd++) locByDepth[dd] = wLoc * ((100 * dd) / full);
  const taintFree = wTaints * 100;
  // The division's starting key adds what `split.ts` adds before any replica lands: the topology
  // term of an empty domain and, for candidates holding replicas, the stickiness term.
  const topologyWeight = w.topology;
  const stickyWeight = w.sticky;
  const topologyTerm = topologyWeight === 0 ? 0 : topologyWeight * topologyScore(0, req.replicas);
  const sticky = stickyWeight !== 0 && hasHeld;
  const stickyTerm = stickyWeight * 100;

  // Pass 2a: the weighted sum in registry order and the division's starting key.
  const range = max - min;
  const base = cols.base;
  const key = cols.key;
  let keyMin = Number.POSITIVE_INFINITY;
  let keyMax = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < c; i++) {
    let b = 0;
    const util = work[i] ?? 0;
    if (wBin !== 0) b = b + wBin * (100 * util);
    if (wSpread !== 0) b = b + wSpread * (100 * (1 - util));
    if (wCost !== 0) b = b + wCost * (range > 0 ? (100 * (max - (work[costAt + i] ?? 0))) / range : 100);
    if (wLoc !== 0) b = b + (depth === null ? 0 : (locByDepth[depth[slots[i] ?? 0] ?? 0] ?? 0));
    if (wTaints !== 0) b = b + (taintTerms === null ? taintFree : wTaints * (taintTerms[i] ?? 0));
    base[i] = b;
    const ki = b + topologyTerm + (sticky && (heldCol[i] ?? 0) > 0 ? stickyTerm : 0);
    key[i] = ki;
    if (ki < keyMin) keyMin = ki;
    if (ki > keyMax) keyMax = ki;
  }

  out.keyMin = keyMin;
  out.keyMax = keyMax;
  return c;
}

/**
 * Pass 2b: the best `k` of the `c` candidates {@link fusedKeys} left in `cols` (`keys` is what it
 * reported), into `top` in ascending candidate order, with what the division reads of each, and
 * the best of the rest as the division's floor (a tie-break draw is computed only for the
 * candidates that clear the running floor). Nothing is selected when `c` is 0.
 */
export function selectTop(req: PreparedRequest, snap: Snapshot, cols: FusedColumns, c: number, keys: FusedKeysOut, top: TopCandidates, k: number): void {
  top.size = 0;
  top.floor = null;
  if (c === 0) return;
  const { keyMin, keyMax } = keys;
  const free = snap.free;
  const need = req.need;
  const needed = req.needed;
  const stride = R;
  const { slots, key, base } = cols;
  const heldCol = cols.held;
  const hasHeld = req.heldBySlot.size > 0;
  const tierRanks = snap.tierRanks;
  // Pass 2b: the selection of the best `k` (a heap with the worst on top) plus the best of the
  // rest. Candidates below the running best of the rest (`floorKey`) are passed over on one
  // comparison; a tie-break draw is computed once for each of the others. The floor
  // starts at a bound below which fewer than `k + 1` keys lie according to a histogram of the
  // keys, so that the heap sees a few candidates rather than every new best one in candidate
  // order; should fewer than `k + 1` candidates clear it after all, the selection runs again
  // from no bound. Either way the selection is exactly the best `k` and the best of the rest.
  const tie = cols.tie;
  const tieKeys = snap.tieKeys;
  const seedHash = req.seedHash;
  const kk = Math.min(c, k);
  top.ensure(kk);
  const sel = new CandidateHeap(top.index, key, tie, true);
  let bound = selectionBound(key, c, kk + 1, keyMin, keyMax, top.histogram);
  let rest: number;
  for (;;) {
    sel.size = 0;
    rest = -1;
    let floorKey = bound;
    for (let i = 0; i < c; i++) {
      const ki = key[i] ?? 0;
      if (ki < floorKey) continue;
      // Every candidate that clears the floor is kept or compared on a tie: it needs its draw.
      tie[i] = tieBreak(seedHash, tieKeys[slots[i] ?? 0] ?? 0);
      if (sel.size < kk) {
        sel.push(i);
        continue;
      }
      const worst = sel.peek();
      const kw = key[worst] ?? 0;
      if (ki > kw || (ki === kw && above(key, tie, i, worst))) {
        const evicted = sel.replaceTop(i);
        if (rest < 0 || above(key, tie, evicted, rest)) rest = evicted;
        floorKey = key[rest] ?? 0;
        continue;
      }
      if (rest < 0 || ki > floorKey || (ki === floorKey && above(key, tie, i, rest))) {
        rest = i;
        floorKey = ki;
      }
    }
    // Complete when no bound was set, or when the heap filled and one more cleared the bound.
    if (bound === Number.NEGATIVE_INFINITY || (sel.size === kk && (rest >= 0 || c === kk))) break;
    bound = Number.NEGATIVE_INFINITY;
  }

  // The selection in candidate order, with what the division reads of each.
  const m = sel.size;
  top.size = m;
  const index = top.index;
  index.subarray(0, m).sort();
  const zone = req.spec.spread.topology === 'zone';
  const zoneIds = snap.zoneIds;
  for (let j = 0; j < m; j++) {
    const i = index[j] ?? 0;
    const slot = slots[i] ?? 0;
    const h = hasHeld ? (heldCol[i] ?? 0) : 0;
    top.base[j] = base[i] ?? 0;
    top.tie[j] = tie[i] ?? 0;
    top.cap[j] = replicasThatFit(free, slot * stride, h, needed, need);
    top.rank[j] = tierRanks[slot] ?? 0;
    top.held[j] = h;
    top.domain[j] = zone ? (zoneIds[slot] ?? 0) : j;
  }
  top.floor = rest < 0 ? null : { key: key[rest] ?? 0, tie: tie[rest] ?? 0, index: rest, indexOf: index };
}

/**
 * A key bound that at least `want` of the `count` keys (all within `[min, max]`) very probably
 * clear, from a 64-bin histogram of an evenly strided sample of at most 256 keys: the bin where
 * the sampled keys from the top number twice the sample's share of `want` (at least four), one
 * bin lower to absorb rounding at the bin edges. Negative infinity when the keys are too few for a
 * bound to pay, or all equal. Only a hint: the caller checks that enough keys cleared it.
 */
function selectionBound(key: Float64Array, count: number, want: number, min: number, max: number, histogram: Uint32Array): number {
  if (count <= 4 * want || !(max > min)) return Number.NEGATIVE_INFINITY;
  const bins = histogram.length;
  histogram.fill(0);
  const scale = bins / (max - min);
  const stride = Math.ceil(count / 256);
  let sampled = 0;
  for (let i = 0; i < count; i += stride) {
    const b = Math.min(bins - 1, Math.floor(((key[i] ?? 0) - min) * scale));
    histogram[b] = (histogram[b] ?? 0) + 1;
    sampled++;
  }
  const target = Math.max(4, Math.ceil((2 * want * sampled) / count));
  let seen = 0;
  let b = bins - 1;
  for (; b > 0; b--) {
    seen += histogram[b] ?? 0;
    if (seen >= target) break;
  }
  return min + (b - 1) / scale;
}

/**
 * The shared locality depth of every slot with `preference` ({@link sharedDepths}), from `memo`
 * (the scheduler's per snapshot lineage) or computed into it: a pass over the whole fleet.
 */
export function depthsFor(memo: Map<string, Uint8Array>, snap: Snapshot, preference: string): Uint8Array {
  let depth = memo.get(preference);
  if (depth === undefined) {
    depth = sharedDepths(snap, preference);
    memo.set(preference, depth);
  }
  return depth;
}

/**
 * Records that a dynamic filter rejected `slot` with reason id `id`, as the `d`-th dynamic
 * rejection of an evaluation (counted in `cols.counts`); returns the next `d`.
 */
export function recordRejection(cols: Pick<FusedColumns, 'dynSlots' | 'dynReason' | 'counts'>, d: number, slot: number, id: number): number {
  cols.dynSlots[d] = slot;
  cols.dynReason[d] = id;
  cols.counts[id] = (cols.counts[id] ?? 0) + 1;
  return d + 1;
}

/**
 * Fills in, for every one of the `count` candidates of a {@link fusedKeys}, what {@link selectTop} computed
 * only for the selection: replicas that fit, the tie-break draw and the topology domain, so the
 * division can run over every candidate.
 */
export function completeCandidates(req: PreparedRequest, snap: Snapshot, cols: FusedColumns, count: number): void {
  const free = snap.free;
  const zone = req.spec.spread.topology === 'zone';
  const zoneIds = snap.zoneIds;
  const tieKeys = snap.tieKeys;
  const seedHash = req.seedHash;
  const tierRanks = snap.tierRanks;
  const hasHeld = req.heldBySlot.size > 0;
  const { slots, cap, rank, held, tie, domain } = cols;
  for (let i = 0; i < count; i++) {
    const slot = slots[i] ?? 0;
    if (!hasHeld) held[i] = 0;
    rank[i] = tierRanks[slot] ?? 0;
    cap[i] = replicasThatFit(free, slot * R, held[i] ?? 0, req.needed, req.need);
    tie[i] = tieBreak(seedHash, tieKeys[slot] ?? 0);
    domain[i] = zone ? (zoneIds[slot] ?? 0) : i;
  }
}
