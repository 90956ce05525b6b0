/**
 * Stickiness scorer: favours clouds where the deployment already holds replicas, so a scale or a
 * failover re-plan does not move replicas that can stay. The division applies it only to as many
 * replicas as the cloud already holds; new replicas are placed on their merits.
 */
import type { Scorer } from '../framework.js';

/** The stickiness scorer: 100 where the deployment holds replicas, 0 elsewhere. */
export const stickyScorer: Scorer = Object.freeze({
  name: 'sticky',
  score(req, candidates, _snap, out) {
    for (let i = 0; i < candidates.count; i++) out[i] = req.heldBySlot.size > 0 && req.heldBySlot.has(candidates.slots[i] ?? -1) ? 100 : 0;
  },
} satisfies Scorer);
