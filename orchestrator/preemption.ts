/**
 * Preemption: which lower-priority slices a higher-priority deployment that cannot fit may evict.
 *
 * Pure: given the preemptor, the candidate victims and the planning state, it asks the planner
 * "would the preemptor fit if these were gone?" on a what-if state (their allocation released on
 * their clouds, their usage credited back to every quota node they share with the preemptor).
 * Candidates are tried lowest priority first (newest first among equals) until the preemptor fits,
 * then every chosen victim that turns out unnecessary is spared again, so no more is evicted than
 * the plan needs. Only deployments of strictly lower priority, under the same quota ancestor
 * (see {@link quotaAncestor}), are ever candidates.
 *
 * @packageDocumentation
 */
import type { Cloud } from '../domain/cloud.js';
import type { Deployment } from '../domain/deployment.js';
import { demandPerReplica } from '../domain/deployment.js';
import type { ResourceName, Resources } from '../domain/resources.js';
import { add, RESOURCE_NAMES, scale, subtract, ZERO } from '../domain/resources.js';
import type { Headroom, Limits, Tenant, TenantPath } from '../domain/tenant.js';
import { isWithinTenant, tenantLineage } from '../domain/tenant.js';
import type { Decision } from '../scheduler/decision.js';
import type { Planner, PlanningState } from '../store/store.js';

/** What {@link choosePreemption} found: the victims and the decision the preemptor would get. */
export interface Preemption {
  readonly victims: readonly Deployment[];
  readonly decision: Decision;
}

/**
 * The subtree preemption stays within: the highest ancestor of `tenant` (itself included) that
 * carries a quota, or its root when none does. Tenants under it share the quota that binds.
 */
export function quotaAncestor(tenant: TenantPath, lineage: readonly Pick<Tenant, 'path' | 'quota'>[]): TenantPath {
  for (const t of lineage) {
    if (Object.keys(t.quota.total).length > 0 || Object.keys(t.quota.byTier).length > 0) return t.path;
  }
  return tenantLineage(tenant)[0] ?? tenant;
}

/** True when `victim` may be preempted by `preemptor`. */
export function mayPreempt(preemptor: Deployment, victim: Deployment, ancestor: TenantPath): boolean {
  return (
    victim.id !== preemptor.id &&
    victim.spec.priority < preemptor.spec.priority &&
    victim.phase !== 'Deleting' &&
    victim.slices.length > 0 &&
    isWithinTenant(victim.tenant, ancestor)
  );
}

function credit(limits: Limits, amount: Resources): Limits {
  const out: Partial<Record<ResourceName, number>> = {};
  for (const r of RESOURCE_NAMES) {
    const v = limits[r];
    if (v !== undefined) out[r] = v + amount[r];
  }
  return out;
}

/** The planning state with `victims` gone. */
export function withoutVictims(state: PlanningState, victims: readonly Deployment[]): PlanningState {
  const freed = new Map<string, Resources>();
  const tierOf = new Map(state.clouds.map((c) => [c.id, c.tier]));
  let headroom: Headroom[] = [...state.headroom];
  for (const v of victims) {
    const per = demandPerReplica(v.spec);
    for (const s of v.slices) {
      const amount = scale(per, s.replicas);
      freed.set(s.cloudId, add(freed.get(s.cloudId) ?? ZERO, amount));
      const tier = tierOf.get(s.cloudId) ?? '';
      headroom = headroom.map((h) => {
        if (!isWithinTenant(v.tenant, h.tenant)) return h;
        const byTier = h.byTier[tier] === undefined ? h.byTier : { ...h.byTier, [tier]: credit(h.byTier[tier] ?? {}, amount) };
        return { tenant: h.tenant, total: credit(h.total, amount), byTier };
      });
    }
  }
  const clouds: Cloud[] = state.clouds.map((c) => {
    const f = freed.get(c.id);
    return f === undefined ? c : { ...c, allocated: subtract(c.allocated, f) };
  });
  return { clouds, headroom };
}

/**
 * The fewest-effort set of victims that lets `preemptor` fit, or null when even evicting every
 * candidate would not. `candidates` must already satisfy {@link mayPreempt}.
 */
export function choosePreemption(preemptor: Deployment, candidates: readonly Deployment[], state: PlanningState, plan: Planner): Preemption | null {
  const order = [...candidates].sort((a, b) => a.spec.priority - b.spec.priority || (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
  const chosen: Deployment[] = [];
  let decision: Decision | null = null;
  for (const c of order) {
    chosen.push(c);
    const d = plan(preemptor.spec, withoutVictims(state, chosen), preemptor.slices);
    if (d.ok) {
      decision = d;
      break;
    }
  }
  if (decision === null) return null;
  // Spare whoever was not needed after all, highest priority first.
  for (const v of [...chosen].reverse()) {
    if (chosen.length === 1) break;
    const rest = chosen.filter((x) => x !== v);
    const d = plan(preemptor.spec, withoutVictims(state, rest), preemptor.slices);
    if (d.ok) {
      chosen.splice(chosen.indexOf(v), 1);
      decision = d;
    }
  }
  return { victims: chosen, decision };
}

/** The planner a victim is "re-placed" with: it always fails, with the preemption as the explanation. */
export function evictionPlanner(preemptor: Deployment): Planner {
  const summary = `preempted by ${preemptor.tenant}/${preemptor.name} (priority ${preemptor.spec.priority})`;
  return () => ({
    ok: false,
    assignments: [],
    ranked: [],
    rejected: [],
    reasonCounts: {},
    failure: null,
    summary,
    demand: ZERO,
    considered: 0,
  });
}
