/**
 * Every store mutation as an engine-independent {@link Op}: read through a {@link StateReader},
 * check, plan (for admissions), and describe the rows to write with the versions they were read at
 * plus one audit event. The engines only decide how reads are served and how writes commit.
 */
import { createHash } from 'node:crypto';
import type { Cloud, CloudCondition } from '../domain/cloud.js';
import type { Deployment, DeploymentSpec, Phase, PlacementSlice } from '../domain/deployment.js';
import { TianshuError } from '../domain/errors.js';
import { isZero, RESOURCE_NAMES, ZERO } from '../domain/resources.js';
import type { Quota, Tenant, TenantPath } from '../domain/tenant.js';
import { isTenantPath, parentOf } from '../domain/tenant.js';
import type { Decision } from '../scheduler/decision.js';
import type { AuditDraft, StoredCheckpoint } from './audit-chain.js';
import { signCheckpoint } from './audit-chain.js';
import { canonicalJson } from './canonical-json.js';
import { toPlacementSlices } from './codec.js';
import type { DeploymentRecord, IdempotencyWrite, Mutation, Op, Outcome, RowWrite, StateReader } from './engine.js';
import type { SliceRecord } from './ledger.js';
import { allocationDeltas, capacityViolation, headroomOf, overLimit, quotaViolation, usageDelta, usageOf, validateQuota, withAllocation, withUsage } from './ledger.js';
import type { Actor, Admission, AdmitOptions, AuditEvent, CloudPatch, NewCloud, PlacementRecord, Planner } from './store.js';

// --- helpers -------------------------------------------------------------------------------

function read<T>(value: T): Outcome<T> {
  return { kind: 'read', value };
}

interface Writes {
  clouds?: readonly RowWrite<Cloud>[];
  tenants?: readonly RowWrite<Tenant>[];
  deployments?: readonly RowWrite<DeploymentRecord>[];
  placements?: readonly PlacementRecord[];
  idempotency?: readonly IdempotencyWrite[];
  purge?: Mutation<unknown>['purge'];
}

function write<T>(audit: AuditDraft, writes: Writes, result: (e: AuditEvent) => T): Outcome<T> {
  return {
    kind: 'write',
    mutation: {
      clouds: writes.clouds ?? [],
      tenants: writes.tenants ?? [],
      deployments: writes.deployments ?? [],
      placements: writes.placements ?? [],
      idempotency: writes.idempotency ?? [],
      purge: writes.purge ?? null,
      audit,
      result,
    },
  };
}

function draft(actor: Actor, action: string, object: string, detail: Record<string, unknown>, result: AuditEvent['result'] = 'ok'): AuditDraft {
  return { actor: actor.subject, role: actor.role, action, object, result, detail };
}

/** The audit object name of a deployment: `deployment/<tenant>/<name>`, so prefixes select subtrees. */
export function deploymentObject(d: Pick<Deployment, 'tenant' | 'name'>): string {
  return `deployment/${d.tenant}/${d.name}`;
}

/** SHA-256 of the canonical encoding of a spec: what "the same request" means for idempotency. */
export function specHash(spec: DeploymentSpec): string {
  return createHash('sha256').update(canonicalJson(spec)).digest('hex');
}

async function needCloud(r: StateReader, id: string): Promise<Cloud> {
  const c = await r.cloud(id);
  if (c === null) throw new TianshuError('NOT_FOUND', `cloud ${id} does not exist`, { cloudId: id });
  return c;
}

async function needDeployment(r: StateReader, id: string): Promise<DeploymentRecord> {
  const d = await r.deployment(id);
  if (d === null) throw new TianshuError('NOT_FOUND', `deployment ${id} does not exist`, { deploymentId: id });
  return d;
}

function notDeleting(d: Deployment, what: string): void {
  if (d.phase === 'Deleting') {
    throw new TianshuError('CONFLICT', `deployment ${d.tenant}/${d.name} is being deleted; cannot ${what}`, { deploymentId: d.id, phase: d.phase });
  }
}

/** The tenant's lineage, root first; NOT_FOUND naming the first missing node. */
async function lineageOf(r: StateReader, path: TenantPath): Promise<readonly Tenant[]> {
  const found = await r.lineage(path);
  // Node i must be the path up to its i-th '/'; compared in place, as this runs on every admission.
  for (let i = 0, end = path.indexOf('/'); ; i++, end = path.indexOf('/', end + 1)) {
    const len = end < 0 ? path.length : end;
    const got = found[i]?.path;
    if (got === undefined || got.length !== len || !path.startsWith(got)) {
      const want = path.slice(0, len);
      throw new TianshuError('NOT_FOUND', `tenant ${want} does not exist`, { tenant: want });
    }
    if (end < 0) return found;
  }
}

