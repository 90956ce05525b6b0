/**
 * Opening and configuring a SQLite connection the way the engine's reader and its writer thread
 * both need it.
 */
import Database from 'better-sqlite3';

/**
 * Opens `path` (better-sqlite3 creates the file if needed) and configures the connection: WAL,
 * `synchronous=FULL`, the busy timeout, foreign keys, the page cache and the checkpoint interval.
 * Throws what better-sqlite3 throws (the caller maps it); closes the connection first.
 */
export function openConnection(path: string, busyTimeoutMs: number): Database.Database {
  const db = new Database(path);
  try {
    db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    // Read something first: a foreign or corrupt file fails here, before anything is written to it.
    db.pragma('schema_version', { simple: true });
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (mode !== 'wal' && path !== ':memory:') throw new Error(`could not switch ${path} to WAL (journal_mode is ${String(mode)})`);
    db.pragma('synchronous = FULL');
    // A larger page cache and fewer, larger WAL checkpoints: durability is unchanged (every commit
    // still fsyncs the WAL), the checkpoint's own fsyncs are just amortised over more commits.
    db.pragma('cache_size = -65536');
    db.pragma('wal_autocheckpoint = 4096');
    db.pragma('foreign_keys = ON');
    // Statement journals (the undo of one failed statement inside the open transaction, dropped at
    // commit, never read after a crash) stay in memory: a batch's multi-row inserts outgrow the
    // 64 KiB after which SQLite would otherwise spill them to a temporary file, write by write.
    db.pragma('temp_store = MEMORY');
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}
