/**
 * Two orchestrator instances on one PostgreSQL: one leads through the advisory-lock lease; when
 * its dedicated connection dies the other takes over within the lease interval, no provider step
 * is applied twice (counted per slice and generation), and a write carrying the deposed leader's
 * fencing token is refused by the store.
 */
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { isTianshuError } from '../domain/errors.js';
import { createPostgresLease } from '../orchestrator/lease.js';
import type { Lease } from '../orchestrator/lease.js';
import { createOrchestrator, ORCHESTRATOR_ACTOR } from '../orchestrator/orchestrator.js';
import type { Orchestrator } from '../orchestrator/orchestrator.js';
import type { Provider } from '../providers/provider.js';
import { sliceKey } from '../providers/provider.js';
import { openStore } from '../store/open.js';
import type { Actor, Planner, Store } from '../store/store.js';
import { describeWithComponents, POSTGRES_COMPONENTS } from './rig/components.js';
import { createDatabase, startPostgres } from './rig/postgres.js';
import type { PostgresInstance } from './rig/postgres.js';
import { allDeployments, eventually, FAST, OPERATOR, realPlanner, seedTenants, shared, SimFleet, simCloud, spec } from './orchestrator-fixtures.js';

describeWithComponents(POSTGRES_COMPONENTS, 'two orchestrators on one PostgreSQL', () => {
  let server: PostgresInstance;
  let url: string;
  let storeA: Store;
  let storeB: Store;
  let admin: pg.Client;
  const fleet = new SimFleet();
  let planner: Planner;
  const applies = new Map<string, number>();
  let leaseA: Lease;
  let leaseB: Lease;
  let a: Orchestrator;
  let b: Orchestrator;

  /** Counts every apply per cloud, slice, generation and size: each must happen once. */
  const counted = (p: Provider): Provider => ({
    ...shared(p),
    apply: (slice) => {
      const k = `${slice.cloudId} ${sliceKey(slice)} g${slice.generation} r${slice.replicas}`;
      applies.set(k, (applies.get(k) ?? 0) + 1);
      return p.apply(slice);
    },
  });

  beforeAll(async () => {
    server = await startPostgres();
    url = await createDatabase(server.url, 'orchestrator_leader');
    storeA = await openStore(url);
    storeB = await openStore(url);
    admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await seedTenants(storeA);
    planner = realPlanner();
    for (const id of ['sz-1', 'sz-2', 'sz-3']) await fleet.add(storeA, simCloud(id));
    const config = { ...FAST, leaseIntervalMs: 100 };
    leaseA = createPostgresLease({ url, applicationName: 'tianshu-lease:a' });
    leaseB = createPostgresLease({ url, applicationName: 'tianshu-lease:b' });
    a = createOrchestrator({ store: storeA, planner, lease: leaseA, config, providerFor: (c) => counted(fleet.sim(c.id)) });
    b = createOrchestrator({ store: storeB, planner, lease: leaseB, config, providerFor: (c) => counted(fleet.sim(c.id)) });
    await a.start();
    await b.start();
  }, 180_000);

  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await admin?.end();
    await storeA?.close();
    await storeB?.close();
    await server?.stop();
  });

  it('fails over leadership without repeating a step, and fences the deposed leader', async () => {
    expect(a.stats().leader).toBe(true);
    expect(b.stats().leader).toBe(false);
    const tokenA = leaseA.token;
    expect(tokenA).not.toBeNull();

    const ids: string[] = [];
    for (let i = 0; i < 8; i++) {
      const adm = await storeA.admitDeployment(OPERATOR, spec(`app-${i}`, 1 + (i % 3), { spread: { minClouds: 1 } }), planner);
      ids.push(adm.deployment.id);
      a.kick(adm.deployment.id);
      b.kick(adm.deployment.id); // a follower ignores kicks
    }
    await eventually('all Running', async () => (await allDeployments(storeA)).every((d) => d.phase === 'Running'));

    // Kill the leader: its dedicated lease connection dies (as when the process or its network does).
    const killedAt = Date.now();
    await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'tianshu-lease:a'");
    await eventually('b leads', () => b.stats().leader, 5_000);
    const takeover = Date.now() - killedAt;
    await eventually('a steps down', () => !a.stats().leader, 5_000);
    expect(takeover).toBeLessThan(2_000);
    expect(leaseB.token).toBeGreaterThan(tokenA ?? 0);

    // The new leader resyncs everything (status first, so nothing is re-applied), then carries on.
    for (const id of ids.slice(0, 3)) {
      await storeB.scaleDeployment(OPERATOR, id, 4, planner);
      b.kick(id);
    }
    const more = await storeB.admitDeployment(OPERATOR, spec('late', 2), planner);
    b.kick(more.deployment.id);
    await eventually('all Running again', async () => {
      const ds = await allDeployments(storeB);
      return ds.length === 9 && ds.every((d) => d.phase === 'Running');
    });
    // Let a full resync pass (every fullResyncEvery passes) run on the new leader.
    await new Promise((r) => setTimeout(r, (FAST.reconcileIntervalMs ?? 0) * ((FAST.fullResyncEvery ?? 1) + 2)));
    const repeated = [...applies].filter(([, n]) => n > 1);
    expect(repeated).toEqual([]);
    expect(applies.size).toBeGreaterThanOrEqual(8 + 3 + 1);

    // The deposed leader, waking up with its old token, cannot write.
    const stale: Actor = { ...ORCHESTRATOR_ACTOR, fence: { name: 'orchestrator', token: tokenA ?? 0 } };
    const d = await storeA.getDeployment(ids[5] ?? '');
    const refused = await storeA.setPhase(stale, d?.id ?? '', 'Failed', 'written by a deposed leader', d?.version).then(
      () => null,
      (e: unknown) => e,
    );
    expect(isTianshuError(refused, 'CONFLICT')).toBe(true);
    expect((await storeA.getDeployment(d?.id ?? ''))?.phase).toBe('Running');
    // The current token writes.
    const current: Actor = { ...ORCHESTRATOR_ACTOR, fence: { name: 'orchestrator', token: leaseB.token ?? 0 } };
    await expect(storeA.recordAudit(current, 'test.fenced-write', 'test', 'ok', {})).resolves.toBeDefined();
  }, 60_000);
});
