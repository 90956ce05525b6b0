/**
 * The SQLite engine: better-sqlite3 in WAL mode with `synchronous=FULL`, so an acknowledged write
 * has been fsynced. Throughput comes from group commit: every mutation queued while the previous
 * batch was being written is planned against the in-memory {@link Image} (each request seeing the
 * ones before it) and all of them are written in one `BEGIN IMMEDIATE` transaction — one fsync for
 * the batch — by the {@link Writer}: a thread with its own connection, so the event loop serves
 * requests while the SQL, the fsync and the WAL checkpoints run. Reads use the engine's own
 * connection. If the batch fails to write, the image is rebuilt from the file and each request is
 * retried in a transaction of its own, so one bad request cannot sink its neighbours.
 *
 * Another process writing the same file is noticed by the writer through `PRAGMA data_version`
 * under the batch's write lock; the batch is then refused as stale, the image reloaded and the
 * batch planned again. A writer thread that ends with a batch in flight is replaced, and the batch
 * looked up in the file by its last audit event: answered if it committed, planned again if not.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type Database from 'better-sqlite3';
import type { Cloud } from '../../domain/cloud.js';
import type { Deployment } from '../../domain/deployment.js';
import { TianshuError } from '../../domain/errors.js';
import type { Tenant, TenantPath } from '../../domain/tenant.js';
import { parentOf } from '../../domain/tenant.js';
import type { AuditSource, ChainHead, StoredCheckpoint } from '../audit-chain.js';
import type { AuditRow, CheckpointRow, CloudRow, DeploymentRow, IdempotencyRow, PlacementRow, SliceRow, TenantRow } from '../codec.js';
import {
  AUDIT_COLUMNS,
  auditValues,
  cloudToRow,
  decodeCursor,
  DEPLOYMENT_COLUMNS,
  deploymentToRow,
  deploymentValues,
  encodeCursor,
  int,
  PLACEMENT_COLUMNS,
  placementValues,
  rowToAudit,
  rowToCheckpoint,
  rowToCloud,
  rowToDeploymentRecord,
  rowToIdempotency,
  rowToPlacement,
  rowToTenant,
  tenantToRow,
} from '../codec.js';
import type { AuditQuery, DeploymentQuery, DeploymentRecord, Engine, IdempotencyWrite, LedgerSnapshot, Mutation, Op, OpContext, PurgeScope, StateReader } from '../engine.js';
import { SQLITE_MIGRATIONS } from '../migrations/sqlite/index.js';
import { pendingMigrations, SCHEMA_MIGRATIONS_DDL } from '../migrations/migration.js';
import type { ResolvedOptions } from '../options.js';
import { isoClock } from '../options.js';
import type { AuditEvent, Page, PlacementRecord } from '../store.js';
import type { WriteBatch, WriteStep } from './batch-executor.js';
import { errorOf, failureOf } from './batch-executor.js';
import { BulkInsert } from './bulk-insert.js';
import { openConnection } from './connection.js';
import { Image } from './image.js';
import { fencedOut } from '../fence.js';
import { mapSqliteError } from './sqlite-errors.js';
import type { Writer, WriterOutcome, WriterThreadData } from './writer.js';
import { inlineWriter, startWriterThread, supervisedWriter } from './writer.js';

interface Pending {
  readonly op: Op<unknown>;
  readonly resolve: (v: unknown) => void;
  readonly reject: (e: unknown) => void;
}

type Staged =
  | { readonly p: Pending; readonly kind: 'read'; readonly value: unknown }
  | { readonly p: Pending; readonly kind: 'write'; readonly result: (event: AuditEvent) => unknown; readonly event: AuditEvent }
  | { readonly p: Pending; readonly kind: 'error'; readonly error: unknown };

interface Coalesced<T> {
  readonly key: string;
  expected: number | null;
  next: T | null;
}

function coalesce<T>(into: Map<string, Coalesced<T>>, key: string, expected: number | null, next: T | null): void {
  const cur = into.get(key);
  if (cur === undefined) into.set(key, { key, expected, next });
  else cur.next = next;
}

/**
 * What a batch writes, gathered as each mutation is applied to the image: rows touched several
 * times keep only their final state, so the versions a later request of the batch supersedes (and
 * the mutations that carried them) are garbage at once instead of living until the batch commits.
 */
