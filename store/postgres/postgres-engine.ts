/**
 * The PostgreSQL engine: a `pg` Pool, one transaction per mutation, optimistic concurrency.
 *
 * An operation reads fresh rows inside its transaction, and every row it changes is written with
 * `UPDATE … SET version = version + 1 … WHERE id = $1 AND version = $2`; a guard that matches no row
 * (another service instance got there first), a deadlock, a serialization failure or a racing
 * insert rolls back and re-runs the operation against fresh state, with jittered backoff, up to
 * `maxAttempts` times, then CONFLICT. Rows are locked in one global order (tenants, clouds,
 * deployments, then the audit head) to keep deadlocks rare. The audit head row is locked last,
 * which serialises the chain across instances while holding it only for the final inserts.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import type { Cloud } from '../../domain/cloud.js';
import type { Deployment } from '../../domain/deployment.js';
import { TianshuError } from '../../domain/errors.js';
import type { Tenant, TenantPath } from '../../domain/tenant.js';
import { parentOf, tenantLineage } from '../../domain/tenant.js';
import type { AuditSource, ChainHead, StoredCheckpoint } from '../audit-chain.js';
import { chainEvent } from '../audit-chain.js';
import type { AuditRow, CheckpointRow, CloudRow, DeploymentRow, IdempotencyRow, PlacementRow, SliceRow, TenantRow } from '../codec.js';
import {
  auditToRow,
  cloudToRow,
  decodeCursor,
  deploymentToRow,
  encodeCursor,
  int,
  placementToRow,
  rowToAudit,
  rowToCheckpoint,
  rowToCloud,
  rowToDeploymentRecord,
  rowToIdempotency,
  rowToPlacement,
  rowToTenant,
  tenantToRow,
} from '../codec.js';
import type { AuditQuery, DeploymentQuery, DeploymentRecord, Engine, LedgerSnapshot, Mutation, Op, OpContext, StateReader } from '../engine.js';
import { POSTGRES_MIGRATIONS } from '../migrations/postgres/index.js';
import { pendingMigrations, SCHEMA_MIGRATIONS_DDL } from '../migrations/migration.js';
import type { ResolvedOptions } from '../options.js';
import { isoClock } from '../options.js';
import type { AuditEvent, Page, PlacementRecord } from '../store.js';
import { checkFence } from '../fence.js';
import { isConnectionError, isRetryable, mapPgError, VersionConflict } from './postgres-errors.js';

type Queryable = pg.PoolClient | pg.Pool;

/** An arbitrary constant naming Tianshu's migration lock among the database's advisory locks. */
const MIGRATION_LOCK = 7_140_318;

/**
 * The advisory lock every state-changing transaction takes before it reads. Commits already
 * serialise on the `audit_head` row (one chain), but an operation that read and planned before
 * waiting there would find its versions stale and re-plan, and under load give up with CONFLICT.
 * Taking the lock first puts the wait before the reads, so each operation plans against the state
 * the previous one committed (Nomad's plan applier serialises the same way). Throughput is
 * unchanged, since the audit head was the serial point anyway; version guards remain the check.
 */
const WRITE_LOCK = 7_140_319;

async function rows<R>(q: Queryable, sql: string, params: unknown[] = []): Promise<R[]> {
  return (await q.query(sql, params)).rows as R[];
}

async function first<R>(q: Queryable, sql: string, params: unknown[] = []): Promise<R | null> {
  return (await rows<R>(q, sql, params))[0] ?? null;
}

async function deploymentRecord(q: Queryable, r: DeploymentRow | null): Promise<DeploymentRecord | null> {
  if (r === null) return null;
  return rowToDeploymentRecord(r, await rows<SliceRow>(q, 'SELECT * FROM slices WHERE deployment_id = $1', [r.id]));
}

async function latestPlacement(q: Queryable, id: string): Promise<PlacementRecord | null> {
  const r = await first<PlacementRow>(q, 'SELECT * FROM placements WHERE deployment_id = $1 ORDER BY id DESC LIMIT 1', [id]);
  return r === null ? null : rowToPlacement(r);
}

