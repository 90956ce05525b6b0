/**
 * Leadership: which replica of the service runs the orchestrator's loops.
 *
 * With PostgreSQL, several replicas serve the API but one leads, chosen by a session-level advisory
 * lock (`pg_try_advisory_lock`) held on a dedicated connection: PostgreSQL releases it when that
 * session ends, so a crashed or partitioned leader loses it without cooperation. Each acquisition
 * also increments a fencing token in the `leader_lease` table; the orchestrator's store writes
 * carry it (`Actor.fence`) and the store refuses a write whose token is older than the row's, in
 * the same transaction — so a leader that was paused (GC, SIGSTOP, a slow disk) and resumes after
 * losing the lock cannot write anything.
 *
 * With SQLite there is one replica by construction: {@link createLocalLease} always leads and
 * fences nothing.
 *
 * @packageDocumentation
 */
import pg from 'pg';
import { TianshuError } from '../domain/errors.js';
import type { Fence } from '../store/store.js';

/** The token a fenced write carries (the store's `Actor.fence`): the lease's name and the token it was acquired with. */
export type { Fence };

/** A leadership lease. */
export interface Lease {
  /** Tries to become leader; true when this instance leads (already or now). Never throws. */
  acquire(): Promise<boolean>;
  /** Confirms leadership is still held; false (and no longer leader) when it was lost. */
  renew(): Promise<boolean>;
  /** Gives leadership up (idempotent). */
  release(): Promise<void>;
  /** The fencing token of the current (or last) tenure; null before the first acquisition or when unfenced. */
  readonly token: number | null;
  /** What this instance's store writes must carry; null when the store need not fence (SQLite). */
  readonly fence: Fence | null;
  isLeader(): boolean;
}

/** The in-process lease of a single-replica (SQLite) deployment: always leads, never fences. */
export function createLocalLease(): Lease {
  let leader = false;
  return {
    acquire: () => {
      leader = true;
      return Promise.resolve(true);
    },
    renew: () => Promise.resolve(leader),
    release: () => {
      leader = false;
      return Promise.resolve();
    },
    token: null,
    fence: null,
    isLeader: () => leader,
  };
}

/** Options of {@link createPostgresLease}. */
export interface PostgresLeaseOptions {
  /** The PostgreSQL URL (the same database as the store). */
  readonly url: string;
  /** The lease's name; replicas competing for the same loops use the same name. Default `orchestrator`. */
  readonly name?: string;
  /** Shown in `pg_stat_activity.application_name`, e.g. `tianshu-lease:<pod>`. */
  readonly applicationName?: string;
  /** Connect and renew deadline. Default 5000 ms. */
  readonly timeoutMs?: number;
  /** Called once when leadership is lost without {@link Lease.release} (connection gone, renew failed). */
  readonly onLost?: (reason: string) => void;
  /** Logged problems (connection errors); never throws. */
  readonly log?: (message: string) => void;
}

/** Arbitrary first key of the two-int advisory lock: 'TSHU', so other users of advisory locks don't collide. */
const LOCK_CLASS = 0x54534855;

/** 32-bit FNV-1a of `s`, as a signed int (the second advisory-lock key). */
function lockKey(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h | 0;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new TianshuError('UNAVAILABLE', `${what} timed out after ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

/**
 * The PostgreSQL lease (see the module comment). Needs the `leader_lease` table from the store's
 * migrations, so open the store first.
 */
export function createPostgresLease(options: PostgresLeaseOptions): Lease {
  const name = options.name ?? 'orchestrator';
  const timeoutMs = options.timeoutMs ?? 5_000;
  const key = lockKey(name);
  let client: pg.Client | null = null;
  let leader = false;
  let token: number | null = null;

  const lose = (reason: string): void => {
    const was = leader;
    leader = false;
    const c = client;
    client = null;
    // The session holding the lock is gone or suspect: end it so the lock is surely released.
    if (c !== null) void c.end().catch(() => undefined);
    if (was) options.onLost?.(reason);
  };

  const connect = async (): Promise<pg.Client> => {
    if (client !== null) return client;
    const c = new pg.Client({ connectionString: options.url, connectionTimeoutMillis: timeoutMs, application_name: options.applicationName ?? `tianshu-lease:${name}` });
    // A dedicated connection: losing it is losing the lock, hence leadership.
    c.on('error', (e) => {
      options.log?.(`lease ${name}: connection error: ${e.message}`);
      if (client === c) lose(`connection error: ${e.message}`);
    });
    c.on('end', () => {
      if (client === c) lose('connection closed');
    });
    await withTimeout(c.connect(), timeoutMs, 'lease connect');
    client = c;
    return c;
  };

  const lease: Lease = {
    async acquire() {
      if (leader) return true;
      try {
        const c = await connect();
        const got = await withTimeout(c.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS ok', [LOCK_CLASS, key]), timeoutMs, 'lease lock');
        if (got.rows[0]?.ok !== true) return false;
        const res = await withTimeout(
          c.query<{ token: string }>(
            'INSERT INTO leader_lease (name, token) VALUES ($1, 1) ON CONFLICT (name) DO UPDATE SET token = leader_lease.token + 1 RETURNING token',
            [name],
          ),
          timeoutMs,
          'lease token',
        );
        token = Number(res.rows[0]?.token);
        leader = true;
        return true;
      } catch (e) {
        options.log?.(`lease ${name}: acquire failed: ${e instanceof Error ? e.message : String(e)}`);
        lose('acquire failed');
        return false;
      }
    },
    async renew() {
      const c = client;
      if (!leader || c === null) return false;
      try {
        await withTimeout(c.query('SELECT 1'), timeoutMs, 'lease renew');
        return leader;
      } catch (e) {
        lose(`renew failed: ${e instanceof Error ? e.message : String(e)}`);
        return false;
      }
    },
    async release() {
      const c = client;
      const was = leader;
      leader = false;
      client = null;
      if (c === null) return;
      try {
        if (was) await withTimeout(c.query('SELECT pg_advisory_unlock($1, $2)', [LOCK_CLASS, key]), timeoutMs, 'lease unlock');
      } catch {
        // Ending the session below releases the lock anyway.
      }
      await c.end().catch(() => undefined);
    },
    get token() {
      return token;
    },
    get fence() {
      return token === null ? null : { name, token };
    },
    isLeader: () => leader,
  };
  return lease;
}