class BatchWrites {
  readonly clouds = new Map<string, Coalesced<Cloud>>();
  readonly tenants = new Map<string, Coalesced<Tenant>>();
  readonly deployments = new Map<string, Coalesced<DeploymentRecord>>();
  readonly placements: PlacementRecord[] = [];
  /** Idempotency keys and purges in the order of the requests that wrote them. */
  readonly idempotency: IdempotencyWrite[] = [];
  readonly purges: NonNullable<Mutation<unknown>['purge']>[] = [];
  readonly events: AuditEvent[] = [];

  add(m: Mutation<unknown>, event: AuditEvent): void {
    for (const w of m.clouds) coalesce(this.clouds, w.key, w.expectedVersion, w.next);
    for (const w of m.tenants) coalesce(this.tenants, w.key, w.expectedVersion, w.next);
    for (const w of m.deployments) coalesce(this.deployments, w.key, w.expectedVersion, w.next);
    for (const p of m.placements) this.placements.push(p);
    for (const w of m.idempotency) this.idempotency.push(w);
    if (m.purge !== null) this.purges.push(m.purge);
    this.events.push(event);
  }
}

/**
 * Opens (creating if needed) the SQLite file at `path`, migrates it, starts the writer and loads
 * the image — in that order, so that whatever another connection commits after the image is read
 * is noticed by the writer's first batch. `startWriter` starts the writer thread (a seam for the
 * tests, which keep a handle on it), again whenever the thread is lost (see {@link supervisedWriter}).
 */
export async function openSqliteEngine(path: string, options: ResolvedOptions, startWriter: (data: WriterThreadData) => Promise<Writer> = startWriterThread): Promise<SqliteEngine> {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  let db: Database.Database;
  try {
    db = openConnection(path, options.busyTimeoutMs);
  } catch (err) {
    throw mapSqliteError(err, path, options.busyTimeoutMs);
  }
  let key: Buffer;
  let writer: Writer;
  try {
    key = migrate(db, path, options);
    // `:memory:` is private to this connection: its writes run inline.
    const data: WriterThreadData = { path, busyTimeoutMs: options.busyTimeoutMs };
    writer = path === ':memory:' ? inlineWriter(db) : supervisedWriter(await startWriter(data), () => startWriter(data));
  } catch (err) {
    db.close();
    throw mapSqliteError(err, path, options.busyTimeoutMs);
  }
  try {
    return new SqliteEngine(db, path, key, options, writer);
  } catch (err) {
    await writer.close();
    db.close();
    throw mapSqliteError(err, path, options.busyTimeoutMs);
  }
}

function migrate(db: Database.Database, path: string, options: ResolvedOptions): Buffer {
  db.exec('BEGIN IMMEDIATE');
  try {
    db.exec(SCHEMA_MIGRATIONS_DDL);
    const applied = db.prepare('SELECT version FROM schema_migrations').pluck().all() as number[];
    const now = options.clock().toISOString();
    for (const m of pendingMigrations(SQLITE_MIGRATIONS, applied, path)) {
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, now);
    }
    let key = options.checkpointKey;
    if (key === null) {
      const stored = db.prepare("SELECT value FROM meta WHERE key = 'checkpoint_key'").pluck().get() as string | undefined;
      if (stored === undefined) {
        key = randomBytes(32);
        db.prepare("INSERT INTO meta (key, value) VALUES ('checkpoint_key', ?)").run(key.toString('hex'));
      } else key = Buffer.from(stored, 'hex');
    }
    db.exec('COMMIT');
    return key;
  } catch (err) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw err;
  }
}

