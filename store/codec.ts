/**
 * Row ↔ domain mapping shared by both engines. Both schemas have the same columns; JSON columns
 * arrive as text from SQLite and as parsed values from PostgreSQL's jsonb, and integers may arrive
 * as strings from PostgreSQL's bigint, so every reader goes through {@link json} and {@link int}.
 */
import type { Cloud, CloudCondition, ProviderKind } from '../domain/cloud.js';
import type { Deployment, DeploymentSpec, Phase, PlacementSlice } from '../domain/deployment.js';
import type { Resources } from '../domain/resources.js';
import type { Quota, Tenant } from '../domain/tenant.js';
import { decodeStoredDecision, encodeStoredDecision } from '../scheduler/decision.js';
import type { Decision, StoredDecision } from '../scheduler/decision.js';
import type { StoredCheckpoint } from './audit-chain.js';
import { canonicalDetail } from './audit-chain.js';
import type { DeploymentRecord, IdempotencyRecord } from './engine.js';
import type { SliceRecord } from './ledger.js';
import type { AuditEvent, PlacementRecord } from './store.js';

/** Parses a JSON column (text or already-parsed jsonb). */
export function json<T>(v: unknown): T {
  return (typeof v === 'string' ? JSON.parse(v) : v) as T;
}

/** Reads an integer column (number, or bigint-as-string from PostgreSQL). */
export function int(v: unknown): number {
  return typeof v === 'number' ? v : Number(v);
}

/** A `clouds` row. */
export interface CloudRow {
  id: string;
  kind: string;
  condition: string;
  data: unknown;
  allocated: unknown;
  version: unknown;
}

/** The static part of a cloud, kept in the `data` column. */
type CloudData = Omit<Cloud, 'id' | 'kind' | 'condition' | 'allocated' | 'version'>;

/** Cloud → row values. */
export function cloudToRow(c: Cloud): { id: string; kind: string; condition: string; data: string; allocated: string; version: number } {
  const data: CloudData = {
    locality: c.locality,
    zone: c.zone,
    tier: c.tier,
    tierExclusive: c.tierExclusive,
    attributes: c.attributes,
    taints: c.taints,
    capacity: c.capacity,
    costPerUnit: c.costPerUnit,
    connection: c.connection,
  };
  return { id: c.id, kind: c.kind, condition: c.condition, data: JSON.stringify(data), allocated: JSON.stringify(c.allocated), version: c.version };
}

/** Row → cloud. */
export function rowToCloud(r: CloudRow): Cloud {
  const data = json<CloudData>(r.data);
  return {
    id: r.id,
    kind: r.kind as ProviderKind,
    condition: r.condition as CloudCondition,
    ...data,
    allocated: json<Resources>(r.allocated),
    version: int(r.version),
  };
}

/** A `tenants` row. */
export interface TenantRow {
  path: string;
  display_name: string;
  quota: unknown;
  usage: unknown;
  usage_by_tier: unknown;
  version: unknown;
}

/** Tenant → row values. */
export function tenantToRow(t: Tenant, parent: string | null): { path: string; parent: string | null; display_name: string; quota: string; usage: string; usage_by_tier: string; version: number } {
  return {
    path: t.path,
    parent,
    display_name: t.displayName,
    quota: JSON.stringify(t.quota),
    usage: JSON.stringify(t.usage),
    usage_by_tier: JSON.stringify(t.usageByTier),
    version: t.version,
  };
}

/** Row → tenant. */
export function rowToTenant(r: TenantRow): Tenant {
  return {
    path: r.path,
    displayName: r.display_name,
    quota: json<Quota>(r.quota),
    usage: json<Resources>(r.usage),
    usageByTier: json<Record<string, Resources>>(r.usage_by_tier),
    version: int(r.version),
  };
}

/** A `deployments` row. */
export interface DeploymentRow {
  id: string;
  tenant: string;
  name: string;
  spec: unknown;
  generation: unknown;
  phase: string;
  message: string;
  created_at: string;
  updated_at: string;
  version: unknown;
}

