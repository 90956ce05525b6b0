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
    const slots = candidates.slots;
    const needed = req.needed;
    const need = req.need;
    const stride = R;
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < candidates.count; i++) {
      const at = (slots[i] ?? 0) * stride;
      let c = 0;
      for (let j = 0; j < needed.length; j++) {
        const r = needed[j] ?? 0;
        c += (cost[at + r] ?? 0) * (need[r] ?? 0);
      }
      out[i] = c;
      if (c < min) min = c;
      if (c > max) max = c;
    }
    const range = max - min;
    for (let i = 0; i < candidates.count; i++) out[i] = range > 0 ? (100 * (max - (out[i] ?? 0))) / range : 100;
  },
} satisfies Scorer);
