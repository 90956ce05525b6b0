/**
 * Executes one group commit's writes on a SQLite connection: a `BEGIN IMMEDIATE` transaction, the
 * checks that need its lock (did another connection commit since the plan was made? is any
 * request's fence out of date?), the statements, then `COMMIT` — the fsync, under
 * `synchronous=FULL`. For a file it runs on the writer thread (`writer-thread.ts`), so neither the
 * SQL nor the fsync nor SQLite's WAL checkpoints occupy the event loop; for `:memory:`, which no
 * other connection can open, it runs inline on the engine's own connection. It knows nothing of
 * Tianshu's tables: the engine sends the SQL with the batch.
 */
import type Database from 'better-sqlite3';
import { isFencedOut } from '../fence.js';
import type { Fence } from '../store.js';

/**
 * One statement of a batch: its SQL, its positional parameters, and for a version-guarded write
 * what it writes (it must then change exactly one row, or the batch fails).
 */
export type WriteStep = readonly [sql: string, params: readonly unknown[], guard: string | null];

/** What the engine hands the writer per batch (cloned to the writer thread). */
export interface WriteBatch {
  /**
   * Refuse the batch as `stale` when another connection committed since the last batch that
   * checked: its requests were planned on an image that may miss that commit.
   */
  readonly checkStale: boolean;
  /** The fences of the batch's requests (`request`: the index in the batch), checked under the write lock. */
  readonly fences: readonly { readonly request: number; readonly fence: Fence }[];
  readonly steps: readonly WriteStep[];
}

/**
 * How a batch ended. Only `committed` wrote anything. `unbegun`: the transaction could not even
 * begin (another connection kept the lock past the busy timeout, or the file failed), so none of
 * the batch's statements was tried.
 */
export type WriteOutcome =
  | { readonly kind: 'committed' }
  | { readonly kind: 'stale' }
  | (Omit<Failed, 'kind'> & { readonly kind: 'unbegun' })
  | { readonly kind: 'fenced'; readonly request: number; readonly current: number }
  | Failed;

/** A failure as it crosses from the writer thread: SQLite's error code (if any) and message. */
export interface Failed {
  readonly kind: 'failed';
  readonly code: string | null;
  readonly message: string;
}

/** Runs {@link WriteBatch}es on one connection, one transaction each. */
export class BatchExecutor {
  private readonly statements = new Map<string, Database.Statement>();
  private readonly dataVersion: Database.Statement;
  private readonly leaseToken: Database.Statement;
  /** `PRAGMA data_version` as of the last check: it changes when another connection commits. */
  private seen: number;

  constructor(private readonly db: Database.Database) {
    this.dataVersion = db.prepare('PRAGMA data_version').pluck();
    this.leaseToken = db.prepare('SELECT token FROM leader_lease WHERE name = ?').pluck();
    this.seen = this.dataVersion.get() as number;
  }

  run(batch: WriteBatch): WriteOutcome {
    const db = this.db;
    try {
      db.exec('BEGIN IMMEDIATE');
    } catch (err) {
      return { ...failureOf(err), kind: 'unbegun' };
    }
    try {
      if (batch.checkStale) {
        const version = this.dataVersion.get() as number;
        if (version !== this.seen) {
          this.seen = version;
          db.exec('ROLLBACK');
          return { kind: 'stale' };
        }
      }
      for (const { request, fence } of batch.fences) {
        const token = this.leaseToken.get(fence.name) as number | bigint | undefined;
        const current = token === undefined ? null : Number(token);
        if (current !== null && isFencedOut(fence, current)) {
          db.exec('ROLLBACK');
          return { kind: 'fenced', request, current };
        }
      }
      for (const [sql, params, guard] of batch.steps) {
        const changes = this.statement(sql).run(...params).changes;
        if (guard !== null && changes !== 1) throw new Error(`version guard failed writing ${guard}`);
      }
      db.exec('COMMIT');
      return { kind: 'committed' };
    } catch (err) {
      try {
        if (db.inTransaction) db.exec('ROLLBACK');
      } catch {
        // The failure that got us here is the one to report.
      }
      return failureOf(err);
    }
  }

  private statement(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (s === undefined) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }
}

/** A thrown better-sqlite3 error (or any other) as a `failed` outcome, keeping SQLite's code. */
export function failureOf(err: unknown): Failed {
  const code = (err as { code?: unknown } | null)?.code;
  return { kind: 'failed', code: typeof code === 'string' ? code : null, message: err instanceof Error ? err.message : String(err) };
}

/** The Error better-sqlite3 threw for a {@link Failed}, code and all (what `mapSqliteError` reads). */
export function errorOf(f: Pick<Failed, 'code' | 'message'>): Error {
  return Object.assign(new Error(f.message), f.code === null ? {} : { code: f.code });
}