/**
 * Reads for one attempt. With `lockTenants` (every attempt after a conflict) tenant rows are read
 * `FOR UPDATE`: a request that lost a race once waits for its lineage instead of racing again, so
 * re-planning makes progress even when every request shares one root tenant.
 */
function readerFor(c: pg.PoolClient, lockTenants: boolean): StateReader {
  let clouds: Promise<Cloud[]> | undefined;
  let byId: Promise<Map<string, Cloud>> | undefined;
  const loadClouds = (): Promise<Cloud[]> => (clouds ??= rows<CloudRow>(c, 'SELECT * FROM clouds ORDER BY id').then((rs) => rs.map(rowToCloud)));
  return {
    cloud: async (id) => {
      const r = await first<CloudRow>(c, 'SELECT * FROM clouds WHERE id = $1', [id]);
      return r === null ? null : rowToCloud(r);
    },
    clouds: loadClouds,
    cloudMap: () => (byId ??= loadClouds().then((list) => new Map(list.map((x) => [x.id, x])))),
    tenant: async (p) => {
      const r = await first<TenantRow>(c, `SELECT * FROM tenants WHERE path = $1${lockTenants ? ' FOR UPDATE' : ''}`, [p]);
      return r === null ? null : rowToTenant(r);
    },
    lineage: async (p) => {
      // One round trip for the whole lineage; `ORDER BY path` is root first and is also the lock order.
      const found = await rows<TenantRow>(c, `SELECT * FROM tenants WHERE path = ANY($1) ORDER BY path COLLATE "C"${lockTenants ? ' FOR UPDATE' : ''}`, [tenantLineage(p)]);
      const out: Tenant[] = [];
      for (const q of tenantLineage(p)) {
        const r = found.find((x) => x.path === q);
        if (r === undefined) break;
        out.push(rowToTenant(r));
      }
      return out;
    },
    hasChildren: async (p) => (await first(c, 'SELECT 1 FROM tenants WHERE parent = $1 LIMIT 1', [p])) !== null,
    deployment: async (id) => deploymentRecord(c, await first<DeploymentRow>(c, 'SELECT * FROM deployments WHERE id = $1', [id])),
    deploymentByName: async (t, n) => deploymentRecord(c, await first<DeploymentRow>(c, 'SELECT * FROM deployments WHERE tenant = $1 AND name = $2', [t, n])),
    idempotency: async (t, k) => {
      const r = await first<IdempotencyRow>(c, 'SELECT * FROM idempotency WHERE tenant = $1 AND key = $2', [t, k]);
      return r === null ? null : rowToIdempotency(r);
    },
    placement: (id) => latestPlacement(c, id),
    cloudInUse: async (id) => (await first(c, 'SELECT 1 FROM slices WHERE cloud_id = $1 LIMIT 1', [id])) !== null,
    purgeScope: async (before) => {
      const last = await first<{ seq: unknown; hash: string }>(c, 'SELECT seq, hash FROM audit_events WHERE time < $1 ORDER BY seq DESC LIMIT 1', [before]);
      if (last === null) return null;
      const f = await first<{ min: unknown }>(c, 'SELECT min(seq) AS min FROM audit_events');
      return { throughSeq: int(last.seq), throughHash: last.hash, firstSeq: int(f?.min) };
    },
  };
}

function byKey<T>(list: readonly { key: string }[] & readonly T[]): T[] {
  return [...list].sort((a, b) => ((a as { key: string }).key < (b as { key: string }).key ? -1 : 1));
}

