/**
 * The default scorers fused into one pass over the candidates: the same terms as `binpack`,
 * `spread`, `cost`, `locality` and `taints` (same formulas, same order of operations, summed in
 * registry order), without a function call and a pass per scorer. The engine uses it when it runs
 * the default scorer registry; a property test holds it bit-for-bit equal to the per-scorer path.
 */
import type { PreparedRequest } from './framework.js';
import { sharedDepths } from './scorers/locality.js';
import { taintsScorer } from './scorers/taints.js';
import type { Snapshot } from './snapshot.js';
import { R } from './snapshot.js';
import type { Weights } from './weights.js';
import { tieBreak } from './random.js';
import type { DivisionSums } from './split.js';
import { replicasThatFit } from './prepare.js';

/** The number of segments of a locality path, without splitting it. */
function depthOf(path: string): number {
  let n = 1;
  for (let i = 0; i < path.length; i++) if (path.charCodeAt(i) === 47 /* '/' */) n++;
  return n;
}

/** The columns {@link fusedEvaluate} fills, one entry per feasible candidate (and per dynamic rejection). */
export interface FusedColumns {
  slots: Int32Array;
  cap: Float64Array;
  base: Float64Array;
  tie: Float64Array;
  rank: Int32Array;
  domain: Int32Array;
  held: Float64Array;
  /** At least `2 ×` the column length. */
  work: Float64Array;
  dynSlots: Int32Array;
  dynReason: Uint8Array;
  counts: Uint32Array;
}

/** The reason id of a capacity shortfall per resource index, and of quota (see `reasons.ts`). */
export interface FusedReasonIds {
  readonly capacity: readonly number[];
  readonly quota: number;
}

/**
 * The hot path of the default registry in one place: the dynamic filters (capacity with held
 * replicas credited back, then quota) over the statically passing slots, fused with the first
 * scoring pass (utilisation and raw cost), then one pass writing the weighted `base`, the seeded
 * tie-break draw and the topology domain of every survivor. Same formulas and order of operations
 * as the capacity and quota filters plus the binpack, spread, cost, locality and taints scorers,
 * summed in registry order, so it is bit-for-bit the per-scorer path (the property tests hold it there). Adds the dynamic rejections to `cols.counts` (which
 * must already hold the static counts), returns the number of feasible candidates and writes the
 * number of dynamic rejections into `out[0]`. `depthMemo` caches the locality depths per
 * preference string for the snapshot lineage (see {@link sharedDepths}).
 */
