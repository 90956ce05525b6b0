/**
 * Cost scorer: favours the cloud where one replica is cheapest (Σ cost per unit × demand),
 * min–max normalised over the candidates: the cheapest scores 100, the dearest 0.
 */
import type { Scorer } from '../framework.js';
import { R } from '../snapshot.js';

/** The cost scorer. */
export const costScorer: Scorer = Object.freeze({
  name: 'cost',
  score(req, candidates, snap, out) {
    const cost = snap.cost;
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < candidates.count; i++) {
      const slot = candidates.slots[i] ?? 0;
      let c = 0;
      for (const r of req.needed) c += (cost[slot * R + r] ?? 0) * (req.need[r] ?? 0);
      out[i] = c;
      if (c < min) min = c;
      if (c > max) max = c;
    }
    const range = max - min;
    for (let i = 0; i < candidates.count; i++) out[i] = range > 0 ? (100 * (max - (out[i] ?? 0))) / range : 100;
  },
} satisfies Scorer);
