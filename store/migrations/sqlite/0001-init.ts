/** SQLite schema version 1: clouds, tenants, deployments with slices and placement history, idempotency keys, the audit chain. */
import type { Migration } from '../migration.js';
import { GENESIS_HASH } from '../../audit-chain.js';

/** Creates every table. JSON columns hold text; times are ISO-8601 UTC text. */
export const migration: Migration = {
  version: 1,
  name: 'init',
  sql: `
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE clouds (
  id TEXT PRIMARY KEY, kind TEXT NOT NULL, condition TEXT NOT NULL,
  data TEXT NOT NULL, allocated TEXT NOT NULL, version INTEGER NOT NULL
);
CREATE TABLE tenants (
  path TEXT PRIMARY KEY, parent TEXT REFERENCES tenants(path), display_name TEXT NOT NULL,
  quota TEXT NOT NULL, usage TEXT NOT NULL, usage_by_tier TEXT NOT NULL, version INTEGER NOT NULL
);
CREATE INDEX tenants_parent ON tenants(parent);
CREATE TABLE deployments (
  id TEXT PRIMARY KEY, tenant TEXT NOT NULL REFERENCES tenants(path), name TEXT NOT NULL,
  spec TEXT NOT NULL, generation INTEGER NOT NULL, phase TEXT NOT NULL, message TEXT NOT NULL,
  created_at TEXT NOT NULL, updated_at TEXT NOT NULL, version INTEGER NOT NULL,
  UNIQUE (tenant, name)
) WITHOUT ROWID;
CREATE TABLE slices (
  deployment_id TEXT NOT NULL REFERENCES deployments(id) ON DELETE CASCADE,
  cloud_id TEXT NOT NULL REFERENCES clouds(id), tier TEXT NOT NULL,
  replicas INTEGER NOT NULL CHECK (replicas > 0),
  PRIMARY KEY (deployment_id, cloud_id)
) WITHOUT ROWID;
CREATE INDEX slices_cloud ON slices(cloud_id);
CREATE TABLE placements (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  deployment_id TEXT NOT NULL REFERENCES deployments(id) ON DELETE CASCADE,
  generation INTEGER NOT NULL, slices TEXT NOT NULL, decision TEXT NOT NULL,
  cause TEXT NOT NULL, decided_at TEXT NOT NULL
);
CREATE INDEX placements_deployment ON placements(deployment_id, id);
CREATE TABLE idempotency (
  tenant TEXT NOT NULL, key TEXT NOT NULL, spec_hash TEXT NOT NULL,
  deployment_id TEXT NOT NULL, created_at TEXT NOT NULL,
  PRIMARY KEY (tenant, key)
) WITHOUT ROWID;
CREATE TABLE audit_events (
  seq INTEGER PRIMARY KEY, time TEXT NOT NULL, actor TEXT NOT NULL, role TEXT NOT NULL,
  action TEXT NOT NULL, object TEXT NOT NULL, result TEXT NOT NULL, detail TEXT NOT NULL,
  prev_hash TEXT NOT NULL, hash TEXT NOT NULL
);
CREATE TABLE audit_head (id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL, hash TEXT NOT NULL);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '${GENESIS_HASH}');
CREATE TABLE audit_checkpoints (
  id INTEGER PRIMARY KEY AUTOINCREMENT, seq INTEGER NOT NULL, hash TEXT NOT NULL,
  time TEXT NOT NULL, signature TEXT NOT NULL, kind TEXT NOT NULL
);
`,
};
