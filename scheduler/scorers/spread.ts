/**
 * Spread scorer (Kubernetes' LeastAllocated): favours the emptiest clouds, evening out load.
 */
import type { Scorer } from '../framework.js';
import { utilisationAfter } from './binpack.js';

/** The spread scorer: 100 × (1 − utilisation after one more replica). */
export const spreadScorer: Scorer = Object.freeze({
  name: 'spread',
  score(req, candidates, snap, out) {
    for (let i = 0; i < candidates.count; i++) out[i] = 100 * (1 - utilisationAfter(req, snap, candidates.slots[i] ?? 0));
  },
} satisfies Scorer);