/** True when `record` has an own enumerable key (without listing them). */
function hasKeys(record: object): boolean {
  for (const k in record) if (Object.hasOwn(record, k)) return true;
  return false;
}

function checkExpected(kind: string, id: string, actual: number, expected: number | undefined): void {
  if (expected !== undefined && expected !== actual) {
    throw new TianshuError('CONFLICT', `${kind} ${id} changed concurrently: expected version ${expected}, found ${actual}`, { id, expectedVersion: expected, version: actual });
  }
}

/** The error for a failed plan: QUOTA_EXCEEDED when quota is what binds, UNSCHEDULABLE otherwise. */
export function planFailure(decision: Decision, lineage: readonly Tenant[]): TianshuError {
  // The quota filter runs last, so a cloud rejected for quota passed every other filter: quota binds.
  const quota = decision.failure?.reason === 'QUOTA_EXCEEDED' || (decision.reasonCounts.QUOTA_EXCEEDED ?? 0) > 0;
  const over = quota ? overLimit(lineage) : [];
  const message = `${quota ? 'quota exceeded' : 'unschedulable'}: ${decision.summary}${over.length > 0 ? `; ${over.join('; ')}` : ''}`;
  return new TianshuError(quota ? 'QUOTA_EXCEEDED' : 'UNSCHEDULABLE', message, {
    explanation: decision.summary,
    reasonCounts: decision.reasonCounts,
    failure: decision.failure,
    ...(over.length > 0 ? { overLimit: over } : {}),
  });
}

/** Turns a successful decision into slice records, checking it is whole and names known clouds. */
function slicesOf(decision: Decision, spec: DeploymentSpec, clouds: ReadonlyMap<string, Cloud>): SliceRecord[] {
  const merged = new Map<string, number>();
  for (const a of decision.assignments) {
    if (!Number.isSafeInteger(a.replicas) || a.replicas < 0) throw new TianshuError('INTERNAL', `planner assigned ${a.replicas} replicas to cloud ${a.cloudId}`);
    if (!clouds.has(a.cloudId)) throw new TianshuError('INTERNAL', `planner assigned replicas to unknown cloud ${a.cloudId}`);
    if (a.replicas > 0) merged.set(a.cloudId, (merged.get(a.cloudId) ?? 0) + a.replicas);
  }
  let total = 0;
  const out: SliceRecord[] = [];
  merged.forEach((replicas, cloudId) => {
    total += replicas;
    out.push({ cloudId, replicas, tier: clouds.get(cloudId)?.tier ?? '' });
  });
  if (total !== spec.replicas) throw new TianshuError('INTERNAL', `planner placed ${total} of ${spec.replicas} replicas but reported success`);
  return out.length > 1 ? out.sort((a, b) => (a.cloudId < b.cloudId ? -1 : 1)) : out;
}

/**
 * The ledger writes for moving a deployment from `before` to `after`: usage at every tenant of the
 * lineage (QUOTA_EXCEEDED if any limit would be passed) and allocation on every cloud touched
 * (never above capacity). Rows whose usage does not change are not written.
 */
async function reserve(
  r: StateReader,
  lineage: readonly Tenant[],
  beforeSpec: DeploymentSpec,
  before: readonly SliceRecord[],
  afterSpec: DeploymentSpec,
  after: readonly SliceRecord[],
  known: ReadonlyMap<string, Cloud>,
): Promise<{ tenants: RowWrite<Tenant>[]; clouds: RowWrite<Cloud>[] }> {
  const delta = usageDelta(usageOf(beforeSpec, before), usageOf(afterSpec, after));
  const tenants: RowWrite<Tenant>[] = [];
  if (!isZero(delta.total) || hasKeys(delta.byTier)) {
    for (const t of lineage) {
      const v = quotaViolation(t, delta);
      if (v !== null) throw new TianshuError('QUOTA_EXCEEDED', `quota exceeded: ${v}`, { tenant: t.path, explanation: v });
    }
    for (const t of lineage) tenants.push({ key: t.path, expectedVersion: t.version, next: withUsage(t, delta, t.version + 1) });
  }
  const perCloud = allocationDeltas(beforeSpec, before, afterSpec, after);
  const clouds: RowWrite<Cloud>[] = [];
  for (const id of perCloud.size > 1 ? [...perCloud.keys()].sort() : perCloud.keys()) {
    const d = perCloud.get(id) ?? ZERO;
    if (isZero(d)) continue;
    const c = known.get(id) ?? (await r.cloud(id));
    if (c === null) throw new TianshuError('INTERNAL', `deployment holds a slice on unknown cloud ${id}`);
    const v = capacityViolation(c, d);
    if (v !== null) throw new TianshuError('INTERNAL', `planner overcommitted a cloud: ${v}`, { cloudId: id });
    clouds.push({ key: id, expectedVersion: c.version, next: withAllocation(c, d, c.version + 1) });
  }
  return { tenants, clouds };
}

