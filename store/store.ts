/**
 * The store: durable state behind one interface, two engines (SQLite embedded, PostgreSQL).
 *
 * Every mutation writes exactly one audit event in the same transaction as its effect. Admission
 * (`admitDeployment`, `scaleDeployment`, `replacePlacement`) plans through a caller-supplied
 * {@link Planner} against the store's current state and commits placement + quota usage + audit
 * event atomically, guarded by per-cloud and per-tenant versions; on a version conflict it re-plans
 * against fresh state a bounded number of times, then throws CONFLICT. Quota is never overcommitted.
 */
import type { Cloud, CloudCondition } from '../domain/cloud.js';
import type { Deployment, DeploymentSpec, Phase, PlacementSlice } from '../domain/deployment.js';
import type { Headroom, Quota, Tenant, TenantPath } from '../domain/tenant.js';
import type { TianshuError } from '../domain/errors.js';
import type { Decision } from '../scheduler/decision.js';

/** Who did something, for the audit trail and for scoping. */
export interface Actor {
  readonly subject: string;
  readonly role: string;
  /** The tenant subtree the actor is scoped to, or null for fleet-wide roles. */
  readonly tenant: TenantPath | null;
  /**
   * A leader's fencing token (see `orchestrator/lease.ts`). When present, the write is refused
   * with CONFLICT, inside its own transaction, if the `leader_lease` row named `name` holds a newer
   * token: a deposed leader that wakes up late cannot change anything.
   */
  readonly fence?: Fence;
}

/** A lease name and the token its holder acquired it with. */
export interface Fence {
  readonly name: string;
  readonly token: number;
}

/** The state a planner sees: every cloud (with current allocation) and the headroom of a lineage. */
export interface PlanningState {
  readonly clouds: readonly Cloud[];
  /** Headroom root-first along the deployment tenant's lineage. */
  readonly headroom: readonly Headroom[];
}

/**
 * Plans a placement for `spec` against `state`; `current` are the slices the deployment already
 * holds (credited back by the planner when re-placing). Pure: the store may call it more than once.
 */
export type Planner = (spec: DeploymentSpec, state: PlanningState, current: readonly PlacementSlice[]) => Decision;

/** A stored placement decision with its explanation, so "why is it there" stays answerable. */
export interface PlacementRecord {
  readonly deploymentId: string;
  readonly generation: number;
  readonly slices: readonly PlacementSlice[];
  readonly decision: Decision;
  /** Why this placement was made: `admit`, `scale`, `failover`, `drain`, `rebalance`, `preempt`. */
  readonly cause: string;
  readonly decidedAt: string;
}

/** One audit event in the hash chain. */
export interface AuditEvent {
  readonly seq: number;
  readonly time: string;
  readonly actor: string;
  readonly role: string;
  readonly action: string;
  readonly object: string;
  readonly result: 'ok' | 'denied' | 'failed';
  readonly detail: Readonly<Record<string, unknown>>;
  readonly prevHash: string;
  readonly hash: string;
}

/** The outcome of verifying the audit chain. */
export interface AuditVerification {
  readonly ok: boolean;
  readonly checked: number;
  /** The first sequence number at which the chain breaks, and why. */
  readonly firstBadSeq: number | null;
  readonly problem: string | null;
  readonly headSeq: number;
  readonly headHash: string;
}

/** A signed statement of the chain head, exportable for offline truncation checks. */
export interface AuditCheckpoint {
  readonly seq: number;
  readonly hash: string;
  readonly time: string;
  /** HMAC-SHA256 over `seq|hash|time` with the store's checkpoint key. */
  readonly signature: string;
}

/** A difference between the usage ledger and the usage recomputed from placements. */
export interface LedgerDrift {
  readonly kind: 'tenant' | 'cloud';
  readonly id: string;
  readonly ledger: Readonly<Record<string, number>>;
  readonly recomputed: Readonly<Record<string, number>>;
}

/** A page of results with an opaque cursor for the next page. */
export interface Page<T> {
  readonly items: readonly T[];
  readonly nextCursor: string | null;
}

/** Fields of a cloud an operator may change after registration. */
export type CloudPatch = Partial<Pick<Cloud, 'locality' | 'zone' | 'tier' | 'tierExclusive' | 'attributes' | 'taints' | 'capacity' | 'costPerUnit' | 'connection'>>;

/** A cloud as registered, before the store assigns its version and allocation. */
export type NewCloud = Omit<Cloud, 'version' | 'allocated'>;

/** Options of {@link Store.admitDeployment}. */
export interface AdmitOptions {
  /** The same key with the same spec returns the same deployment; with a different spec, CONFLICT. */
  readonly idempotencyKey?: string;
  /** When the plan fails: throw UNSCHEDULABLE/QUOTA_EXCEEDED (default), or store the deployment as Pending. */
  readonly onUnschedulable?: 'reject' | 'pending';
}

