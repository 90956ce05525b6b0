/**
 * Candidates alike in everything the default scorers read, for the stored explanation's
 * shortlist. Two feasible clouds with the same free capacity, capacity and price of every
 * resource the request needs, the same shared depth with the locality preference, no
 * PreferNoSchedule taint and no replica of the deployment get the same term from every default
 * scorer (binpack, spread, cost, locality, topology, taints, sticky), so the same ranked total,
 * and rank among themselves by their tie-break draw, then candidate order. Of such a class only
 * the best `limit` by draw can be among the best `limit` of the ranking, however large the class
 * is: a homogeneous fleet (identical clusters, empty or filled alike) would otherwise make every
 * cloud a contender and its explanation cost grow with the fleet.
 */
import type { PreparedRequest } from './framework.js';
import { tieBreak } from './random.js';
import type { Snapshot } from './snapshot.js';
import { R } from './snapshot.js';

/** One class of alike candidates: its first member stands for it; the best `limit` members by draw, best first. */
interface AlikeClass {
  readonly first: number;
  readonly best: number[];
  readonly draws: number[];
}

/**
 * Of the candidates `indexes` (evaluation indexes, ascending; `slots[i]` is candidate `i`'s
 * slot), every one `always` holds and, of each class of alike candidates, the best `limit` by
 * tie-break draw (earlier candidate on equal draws), ascending. A tainted cloud, or one holding
 * replicas of the deployment, is a class of its own. `depth` is the shared locality depth per
 * slot, or null when the request has no preference.
 */
export function bestOfAlike(
  req: PreparedRequest,
  snap: Snapshot,
  slots: Int32Array,
  indexes: readonly number[],
  limit: number,
  depth: Uint8Array | null,
  always: (i: number) => boolean,
): number[] {
  const { free, capacity, cost, preferTaints, tieKeys } = snap;
  const needed = req.needed;
  const held = req.heldBySlot;
  const seedHash = req.seedHash;
  const alike = (a: number, b: number): boolean => {
    if (depth !== null && depth[a] !== depth[b]) return false;
    for (let j = 0; j < needed.length; j++) {
      const r = needed[j] ?? 0;
      const x = a * R + r;
      const y = b * R + r;
      if (free[x] !== free[y] || capacity[x] !== capacity[y] || cost[x] !== cost[y]) return false;
    }
    return true;
  };
  // Classes by a hash of their inputs; an exact comparison with each class's first member
  // decides, so a collision costs a comparison and never merges two classes. Alike candidates
  // tend to come in runs (clouds registered together), so the last class is tried first.
  const byHash = new Map<number, AlikeClass[]>();
  const out: number[] = [];
  let last: AlikeClass | null = null;
  for (const i of indexes) {
    const slot = slots[i] ?? 0;
    if (always(i) || preferTaints[slot] !== 0 || held.has(slot)) {
      out.push(i);
      continue;
    }
    let cls: AlikeClass | null = last !== null && alike(slots[last.first] ?? 0, slot) ? last : null;
    if (cls === null) {
      let h = depth === null ? 0 : (depth[slot] ?? 0);
      for (let j = 0; j < needed.length; j++) {
        const at = slot * R + (needed[j] ?? 0);
        h = Math.imul(h ^ ((free[at] ?? 0) | 0), 0x9e3779b1);
        h = Math.imul(h ^ ((capacity[at] ?? 0) | 0), 0x85ebca6b);
        h = Math.imul(h ^ (((cost[at] ?? 0) * 1e9) | 0), 0xc2b2ae35);
      }
      let bucket = byHash.get(h);
      if (bucket === undefined) {
        bucket = [];
        byHash.set(h, bucket);
      }
      for (const c of bucket) {
        if (alike(slots[c.first] ?? 0, slot)) {
          cls = c;
          break;
        }
      }
      if (cls === null) {
        cls = { first: i, best: [], draws: [] };
        bucket.push(cls);
      }
      last = cls;
    }
    // Keep the best `limit` by draw, best first; a later candidate loses an equal draw.
    const draw = tieBreak(seedHash, tieKeys[slot] ?? 0);
    const { best, draws } = cls;
    if (best.length === limit && !(draw > (draws[limit - 1] ?? 0))) continue;
    let at = best.length;
    while (at > 0 && draw > (draws[at - 1] ?? 0)) at--;
    best.splice(at, 0, i);
    draws.splice(at, 0, draw);
    if (best.length > limit) {
      best.pop();
      draws.pop();
    }
  }
  for (const bucket of byHash.values()) for (const c of bucket) out.push(...c.best);
  return out.sort((a, b) => a - b);
}
