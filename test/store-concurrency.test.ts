import { afterAll, beforeAll, expect, it } from 'vitest';
import { isTianshuError } from '../domain/errors.js';
import type { TianshuStore } from '../store/core.js';
import { describeStore } from './store/engines.js';
import { OPERATOR, cloud, spec } from './store/fixtures.js';
import { firstFit } from './store/planner.js';

const RUNS = 50;

describeStore('exactly-K admission under concurrency', (h) => {
  let stores: TianshuStore[] = [];
  // PostgreSQL: several store instances (own pools) on one database race across connections.
  const instances = h.engine === 'postgres' ? 3 : 1;
  const requests = 40;
  const maxK = 12;

  beforeAll(async () => {
    const url = await h.fresh();
    stores = await h.openMany(url, instances);
    await stores[0]?.createTenant(OPERATOR, 'gd', 'Guangdong');
  });
  afterAll(async () => {
    for (const s of stores) await s.close();
  });

  it(`admits exactly K of N concurrent requests, ${RUNS} times, never overcommitting`, async () => {
    const s0 = stores[0] as TianshuStore;
    for (let run = 0; run < RUNS; run++) {
      const k = 1 + ((run * 7) % maxK);
      const byCapacity = run % 2 === 1;
      const tenant = `gd/r${run}`;
      const cloudId = `c${run}`;
      // Odd runs: the cloud fits exactly K; even runs: the tenant quota fits exactly K.
      await s0.registerCloud(OPERATOR, cloud(cloudId, { cpu: byCapacity ? k * 1_000 : 1_000_000 }));
      await s0.createTenant(OPERATOR, tenant, `run ${run}`, byCapacity ? undefined : { total: { cpu: k * 1_000 }, byTier: {} });
      const plan = firstFit({ only: (c) => c.id === cloudId });
      const results = await Promise.allSettled(
        Array.from({ length: requests }, (_, i) => (stores[i % stores.length] as TianshuStore).admitDeployment(OPERATOR, spec(tenant, `d${i}`, 1, 1_000), plan)),
      );
      const admitted = results.filter((r) => r.status === 'fulfilled');
      const refused = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
      expect(admitted.length, `run ${run} (K=${k}, ${byCapacity ? 'capacity' : 'quota'})`).toBe(k);
      const expectedCode = byCapacity ? 'UNSCHEDULABLE' : 'QUOTA_EXCEEDED';
      for (const e of refused) expect(isTianshuError(e) ? e.code : String(e)).toBe(expectedCode);
      const c = await s0.getCloud(cloudId);
      expect(c?.allocated.cpu).toBe(k * 1_000);
      expect((c?.allocated.cpu ?? 0) <= (c?.capacity.cpu ?? 0)).toBe(true);
      expect((await s0.getTenant(tenant))?.usage.cpu).toBe(k * 1_000);
      expect((await s0.listDeployments({ first: 1000, under: tenant })).items).toHaveLength(k);
    }
    expect(await s0.checkLedger()).toEqual([]);
    expect(await s0.verifyAudit()).toMatchObject({ ok: true });
  });

  it('admits every one of many concurrent requests when there is room: contention is never a CONFLICT', async () => {
    const s0 = stores[0] as TianshuStore;
    // Separate root tenants sharing the clouds, as agencies do: nothing but the clouds is contended.
    const tenants = Array.from({ length: 8 }, (_, i) => `agency${i}`);
    for (const t of tenants) await s0.createTenant(OPERATOR, t, t);
    for (const id of ['roomy-a', 'roomy-b']) await s0.registerCloud(OPERATOR, cloud(id, { cpu: 10_000_000 }));
    const plan = firstFit({ only: (c) => c.id.startsWith('roomy-') });
    const n = 96;
    const results = await Promise.allSettled(
      Array.from({ length: n }, (_, i) => (stores[i % stores.length] as TianshuStore).admitDeployment(OPERATOR, spec(tenants[i % tenants.length] ?? 'agency0', `r${i}`, 1, 1_000), plan)),
    );
    const failures = results.flatMap((r) => (r.status === 'rejected' ? [isTianshuError(r.reason) ? r.reason.code : String(r.reason)] : []));
    expect(failures).toEqual([]);
    const allocated = (await s0.listClouds()).filter((c) => c.id.startsWith('roomy-')).reduce((sum, c) => sum + c.allocated.cpu, 0);
    expect(allocated).toBe(n * 1_000);
    expect(await s0.checkLedger()).toEqual([]);
  });
});
