/**
 * Quota and capacity arithmetic, shared by both engines: what a set of slices consumes, how a
 * reservation changes a tenant lineage and a cloud, whether it fits, the headroom a planner sees,
 * and the ledger recomputed from placements.
 *
 * Usage is materialised at every tenant node (own + descendants'), in total and per cloud tier;
 * a slice remembers the tier its cloud had when it was placed, so re-certifying a cloud does not
 * make the per-tier ledger drift.
 */
import type { Cloud } from '../domain/cloud.js';
import type { DeploymentSpec } from '../domain/deployment.js';
import { demandPerReplica } from '../domain/deployment.js';
import { TianshuError } from '../domain/errors.js';
import type { ResourceName, Resources } from '../domain/resources.js';
import { add, formatAmount, isZero, RESOURCE_NAMES, scale, subtract, ZERO } from '../domain/resources.js';
import type { Headroom, Limits, Quota, Tenant } from '../domain/tenant.js';
import { isWithinTenant, tenantLineage } from '../domain/tenant.js';
import type { LedgerDrift } from './store.js';

/** One slice as stored: replicas on a cloud, and the tier that cloud had when the slice was placed. */
export interface SliceRecord {
  readonly cloudId: string;
  readonly replicas: number;
  readonly tier: string;
}

/** Usage in total and per cloud tier. */
export interface Usage {
  readonly total: Resources;
  readonly byTier: Readonly<Record<string, Resources>>;
}

/** No usage. */
export const NO_USAGE: Usage = Object.freeze({ total: ZERO, byTier: Object.freeze({}) });

function addByTier(a: Readonly<Record<string, Resources>>, b: Readonly<Record<string, Resources>>, sign: 1 | -1): Record<string, Resources> {
  // Copied key by key: V8 copies a spread of these small records on its slow path.
  const out: Record<string, Resources> = {};
  for (const tier of Object.keys(a)) out[tier] = a[tier] as Resources;
  for (const tier of Object.keys(b)) {
    const r = b[tier] as Resources;
    const next = sign === 1 ? add(out[tier] ?? ZERO, r) : subtract(out[tier] ?? ZERO, r);
    if (isZero(next)) delete out[tier];
    else out[tier] = next;
  }
  return out;
}

/** What `slices` of a deployment with `spec` consume. */
export function usageOf(spec: Pick<DeploymentSpec, 'resources' | 'workload'>, slices: readonly SliceRecord[]): Usage {
  if (slices.length === 0) return NO_USAGE;
  const per = demandPerReplica(spec);
  let total: Resources = ZERO;
  const byTier: Record<string, Resources> = {};
  for (const s of slices) {
    const r = scale(per, s.replicas);
    total = add(total, r);
    byTier[s.tier] = add(byTier[s.tier] ?? ZERO, r);
  }
  for (const t of Object.keys(byTier)) if (isZero(byTier[t] ?? ZERO)) delete byTier[t];
  return { total, byTier };
}

/** `b − a`. */
export function usageDelta(a: Usage, b: Usage): Usage {
  // From nothing (an admission): the delta is the new usage itself.
  if (a === NO_USAGE) return b;
  return { total: subtract(b.total, a.total), byTier: addByTier(b.byTier, a.byTier, -1) };
}

/** `a + b`. */
export function addUsage(a: Usage, b: Usage): Usage {
  return { total: add(a.total, b.total), byTier: addByTier(a.byTier, b.byTier, 1) };
}

/** The change of allocation per cloud when a deployment moves from `before` to `after` slices. */
export function cloudDeltas(spec: Pick<DeploymentSpec, 'resources' | 'workload'>, before: readonly SliceRecord[], after: readonly SliceRecord[]): Map<string, Resources> {
  const per = demandPerReplica(spec);
  const out = new Map<string, Resources>();
  for (const s of before) out.set(s.cloudId, subtract(out.get(s.cloudId) ?? ZERO, scale(per, s.replicas)));
  for (const s of after) out.set(s.cloudId, add(out.get(s.cloudId) ?? ZERO, scale(per, s.replicas)));
  for (const [id, r] of out) if (isZero(r)) out.delete(id);
  return out;
}

/**
 * The change of allocation per cloud when a deployment moves from `before` slices of `beforeSpec`
 * to `after` slices of `afterSpec` (entries may be zero). One map, built in one pass: this runs
 * on every admission.
 */
export function allocationDeltas(
  beforeSpec: Pick<DeploymentSpec, 'resources' | 'workload'>,
  before: readonly SliceRecord[],
  afterSpec: Pick<DeploymentSpec, 'resources' | 'workload'>,
  after: readonly SliceRecord[],
): Map<string, Resources> {
  const out = new Map<string, Resources>();
  if (before.length > 0) {
    const per = demandPerReplica(beforeSpec);
    for (const s of before) out.set(s.cloudId, subtract(out.get(s.cloudId) ?? ZERO, scale(per, s.replicas)));
  }
  if (after.length > 0) {
    const per = demandPerReplica(afterSpec);
    for (const s of after) out.set(s.cloudId, add(out.get(s.cloudId) ?? ZERO, scale(per, s.replicas)));
  }
  return out;
}

