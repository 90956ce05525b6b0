/** SQLite schema version 2: the leader lease's fencing token (see `orchestrator/lease.ts`). */
import type { Migration } from '../migration.js';

/** One row per lease name; the token is incremented by every acquisition. */
export const migration: Migration = {
  version: 2,
  name: 'leader-lease',
  sql: 'CREATE TABLE leader_lease (name TEXT PRIMARY KEY, token INTEGER NOT NULL);',
};