function sliceDetail(slices: readonly SliceRecord[]): PlacementSlice[] {
  return toPlacementSlices(slices);
}

// --- clouds --------------------------------------------------------------------------------

/** Registers a cloud with zero allocation at version 1; CONFLICT when the id is taken. */
export function registerCloud(actor: Actor, cloud: NewCloud): Op<Cloud> {
  return async (r) => {
    if (typeof cloud.id !== 'string' || cloud.id.length === 0) throw new TianshuError('VALIDATION', 'id: must not be empty', { field: 'id' });
    for (const n of RESOURCE_NAMES) {
      const v = cloud.capacity[n];
      if (!Number.isSafeInteger(v) || v < 0) throw new TianshuError('VALIDATION', `capacity.${n}: must be a whole number ≥ 0`, { field: `capacity.${n}` });
    }
    if ((await r.cloud(cloud.id)) !== null) throw new TianshuError('CONFLICT', `cloud ${cloud.id} is already registered`, { cloudId: cloud.id });
    const next: Cloud = { ...cloud, allocated: ZERO, version: 1 };
    return write(draft(actor, 'cloud.register', `cloud/${cloud.id}`, { kind: cloud.kind, tier: cloud.tier, locality: cloud.locality, capacity: cloud.capacity }), { clouds: [{ key: cloud.id, expectedVersion: null, next }] }, () => next);
  };
}

/** Patches a cloud; capacity may not drop below what is allocated (VALIDATION naming the resource). */
export function updateCloud(actor: Actor, id: string, patch: CloudPatch, expectedVersion?: number): Op<Cloud> {
  return async (r) => {
    const c = await needCloud(r, id);
    checkExpected('cloud', id, c.version, expectedVersion);
    if (patch.capacity !== undefined) {
      for (const n of RESOURCE_NAMES) {
        const v = patch.capacity[n];
        if (!Number.isSafeInteger(v) || v < 0) throw new TianshuError('VALIDATION', `capacity.${n}: must be a whole number ≥ 0`, { field: `capacity.${n}` });
        if (v < c.allocated[n]) {
          throw new TianshuError('VALIDATION', `capacity.${n}: ${v} is below the ${c.allocated[n]} already allocated on cloud ${id}; drain it first`, { field: `capacity.${n}` });
        }
      }
    }
    const next: Cloud = { ...c, ...patch, id: c.id, kind: c.kind, allocated: c.allocated, condition: c.condition, version: c.version + 1 };
    return write(draft(actor, 'cloud.update', `cloud/${id}`, { fields: Object.keys(patch).sort(), patch }), { clouds: [{ key: id, expectedVersion: c.version, next }] }, () => next);
  };
}

/** Moves a cloud's condition; setting the condition it already has writes nothing. */
export function setCloudCondition(actor: Actor, id: string, condition: CloudCondition, reason: string): Op<Cloud> {
  return async (r) => {
    const c = await needCloud(r, id);
    if (c.condition === condition) return read(c);
    const next: Cloud = { ...c, condition, version: c.version + 1 };
    return write(draft(actor, 'cloud.condition', `cloud/${id}`, { from: c.condition, to: condition, reason }), { clouds: [{ key: id, expectedVersion: c.version, next }] }, () => next);
  };
}

/** Removes a cloud that holds no placements. */
export function removeCloud(actor: Actor, id: string): Op<void> {
  return async (r) => {
    const c = await needCloud(r, id);
    if (await r.cloudInUse(id)) throw new TianshuError('CONFLICT', `cloud ${id} still holds placements; drain it first`, { cloudId: id });
    return write(draft(actor, 'cloud.remove', `cloud/${id}`, {}), { clouds: [{ key: id, expectedVersion: c.version, next: null }] }, () => undefined);
  };
}

