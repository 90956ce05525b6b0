/**
 * PreferNoSchedule scorer: a cloud with `PreferNoSchedule` taints the workload does not tolerate
 * still passes the filters but loses 50 points per such taint.
 */
import type { Scorer } from '../framework.js';
import { tolerates } from '../filters/taints.js';

/** The PreferNoSchedule scorer: 100 − 50 × untolerated PreferNoSchedule taints, at least 0. */
export const taintsScorer: Scorer = Object.freeze({
  name: 'taints',
  score(req, candidates, snap, out) {
    const tolerations = req.spec.tolerations;
    const flagged = snap.preferTaints;
    const slots = candidates.slots;
    for (let i = 0; i < candidates.count; i++) {
      const slot = slots[i] ?? 0;
      if (flagged[slot] === 0) {
        out[i] = 100;
        continue;
      }
      const taints = snap.viewAt(slot)?.cloud.taints ?? [];
      let bad = 0;
      for (const taint of taints) if (taint.effect === 'PreferNoSchedule' && !tolerations.some((t) => tolerates(t, taint))) bad++;
      out[i] = Math.max(0, 100 - 50 * bad);
    }
  },
} satisfies Scorer);
