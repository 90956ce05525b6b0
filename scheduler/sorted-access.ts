/**
 * The engine's hot path on many candidates: the same selection as `fused-score.ts` (the best `k`
 * candidates by key, and the best one left out), found by sorted access through the signature's
 * {@link CandidateIndex} instead of scoring every candidate.
 *
 * 1. The dynamic rejections are counted exactly from the free-capacity buckets: the clouds short
 *    of a needed resource are in that resource's lowest buckets (each checked, and counted under
 *    the first resource it is short of, as the filter does), and a tier the quota admits no
 *    replica on rejects the rest of its candidates.
 * 2. The cost scorer normalises over the feasible candidates, so it needs their cheapest and
 *    dearest raw cost: read from the price order of the request's most price-spread resource,
 *    from each end, until no further candidate can be cheaper (dearer) by the bound the other
 *    resources' price ranges give.
 * 3. The candidates are read in the order of the strategy's leading term (utilisation, price or
 *    locality depth), each scored exactly as the fused pass scores it; reading stops once the
 *    best the next one could score — its own leading term plus the most every other term can add —
 *    is below the best candidate left out of the selection so far. Nothing further can enter the
 *    selection or be the best left out, so the selection is exactly the fused pass's.
 *
 * When locality counts and does not lead, step 3 reads the leading order per locality class,
 * merging the classes by their next group's bound, so that each is bounded by its own locality
 * term. On the benchmark fleets this reads about an eighth of the candidates at 1,000 clouds and
 * a thirtieth at 10,000. The caller runs the fused pass instead on few candidates, when the
 * request holds replicas (capacity credited back per cloud), a candidate carries a
 * PreferNoSchedule taint or a weight is negative, and when the division must reach past the
 * selection.
 */
import type { BucketedPositions } from './bucketed-positions.js';
import type { CandidateIndex, ClassedOrder } from './candidate-index.js';
import { above, CandidateHeap } from './candidate-heap.js';
import type { PreparedRequest } from './framework.js';
import type { FusedReasonIds, TopCandidates } from './fused-score.js';
import { replicasThatFit } from './prepare.js';
import { tieBreak } from './random.js';
import { topologyScore } from './scorers/topology.js';
import type { Snapshot } from './snapshot.js';
import { R } from './snapshot.js';
import type { Weights } from './weights.js';

/** Per-decision columns of {@link selectBySortedAccess}, reused across decisions by one scheduler. */
export class SortedAccessScratch {
  /** Per candidate position: 1 when a dynamic filter rejected it. */
  rejected = new Uint8Array(64);
  /** The positions rejected, to clear `rejected` afterwards. */
  rejectedList = new Int32Array(64);
  /** The candidates read, in reading order: slot, key and (for those that needed one) draw. */
  slot = new Int32Array(64);
  key = new Float64Array(64);
  base = new Float64Array(64);
  tie = new Float64Array(64);
  /** The weighted locality term per shared depth. */
  locByDepth = new Float64Array(16);
  /** Per locality class: the next group to read, its first position and its bound. */
  cursor = new Int32Array(8);
  groupFirst = new Int32Array(8);
  groupBound = new Float64Array(8);

  /** Grows the per-class columns to `n` classes. */
  ensureClasses(n: number): void {
    if (this.cursor.length < n) {
      this.cursor = new Int32Array(n);
      this.groupFirst = new Int32Array(n);
      this.groupBound = new Float64Array(n);
    }
  }

  ensure(n: number): void {
    if (this.rejected.length < n) {
      const m = Math.max(n, this.rejected.length * 2);
      this.rejected = new Uint8Array(m);
      this.rejectedList = new Int32Array(m);
      this.slot = new Int32Array(m);
      this.key = new Float64Array(m);
      this.base = new Float64Array(m);
      this.tie = new Float64Array(m);
    }
  }
}

/** Whether {@link selectBySortedAccess} can decide `req` under weights `w` (else run the fused pass). */
export function sortedAccessApplies(req: PreparedRequest, w: Weights, anyPreferTaint: boolean): boolean {
  return (
    req.heldBySlot.size === 0 &&
    !anyPreferTaint &&
    req.needed.length > 0 &&
    w.binpack >= 0 &&
    w.spread >= 0 &&
    w.cost >= 0 &&
    w.locality >= 0 &&
    w.taints >= 0 &&
    w.topology >= 0
  );
}

/** The locality inputs of a decision: shared depth per slot with the preference, and the preference's own depth. */
export interface LocalityDepths {
  readonly depth: Uint8Array | null;
  readonly full: number;
}

