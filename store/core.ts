/**
 * The {@link Store} both engines share: each mutation is an operation from `operations.ts` run by
 * the engine's `execute`; reads go to the engine's read model; audit verification, checkpoints and
 * the ledger check are engine-independent.
 */
import type { Cloud, CloudCondition } from '../domain/cloud.js';
import type { Deployment, DeploymentSpec, Phase, PlacementSlice } from '../domain/deployment.js';
import { TianshuError } from '../domain/errors.js';
import type { Headroom, Quota, Tenant, TenantPath } from '../domain/tenant.js';
import { tenantLineage, UNLIMITED } from '../domain/tenant.js';
import { signCheckpoint, verifyChain } from './audit-chain.js';
import type { Engine, Op } from './engine.js';
import { headroomOf, recomputeLedger } from './ledger.js';
import { fenced } from './fence.js';
import * as ops from './operations.js';
import type { ResolvedOptions } from './options.js';
import type {
  Actor,
  Admission,
  AdmitOptions,
  AuditCheckpoint,
  AuditEvent,
  AuditVerification,
  CloudPatch,
  LedgerDrift,
  NewCloud,
  Page,
  PlacementRecord,
  Planner,
  Store,
} from './store.js';

/** The actor the store itself acts as (retention purges). */
export const SYSTEM_ACTOR: Actor = Object.freeze({ subject: 'tianshu', role: 'system', tenant: null });

/** A store as {@link openStore} returns it: the {@link Store} contract plus housekeeping. */
export interface TianshuStore extends Store {
  /** Purges audit events older than the configured retention (default 180 days). */
  purgeExpiredAudit(): Promise<{ purged: number; checkpoint: AuditCheckpoint }>;
}

/** The {@link Store} over one engine. */
export class EngineStore implements TianshuStore {
  private closed = false;

  constructor(
    private readonly e: Engine,
    private readonly key: Buffer,
    private readonly options: ResolvedOptions,
  ) {}

  /** Which engine this is. */
  get engine(): 'sqlite' | 'postgres' {
    return this.e.name;
  }

  get broken(): TianshuError | null {
    return this.e.broken;
  }

