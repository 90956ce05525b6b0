/**
 * Residency filter: with a residency list, a cloud must lie inside one of the listed locality
 * subtrees, by whole segments (`cn/gd` admits `cn/gd/sz/nanshan`, not `cn/gdx`). An empty list
 * admits every cloud.
 */
import { isWithin } from '../../domain/locality.js';
import { REASON_ID } from '../reasons.js';
import { defineFilter } from './define.js';

/** The residency filter. Bulk form: set arithmetic over the locality-prefix buckets. */
export const residencyFilter = defineFilter({
  name: 'residency',
  stage: 'static',
  reasons: ['OUTSIDE_RESIDENCY'],
  reason: (req, { cloud }) => {
    const residency = req.spec.residency;
    if (residency.length === 0) return null;
    for (const prefix of residency) if (isWithin(cloud.locality, prefix)) return null;
    return 'OUTSIDE_RESIDENCY';
  },
  detail: (req, { cloud }) => `located in ${cloud.locality}, outside residency ${req.spec.residency.join(', ')}`,
  bulk: (req, snap, out) => {
    const residency = req.spec.residency;
    if (residency.length === 0) return;
    const inside = new Uint8Array(snap.slotCount);
    for (const prefix of residency) for (const slot of snap.slotsWithin(prefix)) inside[slot] = 1;
    const id = REASON_ID.OUTSIDE_RESIDENCY;
    for (let slot = 0; slot < inside.length; slot++) if (inside[slot] === 0 && snap.viewAt(slot) !== undefined) out[slot] = id;
  },
});