/** The result of admission: the deployment, the placement and whether it was a replay of an idempotency key. */
export interface Admission {
  readonly deployment: Deployment;
  readonly placement: PlacementRecord | null;
  readonly replayed: boolean;
}

/** Durable state. Both engines pass the same test suite. */
export interface Store {
  readonly engine: 'sqlite' | 'postgres';
  /**
   * Why this store can no longer work in this process (the SQLite writer thread could not be kept
   * running), or null. Unlike a database that is unreachable for a while, only a restart of the
   * service mends it, so the liveness probe reports it.
   */
  readonly broken: TianshuError | null;

  // --- clouds -----------------------------------------------------------------------------
  listClouds(): Promise<readonly Cloud[]>;
  getCloud(id: string): Promise<Cloud | null>;
  registerCloud(actor: Actor, cloud: NewCloud): Promise<Cloud>;
  /** CONFLICT when `expectedVersion` is given and stale. */
  updateCloud(actor: Actor, id: string, patch: CloudPatch, expectedVersion?: number): Promise<Cloud>;
  setCloudCondition(actor: Actor, id: string, condition: CloudCondition, reason: string): Promise<Cloud>;
  /** Refused with CONFLICT while the cloud still holds placements. */
  removeCloud(actor: Actor, id: string): Promise<void>;

  // --- tenants ----------------------------------------------------------------------------
  listTenants(under?: TenantPath): Promise<readonly Tenant[]>;
  getTenant(path: TenantPath): Promise<Tenant | null>;
  /** The parent must exist (except for a root); NOT_FOUND otherwise, CONFLICT if it exists. */
  createTenant(actor: Actor, path: TenantPath, displayName: string, quota?: Quota): Promise<Tenant>;
  /** VALIDATION when a limit exceeds the parent's; lowering below usage is allowed and blocks new reservations. */
  setQuota(actor: Actor, path: TenantPath, quota: Quota): Promise<Tenant>;
  /** Headroom root-first along `path`'s lineage. */
  headroom(path: TenantPath): Promise<readonly Headroom[]>;

  // --- deployments ------------------------------------------------------------------------
  getDeployment(id: string): Promise<Deployment | null>;
  findDeployment(tenant: TenantPath, name: string): Promise<Deployment | null>;
  listDeployments(query: { under?: TenantPath; phase?: Phase; cloudId?: string; first: number; after?: string }): Promise<Page<Deployment>>;
  getPlacement(deploymentId: string): Promise<PlacementRecord | null>;
  /** Plans with `plan` and commits deployment + placement + usage + audit in one transaction. */
  admitDeployment(actor: Actor, spec: DeploymentSpec, plan: Planner, options?: AdmitOptions): Promise<Admission>;
  /** Re-plans with the new replica count (current slices credited), bumping the generation. */
  scaleDeployment(actor: Actor, id: string, replicas: number, plan: Planner): Promise<Admission>;
  /**
   * Re-plans an existing deployment (failover, drain, rebalance, retry of Pending/Degraded).
   * On success the placement is replaced; on failure the deployment keeps its slices that are
   * still eligible per `keep`, becomes Degraded (or stays Pending) with the explanation.
   */
  replacePlacement(actor: Actor, id: string, plan: Planner, cause: string, keep?: (slice: PlacementSlice) => boolean): Promise<Admission>;
  /** Marks the deployment Deleting; its usage is released by {@link Store.finishDeletion}. */
  deleteDeployment(actor: Actor, id: string): Promise<Deployment>;
  /** Removes a Deleting deployment and releases its usage (after the providers removed its slices). */
  finishDeletion(actor: Actor, id: string): Promise<void>;
  /** Moves a deployment's phase; CONFLICT when `expectedVersion` is stale. Audited. */
  setPhase(actor: Actor, id: string, phase: Phase, message: string, expectedVersion?: number): Promise<Deployment>;

  // --- audit ------------------------------------------------------------------------------
  /** Records an event with no other effect, e.g. a denied write. */
  recordAudit(actor: Actor, action: string, object: string, result: AuditEvent['result'], detail: Readonly<Record<string, unknown>>): Promise<AuditEvent>;
  listAuditEvents(query: { after?: number; first: number; objectPrefix?: string }): Promise<Page<AuditEvent>>;
  verifyAudit(from?: AuditCheckpoint): Promise<AuditVerification>;
  checkpoint(): Promise<AuditCheckpoint>;
  /** Deletes events older than `before`, keeping the remaining chain verifiable from a stored checkpoint. */
  purgeAudit(before: Date): Promise<{ purged: number; checkpoint: AuditCheckpoint }>;

  // --- ledger -----------------------------------------------------------------------------
  /** Recomputes usage from placements and reports every difference from the ledger. */
  checkLedger(): Promise<readonly LedgerDrift[]>;

  close(): Promise<void>;
}
