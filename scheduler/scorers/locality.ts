/**
 * Locality-preference scorer: favours clouds sharing more leading segments with the spec's
 * `localityPreference` — same district > same city > same province > same country. Without a
 * preference every cloud scores 0 (no term).
 */
import type { Scorer } from '../framework.js';
import { prefixesOf } from '../../domain/locality.js';
import type { Snapshot } from '../snapshot.js';

/** The shared depth of every slot with `preference`, from the locality-prefix buckets (memoised per snapshot lineage). */
export function sharedDepths(snap: Snapshot, preference: string): Uint8Array {
  return snap.memo(`locality:${preference}`, () => {
    const depth = new Uint8Array(snap.slotCount);
    const prefixes = prefixesOf(preference);
    for (let d = 0; d < prefixes.length; d++) for (const slot of snap.slotsWithin(prefixes[d] ?? '')) depth[slot] = d + 1;
    return depth;
  });
}

/** The locality-preference scorer: 100 × shared depth / depth of the preference. */
export const localityScorer: Scorer = Object.freeze({
  name: 'locality',
  score(req, candidates, snap, out) {
    const preference = req.spec.localityPreference;
    if (preference === undefined) {
      out.fill(0, 0, candidates.count);
      return;
    }
    const depth = sharedDepths(snap, preference);
    const full = prefixesOf(preference).length;
    for (let i = 0; i < candidates.count; i++) out[i] = (100 * (depth[candidates.slots[i] ?? 0] ?? 0)) / full;
  },
} satisfies Scorer);
