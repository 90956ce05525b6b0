/**
 * Tenant-quota filter: at least one replica must fit at every level of the tenant's lineage, in
 * the totals and in the per-tier limits of the CLOUD's tier, with the deployment's held replicas
 * credited back. The engine divides replicas against the same shared budget (see `split.ts`).
 */
import { formatAmount, RESOURCE_NAMES } from '../../domain/resources.js';
import type { Limits } from '../../domain/tenant.js';
import type { PreparedRequest } from '../framework.js';
import { replicasAdmitted, replicasOnRank } from '../prepare.js';
import { defineFilter } from './define.js';

/** Replicas the quota admits on a cloud of tier rank `rank`. */
export function quotaReplicas(req: PreparedRequest, rank: number): number {
  return replicasOnRank(req.quota.total, req.quota.byRank, rank);
}

/** Describes the tightest quota limit for a cloud of `tier` (rank `rank`): which tenant, which resource, how much is left. */
export function describeQuota(req: PreparedRequest, tier: string | null, rank: number): string {
  let best: { n: number; text: string } | null = null;
  const consider = (tenant: string, limits: Limits, held: number, scope: string): void => {
    for (const r of req.needed) {
      const name = RESOURCE_NAMES[r] ?? 'cpu';
      const limit = limits[name];
      if (limit === undefined) continue;
      const per = req.need[r] ?? 0;
      const left = limit + per * held;
      const n = replicasAdmitted({ [name]: limit }, req.demand, [r], held);
      if (best === null || n < best.n) {
        best = { n, text: `tenant ${tenant}: ${formatAmount(name, Math.max(0, left))} ${name} left${scope}, needs ${formatAmount(name, per)} per replica` };
      }
    }
  };
  for (const level of req.headroom) {
    consider(level.tenant, level.total, req.heldTotal, '');
    const limits = tier === null ? undefined : level.byTier[tier];
    if (limits !== undefined) consider(level.tenant, limits, req.heldByRank[rank] ?? 0, ` on ${tier ?? ''} clouds`);
  }
  const found = best as { n: number; text: string } | null;
  return found === null ? 'no quota limit applies' : found.text;
}

/** The tenant-quota filter. */
export const quotaFilter = defineFilter({
  name: 'quota',
  stage: 'dynamic',
  reasons: ['QUOTA_EXCEEDED'],
  // The verdict the quota plan computed once per tier rank (the hot paths read the same table).
  reason: (req, { tierRank }) => (req.quota.admitsOneByRank[tierRank + 1] === 0 ? 'QUOTA_EXCEEDED' : null),
  detail: (req, { cloud, tierRank }) => describeQuota(req, cloud.tier, tierRank),
});