// --- tenants -------------------------------------------------------------------------------

/** Creates a tenant under an existing parent, its quota no higher than the parent's. */
export function createTenant(actor: Actor, path: TenantPath, displayName: string, quota: Quota): Op<Tenant> {
  return async (r) => {
    if (!isTenantPath(path)) throw new TianshuError('VALIDATION', `path: "${path}" is not a tenant path such as gd/sz/health`, { field: 'path' });
    if ((await r.tenant(path)) !== null) throw new TianshuError('CONFLICT', `tenant ${path} already exists`, { tenant: path });
    const parentPath = parentOf(path);
    const parent = parentPath === null ? null : await r.tenant(parentPath);
    if (parentPath !== null && parent === null) throw new TianshuError('NOT_FOUND', `parent tenant ${parentPath} does not exist`, { tenant: parentPath });
    validateQuota(quota, parent);
    const next: Tenant = { path, displayName, quota, usage: ZERO, usageByTier: {}, version: 1 };
    return write(draft(actor, 'tenant.create', `tenant/${path}`, { displayName, quota }), { tenants: [{ key: path, expectedVersion: null, next }] }, () => next);
  };
}

/** Sets a tenant's quota (never above its parent's); lowering below usage is allowed. */
export function setQuota(actor: Actor, path: TenantPath, quota: Quota): Op<Tenant> {
  return async (r) => {
    const t = await r.tenant(path);
    if (t === null) throw new TianshuError('NOT_FOUND', `tenant ${path} does not exist`, { tenant: path });
    const parentPath = parentOf(path);
    validateQuota(quota, parentPath === null ? null : await r.tenant(parentPath));
    const next: Tenant = { ...t, quota, version: t.version + 1 };
    const below = overLimit([next]);
    return write(
      draft(actor, 'tenant.quota', `tenant/${path}`, { from: t.quota, to: quota, ...(below.length > 0 ? { belowUsage: below } : {}) }),
      { tenants: [{ key: path, expectedVersion: t.version, next }] },
      () => next,
    );
  };
}

// --- deployments ---------------------------------------------------------------------------

function admission(rec: DeploymentRecord, placement: PlacementRecord | null, replayed: boolean): Admission {
  return { deployment: rec.deployment, placement, replayed };
}

/** Plans and commits a new deployment (or replays its idempotency key). */
export function admitDeployment(actor: Actor, spec: DeploymentSpec, plan: Planner, options: AdmitOptions = {}): Op<Admission> {
  const key = options.idempotencyKey;
  const hash = key === undefined ? '' : specHash(spec);
  if (key !== undefined && (key.length === 0 || key.length > 256)) {
    throw new TianshuError('VALIDATION', 'idempotencyKey: must be 1 to 256 characters', { field: 'idempotencyKey' });
  }
  const replay = async (r: StateReader): Promise<Outcome<Admission> | null> => {
    if (key === undefined) return null;
    const rec = await r.idempotency(spec.tenant, key);
    if (rec === null) return null;
    const existing = await r.deployment(rec.deploymentId);
    // A key whose deployment has since been deleted may be used again.
    if (existing === null) return null;
    if (rec.specHash !== hash) {
      throw new TianshuError('CONFLICT', `idempotency key "${key}" was already used by tenant ${spec.tenant} with a different request (deployment ${rec.deploymentId})`, {
        idempotencyKey: key,
        deploymentId: rec.deploymentId,
      });
    }
    return read(admission(existing, await r.placement(rec.deploymentId), true));
  };
  return async (r, ctx) => {
    const early = key === undefined ? null : await replay(r);
    if (early !== null) return early;
    const lineage = await lineageOf(r, spec.tenant);
    if ((await r.deploymentByName(spec.tenant, spec.name)) !== null) {
      // Under read-committed reads, a racing request with the same key may have committed between
      // the two look-ups: look at the key again before calling the name taken.
      const late = await replay(r);
      if (late !== null) return late;
      throw new TianshuError('CONFLICT', `deployment ${spec.tenant}/${spec.name} already exists`, { tenant: spec.tenant, name: spec.name });
    }
    const clouds = await r.clouds();
    const decision = plan(spec, { clouds, headroom: lineage.map(headroomOf) }, []);
    if (!decision.ok && options.onUnschedulable !== 'pending') throw planFailure(decision, lineage);
    const known = await r.cloudMap();
    const slices = decision.ok ? slicesOf(decision, spec, known) : [];
    const ledger = await reserve(r, lineage, spec, [], spec, slices, known);
    const now = ctx.now();
    const id = ctx.newId();
    const deployment: Deployment = {
      id,
      tenant: spec.tenant,
      name: spec.name,
      spec,
      generation: 1,
      phase: decision.ok ? 'Scheduled' : 'Pending',
      slices: sliceDetail(slices),
      message: decision.ok ? '' : decision.summary,
      createdAt: now,
      updatedAt: now,
      version: 1,
    };
    const rec: DeploymentRecord = { deployment, slices };
    const placement: PlacementRecord = { deploymentId: id, generation: 1, slices: deployment.slices, decision, cause: 'admit', decidedAt: now };
    const idem: IdempotencyWrite[] = key === undefined ? [] : [{ tenant: spec.tenant, key, record: { tenant: spec.tenant, key, specHash: hash, deploymentId: id, createdAt: now } }];
    const detail: Record<string, unknown> = { id, phase: deployment.phase, replicas: spec.replicas, slices: deployment.slices };
    if (key !== undefined) detail.idempotencyKey = key;
    return write(
      draft(actor, 'deployment.admit', deploymentObject(deployment), detail),
      { tenants: ledger.tenants, clouds: ledger.clouds, deployments: [{ key: id, expectedVersion: null, next: rec }], placements: [placement], idempotency: idem },
      () => admission(rec, placement, false),
    );
  };
}