/** The statements a batch writes with (run by the {@link Writer}, positional parameters). */
const WRITE = {
  cloudInsert: 'INSERT INTO clouds (id, kind, condition, data, allocated, version) VALUES (?, ?, ?, ?, ?, ?)',
  cloudUpdate: 'UPDATE clouds SET kind = ?, condition = ?, data = ?, allocated = ?, version = ? WHERE id = ? AND version = ?',
  cloudDelete: 'DELETE FROM clouds WHERE id = ? AND version = ?',
  tenantInsert: 'INSERT INTO tenants (path, parent, display_name, quota, usage, usage_by_tier, version) VALUES (?, ?, ?, ?, ?, ?, ?)',
  tenantUpdate: 'UPDATE tenants SET display_name = ?, quota = ?, usage = ?, usage_by_tier = ?, version = ? WHERE path = ? AND version = ?',
  depUpdate: 'UPDATE deployments SET spec = ?, generation = ?, phase = ?, message = ?, updated_at = ?, version = ? WHERE id = ? AND version = ?',
  depDelete: 'DELETE FROM deployments WHERE id = ? AND version = ?',
  slicesDelete: 'DELETE FROM slices WHERE deployment_id = ?',
  idemPut: 'INSERT OR REPLACE INTO idempotency (tenant, key, spec_hash, deployment_id, created_at) VALUES (?, ?, ?, ?, ?)',
  idemDelete: 'DELETE FROM idempotency WHERE tenant = ? AND key = ?',
  auditPurge: 'DELETE FROM audit_events WHERE seq <= ?',
  headSet: 'UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1',
  checkpointInsert: 'INSERT INTO audit_checkpoints (seq, hash, time, signature, kind) VALUES (?, ?, ?, ?, ?)',
} as const;

/** The SQLite engine. */
export class SqliteEngine implements Engine {
  readonly name = 'sqlite' as const;
  readonly audit: AuditSource;
  private readonly image = new Image();
  private readonly queue: Pending[] = [];
  private scheduled = false;
  private flushing = false;
  private closed = false;
  private idleWaiters: (() => void)[] = [];
  private readonly ctx: OpContext;
  private readonly reader: StateReader;
  private readonly s;
  private readonly bulk;