/** Connects, migrates (under an advisory lock, so several instances may start at once) and returns the engine. */
export async function openPostgresEngine(url: string, options: ResolvedOptions): Promise<PostgresEngine> {
  const pool = new pg.Pool({ connectionString: url, max: options.poolSize, connectionTimeoutMillis: options.connectTimeoutMs });
  // An idle client losing its server must not crash the process; the next query reports it.
  pool.on('error', () => undefined);
  let client: pg.PoolClient | undefined;
  try {
    client = await pool.connect();
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query(SCHEMA_MIGRATIONS_DDL);
    const applied = (await rows<{ version: unknown }>(client, 'SELECT version FROM schema_migrations')).map((r) => int(r.version));
    const now = options.clock().toISOString();
    for (const m of pendingMigrations(POSTGRES_MIGRATIONS, applied, 'on the PostgreSQL server')) {
      await client.query(m.sql);
      await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [m.version, m.name, now]);
    }
    let key = options.checkpointKey;
    if (key === null) {
      await client.query("INSERT INTO meta (key, value) VALUES ('checkpoint_key', $1) ON CONFLICT (key) DO NOTHING", [randomBytes(32).toString('hex')]);
      const stored = await first<{ value: string }>(client, "SELECT value FROM meta WHERE key = 'checkpoint_key'");
      key = Buffer.from(stored?.value ?? '', 'hex');
    }
    await client.query('COMMIT');
    client.release();
    return new PostgresEngine(pool, url, key, options);
  } catch (err) {
    if (client !== undefined) {
      await client.query('ROLLBACK').catch(() => undefined);
      client.release(true);
    }
    await pool.end().catch(() => undefined);
    throw mapPgError(err, url);
  }
}

/** The PostgreSQL engine. */
export class PostgresEngine implements Engine {
  readonly name = 'postgres' as const;
  /** A pool reconnects by itself: an unreachable database makes the store unready, never broken. */
  readonly broken = null;
  readonly audit: AuditSource;
  private readonly ctx: OpContext;
  private closed = false;

  constructor(
    private readonly pool: pg.Pool,
    private readonly url: string,
    readonly checkpointKey: Buffer,
    private readonly options: ResolvedOptions,
  ) {
    this.ctx = { now: isoClock(options.clock), newId: options.newId, checkpointKey };
    this.audit = {
      events: (after, max, limit) => this.q(async (p) => (await rows<AuditRow>(p, 'SELECT * FROM audit_events WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3', [after, max, limit])).map(rowToAudit)),
      checkpoints: () => this.q(async (p) => (await rows<CheckpointRow>(p, 'SELECT * FROM audit_checkpoints ORDER BY id')).map(rowToCheckpoint)),
      headRecord: () => this.committedHead(),
    };
  }

  /** Runs a read on the pool, mapping failures. */
  private async q<T>(fn: (p: pg.Pool) => Promise<T>): Promise<T> {
    if (this.closed) throw new TianshuError('UNAVAILABLE', 'the store is closed');
    try {
      return await fn(this.pool);
    } catch (err) {
      throw mapPgError(err, this.url);
    }
  }

  async execute<T>(op: Op<T>): Promise<T> {
    if (this.closed) throw new TianshuError('UNAVAILABLE', 'the store is closed');
    for (let attempt = 1; ; attempt++) {
      let client: pg.PoolClient;
      try {
        client = await this.pool.connect();
      } catch (err) {
        throw mapPgError(err, this.url);
      }
      let broken = false;
      try {
        await client.query('BEGIN');
        await client.query('SELECT pg_advisory_xact_lock($1)', [WRITE_LOCK]);
        const out = await op(readerFor(client, attempt > 1), this.ctx);
        if (out.kind === 'read') {
          await client.query('COMMIT');
          return out.value;
        }
        const event = await this.write(client, out.mutation);
        await client.query('COMMIT');
        return out.mutation.result(event);
      } catch (err) {
        broken = isConnectionError(err);
        if (!broken) await client.query('ROLLBACK').catch(() => undefined);
        if (!isRetryable(err)) throw mapPgError(err, this.url);
        if (attempt >= this.options.maxAttempts) {
          throw new TianshuError('CONFLICT', `the state kept changing concurrently; gave up after ${attempt} attempts`, { attempts: attempt }, { cause: err });
        }
      } finally {
        client.release(broken);
      }
      // Jittered exponential backoff so racing instances stop colliding.
      await sleep(Math.random() * Math.min(100, 2 * 2 ** attempt));
    }
  }