  private run<T>(op: () => Op<T>): Promise<T> {
    if (this.closed) return Promise.reject(new TianshuError('UNAVAILABLE', 'the store is closed'));
    try {
      return this.e.execute(op());
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  listClouds(): Promise<readonly Cloud[]> {
    return this.e.listClouds();
  }
  getCloud(id: string): Promise<Cloud | null> {
    return this.e.getCloud(id);
  }
  registerCloud(actor: Actor, cloud: NewCloud): Promise<Cloud> {
    return this.run(() => fenced(actor, ops.registerCloud(actor, cloud)));
  }
  updateCloud(actor: Actor, id: string, patch: CloudPatch, expectedVersion?: number): Promise<Cloud> {
    return this.run(() => fenced(actor, ops.updateCloud(actor, id, patch, expectedVersion)));
  }
  setCloudCondition(actor: Actor, id: string, condition: CloudCondition, reason: string): Promise<Cloud> {
    return this.run(() => fenced(actor, ops.setCloudCondition(actor, id, condition, reason)));
  }
  removeCloud(actor: Actor, id: string): Promise<void> {
    return this.run(() => fenced(actor, ops.removeCloud(actor, id)));
  }

  listTenants(under?: TenantPath): Promise<readonly Tenant[]> {
    return this.e.listTenants(under);
  }
  getTenant(path: TenantPath): Promise<Tenant | null> {
    return this.e.getTenant(path);
  }
  createTenant(actor: Actor, path: TenantPath, displayName: string, quota: Quota = UNLIMITED): Promise<Tenant> {
    return this.run(() => fenced(actor, ops.createTenant(actor, path, displayName, quota)));
  }
  setQuota(actor: Actor, path: TenantPath, quota: Quota): Promise<Tenant> {
    return this.run(() => fenced(actor, ops.setQuota(actor, path, quota)));
  }
  async headroom(path: TenantPath): Promise<readonly Headroom[]> {
    const out: Headroom[] = [];
    for (const p of tenantLineage(path)) {
      const t = await this.e.getTenant(p);
      if (t === null) throw new TianshuError('NOT_FOUND', `tenant ${p} does not exist`, { tenant: p });
      out.push(headroomOf(t));
    }
    return out;
  }

  getDeployment(id: string): Promise<Deployment | null> {
    return this.e.getDeployment(id);
  }
  findDeployment(tenant: TenantPath, name: string): Promise<Deployment | null> {
    return this.e.findDeployment(tenant, name);
  }
  listDeployments(query: { under?: TenantPath; phase?: Phase; cloudId?: string; first: number; after?: string }): Promise<Page<Deployment>> {
    if (!Number.isSafeInteger(query.first) || query.first < 0 || query.first > 10_000) {
      return Promise.reject(new TianshuError('VALIDATION', 'first: must be a whole number from 0 to 10000', { field: 'first' }));
    }
    return this.e.listDeployments(query);
  }
  getPlacement(deploymentId: string): Promise<PlacementRecord | null> {
    return this.e.getPlacement(deploymentId);
  }
  admitDeployment(actor: Actor, spec: DeploymentSpec, plan: Planner, options?: AdmitOptions): Promise<Admission> {
    return this.run(() => fenced(actor, ops.admitDeployment(actor, spec, plan, options)));
  }
  scaleDeployment(actor: Actor, id: string, replicas: number, plan: Planner): Promise<Admission> {
    return this.run(() => fenced(actor, ops.scaleDeployment(actor, id, replicas, plan)));
  }
  replacePlacement(actor: Actor, id: string, plan: Planner, cause: string, keep?: (slice: PlacementSlice) => boolean): Promise<Admission> {
    return this.run(() => fenced(actor, ops.replacePlacement(actor, id, plan, cause, keep)));
  }
  deleteDeployment(actor: Actor, id: string): Promise<Deployment> {
    return this.run(() => fenced(actor, ops.deleteDeployment(actor, id)));
  }
  finishDeletion(actor: Actor, id: string): Promise<void> {
    return this.run(() => fenced(actor, ops.finishDeletion(actor, id)));
  }
  setPhase(actor: Actor, id: string, phase: Phase, message: string, expectedVersion?: number): Promise<Deployment> {
    return this.run(() => fenced(actor, ops.setPhase(actor, id, phase, message, expectedVersion)));
  }

  recordAudit(actor: Actor, action: string, object: string, result: AuditEvent['result'], detail: Readonly<Record<string, unknown>>): Promise<AuditEvent> {
    return this.run(() => fenced(actor, ops.recordAudit(actor, action, object, result, detail)));
  }
  listAuditEvents(query: { after?: number; first: number; objectPrefix?: string }): Promise<Page<AuditEvent>> {
    if (!Number.isSafeInteger(query.first) || query.first < 0 || query.first > 10_000) {
      return Promise.reject(new TianshuError('VALIDATION', 'first: must be a whole number from 0 to 10000', { field: 'first' }));
    }
    return this.e.listAuditEvents(query);
  }
  verifyAudit(from?: AuditCheckpoint): Promise<AuditVerification> {
    return verifyChain(this.e.audit, this.key, from);
  }
  async checkpoint(): Promise<AuditCheckpoint> {
    const head = await this.e.committedHead();
    const cp = signCheckpoint(this.key, head, this.options.clock().toISOString());
    await this.e.storeCheckpoint({ ...cp, kind: 'head' });
    return cp;
  }
  async purgeAudit(before: Date): Promise<{ purged: number; checkpoint: AuditCheckpoint }> {
    const done = await this.run(() => ops.purgeAudit(SYSTEM_ACTOR, before));
    if (done === null) return { purged: 0, checkpoint: await this.checkpoint() };
    const { kind: _kind, ...checkpoint } = done.checkpoint;
    return { purged: done.purged, checkpoint };
  }
  purgeExpiredAudit(): Promise<{ purged: number; checkpoint: AuditCheckpoint }> {
    return this.purgeAudit(new Date(this.options.clock().getTime() - this.options.auditRetentionDays * 86_400_000));
  }

  async checkLedger(): Promise<readonly LedgerDrift[]> {
    const snap = await this.e.ledgerSnapshot();
    return recomputeLedger(snap.clouds, snap.tenants, snap.entries);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    try {
      // A signed checkpoint of the head at every clean shutdown: a later truncation shows.
      const head = await this.e.committedHead();
      if (head.seq > 0) await this.checkpoint();
    } finally {
      this.closed = true;
      await this.e.close();
    }
  }
}
