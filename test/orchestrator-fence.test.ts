/**
 * The store's fence as the orchestrator relies on it, on SQLite (the PostgreSQL side is proven by
 * the two-leader suite): a write carrying an older token than `leader_lease` holds is refused with
 * a non-retryable CONFLICT and changes nothing; the current token and unfenced writes pass.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { isTianshuError } from '../domain/errors.js';
import { ORCHESTRATOR_ACTOR } from '../orchestrator/orchestrator.js';
import { openStore } from '../store/open.js';
import type { Store } from '../store/store.js';
import { OPERATOR, realPlanner, seedTenants, simCloud, spec } from './orchestrator-fixtures.js';

let dir: string;
let store: Store;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fence-'));
  store = await openStore(join(dir, 'tianshu.db'));
  await seedTenants(store);
  await store.registerCloud(OPERATOR, simCloud('sz-1'));
});

afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

it('refuses a write whose fencing token is older than the lease, inside the write', async () => {
  const planner = realPlanner();
  const { deployment } = await store.admitDeployment(OPERATOR, spec('web', 1), planner);
  const fenced = (token: number) => ({ ...ORCHESTRATOR_ACTOR, fence: { name: 'orchestrator', token } });
  // No lease row yet: nothing is newer.
  const d1 = await store.setPhase(fenced(1), deployment.id, 'Deploying', '0/1 ready', deployment.version);

  // Another leader takes the lease (as createPostgresLease does on PostgreSQL).
  const db = new Database(join(dir, 'tianshu.db'));
  db.prepare('INSERT INTO leader_lease (name, token) VALUES (?, ?)').run('orchestrator', 2);
  db.close();

  const refused = await store.setPhase(fenced(1), deployment.id, 'Running', 'stale', d1.version).then(
    () => null,
    (e: unknown) => e,
  );
  expect(isTianshuError(refused, 'CONFLICT')).toBe(true);
  expect(isTianshuError(refused) && refused.retryable).toBe(false);
  expect((await store.getDeployment(deployment.id))?.phase).toBe('Deploying');
  await expect(store.replacePlacement(fenced(1), deployment.id, planner, 'failover')).rejects.toThrow(/fenced/);

  await expect(store.setPhase(fenced(2), deployment.id, 'Running', '1/1 ready', d1.version)).resolves.toMatchObject({ phase: 'Running' });
  await expect(store.setCloudCondition(OPERATOR, 'sz-1', 'Cordoned', 'unfenced writers are unaffected')).resolves.toMatchObject({ condition: 'Cordoned' });
  expect(await store.verifyAudit()).toMatchObject({ ok: true });
});
