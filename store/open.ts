/**
 * Opening a store: the URL picks the engine. A file path, a `sqlite:` URL or nothing at all opens
 * SQLite (default `./data/tianshu.db`); a `postgres://` or `postgresql://` URL opens PostgreSQL.
 */
import { fileURLToPath } from 'node:url';
import { TianshuError } from '../domain/errors.js';
import type { TianshuStore } from './core.js';
import { EngineStore } from './core.js';
import type { StoreOptions } from './options.js';
import { resolveOptions } from './options.js';
import { openPostgresEngine } from './postgres/postgres-engine.js';
import { openSqliteEngine } from './sqlite/sqlite-engine.js';

/** Where the embedded default keeps its data. */
export const DEFAULT_SQLITE_PATH = './data/tianshu.db';

/** Which engine a store URL selects, and its location. */
export type StoreLocation = { readonly engine: 'sqlite'; readonly path: string } | { readonly engine: 'postgres'; readonly url: string };

/** Parses a store URL: undefined/empty → the default SQLite file; `sqlite:PATH`, `sqlite://PATH`, `file:` URLs and bare paths → SQLite; `postgres(ql)://` → PostgreSQL. */
export function parseStoreUrl(url: string | undefined): StoreLocation {
  if (url === undefined || url.trim() === '') return { engine: 'sqlite', path: DEFAULT_SQLITE_PATH };
  const u = url.trim();
  if (/^postgres(ql)?:\/\//i.test(u)) return { engine: 'postgres', url: u };
  if (/^file:/i.test(u)) return { engine: 'sqlite', path: fileURLToPath(u) };
  const m = /^sqlite:(\/\/)?(.*)$/i.exec(u);
  if (m !== null) {
    const path = m[2] ?? '';
    if (path === '') throw new TianshuError('VALIDATION', 'store: a sqlite: URL needs a file path, e.g. sqlite:./data/tianshu.db', { field: 'store' });
    return { engine: 'sqlite', path };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(u)) {
    throw new TianshuError('VALIDATION', `store: unsupported URL scheme in "${u.replace(/\/\/[^@/]*@/, '//***@')}" (use a file path, sqlite: or postgres://)`, { field: 'store' });
  }
  return { engine: 'sqlite', path: u };
}

/**
 * Opens the store at `url` (see {@link parseStoreUrl}): applies pending migrations, refuses a
 * schema newer than this code, and returns the {@link TianshuStore}. Failures are
 * {@link TianshuError}s naming the cause (locked or corrupt file, unreachable server, …).
 */
export async function openStore(url: string | undefined, options: StoreOptions = {}): Promise<TianshuStore> {
  const resolved = resolveOptions(options);
  const where = parseStoreUrl(url);
  if (where.engine === 'sqlite') {
    const engine = await openSqliteEngine(where.path, resolved);
    return new EngineStore(engine, engine.checkpointKey, resolved);
  }
  const engine = await openPostgresEngine(where.url, resolved);
  return new EngineStore(engine, engine.checkpointKey, resolved);
}