  constructor(
    private readonly db: Database.Database,
    private readonly path: string,
    readonly checkpointKey: Buffer,
    private readonly options: ResolvedOptions,
    private readonly writer: Writer,
  ) {
    this.ctx = { now: isoClock(options.clock), newId: options.newId, checkpointKey };
    this.s = {
      cloudAll: db.prepare('SELECT * FROM clouds ORDER BY id'),
      cloudOne: db.prepare('SELECT * FROM clouds WHERE id = ?'),
      tenantAll: db.prepare('SELECT * FROM tenants ORDER BY path'),
      tenantUnder: db.prepare("SELECT * FROM tenants WHERE path = @p OR substr(path, 1, length(@p) + 1) = @p || '/' ORDER BY path"),
      tenantOne: db.prepare('SELECT * FROM tenants WHERE path = ?'),
      depAll: db.prepare('SELECT * FROM deployments'),
      depOne: db.prepare('SELECT * FROM deployments WHERE id = ?'),
      depByName: db.prepare('SELECT * FROM deployments WHERE tenant = ? AND name = ?'),
      slicesAll: db.prepare('SELECT * FROM slices'),
      slicesOf: db.prepare('SELECT * FROM slices WHERE deployment_id = ?'),
      placementLatest: db.prepare('SELECT * FROM placements WHERE deployment_id = ? ORDER BY id DESC LIMIT 1'),
      idemAll: db.prepare('SELECT * FROM idempotency'),
      auditRange: db.prepare('SELECT * FROM audit_events WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?'),
      auditPage: db.prepare('SELECT * FROM audit_events WHERE seq > ? ORDER BY seq LIMIT ?'),
      auditPagePrefix: db.prepare('SELECT * FROM audit_events WHERE seq > ? AND substr(object, 1, length(?)) = ? ORDER BY seq LIMIT ?'),
      auditPurgeScope: db.prepare('SELECT seq, hash FROM audit_events WHERE time < ? ORDER BY seq DESC LIMIT 1'),
      auditFirst: db.prepare('SELECT min(seq) FROM audit_events').pluck(),
      headGet: db.prepare('SELECT seq, hash FROM audit_head WHERE id = 1'),
      checkpointAll: db.prepare('SELECT * FROM audit_checkpoints ORDER BY id'),
    };
    this.bulk = {
      deployments: new BulkInsert('deployments', DEPLOYMENT_COLUMNS),
      slices: new BulkInsert('slices', ['deployment_id', 'cloud_id', 'tier', 'replicas']),
      placements: new BulkInsert('placements', PLACEMENT_COLUMNS),
      audit: new BulkInsert('audit_events', AUDIT_COLUMNS),
    };
    const s = this.s;
    const image = this.image;
    this.reader = {
      cloud: (id) => Promise.resolve(image.clouds.get(id) ?? null),
      clouds: () => Promise.resolve(image.cloudList()),
      cloudMap: () => Promise.resolve(image.clouds),
      tenant: (p) => Promise.resolve(image.tenants.get(p) ?? null),
      lineage: (p) => Promise.resolve(image.lineage(p)),
      hasChildren: (p) => Promise.resolve(image.hasChildren(p)),
      deployment: (id) => Promise.resolve(image.deployments.get(id) ?? null),
      deploymentByName: (t, n) => Promise.resolve(image.deploymentByName(t, n)),
      idempotency: (t, k) => Promise.resolve(image.idempotencyRecord(t, k)),
      placement: (id) => Promise.resolve(image.pendingPlacement(id) ?? this.latestPlacement(id)),
      cloudInUse: (id) => Promise.resolve(image.cloudInUse(id)),
      purgeScope: (before) => Promise.resolve(this.purgeScope(before)),
    };
    this.audit = {
      events: (after, max, limit) => Promise.resolve((s.auditRange.all(after, max, limit) as AuditRow[]).map(rowToAudit)),
      checkpoints: () => Promise.resolve((s.checkpointAll.all() as CheckpointRow[]).map(rowToCheckpoint)),
      headRecord: () => Promise.resolve(this.head()),
    };
    this.reloadImage();
  }

  // --- group commit ------------------------------------------------------------------------