  private async write(c: pg.PoolClient, m: Mutation<unknown>): Promise<AuditEvent> {
    if (m.fence !== undefined) {
      // FOR SHARE: a new leader's token increment waits for this commit, or this sees its token.
      const lease = await c.query<{ token: string }>('SELECT token FROM leader_lease WHERE name = $1 FOR SHARE', [m.fence.name]);
      checkFence(m.fence, lease.rows[0] === undefined ? null : Number(lease.rows[0].token));
    }
    const guarded = async (sql: string, params: unknown[]): Promise<void> => {
      const res = await c.query(sql, params);
      if (res.rowCount !== 1) throw new VersionConflict(`version guard failed: ${sql.slice(0, 40)}`);
    };
    for (const w of byKey(m.tenants)) {
      if (w.next === null) continue;
      const r = tenantToRow(w.next, parentOf(w.key));
      if (w.expectedVersion === null) {
        await c.query('INSERT INTO tenants (path, parent, display_name, quota, usage, usage_by_tier, version) VALUES ($1, $2, $3, $4, $5, $6, $7)', [r.path, r.parent, r.display_name, r.quota, r.usage, r.usage_by_tier, r.version]);
      } else {
        await guarded('UPDATE tenants SET display_name = $2, quota = $3, usage = $4, usage_by_tier = $5, version = version + 1 WHERE path = $1 AND version = $6', [r.path, r.display_name, r.quota, r.usage, r.usage_by_tier, w.expectedVersion]);
      }
    }
    for (const w of byKey(m.clouds)) {
      if (w.next === null) continue;
      const r = cloudToRow(w.next);
      if (w.expectedVersion === null) {
        await c.query('INSERT INTO clouds (id, kind, condition, data, allocated, version) VALUES ($1, $2, $3, $4, $5, $6)', [r.id, r.kind, r.condition, r.data, r.allocated, r.version]);
      } else {
        await guarded('UPDATE clouds SET kind = $2, condition = $3, data = $4, allocated = $5, version = version + 1 WHERE id = $1 AND version = $6', [r.id, r.kind, r.condition, r.data, r.allocated, w.expectedVersion]);
      }
    }
    for (const w of byKey(m.deployments)) {
      if (w.next === null) continue;
      const r = deploymentToRow(w.next.deployment);
      if (w.expectedVersion === null) {
        await c.query('INSERT INTO deployments (id, tenant, name, spec, generation, phase, message, created_at, updated_at, version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)', [
          r.id, r.tenant, r.name, r.spec, r.generation, r.phase, r.message, r.created_at, r.updated_at, r.version,
        ]);
      } else {
        await guarded('UPDATE deployments SET spec = $2, generation = $3, phase = $4, message = $5, updated_at = $6, version = version + 1 WHERE id = $1 AND version = $7', [
          r.id, r.spec, r.generation, r.phase, r.message, r.updated_at, w.expectedVersion,
        ]);
        await c.query('DELETE FROM slices WHERE deployment_id = $1', [w.key]);
      }
      for (const s of w.next.slices) await c.query('INSERT INTO slices (deployment_id, cloud_id, tier, replicas) VALUES ($1, $2, $3, $4)', [w.key, s.cloudId, s.tier, s.replicas]);
    }
    for (const p of m.placements) {
      const r = placementToRow(p);
      await c.query('INSERT INTO placements (deployment_id, generation, slices, decision, cause, decided_at) VALUES ($1, $2, $3, $4, $5, $6)', [r.deployment_id, r.generation, r.slices, r.decision, r.cause, r.decided_at]);
    }
    for (const w of m.deployments) {
      if (w.next === null && w.expectedVersion !== null) await guarded('DELETE FROM deployments WHERE id = $1 AND version = $2', [w.key, w.expectedVersion]);
    }
    for (const w of m.idempotency) {
      // A key whose deployment is gone may be taken again; a live one makes the insert collide and re-plan.
      await c.query('DELETE FROM idempotency i WHERE tenant = $1 AND key = $2 AND NOT EXISTS (SELECT 1 FROM deployments d WHERE d.id = i.deployment_id)', [w.tenant, w.key]);
      if (w.record !== null) {
        await c.query('INSERT INTO idempotency (tenant, key, spec_hash, deployment_id, created_at) VALUES ($1, $2, $3, $4, $5)', [w.tenant, w.key, w.record.specHash, w.record.deploymentId, w.record.createdAt]);
      }
    }
    for (const w of m.clouds) {
      if (w.next === null && w.expectedVersion !== null) await guarded('DELETE FROM clouds WHERE id = $1 AND version = $2', [w.key, w.expectedVersion]);
    }
    if (m.purge !== null) {
      await c.query('DELETE FROM audit_events WHERE seq <= $1', [m.purge.throughSeq]);
      const cp = m.purge.checkpoint;
      await c.query('INSERT INTO audit_checkpoints (seq, hash, time, signature, kind) VALUES ($1, $2, $3, $4, $5)', [cp.seq, cp.hash, cp.time, cp.signature, cp.kind]);
    }
    // Last: the head lock serialises the chain across every instance sharing the database.
    const head = await first<{ seq: unknown; hash: string }>(c, 'SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE');
    if (head === null) throw new TianshuError('INTERNAL', 'audit_head row is missing');
    const event = chainEvent({ seq: int(head.seq), hash: head.hash }, m.audit, this.ctx.now());
    const a = auditToRow(event);
    await c.query('INSERT INTO audit_events (seq, time, actor, role, action, object, result, detail, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)', [
      a.seq, a.time, a.actor, a.role, a.action, a.object, a.result, a.detail, a.prev_hash, a.hash,
    ]);
    await c.query('UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1', [event.seq, event.hash]);
    return event;
  }