/** Re-plans with a new replica count, crediting the current slices; bumps the generation. */
export function scaleDeployment(actor: Actor, id: string, replicas: number, plan: Planner): Op<Admission> {
  return async (r, ctx) => {
    if (!Number.isSafeInteger(replicas) || replicas < 0 || replicas > 10_000) {
      throw new TianshuError('VALIDATION', 'replicas: must be a whole number from 0 to 10000', { field: 'replicas' });
    }
    const cur = await needDeployment(r, id);
    const d = cur.deployment;
    notDeleting(d, 'scale it');
    if (replicas === d.spec.replicas) return read(admission(cur, await r.placement(id), false));
    const spec: DeploymentSpec = { ...d.spec, replicas };
    const lineage = await lineageOf(r, d.tenant);
    const clouds = await r.clouds();
    const decision = plan(spec, { clouds, headroom: lineage.map(headroomOf) }, d.slices);
    if (!decision.ok) throw planFailure(decision, lineage);
    const known = await r.cloudMap();
    const slices = slicesOf(decision, spec, known);
    const ledger = await reserve(r, lineage, d.spec, cur.slices, spec, slices, known);
    const now = ctx.now();
    const next: Deployment = { ...d, spec, generation: d.generation + 1, phase: 'Scheduled', slices: sliceDetail(slices), message: '', updatedAt: now, version: d.version + 1 };
    const rec: DeploymentRecord = { deployment: next, slices };
    const placement: PlacementRecord = { deploymentId: id, generation: next.generation, slices: next.slices, decision, cause: 'scale', decidedAt: now };
    return write(
      draft(actor, 'deployment.scale', deploymentObject(d), { id, from: d.spec.replicas, to: replicas, generation: next.generation, slices: next.slices }),
      { ...ledger, deployments: [{ key: id, expectedVersion: d.version, next: rec }], placements: [placement] },
      () => admission(rec, placement, false),
    );
  };
}

/** Re-plans an existing deployment; on failure keeps the eligible slices and records why. */
export function replacePlacement(actor: Actor, id: string, plan: Planner, cause: string, keep?: (slice: PlacementSlice) => boolean): Op<Admission> {
  return async (r, ctx) => {
    const cur = await needDeployment(r, id);
    const d = cur.deployment;
    notDeleting(d, 're-place it');
    const lineage = await lineageOf(r, d.tenant);
    const clouds = await r.clouds();
    const decision = plan(d.spec, { clouds, headroom: lineage.map(headroomOf) }, d.slices);
    const known = await r.cloudMap();
    const slices = decision.ok ? slicesOf(decision, d.spec, known) : cur.slices.filter((s) => keep?.({ cloudId: s.cloudId, replicas: s.replicas }) ?? true);
    const ledger = await reserve(r, lineage, d.spec, cur.slices, d.spec, slices, known);
    const now = ctx.now();
    const phase: Phase = decision.ok ? 'Scheduled' : d.phase === 'Pending' ? 'Pending' : 'Degraded';
    const next: Deployment = { ...d, phase, slices: sliceDetail(slices), message: decision.ok ? '' : decision.summary, updatedAt: now, version: d.version + 1 };
    const rec: DeploymentRecord = { deployment: next, slices };
    const placement: PlacementRecord = { deploymentId: id, generation: d.generation, slices: next.slices, decision, cause, decidedAt: now };
    return write(
      draft(actor, 'deployment.replace', deploymentObject(d), { id, cause, phase, slices: next.slices, ...(decision.ok ? {} : { explanation: decision.summary }) }, decision.ok ? 'ok' : 'failed'),
      { ...ledger, deployments: [{ key: id, expectedVersion: d.version, next: rec }], placements: [placement] },
      () => admission(rec, placement, false),
    );
  };
}