  execute<T>(op: Op<T>): Promise<T> {
    if (this.closed) return Promise.reject(new TianshuError('UNAVAILABLE', `the store on ${this.path} is closed`));
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ op: op, resolve: resolve as (v: unknown) => void, reject });
      if (!this.scheduled && !this.flushing) {
        this.scheduled = true;
        // One tick: everything queued in this turn of the event loop joins the batch.
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    this.flushing = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.options.mode === 'single' ? 1 : this.options.maxBatch);
        await this.runBatch(batch);
      }
    } finally {
      this.flushing = false;
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  private whenIdle(): Promise<void> {
    if (!this.flushing && !this.scheduled) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private async runBatch(batch: readonly Pending[]): Promise<void> {
    const staged: Staged[] = [];
    const writes = new BatchWrites();
    const fences: WriteBatch['fences'][number][] = [];
    for (const p of batch) {
      try {
        const out = await p.op(this.reader, this.ctx);
        if (out.kind === 'read') staged.push({ p, kind: 'read', value: out.value });
        else {
          const fence = out.mutation.fence;
          if (fence !== undefined) fences.push({ request: staged.length, fence });
          const event = this.image.apply(out.mutation, this.ctx.now());
          writes.add(out.mutation, event);
          staged.push({ p, kind: 'write', result: out.mutation.result, event });
        }
      } catch (error) {
        staged.push({ p, kind: 'error', error });
      }
    }
    // Even a batch with nothing to write goes to the writer: its reads were served from the image,
    // which the stale check holds to what is on disk.
    let outcome: WriterOutcome;
    try {
      outcome = await this.commit(writes, fences);
    } catch (err) {
      // The writer has stopped for good (UNAVAILABLE), before taking this batch: the image, which
      // has the batch applied, is read again from the file.
      if (this.reloadAfterFailure(batch)) for (const p of batch) p.reject(err);
      return;
    }
    if (outcome.kind === 'committed') return this.answer(staged);
    if (outcome.kind === 'lost') {
      // The writer's thread ended with the batch in flight (the next batch starts a new one). The
      // file says whether it committed: if so it is answered, else planned again on the file's state.
      if (!this.reloadAfterFailure(batch)) return;
      return this.onFile(writes) ? this.answer(staged) : this.runBatch(batch);
    }
    // Nothing was written: the image, which has the batch applied, is read again from the file.
    if (!this.reloadAfterFailure(batch)) return;
    // Another connection committed since the image was read: plan the batch again on its state.
    if (outcome.kind === 'stale') return this.runBatch(batch);
    // Retried one by one, requests the transaction never began for would each wait for the lock again.
    if (batch.length > 1 && outcome.kind !== 'unbegun') {
      // Isolate the request that broke the batch: everyone else still commits.
      for (const p of batch) await this.runBatch([p]);
      return;
    }
    for (const p of batch) p.reject(this.failure(outcome, fences));
  }

  /** Answers the requests of a batch that committed. */
  private answer(staged: readonly Staged[]): void {
    this.image.forgetPendingPlacements();
    for (const st of staged) {
      if (st.kind === 'read') st.p.resolve(st.value);
      else if (st.kind === 'error') st.p.reject(st.error);
      else {
        try {
          st.p.resolve(st.result(st.event));
        } catch (e) {
          st.p.reject(e);
        }
      }
    }
  }

  /**
   * Whether a batch's writes are in the file (read after the image is reloaded): its last audit
   * event, which every write appends and the batch commits with, is there with the same hash.
   * A batch that wrote nothing has nothing to find, and its reads may simply be served again.
   */
  private onFile(writes: BatchWrites): boolean {
    const last = writes.events[writes.events.length - 1];
    if (last === undefined || this.image.head.seq < last.seq) return false;
    const row = this.s.auditRange.get(last.seq - 1, last.seq, 1) as AuditRow | undefined;
    return row?.hash === last.hash;
  }

  /** Hands the batch's writes to the writer; a batch whose statements cannot be built fails as one that did not commit. */
  private commit(writes: BatchWrites, fences: WriteBatch['fences']): Promise<WriterOutcome> {
    let steps: WriteStep[];
    try {
      steps = this.batchSteps(writes);
    } catch (err) {
      const { message } = failureOf(err);
      return Promise.resolve({ kind: 'failed', code: null, message: `could not build the batch's statements: ${message}` });
    }
    return this.writer.write({ checkStale: true, fences, steps });
  }

  /** The error of the requests of a batch (or a checkpoint) that did not commit, and is not retried. */
  private failure(outcome: Exclude<WriterOutcome, { kind: 'committed' }>, fences: WriteBatch['fences']): TianshuError {
    if (outcome.kind === 'fenced') {
      const fence = fences.find((f) => f.request === outcome.request)?.fence;
      if (fence !== undefined) return fencedOut(fence, outcome.current);
    }
    const failed = outcome.kind === 'failed' || outcome.kind === 'unbegun' ? outcome : { code: null, message: `the writer answered "${outcome.kind}" where that cannot be` };
    return mapSqliteError(errorOf(failed), this.path, this.options.busyTimeoutMs);
  }

  /** Reloads the image after a batch that did not commit; false (and the batch rejected) when even that fails. */
  private reloadAfterFailure(batch: readonly Pending[]): boolean {
    try {
      this.reloadImage();
      return true;
    } catch (reloadErr) {
      const e = mapSqliteError(reloadErr, this.path, this.options.busyTimeoutMs);
      for (const p of batch) p.reject(e);
      return false;
    }
  }

  /**
   * The statements that write the batch; rows touched several times in the batch are written
   * once, in their final state.
   */
  private batchSteps(writes: BatchWrites): WriteStep[] {
    const steps: WriteStep[] = [];
    const { clouds, tenants, deployments: deps, placements, events } = writes;
    if (events.length === 0) return steps;
    // Positional binding throughout: better-sqlite3 binds a named parameter by looking the
    // property up on the object, one look-up per column per row.
    for (const w of tenants.values()) {
      const key = w.key;
      if (w.next === null) continue;
      const r = tenantToRow(w.next, parentOf(key));
      if (w.expected === null) steps.push([WRITE.tenantInsert, [r.path, r.parent, r.display_name, r.quota, r.usage, r.usage_by_tier, r.version], null]);
      else steps.push([WRITE.tenantUpdate, [r.display_name, r.quota, r.usage, r.usage_by_tier, r.version, r.path, w.expected], `tenant ${key}`]);
    }
    for (const w of clouds.values()) {
      const key = w.key;
      if (w.next === null) continue;
      const r = cloudToRow(w.next);
      if (w.expected === null) steps.push([WRITE.cloudInsert, [r.id, r.kind, r.condition, r.data, r.allocated, r.version], null]);
      else steps.push([WRITE.cloudUpdate, [r.kind, r.condition, r.data, r.allocated, r.version, r.id, w.expected], `cloud ${key}`]);
    }
    const bulk = this.bulk;
    // Rows a failed batch queued but never handed over must not leak into this one.
    for (const b of [bulk.deployments, bulk.slices, bulk.placements, bulk.audit]) b.clear();
    for (const w of deps.values()) {
      const key = w.key;
      if (w.next === null) continue;
      if (w.expected === null) bulk.deployments.add(deploymentValues(w.next.deployment));
      else {
        const r = deploymentToRow(w.next.deployment);
        steps.push([WRITE.depUpdate, [r.spec, r.generation, r.phase, r.message, r.updated_at, r.version, r.id, w.expected], `deployment ${key}`]);
        steps.push([WRITE.slicesDelete, [key], null]);
      }
      for (const sl of w.next.slices) bulk.slices.add([key, sl.cloudId, sl.tier, sl.replicas]);
    }
    // New deployments before their slices and placements (foreign keys); an updated deployment's
    // old slices were deleted above, before its new ones are inserted here.
    bulk.deployments.flushInto(steps);
    bulk.slices.flushInto(steps);
    for (const p of placements) {
      const final = deps.get(p.deploymentId);
      if (final !== undefined && final.next === null) continue; // its deployment is gone by the end of the batch
      bulk.placements.add(placementValues(p));
    }
    bulk.placements.flushInto(steps);
    for (const w of deps.values()) {
      const key = w.key;
      if (w.next === null && w.expected !== null) steps.push([WRITE.depDelete, [key, w.expected], `deployment ${key}`]);
    }
    for (const w of writes.idempotency) {
      if (w.record === null) steps.push([WRITE.idemDelete, [w.tenant, w.key], null]);
      else steps.push([WRITE.idemPut, [w.tenant, w.key, w.record.specHash, w.record.deploymentId, w.record.createdAt], null]);
    }
    for (const purge of writes.purges) {
      steps.push([WRITE.auditPurge, [purge.throughSeq], null]);
      const c = purge.checkpoint;
      steps.push([WRITE.checkpointInsert, [c.seq, c.hash, c.time, c.signature, c.kind], null]);
    }
    for (const w of clouds.values()) {
      const key = w.key;
      if (w.next === null && w.expected !== null) steps.push([WRITE.cloudDelete, [key, w.expected], `cloud ${key}`]);
    }
    for (const e of events) bulk.audit.add(auditValues(e));
    bulk.audit.flushInto(steps);
    const last = events[events.length - 1];
    if (last !== undefined) steps.push([WRITE.headSet, [last.seq, last.hash], null]);
    return steps;
  }

  private reloadImage(): void {
    const s = this.s;
    const load = (): void => {
      const slices = new Map<string, SliceRow[]>();
      for (const r of s.slicesAll.all() as SliceRow[]) {
        const list = slices.get(r.deployment_id) ?? [];
        list.push(r);
        slices.set(r.deployment_id, list);
      }
      this.image.load(
        (s.cloudAll.all() as CloudRow[]).map(rowToCloud),
        (s.tenantAll.all() as TenantRow[]).map(rowToTenant),
        (s.depAll.all() as DeploymentRow[]).map((r) => rowToDeploymentRecord(r, slices.get(r.id) ?? [])),
        (s.idemAll.all() as IdempotencyRow[]).map(rowToIdempotency),
        this.head(),
      );
    };
    if (this.db.inTransaction) load();
    else this.db.transaction(load).deferred();
  }

  private head(): ChainHead {
    const r = this.s.headGet.get() as { seq: unknown; hash: string };
    return { seq: int(r.seq), hash: r.hash };
  }

  private latestPlacement(id: string): PlacementRecord | null {
    const r = this.s.placementLatest.get(id) as PlacementRow | undefined;
    return r === undefined ? null : rowToPlacement(r);
  }

  private purgeScope(before: string): PurgeScope | null {
    const last = this.s.auditPurgeScope.get(before) as { seq: unknown; hash: string } | undefined;
    if (last === undefined) return null;
    const first = this.s.auditFirst.get() as number;
    return { throughSeq: int(last.seq), throughHash: last.hash, firstSeq: int(first) };
  }

  /** The writer's failure once it has given up replacing its thread (see {@link supervisedWriter}). */
  get broken(): TianshuError | null {
    return this.closed ? null : this.writer.failure;
  }

  private guard<T>(fn: () => T): Promise<T> {
    // Without its writer the store cannot take writes: reads refuse too, so the readiness probe
    // fails as well as the liveness one, and the service is not left half working.
    const stopped = this.broken;
    if (stopped !== null) return Promise.reject(stopped);
    try {
      return Promise.resolve(fn());
    } catch (err) {
      return Promise.reject(mapSqliteError(err, this.path, this.options.busyTimeoutMs));
    }
  }

  // --- reads -------------------------------------------------------------------------------

  private deploymentRecord(r: DeploymentRow): DeploymentRecord {
    return rowToDeploymentRecord(r, this.s.slicesOf.all(r.id) as SliceRow[]);
  }

  listClouds(): Promise<readonly Cloud[]> {
    return this.guard(() => (this.s.cloudAll.all() as CloudRow[]).map(rowToCloud));
  }
  getCloud(id: string): Promise<Cloud | null> {
    return this.guard(() => {
      const r = this.s.cloudOne.get(id) as CloudRow | undefined;
      return r === undefined ? null : rowToCloud(r);
    });
  }
  listTenants(under?: TenantPath): Promise<readonly Tenant[]> {
    return this.guard(() => ((under === undefined ? this.s.tenantAll.all() : this.s.tenantUnder.all({ p: under })) as TenantRow[]).map(rowToTenant));
  }
  getTenant(path: TenantPath): Promise<Tenant | null> {
    return this.guard(() => {
      const r = this.s.tenantOne.get(path) as TenantRow | undefined;
      return r === undefined ? null : rowToTenant(r);
    });
  }
  getDeployment(id: string): Promise<Deployment | null> {
    return this.guard(() => {
      const r = this.s.depOne.get(id) as DeploymentRow | undefined;
      return r === undefined ? null : this.deploymentRecord(r).deployment;
    });
  }
  findDeployment(tenant: TenantPath, name: string): Promise<Deployment | null> {
    return this.guard(() => {
      const r = this.s.depByName.get(tenant, name) as DeploymentRow | undefined;
      return r === undefined ? null : this.deploymentRecord(r).deployment;
    });
  }
  listDeployments(q: DeploymentQuery): Promise<Page<Deployment>> {
    return this.guard(() => {
      const where: string[] = ['d.id > @after'];
      const params: Record<string, unknown> = { after: q.after === undefined ? '' : decodeCursor(q.after), limit: q.first + 1 };
      if (q.under !== undefined) {
        where.push("(d.tenant = @under OR substr(d.tenant, 1, length(@under) + 1) = @under || '/')");
        params.under = q.under;
      }
      if (q.phase !== undefined) {
        where.push('d.phase = @phase');
        params.phase = q.phase;
      }
      if (q.cloudId !== undefined) {
        where.push('EXISTS (SELECT 1 FROM slices s WHERE s.deployment_id = d.id AND s.cloud_id = @cloud)');
        params.cloud = q.cloudId;
      }
      const rows = this.db.prepare(`SELECT d.* FROM deployments d WHERE ${where.join(' AND ')} ORDER BY d.id LIMIT @limit`).all(params) as DeploymentRow[];
      const page = rows.slice(0, q.first).map((r) => this.deploymentRecord(r).deployment);
      const last = page[page.length - 1];
      return { items: page, nextCursor: rows.length > q.first && last !== undefined ? encodeCursor(last.id) : null };
    });
  }
  getPlacement(deploymentId: string): Promise<PlacementRecord | null> {
    return this.guard(() => this.latestPlacement(deploymentId));
  }
  listAuditEvents(q: AuditQuery): Promise<Page<AuditEvent>> {
    return this.guard(() => {
      const after = q.after ?? 0;
      const rows = (q.objectPrefix === undefined ? this.s.auditPage.all(after, q.first + 1) : this.s.auditPagePrefix.all(after, q.objectPrefix, q.objectPrefix, q.first + 1)) as AuditRow[];
      const items = rows.slice(0, q.first).map(rowToAudit);
      const last = items[items.length - 1];
      return { items, nextCursor: rows.length > q.first && last !== undefined ? String(last.seq) : null };
    });
  }
  ledgerSnapshot(): Promise<LedgerSnapshot> {
    return this.guard(() => {
      const read = (): LedgerSnapshot => {
        const slices = new Map<string, SliceRow[]>();
        for (const r of this.s.slicesAll.all() as SliceRow[]) {
          const list = slices.get(r.deployment_id) ?? [];
          list.push(r);
          slices.set(r.deployment_id, list);
        }
        return {
          clouds: (this.s.cloudAll.all() as CloudRow[]).map(rowToCloud),
          tenants: (this.s.tenantAll.all() as TenantRow[]).map(rowToTenant),
          entries: (this.s.depAll.all() as DeploymentRow[]).map((r) => {
            const rec = rowToDeploymentRecord(r, slices.get(r.id) ?? []);
            return { tenant: rec.deployment.tenant, spec: rec.deployment.spec, slices: rec.slices };
          }),
        };
      };
      return this.db.inTransaction ? read() : this.db.transaction(read).deferred();
    });
  }

  // --- audit helpers -----------------------------------------------------------------------

  committedHead(): Promise<ChainHead> {
    return this.guard(() => this.head());
  }

  async storeCheckpoint(cp: StoredCheckpoint): Promise<void> {
    // Through the writer, in order with the batches; it plans nothing, so it needs no stale check.
    const outcome = await this.writer.write({ checkStale: false, fences: [], steps: [[WRITE.checkpointInsert, [cp.seq, cp.hash, cp.time, cp.signature, cp.kind], null]] });
    if (outcome.kind === 'lost') throw new TianshuError('UNAVAILABLE', `the SQLite writer thread ended while storing audit checkpoint ${cp.seq}, which may or may not have been stored`, { seq: cp.seq });
    if (outcome.kind !== 'committed') throw this.failure(outcome, []);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.whenIdle();
    this.closed = true;
    await this.writer.close();
    this.db.close();
  }
}
