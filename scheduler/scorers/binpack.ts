/**
 * Binpack scorer (Kubernetes' MostAllocated): favours the clouds that would be fullest after one
 * more replica, so large free blocks stay free for large workloads.
 */
import type { Scorer, PreparedRequest } from '../framework.js';
import type { Snapshot } from '../snapshot.js';
import { R } from '../snapshot.js';

/**
 * The utilisation of `slot` after one more replica, in [0, 1]: the mean over the requested
 * resources of (capacity − free + demand) / capacity, with held replicas credited back.
 */
export function utilisationAfter(req: PreparedRequest, snap: Snapshot, slot: number): number {
  const held = req.heldBySlot.size === 0 ? 0 : (req.heldBySlot.get(slot) ?? 0);
  const free = snap.free;
  const capacity = snap.capacity;
  const needed = req.needed;
  const at = slot * R;
  let sum = 0;
  let n = 0;
  for (let j = 0; j < needed.length; j++) {
    const r = needed[j] ?? 0;
    const cap = capacity[at + r] ?? 0;
    if (cap <= 0) continue;
    const need = req.need[r] ?? 0;
    const used = cap - ((free[at + r] ?? 0) + held * need) + need;
    sum += used >= cap ? 1 : used <= 0 ? 0 : used / cap;
    n++;
  }
  return n === 0 ? 0 : sum / n;
}

/** The binpack scorer: 100 × utilisation after one more replica. */
export const binpackScorer: Scorer = Object.freeze({
  name: 'binpack',
  score(req, candidates, snap, out) {
    const slots = candidates.slots;
    for (let i = 0; i < candidates.count; i++) out[i] = 100 * utilisationAfter(req, snap, slots[i] ?? 0);
  },
} satisfies Scorer);