/** Room for rounding between a bound and the key it bounds (keys are sums of a few terms of at most 100 × weight). */
function margin(v: number): number {
  return 1e-9 * (1 + Math.abs(v));
}

/**
 * Counts the dynamic rejections into `counts` (which holds the static ones) and fills `top` with
 * the best `k` feasible candidates (ascending by slot: `top.index` holds slots) and the floor, as
 * `fusedKeys` plus `selectTop` would. Returns the number of feasible candidates.
 */
export function selectBySortedAccess(
  req: PreparedRequest,
  snap: Snapshot,
  index: CandidateIndex,
  w: Weights,
  locality: LocalityDepths,
  ids: FusedReasonIds,
  counts: Uint32Array,
  scratch: SortedAccessScratch,
  top: TopCandidates,
  k: number,
): number {
  top.size = 0;
  top.floor = null;
  const m = index.size;
  const slots = index.slots;
  const perRank = index.perRank;
  scratch.ensure(m);
  const cost = snap.cost;
  const tierRanks = snap.tierRanks;
  const need = req.need;
  const needed = req.needed;
  const nNeeded = needed.length;
  const admitsOne = req.quota.admitsOneByRank;
  const rejected = scratch.rejected;
  const rejectedList = scratch.rejectedList;

  // 1. Capacity: the clouds short of resource r are in the free-capacity buckets up to the need's
  // (and, should rounding of the bucketing put one a bucket higher, the next); each is checked.
  let nRejected = 0;
  for (let j = 0; j < nNeeded; j++) {
    const r = needed[j] ?? 0;
    const nr = need[r] ?? 0;
    const { head, next, values, bucketing } = index.byFree(snap, r);
    const id = ids.capacity[r] ?? 0;
    const last = Math.min(bucketing.buckets - 1, bucketing.bucketOf(nr) + 1);
    for (let b = 0; b <= last; b++) {
      for (let p = head[b] ?? -1; p >= 0; p = next[p] ?? -1) {
        if ((values[p] ?? 0) >= nr || rejected[p] !== 0) continue;
        rejected[p] = 1;
        rejectedList[nRejected++] = p;
        counts[id] = (counts[id] ?? 0) + 1;
      }
    }
  }
  // Quota: a tier that admits no replica rejects every candidate of it the capacity filter passed
  // (a pass over the candidates, only when such a tier has some). Every rejected candidate is then
  // marked in `rejected`, the one feasibility test of what follows.
  let blocked = false;
  for (let at = 0; at < perRank.length; at++) if (admitsOne[at] === 0 && (perRank[at] ?? 0) > 0) blocked = true;
  if (blocked) {
    let nQuota = 0;
    for (let p = 0; p < m; p++) {
      if (rejected[p] !== 0 || admitsOne[(tierRanks[slots[p] ?? 0] ?? 0) + 1] !== 0) continue;
      rejected[p] = 1;
      rejectedList[nRejected++] = p;
      nQuota++;
    }
    if (nQuota > 0) counts[ids.quota] = (counts[ids.quota] ?? 0) + nQuota;
  }
  const feasible = m - nRejected;

  if (feasible > 0) {
    // 2. The cheapest and dearest feasible raw cost, from the price order of the resource whose
    // price spread weighs most in this request; the others' price ranges bound the rest.
    const lead = leadResource(index, req);
    let restLow = 0;
    let restHigh = 0;
    for (const r of needed) {
      if (r === lead) continue;
      restLow += (index.minCost[r] ?? 0) * (need[r] ?? 0);
      restHigh += (index.maxCost[r] ?? 0) * (need[r] ?? 0);
    }
    const byCost = index.byCost(lead);
    const priced = byCost.positions;
    const prices = byCost.values;
    const needLead = need[lead] ?? 0;
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    for (let t = 0; t < m; t++) {
      const p = priced[t] ?? 0;
      const low = (prices[p] ?? 0) * needLead + restLow;
      if (low - margin(low) >= min) break;
      if (rejected[p] !== 0) continue;
      const x = rawCost(cost, slots[p] ?? 0, need, needed);
      if (x < min) min = x;
    }
    for (let t = m - 1; t >= 0; t--) {
      const p = priced[t] ?? 0;
      const high = (prices[p] ?? 0) * needLead + restHigh;
      if (high + margin(high) <= max) break;
      if (rejected[p] !== 0) continue;
      const x = rawCost(cost, slots[p] ?? 0, need, needed);
      if (x > max) max = x;
    }

    // 3. Read in the order of the leading term until the next cannot reach the floor.
    scan(req, snap, index, w, locality, min, max, scratch, top, k, feasible, lead);
  }

  for (let t = 0; t < nRejected; t++) rejected[rejectedList[t] ?? 0] = 0;
  return feasible;
}

