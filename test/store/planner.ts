/**
 * A small test-only planner (the store takes any {@link Planner}): first fit over Ready clouds in
 * id order, honouring capacity, minimum tier and the tenant lineage's headroom (total and per tier),
 * crediting the slices the deployment already holds. Rejections carry the scheduler's reason codes
 * so the store's QUOTA_EXCEEDED / UNSCHEDULABLE classification is exercised.
 */
import type { Cloud } from '../../domain/cloud.js';
import type { DeploymentSpec, PlacementSlice } from '../../domain/deployment.js';
import { demandPerReplica } from '../../domain/deployment.js';
import type { ResourceName, Resources } from '../../domain/resources.js';
import { add, RESOURCE_NAMES, scale, subtract, unitsThatFit, ZERO } from '../../domain/resources.js';
import { MLPS, Tiers } from '../../domain/tiers.js';
import type { Decision, Rejection } from '../../scheduler/decision.js';
import type { ReasonCode } from '../../scheduler/reasons.js';
import type { PlanningState, Planner } from '../../store/store.js';

const tiers = new Tiers(MLPS);

function roomUnits(per: Resources, room: Partial<Record<ResourceName, number>>): number {
  let n = Number.POSITIVE_INFINITY;
  for (const r of RESOURCE_NAMES) {
    const limit = room[r];
    if (per[r] > 0 && limit !== undefined) n = Math.min(n, Math.floor(Math.max(0, limit) / per[r]));
  }
  return n;
}

/** Options of {@link firstFit}. */
export interface FirstFitOptions {
  /** Only these clouds are candidates (others are rejected as not ready). */
  readonly only?: (cloud: Cloud) => boolean;
  /** Candidate order; default by id. */
  readonly order?: (clouds: readonly Cloud[]) => readonly Cloud[];
}

/** A first-fit planner. */
export function firstFit(options: FirstFitOptions = {}): Planner {
  return (spec: DeploymentSpec, state: PlanningState, current: readonly PlacementSlice[]): Decision => {
    const per = demandPerReplica(spec);
    const held = new Map(current.map((s) => [s.cloudId, s.replicas]));
    const byId = new Map(state.clouds.map((c) => [c.id, c]));
    // Credit what the deployment already holds back to the quota headroom, in total and per tier.
    let creditTotal: Resources = ZERO;
    const creditTier = new Map<string, Resources>();
    for (const s of current) {
      const r = scale(per, s.replicas);
      creditTotal = add(creditTotal, r);
      const tier = byId.get(s.cloudId)?.tier ?? '';
      creditTier.set(tier, add(creditTier.get(tier) ?? ZERO, r));
    }
    const totalRoom: Partial<Record<ResourceName, number>> = {};
    const tierRoom = new Map<string, Partial<Record<ResourceName, number>>>();
    for (const h of state.headroom) {
      for (const r of RESOURCE_NAMES) {
        const v = h.total[r];
        if (v !== undefined) totalRoom[r] = Math.min(totalRoom[r] ?? Number.POSITIVE_INFINITY, v + creditTotal[r]);
      }
      for (const [tier, limits] of Object.entries(h.byTier)) {
        const room = tierRoom.get(tier) ?? {};
        for (const r of RESOURCE_NAMES) {
          const v = limits[r];
          if (v !== undefined) room[r] = Math.min(room[r] ?? Number.POSITIVE_INFINITY, v + (creditTier.get(tier)?.[r] ?? 0));
        }
        tierRoom.set(tier, room);
      }
    }
    const rejected: Rejection[] = [];
    const reject = (cloudId: string, reason: ReasonCode, detail: string): void => {
      rejected.push({ cloudId, filter: 'test', reason, detail });
    };
    const candidates: { cloud: Cloud; cap: number }[] = [];
    const ordered = options.order ? options.order(state.clouds) : state.clouds;
    for (const c of ordered) {
      if (c.condition !== 'Ready' || (options.only !== undefined && !options.only(c))) {
        reject(c.id, 'NOT_READY', `${c.id} is ${c.condition}`);
        continue;
      }
      if (!tiers.hosts(c.tier, spec.minTier, c.tierExclusive)) {
        reject(c.id, 'BELOW_TIER', `${c.id} is ${c.tier}`);
        continue;
      }
      const free = add(subtract(c.capacity, c.allocated), scale(per, held.get(c.id) ?? 0));
      const cap = unitsThatFit(per, free);
      if (cap < 1) {
        reject(c.id, 'INSUFFICIENT_CPU', `${c.id} is full`);
        continue;
      }
      if (Math.min(roomUnits(per, totalRoom), roomUnits(per, tierRoom.get(c.tier) ?? {})) < 1) {
        reject(c.id, 'QUOTA_EXCEEDED', 'over tenant quota');
        continue;
      }
      candidates.push({ cloud: c, cap });
    }
    let left = spec.replicas;
    let quotaBound = false;
    const assignments: PlacementSlice[] = [];
    let demand: Resources = ZERO;
    for (const { cloud, cap } of candidates) {
      if (left === 0) break;
      const q = Math.min(roomUnits(per, totalRoom), roomUnits(per, tierRoom.get(cloud.tier) ?? {}));
      const n = Math.min(left, cap, q);
      if (q < Math.min(left, cap)) quotaBound = true;
      if (n <= 0) continue;
      const use = scale(per, n);
      for (const r of RESOURCE_NAMES) {
        const t = totalRoom[r];
        if (t !== undefined) totalRoom[r] = t - use[r];
        const room = tierRoom.get(cloud.tier);
        const v = room?.[r];
        if (room !== undefined && v !== undefined) room[r] = v - use[r];
      }
      assignments.push({ cloudId: cloud.id, replicas: n });
      demand = add(demand, use);
      left -= n;
    }
    const reasonCounts: Partial<Record<ReasonCode, number>> = {};
    for (const r of rejected) reasonCounts[r.reason] = (reasonCounts[r.reason] ?? 0) + 1;
    const ok = left === 0;
    const failure: Decision['failure'] = ok ? null : { reason: quotaBound ? 'QUOTA_EXCEEDED' : 'INSUFFICIENT_TOTAL_CAPACITY', detail: `${spec.replicas - left}/${spec.replicas} replicas fit` };
    const counted = Object.entries(reasonCounts)
      .map(([k, v]) => `${v} ${k}`)
      .join(', ');
    return {
      ok,
      assignments: ok ? assignments : [],
      ranked: candidates.map((c) => ({ cloudId: c.cloud.id, total: 50, terms: [], maxReplicas: c.cap })),
      rejected,
      reasonCounts,
      failure,
      summary: `${candidates.length}/${state.clouds.length} clouds available${counted === '' ? '' : `: ${counted}`}${ok ? '' : `; ${failure?.detail ?? ''}`}`,
      demand: ok ? demand : ZERO,
      considered: state.clouds.length,
    };
  };
}
