/**
 * Domain values to the shapes of the GraphQL schema: records to lists, decisions to explanations,
 * and the fleet summary and quota previews computed from store state. Pure functions.
 */
import type { Cloud } from '../domain/cloud.js';
import type { DeploymentSpec } from '../domain/deployment.js';
import { demandPerReplica } from '../domain/deployment.js';
import { RESOURCE_NAMES, ZERO, add, scale, subtract } from '../domain/resources.js';
import type { Resources } from '../domain/resources.js';
import type { Headroom, Limits, Quota, Tenant } from '../domain/tenant.js';
import type { Decision } from '../scheduler/decision.js';
import type { PlacementRecord } from '../store/store.js';

const INT_MAX = 2_147_483_647;

/** A {@link Limits} with every resource present (null: unlimited). */
export function limitsView(l: Limits): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const r of RESOURCE_NAMES) out[r] = l[r] ?? null;
  return out;
}

/** A quota with per-tier limits as a list. */
export function quotaView(q: Quota): { total: Record<string, number | null>; byTier: { tier: string; limits: Record<string, number | null> }[] } {
  return { total: limitsView(q.total), byTier: Object.entries(q.byTier).map(([tier, limits]) => ({ tier, limits: limitsView(limits) })) };
}

/**
 * The explanation of a decision in GraphQL shape. Every field is a getter, so nothing is built
 * for a field a client does not select, and the scheduler materialises the ranking and the
 * rejections only when one does. (Getters, not function-valued fields: graphql-js calls those,
 * but graphql-jit, which runs a document from its second execution on, reads them as they are.)
 */
class ExplanationView {
  constructor(private readonly d: Decision) {}
  get ok(): boolean {
    return this.d.ok;
  }
  get considered(): number {
    return this.d.considered;
  }
  get assignments(): Decision['assignments'] {
    return this.d.assignments;
  }
  get reasonCounts(): { reason: string; count: number }[] {
    return Object.entries(this.d.reasonCounts).map(([reason, count]) => ({ reason, count }));
  }
  get failure(): Decision['failure'] {
    return this.d.failure;
  }
  get demand(): Decision['demand'] {
    return this.d.demand;
  }
  get omitted(): Decision['omitted'] | null {
    return this.d.omitted ?? null;
  }
  get summary(): string {
    return this.d.summary;
  }
  get ranked(): Record<string, unknown>[] {
    return rankedView(this.d);
  }
  get rejected(): Decision['rejected'] {
    return this.d.rejected;
  }
}

/** The explanation of a decision in GraphQL shape (see {@link ExplanationView}). */
export function explanationView(d: Decision): object {
  return new ExplanationView(d);
}

/** The explanation's fields: the getters of {@link ExplanationView}. */
const EXPLANATION_FIELDS = Object.getOwnPropertyNames(ExplanationView.prototype).filter((k) => k !== 'constructor');

/** The explanation as plain data, every field read, for error extensions (which are serialised as JSON, not resolved). */
export function explanationData(d: Decision): Record<string, unknown> {
  const view = new ExplanationView(d) as unknown as Record<string, unknown>;
  return Object.fromEntries(EXPLANATION_FIELDS.map((k) => [k, view[k]]));
}

function rankedView(d: Decision): Record<string, unknown>[] {
  return d.ranked.map((r) => ({ ...r, maxReplicas: Number.isFinite(r.maxReplicas) ? Math.min(r.maxReplicas, INT_MAX) : INT_MAX }));
}

/** A stored placement in GraphQL shape; its explanation is built only when selected. */
class PlacementView {
  readonly generation: number;
  readonly slices: PlacementRecord['slices'];
  readonly cause: string;
  readonly decidedAt: string;
  constructor(private readonly p: PlacementRecord) {
    this.generation = p.generation;
    this.slices = p.slices;
    this.cause = p.cause;
    this.decidedAt = p.decidedAt;
  }
  get explanation(): object {
    return explanationView(this.p.decision);
  }
}

/** A stored placement in GraphQL shape (see {@link PlacementView}). */
export function placementView(p: PlacementRecord): object {
  return new PlacementView(p);
}

/** A tenant in GraphQL shape (children resolve lazily). */
export function tenantView(t: Tenant): Record<string, unknown> {
  const i = t.path.lastIndexOf('/');
  return {
    path: t.path,
    displayName: t.displayName,
    parent: i < 0 ? null : t.path.slice(0, i),
    quota: quotaView(t.quota),
    usage: t.usage,
    usageByTier: Object.entries(t.usageByTier).map(([tier, usage]) => ({ tier, usage })),
    version: t.version,
  };
}