/** Step 3 of {@link selectBySortedAccess}; `min` and `max` are the feasible candidates' raw-cost range. */
function scan(
  req: PreparedRequest,
  snap: Snapshot,
  index: CandidateIndex,
  w: Weights,
  locality: LocalityDepths,
  min: number,
  max: number,
  scratch: SortedAccessScratch,
  top: TopCandidates,
  k: number,
  feasible: number,
  costLead: number,
): void {
  const slots = index.slots;
  const free = snap.free;
  const capacity = snap.capacity;
  const cost = snap.cost;
  const tierRanks = snap.tierRanks;
  const rejected = scratch.rejected;
  const need = req.need;
  const needed = req.needed;
  const nNeeded = needed.length;
  const wBin = w.binpack;
  const wSpread = w.spread;
  const wCost = w.cost;
  const wLoc = w.locality;
  const wTaints = w.taints;
  const range = max - min;
  const { depth, full } = locality;
  if (scratch.locByDepth.length <= full) scratch.locByDepth = new Float64Array(full + 1);
  const locByDepth = scratch.locByDepth;
  for (let d = 0; d <= full; d++) locByDepth[d] = wLoc * ((100 * d) / full);
  const taintFree = wTaints * 100;
  const topologyTerm = w.topology === 0 ? 0 : w.topology * topologyScore(0, req.replicas);

  // The leading term is the one whose values spread widest over these candidates — the
  // utilisation term's range from the occupied buckets, the cost term's full range (it is
  // normalised over them), the locality term's from the depths present — since reading in the
  // order of a term that barely varies (a fleet of near-empty clouds under binpack) prunes
  // nothing. Every other term is bounded by its greatest value over the candidates.
  const utilNeeded = wBin !== 0 || wSpread !== 0;
  const allClasses = depth !== null ? { depth, classes: full + 1 } : null;
  const utilOrder = utilNeeded ? index.byUtilisation(snap, needed, allClasses) : null;
  // A replica raises a candidate's utilisation by at most the mean of need / capacity.
  let lift = 0;
  for (const r of needed) lift += (need[r] ?? 0) / (index.minCapacity[r] ?? 1);
  lift /= nNeeded;
  let uLow = 1;
  let uHigh = 0;
  if (utilOrder !== null) {
    const { bucketing, classes: utilClasses } = utilOrder;
    for (let c = 0; c < utilClasses; c++) {
      const lowest = utilOrder.nextBucket(c, 0, false);
      if (lowest < 0) continue;
      uLow = Math.min(uLow, Math.max(0, bucketing.lowerEdge(lowest)));
      uHigh = Math.max(uHigh, Math.min(1, bucketing.upperEdge(utilOrder.nextBucket(c, bucketing.buckets - 1, true))));
    }
    if (uLow > uHigh) uLow = uHigh;
  }
  const uTop = Math.min(1, uHigh + lift);
  const binpackMost = wBin * 100 * uTop;
  const spreadMost = wSpread * 100 * (1 - uLow);
  const costMost = wCost * 100;
  let dMax = 0;
  let dMin = 0;
  const deepest = depth === null ? null : index.byDepth(depth);
  if (deepest !== null) {
    const m = deepest.positions.length;
    dMax = -(deepest.values[deepest.positions[0] ?? 0] ?? 0);
    dMin = -(deepest.values[deepest.positions[m - 1] ?? 0] ?? 0);
  }
  const locMost = depth === null ? 0 : (locByDepth[dMax] ?? 0);
  let lead = LEAD_COST;
  let leadSpread = range > 0 ? costMost : 0;
  let leadMost = costMost;
  if (wBin !== 0 && wSpread === 0 && binpackMost - wBin * 100 * uLow > leadSpread) {
    lead = LEAD_BINPACK;
    leadSpread = binpackMost - wBin * 100 * uLow;
    leadMost = binpackMost;
  }
  if (wSpread !== 0 && wBin === 0 && spreadMost - wSpread * 100 * (1 - uTop) > leadSpread) {
    lead = LEAD_SPREAD;
    leadSpread = spreadMost - wSpread * 100 * (1 - uTop);
    leadMost = spreadMost;
  }
  if (depth !== null && locMost - (locByDepth[dMin] ?? 0) > leadSpread) {
    lead = LEAD_LOCALITY;
    leadMost = locMost;
  }
  // Unless locality leads, the candidates are read per locality class, each class bounded by its
  // own locality term rather than the most any class gets.
  const classed = depth !== null && lead !== LEAD_LOCALITY;
  const classes = classed ? full + 1 : 1;
  const others = binpackMost + spreadMost + costMost + (classed ? 0 : locMost) - leadMost + (wTaints !== 0 ? taintFree : 0) + topologyTerm;
  // The reading order per class: sorted positions one at a time, or utilisation buckets one at a
  // time, a bucket bounded by its edge (the most utilisation it can hold for binpack, the least
  // for spread). A group's bound is `others`, its class's locality term, and its leading term at
  // most: `slope × v + offset` of the order's value v, capped at `cap`, or for locality depth the
  // weighted term of depth −v.
  let sorted: ClassedOrder | null = null;
  let bucketed: BucketedPositions | null = null;
  let descending = false;
  let slope = 0;
  let offset = 0;
  let cap = Number.POSITIVE_INFINITY;
  if (lead === LEAD_BINPACK) {
    bucketed = utilOrder;
    descending = true;
    slope = wBin * 100;
    offset = slope * lift;
    cap = wBin * 100;
  } else if (lead === LEAD_SPREAD) {
    // A replica only raises utilisation, so the current one bounds the spread term.
    bucketed = utilOrder;
    slope = -wSpread * 100;
    offset = wSpread * 100;
  } else if (lead === LEAD_LOCALITY && deepest !== null) {
    sorted = deepest;
  } else {
    // The raw cost is at least the lead resource's price × need plus the others' cheapest.
    sorted = index.byCost(costLead, classed ? allClasses : null);
    let costRest = 0;
    for (const r of needed) if (r !== costLead) costRest += (index.minCost[r] ?? 0) * (need[r] ?? 0);
    if (range > 0) {
      slope = (-wCost * 100 * (need[costLead] ?? 0)) / range;
      offset = (wCost * 100 * (max - costRest)) / range;
    } else offset = wCost * 100;
  }
  const byDepth = lead === LEAD_LOCALITY && depth !== null;

  const kk = Math.min(feasible, k);
  top.ensure(kk);
  const { slot: readSlot, key, base, tie } = scratch;
  const tieKeys = snap.tieKeys;
  const seedHash = req.seedHash;
  const sel = new CandidateHeap(top.index, key, tie, true, readSlot);
  let rest = -1;
  let floorKey = Number.NEGATIVE_INFINITY;
  let read = 0;
  const buckets = bucketed?.bucketing.buckets ?? 0;
  const nextIn = bucketed !== null ? bucketed.next : null;
  // Per class: the next group to read, its first position and its bound (-∞ once read out).
  scratch.ensureClasses(classes);
  const { cursor, groupFirst, groupBound } = scratch;
  /** Moves class `c`'s cursor to its next non-empty group and bounds it. */
  const advance = (c: number): void => {
    const g = cursor[c] ?? 0;
    let first = -1;
    let v = 0;
    if (bucketed !== null) {
      // The cursor is the next bucket to look at, from the top for binpack.
      const b = bucketed.nextBucket(c, descending ? buckets - 1 - g : g, descending);
      if (b >= 0) {
        first = bucketed.head[c * buckets + b] ?? -1;
        v = descending ? bucketed.bucketing.upperEdge(b) : bucketed.bucketing.lowerEdge(b);
        cursor[c] = descending ? buckets - b : b + 1;
      }
    } else if (sorted !== null) {
      const at = (sorted.starts[c] ?? 0) + g;
      if (at < (sorted.starts[c + 1] ?? 0)) {
        first = sorted.positions[at] ?? 0;
        v = sorted.values[first] ?? 0;
      }
      cursor[c] = g + 1;
    }
    groupFirst[c] = first;
    const leadBound = byDepth ? (locByDepth[-v] ?? 0) : Math.min(cap, slope * v + offset);
    groupBound[c] = first < 0 ? Number.NEGATIVE_INFINITY : leadBound + others + (classed ? (locByDepth[c] ?? 0) : 0);
  };
  for (let c = 0; c < classes; c++) {
    cursor[c] = 0;
    advance(c);
  }
  for (;;) {
    // The group that can score most; done when none is left, or it cannot reach the floor.
    let c = 0;
    for (let d = 1; d < classes; d++) if ((groupBound[d] ?? 0) > (groupBound[c] ?? 0)) c = d;
    const bound = groupBound[c] ?? Number.NEGATIVE_INFINITY;
    if (bound === Number.NEGATIVE_INFINITY) break;
    if (rest >= 0 && bound + margin(bound) < floorKey) break;
    const first = groupFirst[c] ?? -1;
    advance(c);
    for (let p = first; p >= 0; p = nextIn === null ? -1 : (nextIn[p] ?? -1)) {
      if (rejected[p] !== 0) continue;
      const slot = slots[p] ?? 0;
      // Utilisation, raw cost and the weighted sum exactly as the fused pass computes them (its
      // general loop and pass 2a, written out here as there for the hot loop's sake: a change
      // to one is a change to both, and the property tests hold both to the per-scorer path).
      let sum = 0;
      let n = 0;
      let x = 0;
      for (let j = 0; j < nNeeded; j++) {
        const r = needed[j] ?? 0;
        const nr = need[r] ?? 0;
        const cp = capacity[slot * R + r] ?? 0;
        if (cp > 0) {
          const used = cp - (free[slot * R + r] ?? 0) + nr;
          sum += used >= cp ? 1 : used <= 0 ? 0 : used / cp;
          n++;
        }
        x += (cost[slot * R + r] ?? 0) * nr;
      }
      const util = n === 0 ? 0 : n === 1 ? sum : n === 2 ? sum * 0.5 : sum / n;
      let b = 0;
      if (wBin !== 0) b = b + wBin * (100 * util);
      if (wSpread !== 0) b = b + wSpread * (100 * (1 - util));
      if (wCost !== 0) b = b + wCost * (range > 0 ? (100 * (max - x)) / range : 100);
      if (wLoc !== 0) b = b + (depth === null ? 0 : (locByDepth[depth[slot] ?? 0] ?? 0));
      if (wTaints !== 0) b = b + taintFree;
      const ki = b + topologyTerm;
      const e = read++;
      readSlot[e] = slot;
      base[e] = b;
      key[e] = ki;
      if (ki < floorKey) continue;
      tie[e] = tieBreak(seedHash, tieKeys[slot] ?? 0);
      if (sel.size < kk) {
        sel.push(e);
        continue;
      }
      const worst = sel.peek();
      if (above(key, tie, e, worst, readSlot)) {
        const evicted = sel.replaceTop(e);
        if (rest < 0 || above(key, tie, evicted, rest, readSlot)) rest = evicted;
        floorKey = key[rest] ?? 0;
        continue;
      }
      if (rest < 0 || above(key, tie, e, rest, readSlot)) {
        rest = e;
        floorKey = ki;
      }
    }
  }

  // The selection ascending by slot (the fused pass's candidate order), with what the division
  // reads; `top.index` then holds slots. An insertion sort: the selection is a dozen entries.
  const size = sel.size;
  top.size = size;
  const out = top.index;
  for (let j = 1; j < size; j++) {
    const e = out[j] ?? 0;
    const s = readSlot[e] ?? 0;
    let i = j;
    for (; i > 0 && (readSlot[out[i - 1] ?? 0] ?? 0) > s; i--) out[i] = out[i - 1] ?? 0;
    out[i] = e;
  }
  const zone = req.spec.spread.topology === 'zone';
  const zoneIds = snap.zoneIds;
  for (let j = 0; j < size; j++) {
    const e = out[j] ?? 0;
    const slot = readSlot[e] ?? 0;
    out[j] = slot;
    top.base[j] = base[e] ?? 0;
    top.tie[j] = tie[e] ?? 0;
    top.cap[j] = replicasThatFit(free, slot * R, 0, needed, need);
    top.rank[j] = tierRanks[slot] ?? 0;
    top.held[j] = 0;
    top.domain[j] = zone ? (zoneIds[slot] ?? 0) : j;
  }
  top.floor = rest < 0 ? null : { key: key[rest] ?? 0, tie: tie[rest] ?? 0, index: readSlot[rest] ?? 0, indexOf: out };
}

const LEAD_BINPACK = 0;
const LEAD_SPREAD = 1;
const LEAD_COST = 2;
const LEAD_LOCALITY = 3;

/** The raw cost of the candidate in `slot`, summed as the fused pass sums it. */
function rawCost(cost: Float64Array, slot: number, need: readonly number[], needed: readonly number[]): number {
  let x = 0;
  for (let j = 0; j < needed.length; j++) {
    const r = needed[j] ?? 0;
    x += (cost[slot * R + r] ?? 0) * (need[r] ?? 0);
  }
  return x;
}

/** The resource {@link selectBySortedAccess} reads the price order of. */
function leadResource(index: CandidateIndex, req: PreparedRequest): number {
  const need = req.need;
  let lead = req.needed[0] ?? 0;
  for (const r of req.needed) {
    if (((index.maxCost[r] ?? 0) - (index.minCost[r] ?? 0)) * (need[r] ?? 0) > ((index.maxCost[lead] ?? 0) - (index.minCost[lead] ?? 0)) * (need[lead] ?? 0)) lead = r;
  }
  return lead;
}
