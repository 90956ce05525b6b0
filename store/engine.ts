/**
 * The seam between the engine-independent store logic and the two engines.
 *
 * An operation ({@link Op}) reads state through a {@link StateReader} and returns either a value
 * (nothing to write, e.g. an idempotent replay) or a {@link Mutation}: the rows to write, each
 * guarded by the version it was read at, plus exactly one audit event. The engine decides how the
 * reads are served (SQLite: an in-memory image of the committed state plus the earlier requests of
 * the same group commit; PostgreSQL: queries inside the transaction) and applies the mutation
 * atomically, re-running the operation when a version guard fails.
 */
import type { Cloud } from '../domain/cloud.js';
import type { Deployment, Phase } from '../domain/deployment.js';
import type { TianshuError } from '../domain/errors.js';
import type { Tenant, TenantPath } from '../domain/tenant.js';
import type { AuditDraft, AuditSource, ChainHead, StoredCheckpoint } from './audit-chain.js';
import type { LedgerEntry, SliceRecord } from './ledger.js';
import type { AuditEvent, Fence, Page, PlacementRecord } from './store.js';

/** A deployment as the engines keep it: the domain object plus the tier of each slice's cloud. */
export interface DeploymentRecord {
  readonly deployment: Deployment;
  readonly slices: readonly SliceRecord[];
}

/** An idempotency key of a tenant and the deployment it created. */
export interface IdempotencyRecord {
  readonly tenant: TenantPath;
  readonly key: string;
  readonly specHash: string;
  readonly deploymentId: string;
  readonly createdAt: string;
}

/** The last audit event older than a purge cut-off, and the first event still stored. */
export interface PurgeScope {
  readonly throughSeq: number;
  readonly throughHash: string;
  readonly firstSeq: number;
}

/** Reads an operation may make. Every read reflects the state the mutation will be guarded against. */
export interface StateReader {
  cloud(id: string): Promise<Cloud | null>;
  /** Every cloud, sorted by id. */
  clouds(): Promise<readonly Cloud[]>;
  /** Every cloud by id (the same state as {@link StateReader.clouds}). */
  cloudMap(): Promise<ReadonlyMap<string, Cloud>>;
  tenant(path: TenantPath): Promise<Tenant | null>;
  /** The tenants along `path`'s lineage, root first; shorter than the lineage when a node is missing. */
  lineage(path: TenantPath): Promise<readonly Tenant[]>;
  /** True when `path` has at least one child tenant. */
  hasChildren(path: TenantPath): Promise<boolean>;
  deployment(id: string): Promise<DeploymentRecord | null>;
  deploymentByName(tenant: TenantPath, name: string): Promise<DeploymentRecord | null>;
  idempotency(tenant: TenantPath, key: string): Promise<IdempotencyRecord | null>;
  /** The latest placement record of a deployment. */
  placement(deploymentId: string): Promise<PlacementRecord | null>;
  /** True when any deployment holds a slice on the cloud. */
  cloudInUse(id: string): Promise<boolean>;
  /** What a purge of events older than `before` (ISO time) would remove; null when nothing. */
  purgeScope(before: string): Promise<PurgeScope | null>;
}

/** One row to write: insert (`expectedVersion` null), update (guarded by version) or delete (`next` null). */
export interface RowWrite<T> {
  readonly key: string;
  readonly expectedVersion: number | null;
  readonly next: T | null;
}

/** An idempotency key to record (`record`) or forget (`record` null). */
export interface IdempotencyWrite {
  readonly tenant: TenantPath;
  readonly key: string;
  readonly record: IdempotencyRecord | null;
}

/** Everything one operation writes, in one transaction, with exactly one audit event. */
export interface Mutation<T> {
  readonly clouds: readonly RowWrite<Cloud>[];
  readonly tenants: readonly RowWrite<Tenant>[];
  readonly deployments: readonly RowWrite<DeploymentRecord>[];
  readonly placements: readonly PlacementRecord[];
  readonly idempotency: readonly IdempotencyWrite[];
  /** Audit events through this seq are deleted, and the checkpoint anchors what remains. */
  readonly purge: { readonly throughSeq: number; readonly checkpoint: StoredCheckpoint } | null;
  readonly audit: AuditDraft;
  /** Builds the caller's result once the audit event has its place in the chain. */
  readonly result: (event: AuditEvent) => T;
  /** The writer's fencing token; the engine checks it against `leader_lease` inside the transaction. */
  readonly fence?: Fence;
}

/** What an operation decided: a value with nothing to write, or a mutation. */
export type Outcome<T> = { readonly kind: 'read'; readonly value: T } | { readonly kind: 'write'; readonly mutation: Mutation<T> };

/** Per-attempt services an operation uses; injectable for tests. */
export interface OpContext {
  /** The current time as ISO-8601 UTC. */
  now(): string;
  newId(): string;
  /** Signs checkpoints (purge anchors). */
  readonly checkpointKey: Buffer;
}

/** An operation: pure apart from its reads; an engine may run it more than once. */
export type Op<T> = (reader: StateReader, ctx: OpContext) => Promise<Outcome<T>>;

/** What the ledger check compares: the stored ledger and the placements it must equal. */
export interface LedgerSnapshot {
  readonly clouds: readonly Cloud[];
  readonly tenants: readonly Tenant[];
  readonly entries: readonly LedgerEntry[];
}

/** Queries for `listDeployments`. */
export interface DeploymentQuery {
  readonly under?: TenantPath;
  readonly phase?: Phase;
  readonly cloudId?: string;
  readonly first: number;
  readonly after?: string;
}

/** Queries for `listAuditEvents`. */
export interface AuditQuery {
  readonly after?: number;
  readonly first: number;
  readonly objectPrefix?: string;
}

/** Committed-state reads, answered by SQL in each engine. */
export interface ReadModel {
  listClouds(): Promise<readonly Cloud[]>;
  getCloud(id: string): Promise<Cloud | null>;
  listTenants(under?: TenantPath): Promise<readonly Tenant[]>;
  getTenant(path: TenantPath): Promise<Tenant | null>;
  getDeployment(id: string): Promise<Deployment | null>;
  findDeployment(tenant: TenantPath, name: string): Promise<Deployment | null>;
  listDeployments(query: DeploymentQuery): Promise<Page<Deployment>>;
  getPlacement(deploymentId: string): Promise<PlacementRecord | null>;
  listAuditEvents(query: AuditQuery): Promise<Page<AuditEvent>>;
  /** Clouds, tenants and every deployment's spec and slices, read as one consistent snapshot. */
  ledgerSnapshot(): Promise<LedgerSnapshot>;
}

/** One storage engine. */
export interface Engine extends ReadModel {
  readonly name: 'sqlite' | 'postgres';
  /** Why the engine can no longer work in this process, or null (see `Store.broken`). */
  readonly broken: TianshuError | null;
  /** Runs `op` and applies its mutation atomically (re-running it on a version conflict). */
  execute<T>(op: Op<T>): Promise<T>;
  readonly audit: AuditSource;
  /** The committed head of the chain. */
  committedHead(): Promise<ChainHead>;
  storeCheckpoint(cp: StoredCheckpoint): Promise<void>;
  close(): Promise<void>;
}