/**
 * Every field of a {@link Tenant}: {@link withUsage} builds the next tenant field by field (a spread
 * of the tenant is copied on V8's slow path, twice per admission), and this fails to compile the
 * day a field is added to Tenant and not copied there.
 */
const TENANT_FIELDS = { path: true, displayName: true, quota: true, usage: true, usageByTier: true, version: true } as const satisfies Record<keyof Tenant, true>;
void TENANT_FIELDS;

/** Every field of a {@link Cloud}, for the same reason and with the same guard as {@link TENANT_FIELDS}. */
const CLOUD_FIELDS = {
  id: true,
  kind: true,
  locality: true,
  zone: true,
  tier: true,
  tierExclusive: true,
  attributes: true,
  taints: true,
  capacity: true,
  allocated: true,
  costPerUnit: true,
  condition: true,
  connection: true,
  version: true,
} as const satisfies Record<keyof Cloud, true>;
void CLOUD_FIELDS;

/** The cloud with `delta` added to its allocation, at `version`. */
export function withAllocation(c: Cloud, delta: Resources, version: number): Cloud {
  return {
    id: c.id,
    kind: c.kind,
    locality: c.locality,
    zone: c.zone,
    tier: c.tier,
    tierExclusive: c.tierExclusive,
    attributes: c.attributes,
    taints: c.taints,
    capacity: c.capacity,
    allocated: add(c.allocated, delta),
    costPerUnit: c.costPerUnit,
    condition: c.condition,
    connection: c.connection,
    version,
  };
}

/** The tenant with `delta` added to its usage, at `version` (unchanged unless given). */
export function withUsage(t: Tenant, delta: Usage, version: number = t.version): Tenant {
  return { path: t.path, displayName: t.displayName, quota: t.quota, usage: add(t.usage, delta.total), usageByTier: addByTier(t.usageByTier, delta.byTier, 1), version };
}

function exceeded(scope: string, t: Tenant, name: ResourceName, limit: number, used: number, inc: number): string {
  const after = used + inc;
  const lowered = used > limit ? ` (usage ${formatAmount(name, used)} already exceeds the limit: the quota was lowered below usage, so new reservations are blocked until usage drops)` : '';
  return `tenant ${t.path}: ${scope}${name} would reach ${formatAmount(name, after)}, over its limit of ${formatAmount(name, limit)}${lowered}`;
}

/**
 * Why adding `delta` to `t` would exceed its quota, or null when it fits. Only resources the delta
 * increases are checked, so releasing usage under a lowered quota is always allowed.
 */
export function quotaViolation(t: Tenant, delta: Usage): string | null {
  for (const name of RESOURCE_NAMES) {
    const inc = delta.total[name];
    const limit = t.quota.total[name];
    if (inc > 0 && limit !== undefined && t.usage[name] + inc > limit) return exceeded('', t, name, limit, t.usage[name], inc);
  }
  for (const tier of Object.keys(delta.byTier)) {
    const limits = t.quota.byTier[tier];
    if (limits === undefined) continue;
    const r = delta.byTier[tier] as Resources;
    const used = t.usageByTier[tier] ?? ZERO;
    for (const name of RESOURCE_NAMES) {
      const inc = r[name];
      const limit = limits[name];
      if (inc > 0 && limit !== undefined && used[name] + inc > limit) return exceeded(`${tier} `, t, name, limit, used[name], inc);
    }
  }
  return null;
}

/** Tenants along a lineage that are already over a limit (a quota lowered below usage), as sentences. */
export function overLimit(lineage: readonly Tenant[]): string[] {
  const out: string[] = [];
  for (const t of lineage) {
    for (const name of RESOURCE_NAMES) {
      const limit = t.quota.total[name];
      if (limit !== undefined && t.usage[name] > limit) {
        out.push(`tenant ${t.path} is over its ${name} limit (usage ${formatAmount(name, t.usage[name])}, limit ${formatAmount(name, limit)}: the quota was lowered below usage)`);
      }
    }
  }
  return out;
}

/** Limit − usage for every limited resource of `t` (negative when a quota was lowered below usage). */
export function headroomOf(t: Tenant): Headroom {
  const total: Partial<Record<ResourceName, number>> = {};
  for (const name of RESOURCE_NAMES) {
    const limit = t.quota.total[name];
    if (limit !== undefined) total[name] = limit - t.usage[name];
  }
  const byTier: Record<string, Limits> = {};
  for (const [tier, limits] of Object.entries(t.quota.byTier)) {
    const used = t.usageByTier[tier] ?? ZERO;
    const room: Partial<Record<ResourceName, number>> = {};
    for (const name of RESOURCE_NAMES) {
      const limit = limits[name];
      if (limit !== undefined) room[name] = limit - used[name];
    }
    byTier[tier] = room;
  }
  return { tenant: t.path, total, byTier };
}