export function fusedEvaluate(
  req: PreparedRequest,
  snap: Snapshot,
  passing: Int32Array,
  w: Weights,
  cols: FusedColumns,
  ids: FusedReasonIds,
  depthMemo: Map<string, Uint8Array>,
  out: Int32Array,
  sums: DivisionSums,
): number {
  const free = snap.free;
  const capacity = snap.capacity;
  const cost = snap.cost;
  const tierRanks = snap.tierRanks;
  const flagged = snap.preferTaints;
  const need = req.need;
  const needed = req.needed;
  const nNeeded = needed.length;
  const heldBySlot = req.heldBySlot;
  const hasHeld = heldBySlot.size > 0;
  const quotaTotal = req.quota.total;
  const quotaByRank = req.quota.byRank;
  const counts = cols.counts;
  const slots = cols.slots;
  const capCol = cols.cap;
  const rankCol = cols.rank;
  const heldCol = cols.held;
  const work = cols.work;
  const dynSlots = cols.dynSlots;
  const dynReason = cols.dynReason;
  const capacityIds = ids.capacity;
  const quotaId = ids.quota;
  const wBin = w.binpack;
  const wSpread = w.spread;
  const wCost = w.cost;
  const wLoc = w.locality;
  const wTaints = w.taints;
  const wantUtil = wBin !== 0 || wSpread !== 0;
  const stride = R;
  const costAt = passing.length;
  let c = 0;
  let d = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let anyTaint = false;
  // The division's pre-check sums (see split.ts), accumulated here rather than in a pass of their own.
  const tierCount = quotaByRank.length;
  sums.reset(tierCount);
  const capByRank = sums.capByRank;
  const maxPerDomain = req.spec.spread.maxReplicasPerCloud ?? Number.POSITIVE_INFINITY;
  let capSum = 0;
  let spreadRoom = 0;
  let anyHeld = false;
  // Pass 1 over the statically passing slots: capacity, quota, utilisation, raw cost.
  for (let k = 0; k < passing.length; k++) {
    const slot = passing[k] ?? 0;
    const at = slot * stride;
    const h = hasHeld ? (heldBySlot.get(slot) ?? 0) : 0;
    const capMax = replicasThatFit(free, at, h, needed, need);
    if (capMax < 0) {
      const id = capacityIds[-1 - capMax] ?? 0;
      dynSlots[d] = slot;
      dynReason[d++] = id;
      counts[id] = (counts[id] ?? 0) + 1;
      continue;
    }
    const rank = tierRanks[slot] ?? 0;
    const q = Math.min(quotaTotal, quotaByRank[rank] ?? Number.POSITIVE_INFINITY);
    if (q < 1) {
      dynSlots[d] = slot;
      dynReason[d++] = quotaId;
      counts[quotaId] = (counts[quotaId] ?? 0) + 1;
      continue;
    }
    slots[c] = slot;
    capCol[c] = capMax;
    rankCol[c] = rank;
    heldCol[c] = h;
    capSum += capMax;
    if (rank >= 0 && rank < tierCount) capByRank[rank] = (capByRank[rank] ?? 0) + capMax;
    spreadRoom += Math.min(capMax, maxPerDomain);
    if (h > 0) anyHeld = true;
    if (wantUtil) {
      let sum = 0;
      let n = 0;
      for (let j = 0; j < nNeeded; j++) {
        const r = needed[j] ?? 0;
        const cp = capacity[at + r] ?? 0;
        if (cp <= 0) continue;
        const nr = need[r] ?? 0;
        const used = cp - ((free[at + r] ?? 0) + h * nr) + nr;
        sum += used >= cp ? 1 : used <= 0 ? 0 : used / cp;
        n++;
      }
      // x / 1 and x / 2 are exact, so x and x * 0.5 are the same numbers without a division.
      work[c] = n === 0 ? 0 : n === 1 ? sum : n === 2 ? sum * 0.5 : sum / n;
    }
    if (wCost !== 0) {
      let x = 0;
      for (let j = 0; j < nNeeded; j++) {
        const r = needed[j] ?? 0;
        x += (cost[at + r] ?? 0) * (need[r] ?? 0);
      }
      work[costAt + c] = x;
      if (x < min) min = x;
      if (x > max) max = x;
    }
    if (flagged[slot] !== 0) anyTaint = true;
    c++;
  }
  out[0] = d;
  sums.capSum = capSum;
  sums.spreadRoom = spreadRoom;
  sums.anyHeld = anyHeld;
  if (c === 0) return 0;
  // Untolerated PreferNoSchedule taints are rare: only then run the scorer itself.
  let taintTerms: Float64Array | null = null;
  if (wTaints !== 0 && anyTaint) {
    taintTerms = new Float64Array(c);
    taintsScorer.score(req, { count: c, slots }, snap, taintTerms);
  }
  const preference = req.spec.localityPreference;
  let depth: Uint8Array | null = null;
  if (wLoc !== 0 && preference !== undefined) {
    depth = depthMemo.get(preference) ?? null;
    if (depth === null) {
      depth = sharedDepths(snap, preference);
      depthMemo.set(preference, depth);
    }
  }
  const full = preference === undefined ? 1 : depthOf(preference);
  // The locality term per shared depth, (100 × depth) / full, computed once rather than per cloud.
  const locTerm: number[] = [];
  for (let dd = 0; dd <= full; dd++) locTerm.push((100 * dd) / full);
  // Pass 2: the weighted sum in registry order, the tie-break draw and the topology domain.
  const range = max - min;
  const base = cols.base;
  const tie = cols.tie;
  const domain = cols.domain;
  const zone = req.spec.spread.topology === 'zone';
  const zoneIds = snap.zoneIds;
  const tieKeys = snap.tieKeys;
  const seedHash = req.seedHash;
  for (let i = 0; i < c; i++) {
    const slot = slots[i] ?? 0;
    let b = 0;
    const util = work[i] ?? 0;
    if (wBin !== 0) b = b + wBin * (100 * util);
    if (wSpread !== 0) b = b + wSpread * (100 * (1 - util));
    if (wCost !== 0) b = b + wCost * (range > 0 ? (100 * (max - (work[costAt + i] ?? 0))) / range : 100);
    if (wLoc !== 0) {
      const dd = depth === null ? 0 : (depth[slot] ?? 0);
      b = b + wLoc * (depth === null ? 0 : (locTerm[dd] ?? (100 * dd) / full));
    }
    if (wTaints !== 0) b = b + wTaints * (taintTerms === null ? 100 : (taintTerms[i] ?? 0));
    base[i] = b;
    tie[i] = tieBreak(seedHash, tieKeys[slot] ?? 0);
    domain[i] = zone ? (zoneIds[slot] ?? 0) : i;
  }
  return c;
}
