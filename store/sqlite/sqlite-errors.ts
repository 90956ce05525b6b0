/**
 * Translates better-sqlite3 failures into {@link TianshuError}s that name the file and the cause:
 * a lock held by another connection, a corrupt or foreign file, a full disk, a read-only file.
 */
import { TianshuError, isTianshuError } from '../../domain/errors.js';

function sqliteCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Maps anything thrown by better-sqlite3 at `path` to a {@link TianshuError}. */
export function mapSqliteError(err: unknown, path: string, busyTimeoutMs: number): TianshuError {
  if (isTianshuError(err)) return err;
  const code = sqliteCode(err) ?? '';
  const message = err instanceof Error ? err.message : String(err);
  const opts = { cause: err };
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new TianshuError('UNAVAILABLE', `SQLite database ${path} is locked by another connection or process (waited ${busyTimeoutMs} ms): ${message}`, { cause: 'locked', path, sqliteCode: code }, opts);
  }
  if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT')) {
    return new TianshuError(
      'UNAVAILABLE',
      `SQLite file ${path} is corrupt or not a database (${code}: ${message}); Tianshu left it untouched — restore it from a backup or point the store at another file`,
      { cause: 'corrupt', path, sqliteCode: code },
      { ...opts, retryable: false },
    );
  }
  if (code.startsWith('SQLITE_CANTOPEN')) {
    return new TianshuError('UNAVAILABLE', `cannot open SQLite file ${path} (${code}: ${message})`, { cause: 'cannot-open', path, sqliteCode: code }, { ...opts, retryable: false });
  }
  if (code.startsWith('SQLITE_READONLY')) {
    return new TianshuError('UNAVAILABLE', `SQLite file ${path} is read-only (${code}: ${message})`, { cause: 'read-only', path, sqliteCode: code }, { ...opts, retryable: false });
  }
  if (code === 'SQLITE_FULL') {
    return new TianshuError('UNAVAILABLE', `the disk holding SQLite file ${path} is full (${message})`, { cause: 'disk-full', path, sqliteCode: code }, opts);
  }
  if (code.startsWith('SQLITE_IOERR')) {
    return new TianshuError('UNAVAILABLE', `I/O error on SQLite file ${path} (${code}: ${message})`, { cause: 'io', path, sqliteCode: code }, opts);
  }
  return new TianshuError('INTERNAL', `SQLite error on ${path}: ${code === '' ? '' : `${code}: `}${message}`, { path, sqliteCode: code }, opts);
}