function checkLimits(limits: Limits, field: string): void {
  for (const [name, v] of Object.entries(limits)) {
    if (!(RESOURCE_NAMES as readonly string[]).includes(name)) {
      throw new TianshuError('VALIDATION', `${field}.${name}: unknown resource (known: ${RESOURCE_NAMES.join(', ')})`, { field: `${field}.${name}` });
    }
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
      throw new TianshuError('VALIDATION', `${field}.${name}: must be a whole number ≥ 0`, { field: `${field}.${name}` });
    }
  }
}

function checkNotAbove(child: Limits, parent: Limits, field: string, parentPath: string, parentField: string): void {
  for (const name of RESOURCE_NAMES) {
    const c = child[name];
    const p = parent[name];
    if (c !== undefined && p !== undefined && c > p) {
      throw new TianshuError(
        'VALIDATION',
        `${field}.${name}: ${formatAmount(name, c)} exceeds the parent ${parentPath}'s ${parentField}.${name} of ${formatAmount(name, p)}`,
        { field: `${field}.${name}`, parent: parentPath, limit: p, requested: c },
      );
    }
  }
}

/**
 * Validates a quota: whole non-negative numbers for known resources, and no limit above the
 * parent's (a per-tier limit is also held to the parent's total). VALIDATION naming the field.
 */
export function validateQuota(quota: Quota, parent: Tenant | null): void {
  checkLimits(quota.total, 'quota.total');
  for (const [tier, limits] of Object.entries(quota.byTier)) checkLimits(limits, `quota.byTier.${tier}`);
  if (parent === null) return;
  checkNotAbove(quota.total, parent.quota.total, 'quota.total', parent.path, 'quota.total');
  for (const [tier, limits] of Object.entries(quota.byTier)) {
    checkNotAbove(limits, parent.quota.total, `quota.byTier.${tier}`, parent.path, 'quota.total');
    const p = parent.quota.byTier[tier];
    if (p !== undefined) checkNotAbove(limits, p, `quota.byTier.${tier}`, parent.path, `quota.byTier.${tier}`);
  }
}

/** Why `cloud` cannot take `delta` more allocation, or null when it fits within capacity. */
export function capacityViolation(cloud: Cloud, delta: Resources): string | null {
  for (const name of RESOURCE_NAMES) {
    const after = cloud.allocated[name] + delta[name];
    if (delta[name] > 0 && after > cloud.capacity[name]) {
      return `cloud ${cloud.id}: ${name} would reach ${formatAmount(name, after)} of ${formatAmount(name, cloud.capacity[name])} capacity`;
    }
  }
  return null;
}

/** What the ledger check reads: each live deployment's spec and slices. */
export interface LedgerEntry {
  readonly tenant: string;
  readonly spec: Pick<DeploymentSpec, 'resources' | 'workload'>;
  readonly slices: readonly SliceRecord[];
}

function sameResources(a: Resources, b: Resources): boolean {
  return RESOURCE_NAMES.every((n) => a[n] === b[n]);
}

function sameByTier(a: Readonly<Record<string, Resources>>, b: Readonly<Record<string, Resources>>): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) if (!sameResources(a[k] ?? ZERO, b[k] ?? ZERO)) return false;
  return true;
}

function flat(u: Usage): Record<string, number> {
  const out: Record<string, number> = { ...u.total };
  for (const [tier, r] of Object.entries(u.byTier)) for (const n of RESOURCE_NAMES) if (r[n] !== 0) out[`${tier}.${n}`] = r[n];
  return out;
}

/** Recomputes usage from placements and returns every difference from the stored ledger. */
export function recomputeLedger(clouds: readonly Cloud[], tenants: readonly Tenant[], entries: readonly LedgerEntry[]): LedgerDrift[] {
  const perCloud = new Map<string, Resources>();
  const perTenant = new Map<string, Usage>();
  for (const e of entries) {
    for (const [id, r] of cloudDeltas(e.spec, [], e.slices)) perCloud.set(id, add(perCloud.get(id) ?? ZERO, r));
    const u = usageOf(e.spec, e.slices);
    for (const p of tenantLineage(e.tenant)) perTenant.set(p, addUsage(perTenant.get(p) ?? NO_USAGE, u));
  }
  const drift: LedgerDrift[] = [];
  const known = new Set(clouds.map((c) => c.id));
  for (const c of clouds) {
    const r = perCloud.get(c.id) ?? ZERO;
    if (!sameResources(r, c.allocated)) drift.push({ kind: 'cloud', id: c.id, ledger: { ...c.allocated }, recomputed: { ...r } });
  }
  for (const [id, r] of perCloud) if (!known.has(id)) drift.push({ kind: 'cloud', id, ledger: {}, recomputed: { ...r } });
  for (const t of tenants) {
    const u = perTenant.get(t.path) ?? NO_USAGE;
    if (!sameResources(u.total, t.usage) || !sameByTier(u.byTier, t.usageByTier)) {
      drift.push({ kind: 'tenant', id: t.path, ledger: flat({ total: t.usage, byTier: t.usageByTier }), recomputed: flat(u) });
    }
  }
  return drift;
}

/** True when `path` is inside `under` (or `under` is not given). */
export function inSubtree(path: string, under: string | undefined): boolean {
  return under === undefined || isWithinTenant(path, under);
}