/** A cloud in GraphQL shape; connection settings (credentials) are never returned. */
export function cloudView(c: Cloud): Record<string, unknown> {
  return {
    id: c.id,
    kind: c.kind,
    locality: c.locality,
    zone: c.zone,
    tier: c.tier,
    tierExclusive: c.tierExclusive,
    attributes: { ...c.attributes, labels: Object.entries(c.attributes.labels).map(([key, value]) => ({ key, value })) },
    taints: c.taints,
    capacity: c.capacity,
    allocated: c.allocated,
    free: subtract(c.capacity, c.allocated),
    costPerUnit: c.costPerUnit,
    condition: c.condition,
    version: c.version,
  };
}

interface Bucket {
  clouds: number;
  capacity: Resources;
  allocated: Resources;
  headroom: Resources;
}

function emptyBucket(): Bucket {
  return { clouds: 0, capacity: ZERO, allocated: ZERO, headroom: ZERO };
}

function addTo(b: Bucket, c: Cloud): void {
  b.clouds++;
  b.capacity = add(b.capacity, c.capacity);
  b.allocated = add(b.allocated, c.allocated);
  // Headroom counts only clouds that take new work.
  if (c.condition === 'Ready') {
    const free = subtract(c.capacity, c.allocated);
    b.headroom = add(b.headroom, { cpu: Math.max(0, free.cpu), memory: Math.max(0, free.memory), gpu: Math.max(0, free.gpu), instances: Math.max(0, free.instances) });
  }
}

/** The province of a locality: its first two segments (`cn/gd/sz` → `cn/gd`). */
export function provinceOf(locality: string): string {
  return locality.split('/').slice(0, 2).join('/');
}

/** Capacity, allocation and headroom of the fleet, in total, by tier (in scale order) and by province. */
export function fleetSummaryView(clouds: readonly Cloud[], tierOrder: readonly string[]): Record<string, unknown> {
  const totals = emptyBucket();
  const byTier = new Map<string, Bucket>();
  const byProvince = new Map<string, Bucket>();
  const conditions = new Map<string, number>();
  for (const c of clouds) {
    addTo(totals, c);
    let t = byTier.get(c.tier);
    if (t === undefined) byTier.set(c.tier, (t = emptyBucket()));
    addTo(t, c);
    const key = provinceOf(c.locality);
    let p = byProvince.get(key);
    if (p === undefined) byProvince.set(key, (p = emptyBucket()));
    addTo(p, c);
    conditions.set(c.condition, (conditions.get(c.condition) ?? 0) + 1);
  }
  const res = (b: Bucket): Record<string, unknown> => ({ capacity: b.capacity, allocated: b.allocated, headroom: b.headroom });
  const rank = (t: string): number => {
    const i = tierOrder.indexOf(t);
    return i < 0 ? tierOrder.length : i;
  };
  return {
    clouds: totals.clouds,
    totals: res(totals),
    byTier: [...byTier.entries()].sort((a, b) => rank(a[0]) - rank(b[0])).map(([tier, b]) => ({ tier, clouds: b.clouds, resources: res(b) })),
    byProvince: [...byProvince.entries()].sort((a, b) => a[0].localeCompare(b[0])).map(([province, b]) => ({ province, clouds: b.clouds, resources: res(b) })),
    conditions: [...conditions.entries()].sort((a, b) => a[0].localeCompare(b[0])).map(([condition, n]) => ({ condition, clouds: n })),
  };
}

/**
 * What a decision would use of each ancestor's quota: the total limit, the headroom before, the
 * request, and the headroom after; `fits` also checks per-tier limits against the tier of each
 * chosen cloud.
 */
export function quotaUseView(spec: DeploymentSpec, decision: Decision, lineage: readonly Headroom[], tenants: ReadonlyMap<string, Tenant>, clouds: ReadonlyMap<string, Cloud>): Record<string, unknown>[] {
  const per = demandPerReplica(spec);
  const request = decision.ok ? decision.demand : scale(per, spec.replicas);
  const byTier = new Map<string, Resources>();
  for (const a of decision.assignments) {
    const tier = clouds.get(a.cloudId)?.tier;
    if (tier === undefined) continue;
    byTier.set(tier, add(byTier.get(tier) ?? ZERO, scale(per, a.replicas)));
  }
  return lineage.map((h) => {
    const after: Record<string, number | null> = {};
    let fits = true;
    for (const r of RESOURCE_NAMES) {
      const room = h.total[r];
      if (room === undefined) after[r] = null;
      else {
        after[r] = room - request[r];
        if (request[r] > 0 && room - request[r] < 0) fits = false;
      }
    }
    for (const [tier, used] of byTier) {
      const lim = h.byTier[tier];
      if (lim === undefined) continue;
      for (const r of RESOURCE_NAMES) {
        const room = lim[r];
        if (room !== undefined && used[r] > 0 && room - used[r] < 0) fits = false;
      }
    }
    return {
      tenant: h.tenant,
      limit: limitsView(tenants.get(h.tenant)?.quota.total ?? {}),
      headroom: limitsView(h.total),
      request,
      after,
      fits,
    };
  });
}