  // --- reads -------------------------------------------------------------------------------

  listClouds(): Promise<readonly Cloud[]> {
    return this.q(async (p) => (await rows<CloudRow>(p, 'SELECT * FROM clouds ORDER BY id')).map(rowToCloud));
  }
  getCloud(id: string): Promise<Cloud | null> {
    return this.q(async (p) => {
      const r = await first<CloudRow>(p, 'SELECT * FROM clouds WHERE id = $1', [id]);
      return r === null ? null : rowToCloud(r);
    });
  }
  listTenants(under?: TenantPath): Promise<readonly Tenant[]> {
    return this.q(async (p) =>
      (under === undefined
        ? await rows<TenantRow>(p, 'SELECT * FROM tenants ORDER BY path')
        : await rows<TenantRow>(p, "SELECT * FROM tenants WHERE path = $1 OR left(path, length($1) + 1) = $1 || '/' ORDER BY path", [under])
      ).map(rowToTenant),
    );
  }
  getTenant(path: TenantPath): Promise<Tenant | null> {
    return this.q(async (p) => {
      const r = await first<TenantRow>(p, 'SELECT * FROM tenants WHERE path = $1', [path]);
      return r === null ? null : rowToTenant(r);
    });
  }
  getDeployment(id: string): Promise<Deployment | null> {
    return this.q(async (p) => (await deploymentRecord(p, await first<DeploymentRow>(p, 'SELECT * FROM deployments WHERE id = $1', [id])))?.deployment ?? null);
  }
  findDeployment(tenant: TenantPath, name: string): Promise<Deployment | null> {
    return this.q(async (p) => (await deploymentRecord(p, await first<DeploymentRow>(p, 'SELECT * FROM deployments WHERE tenant = $1 AND name = $2', [tenant, name])))?.deployment ?? null);
  }
  listDeployments(q: DeploymentQuery): Promise<Page<Deployment>> {
    return this.q(async (p) => {
      const params: unknown[] = [q.after === undefined ? '' : decodeCursor(q.after), q.first + 1];
      const where = [`d.id COLLATE "C" > $1`];
      if (q.under !== undefined) {
        params.push(q.under);
        where.push(`(d.tenant = $${params.length} OR left(d.tenant, length($${params.length}) + 1) = $${params.length} || '/')`);
      }
      if (q.phase !== undefined) {
        params.push(q.phase);
        where.push(`d.phase = $${params.length}`);
      }
      if (q.cloudId !== undefined) {
        params.push(q.cloudId);
        where.push(`EXISTS (SELECT 1 FROM slices s WHERE s.deployment_id = d.id AND s.cloud_id = $${params.length})`);
      }
      const found = await rows<DeploymentRow>(p, `SELECT d.* FROM deployments d WHERE ${where.join(' AND ')} ORDER BY d.id COLLATE "C" LIMIT $2`, params);
      const items: Deployment[] = [];
      for (const r of found.slice(0, q.first)) {
        const rec = await deploymentRecord(p, r);
        if (rec !== null) items.push(rec.deployment);
      }
      const last = items[items.length - 1];
      return { items, nextCursor: found.length > q.first && last !== undefined ? encodeCursor(last.id) : null };
    });
  }
  getPlacement(deploymentId: string): Promise<PlacementRecord | null> {
    return this.q((p) => latestPlacement(p, deploymentId));
  }
  listAuditEvents(q: AuditQuery): Promise<Page<AuditEvent>> {
    return this.q(async (p) => {
      const after = q.after ?? 0;
      const found =
        q.objectPrefix === undefined
          ? await rows<AuditRow>(p, 'SELECT * FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2', [after, q.first + 1])
          : await rows<AuditRow>(p, 'SELECT * FROM audit_events WHERE seq > $1 AND left(object, length($3)) = $3 ORDER BY seq LIMIT $2', [after, q.first + 1, q.objectPrefix]);
      const items = found.slice(0, q.first).map(rowToAudit);
      const last = items[items.length - 1];
      return { items, nextCursor: found.length > q.first && last !== undefined ? String(last.seq) : null };
    });
  }
  async ledgerSnapshot(): Promise<LedgerSnapshot> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw mapPgError(err, this.url);
    }
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const clouds = (await rows<CloudRow>(client, 'SELECT * FROM clouds ORDER BY id')).map(rowToCloud);
      const tenants = (await rows<TenantRow>(client, 'SELECT * FROM tenants ORDER BY path')).map(rowToTenant);
      const slices = new Map<string, SliceRow[]>();
      for (const r of await rows<SliceRow>(client, 'SELECT * FROM slices')) {
        const list = slices.get(r.deployment_id) ?? [];
        list.push(r);
        slices.set(r.deployment_id, list);
      }
      const entries = (await rows<DeploymentRow>(client, 'SELECT * FROM deployments')).map((r) => {
        const rec = rowToDeploymentRecord(r, slices.get(r.id) ?? []);
        return { tenant: rec.deployment.tenant, spec: rec.deployment.spec, slices: rec.slices };
      });
      await client.query('COMMIT');
      return { clouds, tenants, entries };
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw mapPgError(err, this.url);
    } finally {
      client.release();
    }
  }

  committedHead(): Promise<ChainHead> {
    return this.q(async (p) => {
      const r = await first<{ seq: unknown; hash: string }>(p, 'SELECT seq, hash FROM audit_head WHERE id = 1');
      if (r === null) throw new TianshuError('INTERNAL', 'audit_head row is missing');
      return { seq: int(r.seq), hash: r.hash };
    });
  }
  async storeCheckpoint(cp: StoredCheckpoint): Promise<void> {
    await this.q((p) => p.query('INSERT INTO audit_checkpoints (seq, hash, time, signature, kind) VALUES ($1, $2, $3, $4, $5)', [cp.seq, cp.hash, cp.time, cp.signature, cp.kind]));
  }
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}
