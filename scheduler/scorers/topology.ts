/**
 * Topology-spread scorer: favours clouds (or zones, under `topology: zone`) holding fewer of this
 * decision's replicas. Before division every domain holds none, so every candidate ranks 100; the
 * replica division (`split.ts`) re-evaluates the term as each replica lands, which is what makes
 * the `spread` strategy spread.
 */
import type { Scorer } from '../framework.js';

/** The topology score of a domain already holding `inDomain` of `replicas`: 100 for none, 0 for all. */
export function topologyScore(inDomain: number, replicas: number): number {
  return replicas <= 0 ? 100 : 100 * Math.max(0, 1 - inDomain / replicas);
}

/** The topology-spread scorer, as ranked before division. */
export const topologyScorer: Scorer = Object.freeze({
  name: 'topology',
  score(req, candidates, _snap, out) {
    out.fill(topologyScore(0, req.replicas), 0, candidates.count);
  },
} satisfies Scorer);
