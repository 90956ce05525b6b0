/**
 * Runs a store suite against both engines: `describe.each` over SQLite and PostgreSQL, the
 * PostgreSQL half gated through test/rig/components.ts (skipped locally when PostgreSQL is not
 * installed, failing in CI). Each harness hands out fresh, empty databases and raw SQL access for
 * tests that reach under the store (tampering, drift).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, describe } from 'vitest';
import { describeWithComponents, POSTGRES_COMPONENTS } from '../rig/components.js';
import { createDatabase, startPostgres } from '../rig/postgres.js';
import type { PostgresInstance, StartPostgresOptions } from '../rig/postgres.js';
import type { TianshuStore } from '../../store/core.js';
import { GENESIS_HASH } from '../../store/audit-chain.js';
import { openStore } from '../../store/open.js';
import type { StoreOptions } from '../../store/options.js';

/** The engines every store suite runs against. */
export const ENGINES = ['sqlite', 'postgres'] as const;
/** One engine name. */
export type EngineName = (typeof ENGINES)[number];

/** Direct SQL on a store's database, below the store. */
export interface RawDb {
  exec(sql: string): Promise<void>;
  all<T = Record<string, unknown>>(sql: string): Promise<T[]>;
  close(): Promise<void>;
}

/** Fresh databases and raw access for one engine. */
export interface Harness {
  readonly engine: EngineName;
  /** The URL (or path) of a new empty database. */
  fresh(): Promise<string>;
  open(url: string, options?: StoreOptions): Promise<TianshuStore>;
  raw(url: string): Promise<RawDb>;
  /** Empties a PostgreSQL database in place (much faster than a new one); null for SQLite, whose store caches state. */
  readonly reset: ((url: string) => Promise<void>) | null;
  /** Several stores on one fresh database (several "service instances" for PostgreSQL; one for SQLite). */
  openMany(url: string, n: number, options?: StoreOptions): Promise<TianshuStore[]>;
}

/** Harness options. */
export interface HarnessOptions {
  /** SQLite files in /dev/shm when possible (for suites that test logic, not durability). */
  readonly memoryBacked?: boolean;
  /** Extra PostgreSQL server settings. */
  readonly pgSettings?: StartPostgresOptions['settings'];
}

function sqliteHarness(opts: HarnessOptions): Harness {
  let dir: string | undefined;
  let n = 0;
  afterAll(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });
  return {
    engine: 'sqlite',
    reset: null,
    fresh() {
      dir ??= mkdtempSync(join(opts.memoryBacked === true ? '/dev/shm' : tmpdir(), 'tianshu-store-'));
      return Promise.resolve(join(dir, `db-${++n}.sqlite`));
    },
    open: (url, options) => openStore(url, options),
    async openMany(url, _n, options) {
      return [await openStore(url, options)];
    },
    raw(url) {
      const db = new Database(url);
      return Promise.resolve({
        exec: (sql) => Promise.resolve(void db.exec(sql)),
        all: <T>(sql: string) => Promise.resolve(db.prepare(sql).all() as T[]),
        close: () => Promise.resolve(void db.close()),
      });
    },
  };
}

function postgresHarness(opts: HarnessOptions): Harness {
  let server: Promise<PostgresInstance> | undefined;
  let n = 0;
  afterAll(async () => {
    if (server !== undefined) await (await server).stop();
  });
  const start = (): Promise<PostgresInstance> => (server ??= startPostgres(opts.pgSettings === undefined ? {} : { settings: opts.pgSettings }));
  return {
    engine: 'postgres',
    async reset(url) {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query('TRUNCATE clouds, tenants, deployments, slices, placements, idempotency, audit_events, audit_checkpoints CASCADE');
        await client.query(`UPDATE audit_head SET seq = 0, hash = '${GENESIS_HASH}'`);
      } finally {
        await client.end();
      }
    },
    async fresh() {
      const s = await start();
      return createDatabase(s.url, `store_${process.pid}_${++n}`);
    },
    open: (url, options) => openStore(url, options),
    async openMany(url, count, options) {
      const out: TianshuStore[] = [];
      for (let i = 0; i < count; i++) out.push(await openStore(url, options));
      return out;
    },
    async raw(url) {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      return {
        exec: async (sql) => void (await client.query(sql)),
        all: async <T>(sql: string) => (await client.query(sql)).rows as T[],
        close: () => client.end(),
      };
    },
  };
}

/** Runs `body` once per engine with that engine's harness; PostgreSQL is gated on the rig. */
export function describeStore(title: string, body: (h: Harness) => void, opts: HarnessOptions = {}): void {
  describe.each(ENGINES)(`${title} [%s]`, (engine) => {
    if (engine === 'sqlite') body(sqliteHarness(opts));
    else describeWithComponents(POSTGRES_COMPONENTS, 'with PostgreSQL', () => body(postgresHarness(opts)));
  });
}
