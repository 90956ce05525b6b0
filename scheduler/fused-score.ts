/**
 * The default scorers fused into one pass over the candidates: the same terms as `binpack`,
 * `spread`, `cost`, `locality` and `taints` (same formulas, same order of operations, summed in
 * registry order), without a function call and a pass per scorer. The engine uses it when it runs
 * the default scorer registry; a property test holds it bit-for-bit equal to the per-scorer path.
 */
import type { Candidates, PreparedRequest } from './framework.js';
import { sharedDepths } from './scorers/locality.js';
import { taintsScorer } from './scorers/taints.js';
import type { Snapshot } from './snapshot.js';
import { R } from './snapshot.js';
import type { Weights } from './weights.js';

/**
 * Writes into `base[0..count)` Σ weight × term over binpack, spread, cost, locality and taints
 * (the terms the division does not re-evaluate). `work` holds at least `2 × count` numbers.
 */
export function fusedBase(req: PreparedRequest, candidates: Candidates, snap: Snapshot, w: Weights, base: Float64Array, work: Float64Array): void {
  const count = candidates.count;
  const slots = candidates.slots;
  const free = snap.free;
  const capacity = snap.capacity;
  const cost = snap.cost;
  const flagged = snap.preferTaints;
  const needed = req.needed;
  const nNeeded = needed.length;
  const need = req.need;
  const heldBySlot = req.heldBySlot;
  const hasHeld = heldBySlot.size > 0;
  const stride = R;
  const wBin = w.binpack;
  const wSpread = w.spread;
  const wCost = w.cost;
  const wLoc = w.locality;
  const wTaints = w.taints;
  const preference = req.spec.localityPreference;
  const depth = wLoc !== 0 && preference !== undefined ? sharedDepths(snap, preference) : null;
  const full = preference === undefined ? 1 : depthOf(preference);
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let anyTaint = false;
  // Pass 1: utilisation (into `work[i]`), raw cost (into `work[count + i]`), min/max cost.
  for (let i = 0; i < count; i++) {
    const slot = slots[i] ?? 0;
    const at = slot * stride;
    if (wBin !== 0 || wSpread !== 0) {
      const held = hasHeld ? (heldBySlot.get(slot) ?? 0) : 0;
      let sum = 0;
      let n = 0;
      for (let j = 0; j < nNeeded; j++) {
        const r = needed[j] ?? 0;
        const cap = capacity[at + r] ?? 0;
        if (cap <= 0) continue;
        const nr = need[r] ?? 0;
        const used = cap - ((free[at + r] ?? 0) + held * nr) + nr;
        sum += used >= cap ? 1 : used <= 0 ? 0 : used / cap;
        n++;
      }
      work[i] = n === 0 ? 0 : sum / n;
    }
    if (wCost !== 0) {
      let c = 0;
      for (let j = 0; j < nNeeded; j++) {
        const r = needed[j] ?? 0;
        c += (cost[at + r] ?? 0) * (need[r] ?? 0);
      }
      work[count + i] = c;
      if (c < min) min = c;
      if (c > max) max = c;
    }
    if (flagged[slot] !== 0) anyTaint = true;
  }
  // Untolerated PreferNoSchedule taints are rare: only then run the scorer itself.
  let taintTerms: Float64Array | null = null;
  if (wTaints !== 0 && anyTaint) {
    taintTerms = new Float64Array(count);
    taintsScorer.score(req, candidates, snap, taintTerms);
  }
  // Pass 2: the weighted sum in registry order.
  const range = max - min;
  for (let i = 0; i < count; i++) {
    let b = 0;
    const util = work[i] ?? 0;
    if (wBin !== 0) b = b + wBin * (100 * util);
    if (wSpread !== 0) b = b + wSpread * (100 * (1 - util));
    if (wCost !== 0) b = b + wCost * (range > 0 ? (100 * (max - (work[count + i] ?? 0))) / range : 100);
    if (wLoc !== 0) b = b + wLoc * (depth === null ? 0 : (100 * (depth[slots[i] ?? 0] ?? 0)) / full);
    if (wTaints !== 0) b = b + wTaints * (taintTerms === null ? 100 : (taintTerms[i] ?? 0));
    base[i] = b;
  }
}

/** The number of segments of a locality path, without splitting it. */
function depthOf(path: string): number {
  let n = 1;
  for (let i = 0; i < path.length; i++) if (path.charCodeAt(i) === 47 /* '/' */) n++;
  return n;
}
