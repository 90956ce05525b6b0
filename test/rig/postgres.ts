/**
 * Throwaway PostgreSQL clusters for tests: `initdb` in a temp dir, `postgres` on a free
 * loopback port, trust auth, torn down by `stop()` or at process exit.
 *
 * @packageDocumentation
 */
import { execFile } from 'node:child_process';
import { chownSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { mustLocate } from './components.js';
import { freePort } from './ports.js';
import { makeTempDir, spawnManaged, waitFor } from './proc.js';
import type { ManagedProcess } from './proc.js';

const execFileAsync = promisify(execFile);

/** A running throwaway PostgreSQL server. */
export interface PostgresInstance {
  /** `postgres://postgres@127.0.0.1:<port>/tianshu` — superuser, trust auth. */
  url: string;
  /** The server's data/socket directory (holds `postgres.log`). */
  dir: string;
  /** Fast shutdown, then removes the directory. Idempotent. */
  stop(): Promise<void>;
}

/** Options for {@link startPostgres}. */
export interface StartPostgresOptions {
  /** Database created for the caller (default `tianshu`). */
  database?: string;
  /** Extra `-c name=value` server settings. */
  settings?: Record<string, string>;
}

interface RunAs {
  uid?: number;
  gid?: number;
}

/** PostgreSQL refuses to run as root; when we are root, run it as the `postgres` user. */
async function runAs(): Promise<RunAs> {
  if (process.getuid?.() !== 0) return {};
  const user = process.env.TIANSHU_PG_USER ?? 'postgres';
  try {
    const [{ stdout: uid }, { stdout: gid }] = await Promise.all([
      execFileAsync('id', ['-u', user]),
      execFileAsync('id', ['-g', user]),
    ]);
    return { uid: Number(uid.trim()), gid: Number(gid.trim()) };
  } catch {
    throw new Error(`running as root and there is no '${user}' user to run PostgreSQL as (install the postgresql package: npm run rig)`);
  }
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Returns `url` with its database (path) replaced by `database`. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(database)}`;
  return u.toString();
}

/**
 * Creates database `name` on the server at `url` (any database URL of that server) and
 * returns the URL of the new database. Drops it first if it exists, so reruns start clean.
 */
export async function createDatabase(url: string, name: string): Promise<string> {
  const client = new pg.Client({ connectionString: withDatabase(url, 'postgres') });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${quoteIdent(name)}`);
  } finally {
    await client.end();
  }
  return withDatabase(url, name);
}

async function canConnect(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Starts a fresh PostgreSQL cluster (fsync on) listening only on 127.0.0.1 and on a unix
 * socket inside its temp dir, creates a database, and returns its URL.
 */
export async function startPostgres(opts: StartPostgresOptions = {}): Promise<PostgresInstance> {
  const initdb = mustLocate('initdb');
  const postgres = mustLocate('postgres');
  const who = await runAs();
  const tmp = makeTempDir('pg');
  const dataDir = join(tmp.dir, 'data');
  const logPath = join(tmp.dir, 'postgres.log');
  if (who.uid !== undefined && who.gid !== undefined) chownSync(tmp.dir, who.uid, who.gid);

  const initLog = join(tmp.dir, 'initdb.log');
  const init = spawnManaged('initdb', initdb, ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-locale', '--no-sync'], {
    logPath: initLog,
    keepAlive: true,
    ...who,
  });
  const code = await init.exited;
  if (code !== 0) {
    const tail = init.tail();
    tmp.remove();
    throw new Error(`initdb failed (exit ${String(code)}):\n${tail}`);
  }

  let proc: ManagedProcess | undefined;
  let url = '';
  let lastError: unknown;
  // The port may be taken between freePort() and bind: retry a few times.
  for (let attempt = 0; attempt < 3 && proc === undefined; attempt++) {
    const port = await freePort();
    const settings: Record<string, string> = {
      listen_addresses: '127.0.0.1',
      port: String(port),
      unix_socket_directories: tmp.dir,
      fsync: 'on',
      max_connections: '200',
      ...opts.settings,
    };
    const args = ['-D', dataDir, ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])];
    const candidate = spawnManaged('postgres', postgres, args, { logPath, ...who });
    url = `postgres://postgres@127.0.0.1:${port}/postgres`;
    try {
      await waitFor(() => canConnect(url), { what: 'postgres', proc: candidate, timeoutMs: 60_000, intervalMs: 100 });
      proc = candidate;
    } catch (err) {
      lastError = err;
      await candidate.stop('SIGKILL');
    }
  }
  if (proc === undefined) {
    tmp.remove();
    throw lastError instanceof Error ? lastError : new Error('postgres did not start');
  }
  const running = proc;
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await running.stop('SIGINT', 15_000); // SIGINT = fast shutdown
    tmp.remove();
  };
  try {
    const dbUrl = await createDatabase(url, opts.database ?? 'tianshu');
    return { url: dbUrl, dir: tmp.dir, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
