/**
 * Tier filter: a cloud hosts workloads at or below its certified tier; an exclusive cloud hosts
 * only workloads whose minimum tier is exactly its own.
 */
import { REASON_ID } from '../reasons.js';
import { defineFilter } from './define.js';

/** The tier filter. Bulk form: walks the tier-rank buckets below the minimum (and the exclusive ones above it). */
export const tierFilter = defineFilter({
  name: 'tier',
  stage: 'static',
  reasons: ['BELOW_TIER', 'TIER_EXCLUSIVE'],
  reason: (req, cloud) => {
    if (cloud.tierRank < req.minRank) return 'BELOW_TIER';
    if (cloud.cloud.tierExclusive && cloud.tierRank !== req.minRank) return 'TIER_EXCLUSIVE';
    return null;
  },
  detail: (req, { cloud }, _snap, reason) =>
    reason === 'BELOW_TIER'
      ? `certified ${cloud.tier}, needs at least ${req.spec.minTier}`
      : `exclusive to ${cloud.tier} workloads, this one needs ${req.spec.minTier}`,
  bulk: (req, snap, out) => {
    const below = REASON_ID.BELOW_TIER;
    const exclusive = REASON_ID.TIER_EXCLUSIVE;
    const levels = snap.tiers.scale.levels.length;
    for (let rank = -1; rank < Math.min(req.minRank, levels); rank++) for (const slot of snap.slotsAtTierRank(rank)) out[slot] = below;
    for (let rank = req.minRank + 1; rank < levels; rank++) {
      for (const slot of snap.slotsAtTierRank(rank)) if (snap.viewAt(slot)?.cloud.tierExclusive === true) out[slot] = exclusive;
    }
  },
});
