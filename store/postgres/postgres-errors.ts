/**
 * Translates `pg` failures into {@link TianshuError}s naming the server and the cause, and tells
 * which failures mean "the state changed under us, re-plan" rather than "give up".
 */
import { TianshuError, isTianshuError } from '../../domain/errors.js';

/** Thrown inside a transaction when a version-guarded UPDATE matched no row. */
export class VersionConflict extends Error {
  override readonly name = 'VersionConflict';
}

function codeOf(err: unknown): string {
  const e = err as { code?: unknown; errors?: unknown[] } | null;
  if (typeof e?.code === 'string') return e.code;
  if (Array.isArray(e?.errors)) for (const inner of e.errors) if (typeof (inner as { code?: unknown } | null)?.code === 'string') return (inner as { code: string }).code;
  return '';
}

/** The URL with any password hidden, for messages. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}

/** True for failures a re-plan may cure: a version guard, a serialization failure, a deadlock, a racing insert. */
export function isRetryable(err: unknown): boolean {
  if (err instanceof VersionConflict) return true;
  const code = codeOf(err);
  return code === '40001' || code === '40P01' || code === '23505' || code === '23503';
}

const NETWORK = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE']);

/** True when the connection itself failed (the client must not go back to the pool). */
export function isConnectionError(err: unknown): boolean {
  const code = codeOf(err);
  const message = err instanceof Error ? err.message : '';
  return NETWORK.has(code) || code.startsWith('08') || code.startsWith('57P') || /timeout|terminat|Connection/i.test(message);
}

/** Maps anything thrown by `pg` while talking to `url` to a {@link TianshuError}. */
export function mapPgError(err: unknown, url: string): TianshuError {
  if (isTianshuError(err)) return err;
  const code = codeOf(err);
  const message = err instanceof Error ? err.message || err.name : String(err);
  const where = redact(url);
  const opts = { cause: err };
  if (code === '3D000') return new TianshuError('UNAVAILABLE', `PostgreSQL at ${where}: the database does not exist (${message})`, { cause: 'no-database', sqlState: code }, { ...opts, retryable: false });
  if (code === '28P01' || code === '28000') return new TianshuError('UNAVAILABLE', `PostgreSQL at ${where} refused the credentials (${message})`, { cause: 'auth', sqlState: code }, { ...opts, retryable: false });
  if (isConnectionError(err)) {
    return new TianshuError('UNAVAILABLE', `PostgreSQL at ${where} is unreachable: ${code === '' ? '' : `${code} `}${message}`, { cause: 'unreachable', code }, opts);
  }
  return new TianshuError('INTERNAL', `PostgreSQL error at ${where}: ${code === '' ? '' : `${code} `}${message}`, { sqlState: code }, opts);
}