/** A `slices` row. */
export interface SliceRow {
  deployment_id: string;
  cloud_id: string;
  tier: string;
  replicas: unknown;
}

/** Deployment → row values (slices are written separately). */
export function deploymentToRow(d: Deployment): { id: string; tenant: string; name: string; spec: string; generation: number; phase: string; message: string; created_at: string; updated_at: string; version: number } {
  return {
    id: d.id,
    tenant: d.tenant,
    name: d.name,
    spec: JSON.stringify(d.spec),
    generation: d.generation,
    phase: d.phase,
    message: d.message,
    created_at: d.createdAt,
    updated_at: d.updatedAt,
    version: d.version,
  };
}

/** The `deployments` columns in the order of {@link deploymentValues}. */
export const DEPLOYMENT_COLUMNS = ['id', 'tenant', 'name', 'spec', 'generation', 'phase', 'message', 'created_at', 'updated_at', 'version'] as const;

/**
 * Deployment → the row's values in {@link DEPLOYMENT_COLUMNS} order, for positional binding: the
 * SQLite engine writes one per admission, and binding by name costs a property look-up per column.
 */
export function deploymentValues(d: Deployment): [string, string, string, string, number, string, string, string, string, number] {
  return [d.id, d.tenant, d.name, JSON.stringify(d.spec), d.generation, d.phase, d.message, d.createdAt, d.updatedAt, d.version];
}

/** Slice rows → slice records, in a stable order (by cloud id). */
export function rowsToSlices(rows: readonly SliceRow[]): SliceRecord[] {
  return rows
    .map((s) => ({ cloudId: s.cloud_id, replicas: int(s.replicas), tier: s.tier }))
    .sort((a, b) => (a.cloudId < b.cloudId ? -1 : a.cloudId > b.cloudId ? 1 : 0));
}

/** The domain view of slice records. */
export function toPlacementSlices(slices: readonly SliceRecord[]): PlacementSlice[] {
  return slices.map((s) => ({ cloudId: s.cloudId, replicas: s.replicas }));
}

/** Row + its slices → deployment record. */
export function rowToDeploymentRecord(r: DeploymentRow, sliceRows: readonly SliceRow[]): DeploymentRecord {
  const slices = rowsToSlices(sliceRows);
  return {
    slices,
    deployment: {
      id: r.id,
      tenant: r.tenant,
      name: r.name,
      spec: json<DeploymentSpec>(r.spec),
      generation: int(r.generation),
      phase: r.phase as Phase,
      slices: toPlacementSlices(slices),
      message: r.message,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
      version: int(r.version),
    },
  };
}

/** A `placements` row. */
export interface PlacementRow {
  deployment_id: string;
  generation: unknown;
  slices: unknown;
  decision: unknown;
  cause: string;
  decided_at: string;
}

/** Placement record → row values. */
export function placementToRow(p: PlacementRecord): { deployment_id: string; generation: number; slices: string; decision: string; cause: string; decided_at: string } {
  return {
    deployment_id: p.deploymentId,
    generation: p.generation,
    slices: JSON.stringify(p.slices),
    decision: JSON.stringify(encodeDecision(p.decision)),
    cause: p.cause,
    decided_at: p.decidedAt,
  };
}

/** The `placements` columns in the order of {@link placementValues}. */
export const PLACEMENT_COLUMNS = ['deployment_id', 'generation', 'slices', 'decision', 'cause', 'decided_at'] as const;

/** Placement record → the row's values in {@link PLACEMENT_COLUMNS} order (positional binding). */
export function placementValues(p: PlacementRecord): [string, number, string, string, string, string] {
  return [p.deploymentId, p.generation, JSON.stringify(p.slices), JSON.stringify(encodeDecision(p.decision)), p.cause, p.decidedAt];
}