/** Marks a deployment Deleting (already Deleting: nothing written). */
export function deleteDeployment(actor: Actor, id: string): Op<Deployment> {
  return async (r, ctx) => {
    const cur = await needDeployment(r, id);
    const d = cur.deployment;
    if (d.phase === 'Deleting') return read(d);
    const next: Deployment = { ...d, phase: 'Deleting', message: 'deletion requested', updatedAt: ctx.now(), version: d.version + 1 };
    return write(draft(actor, 'deployment.delete', deploymentObject(d), { id, from: d.phase }), { deployments: [{ key: id, expectedVersion: d.version, next: { deployment: next, slices: cur.slices } }] }, () => next);
  };
}

/** Removes a Deleting deployment and releases its usage. */
export function finishDeletion(actor: Actor, id: string): Op<void> {
  return async (r) => {
    const cur = await needDeployment(r, id);
    const d = cur.deployment;
    if (d.phase !== 'Deleting') throw new TianshuError('CONFLICT', `deployment ${d.tenant}/${d.name} is ${d.phase}, not Deleting; delete it first`, { deploymentId: id, phase: d.phase });
    const lineage = await lineageOf(r, d.tenant);
    const ledger = await reserve(r, lineage, d.spec, cur.slices, d.spec, [], new Map());
    return write(
      draft(actor, 'deployment.finish-deletion', deploymentObject(d), { id, released: sliceDetail(cur.slices) }),
      { ...ledger, deployments: [{ key: id, expectedVersion: d.version, next: null }] },
      () => undefined,
    );
  };
}

/** Moves a deployment's phase (not into or out of Deleting: that is deleteDeployment's job). */
export function setPhase(actor: Actor, id: string, phase: Phase, message: string, expectedVersion?: number): Op<Deployment> {
  return async (r, ctx) => {
    const cur = await needDeployment(r, id);
    const d = cur.deployment;
    checkExpected('deployment', id, d.version, expectedVersion);
    if (phase === 'Deleting') throw new TianshuError('VALIDATION', 'phase: use deleteDeployment to delete a deployment', { field: 'phase' });
    notDeleting(d, `move it to ${phase}`);
    if (d.phase === phase && d.message === message) return read(d);
    const next: Deployment = { ...d, phase, message, updatedAt: ctx.now(), version: d.version + 1 };
    return write(draft(actor, 'deployment.phase', deploymentObject(d), { id, from: d.phase, to: phase, message }), { deployments: [{ key: id, expectedVersion: d.version, next: { deployment: next, slices: cur.slices } }] }, () => next);
  };
}

// --- audit ---------------------------------------------------------------------------------

/** Records an event with no other effect. */
export function recordAudit(actor: Actor, action: string, object: string, result: AuditEvent['result'], detail: Readonly<Record<string, unknown>>): Op<AuditEvent> {
  return () => Promise.resolve(write(draft(actor, action, object, { ...detail }, result), {}, (e) => e));
}

/** Deletes events older than `before` and stores the signed checkpoint that anchors what remains; null when nothing is old enough. */
export function purgeAudit(actor: Actor, before: Date): Op<{ purged: number; checkpoint: StoredCheckpoint } | null> {
  return async (r, ctx) => {
    const scope = await r.purgeScope(before.toISOString());
    if (scope === null) return read(null);
    const checkpoint: StoredCheckpoint = { ...signCheckpoint(ctx.checkpointKey, { seq: scope.throughSeq, hash: scope.throughHash }, ctx.now()), kind: 'purge' };
    const purged = scope.throughSeq - scope.firstSeq + 1;
    return write(
      draft(actor, 'audit.purge', 'audit', { purged, throughSeq: scope.throughSeq, before: before.toISOString() }),
      { purge: { throughSeq: scope.throughSeq, checkpoint } },
      () => ({ purged, checkpoint }),
    );
  };
}
