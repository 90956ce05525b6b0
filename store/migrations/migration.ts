/**
 * Versioned schema migrations: each engine has an ordered list of numbered migrations (one file
 * each), applied at open inside a transaction and recorded in `schema_migrations`. A database
 * recording a version this code does not know is refused rather than touched.
 */
import { TianshuError } from '../../domain/errors.js';

/** One schema migration. */
export interface Migration {
  /** 1, 2, 3, … with no gaps. */
  readonly version: number;
  /** A short kebab-case name, e.g. `init`. */
  readonly name: string;
  /** The DDL/DML to run, as one script. */
  readonly sql: string;
}

/** The table that records applied migrations (the same DDL works on both engines). */
export const SCHEMA_MIGRATIONS_DDL = 'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)';

/**
 * The migrations still to apply, given the versions already recorded. Throws when the database
 * is newer than the code or its recorded history has a gap.
 */
export function pendingMigrations(known: readonly Migration[], applied: readonly number[], where: string): Migration[] {
  const latest = known.reduce((m, k) => Math.max(m, k.version), 0);
  const newest = applied.reduce((m, v) => Math.max(m, v), 0);
  if (newest > latest) {
    throw new TianshuError('UNAVAILABLE', `database schema version ${newest} is newer than this Tianshu (knows up to ${latest}); upgrade Tianshu`, {
      cause: 'schema-too-new',
      where,
      found: newest,
      known: latest,
    }, { retryable: false });
  }
  const have = new Set(applied);
  for (let v = 1; v <= newest; v++) {
    if (!have.has(v)) {
      throw new TianshuError('UNAVAILABLE', `database ${where} records schema version ${newest} but not version ${v}; its migration history is damaged`, { cause: 'schema-gap', where }, { retryable: false });
    }
  }
  return known.filter((m) => !have.has(m.version)).sort((a, b) => a.version - b.version);
}