/**
 * A decision → its stored form ({@link StoredDecision}: the bounded explanation with the ranking
 * in columns). The engine's decisions build it straight from their columns (`toStored`); any other
 * decision is bounded by its `toJSON` when it has one, and encoded.
 */
export function encodeDecision(decision: Decision): StoredDecision {
  const d = decision as Decision & { toStored?: () => StoredDecision; toJSON?: () => Decision };
  if (typeof d.toStored === 'function') return d.toStored();
  return encodeStoredDecision(typeof d.toJSON === 'function' ? d.toJSON() : decision);
}

/** The stored form → the decision as it was stored (the object form). */
export function decodeDecision(stored: StoredDecision): Decision {
  return decodeStoredDecision(stored);
}

/** Row → placement record. */
export function rowToPlacement(r: PlacementRow): PlacementRecord {
  return {
    deploymentId: r.deployment_id,
    generation: int(r.generation),
    slices: json<PlacementSlice[]>(r.slices),
    decision: decodeDecision(json<StoredDecision>(r.decision)),
    cause: r.cause,
    decidedAt: r.decided_at,
  };
}

/** An `idempotency` row. */
export interface IdempotencyRow {
  tenant: string;
  key: string;
  spec_hash: string;
  deployment_id: string;
  created_at: string;
}

/** Row → idempotency record. */
export function rowToIdempotency(r: IdempotencyRow): IdempotencyRecord {
  return { tenant: r.tenant, key: r.key, specHash: r.spec_hash, deploymentId: r.deployment_id, createdAt: r.created_at };
}

/** An `audit_events` row. */
export interface AuditRow {
  seq: unknown;
  time: string;
  actor: string;
  role: string;
  action: string;
  object: string;
  result: string;
  detail: string;
  prev_hash: string;
  hash: string;
}

/** Audit event → row values (the detail column holds canonical JSON text, hashed as written). */
export function auditToRow(e: AuditEvent): { seq: number; time: string; actor: string; role: string; action: string; object: string; result: string; detail: string; prev_hash: string; hash: string } {
  return {
    seq: e.seq,
    time: e.time,
    actor: e.actor,
    role: e.role,
    action: e.action,
    object: e.object,
    result: e.result,
    detail: canonicalDetail(e),
    prev_hash: e.prevHash,
    hash: e.hash,
  };
}

/** The `audit_events` columns in the order of {@link auditValues}. */
export const AUDIT_COLUMNS = ['seq', 'time', 'actor', 'role', 'action', 'object', 'result', 'detail', 'prev_hash', 'hash'] as const;

/** Audit event → the row's values in {@link AUDIT_COLUMNS} order (positional binding). */
export function auditValues(e: AuditEvent): [number, string, string, string, string, string, string, string, string, string] {
  return [e.seq, e.time, e.actor, e.role, e.action, e.object, e.result, canonicalDetail(e), e.prevHash, e.hash];
}

/** Row → audit event. */
export function rowToAudit(r: AuditRow): AuditEvent {
  return {
    seq: int(r.seq),
    time: r.time,
    actor: r.actor,
    role: r.role,
    action: r.action,
    object: r.object,
    result: r.result as AuditEvent['result'],
    detail: json<Record<string, unknown>>(r.detail),
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}

/** An `audit_checkpoints` row. */
export interface CheckpointRow {
  seq: unknown;
  hash: string;
  time: string;
  signature: string;
  kind: string;
}

/** Row → stored checkpoint. */
export function rowToCheckpoint(r: CheckpointRow): StoredCheckpoint {
  return { seq: int(r.seq), hash: r.hash, time: r.time, signature: r.signature, kind: r.kind === 'purge' ? 'purge' : 'head' };
}

/** Opaque cursor for deployment pages (the last id). */
export function encodeCursor(id: string): string {
  return Buffer.from(id, 'utf8').toString('base64url');
}

/** Decodes a cursor made by {@link encodeCursor}. */
export function decodeCursor(cursor: string): string {
  return Buffer.from(cursor, 'base64url').toString('utf8');
}
