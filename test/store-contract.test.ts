import { afterEach, beforeEach, expect, it } from 'vitest';
import { TianshuError } from '../domain/errors.js';
import type { TianshuStore } from '../store/core.js';
import type { Planner } from '../store/store.js';
import { describeStore } from './store/engines.js';
import { OPERATOR, cloud, fakeClock, spec } from './store/fixtures.js';
import { firstFit } from './store/planner.js';

async function rejection(p: Promise<unknown>): Promise<TianshuError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(TianshuError);
    return e as TianshuError;
  }
  throw new Error('expected a rejection');
}

const plan: Planner = firstFit();

describeStore('store contract', (h) => {
  let store: TianshuStore;
  let url: string;
  const clock = fakeClock();

  beforeEach(async () => {
    url = await h.fresh();
    store = await h.open(url, { clock: clock.now });
    await store.registerCloud(OPERATOR, cloud('c1', { cpu: 8_000 }));
    await store.registerCloud(OPERATOR, cloud('c2', { cpu: 8_000, tier: 'L4' }));
    await store.createTenant(OPERATOR, 'gd', 'Guangdong', { total: { cpu: 12_000 }, byTier: { L4: { cpu: 6_000 } } });
    await store.createTenant(OPERATOR, 'gd/sz', 'Shenzhen', { total: { cpu: 10_000 }, byTier: {} });
    await store.createTenant(OPERATOR, 'gd/gz', 'Guangzhou');
  });
  afterEach(async () => {
    await store.close();
  });

  it('reports its engine', () => {
    expect(store.engine).toBe(h.engine);
  });

  it('registers, updates and removes clouds with versions', async () => {
    expect((await store.listClouds()).map((c) => c.id)).toEqual(['c1', 'c2']);
    expect((await rejection(store.registerCloud(OPERATOR, cloud('c1')))).code).toBe('CONFLICT');
    const c1 = await store.getCloud('c1');
    expect(c1?.version).toBe(1);
    const up = await store.updateCloud(OPERATOR, 'c1', { zone: 'b' }, 1);
    expect(up).toMatchObject({ zone: 'b', version: 2 });
    expect((await rejection(store.updateCloud(OPERATOR, 'c1', { zone: 'c' }, 1))).code).toBe('CONFLICT');
    const cordoned = await store.setCloudCondition(OPERATOR, 'c1', 'Cordoned', 'maintenance');
    expect(cordoned.condition).toBe('Cordoned');
    expect((await rejection(store.getCloud('nope').then(() => store.updateCloud(OPERATOR, 'nope', {})))).code).toBe('NOT_FOUND');
    await store.registerCloud(OPERATOR, cloud('c3'));
    await store.removeCloud(OPERATOR, 'c3');
    expect(await store.getCloud('c3')).toBeNull();
  });

  it('refuses to lower capacity below allocation or remove a cloud in use', async () => {
    await store.admitDeployment(OPERATOR, spec('gd/sz', 'web', 4), plan);
    const err = await rejection(store.updateCloud(OPERATOR, 'c1', { capacity: { cpu: 2_000, memory: 262_144, gpu: 0, instances: 1_000 } }));
    expect(err.code).toBe('VALIDATION');
    expect(err.details.field).toBe('capacity.cpu');
    expect((await rejection(store.removeCloud(OPERATOR, 'c1'))).code).toBe('CONFLICT');
  });

  it('keeps a tenant tree whose usage is own plus descendants', async () => {
    expect((await rejection(store.createTenant(OPERATOR, 'hb/wh', 'Wuhan'))).code).toBe('NOT_FOUND');
    expect((await rejection(store.createTenant(OPERATOR, 'gd', 'again'))).code).toBe('CONFLICT');
    expect((await rejection(store.createTenant(OPERATOR, 'GD!', 'bad'))).code).toBe('VALIDATION');
    await store.admitDeployment(OPERATOR, spec('gd/sz', 'web', 2), plan);
    await store.admitDeployment(OPERATOR, spec('gd/gz', 'api', 1), plan);
    await store.admitDeployment(OPERATOR, spec('gd', 'own', 1), plan);
    expect((await store.getTenant('gd/sz'))?.usage.cpu).toBe(2_000);
    expect((await store.getTenant('gd/gz'))?.usage.cpu).toBe(1_000);
    expect((await store.getTenant('gd'))?.usage.cpu).toBe(4_000);
    expect((await store.getTenant('gd'))?.usageByTier.L3?.cpu).toBe(4_000);
    expect((await store.listTenants('gd')).map((t) => t.path)).toEqual(['gd', 'gd/gz', 'gd/sz']);
    const room = await store.headroom('gd/sz');
    expect(room.map((r) => [r.tenant, r.total.cpu])).toEqual([
      ['gd', 8_000],
      ['gd/sz', 8_000],
    ]);
  });

  it('refuses a child limit above its parent, naming the field', async () => {
    const err = await rejection(store.setQuota(OPERATOR, 'gd/sz', { total: { cpu: 20_000 }, byTier: {} }));
    expect(err.code).toBe('VALIDATION');
    expect(err.details.field).toBe('quota.total.cpu');
    expect(err.message).toContain('gd');
    const tier = await rejection(store.createTenant(OPERATOR, 'gd/fs', 'Foshan', { total: {}, byTier: { L4: { cpu: 7_000 } } }));
    expect(tier.details.field).toBe('quota.byTier.L4.cpu');
  });

  it('applies per-tier quota only to usage on clouds of that tier', async () => {
    const l4 = firstFit({ only: (c) => c.tier === 'L4' });
    await store.admitDeployment(OPERATOR, spec('gd/gz', 'a', 6), l4);
    const err = await rejection(store.admitDeployment(OPERATOR, spec('gd/gz', 'b', 1), l4));
    expect(err.code).toBe('QUOTA_EXCEEDED');
    // The L3 cloud is not limited by the L4 quota.
    await store.admitDeployment(OPERATOR, spec('gd/gz', 'c', 4), firstFit({ only: (c) => c.tier === 'L3' }));
    expect((await store.getTenant('gd'))?.usageByTier).toMatchObject({ L4: { cpu: 6_000 }, L3: { cpu: 4_000 } });
  });

  it('allows lowering a quota below usage, then blocks new reservations and says so', async () => {
    const web = await store.admitDeployment(OPERATOR, spec('gd/sz', 'web', 5), plan);
    const lowered = await store.setQuota(OPERATOR, 'gd/sz', { total: { cpu: 3_000 }, byTier: {} });
    expect(lowered.usage.cpu).toBe(5_000);
    const err = await rejection(store.admitDeployment(OPERATOR, spec('gd/sz', 'more', 1), plan));
    expect(err.code).toBe('QUOTA_EXCEEDED');
    expect(err.message).toMatch(/lowered below usage/);
    // Shrinking is still allowed.
    const scaled = await store.scaleDeployment(OPERATOR, web.deployment.id, 2, plan);
    expect(scaled.deployment.spec.replicas).toBe(2);
    expect((await store.getTenant('gd/sz'))?.usage.cpu).toBe(2_000);
  });

  it('stores the placement with its explanation', async () => {
    const a = await store.admitDeployment(OPERATOR, spec('gd/sz', 'web', 10), plan);
    expect(a.replayed).toBe(false);
    expect(a.deployment).toMatchObject({ phase: 'Scheduled', generation: 1, version: 1 });
    expect(a.deployment.slices).toEqual([
      { cloudId: 'c1', replicas: 8 },
      { cloudId: 'c2', replicas: 2 },
    ]);
    const p = await store.getPlacement(a.deployment.id);
    expect(p).toMatchObject({ cause: 'admit', generation: 1, slices: a.deployment.slices });
    expect(p?.decision.ok).toBe(true);
    expect(p?.decision.ranked.length).toBe(2);
    expect((await store.getCloud('c1'))?.allocated.cpu).toBe(8_000);
    expect(await store.findDeployment('gd/sz', 'web')).toEqual(a.deployment);
    expect(await store.getDeployment(a.deployment.id)).toEqual(a.deployment);
  });

  it('honours idempotency keys', async () => {
    const first = await store.admitDeployment(OPERATOR, spec('gd/sz', 'web', 1), plan, { idempotencyKey: 'req-1' });
    const again = await store.admitDeployment(OPERATOR, spec('gd/sz', 'web', 1), plan, { idempotencyKey: 'req-1' });
    expect(again.replayed).toBe(true);
    expect(again.deployment.id).toBe(first.deployment.id);
    expect(again.placement?.slices).toEqual(first.placement?.slices);
    const err = await rejection(store.admitDeployment(OPERATOR, spec('gd/sz', 'web', 2), plan, { idempotencyKey: 'req-1' }));
    expect(err.code).toBe('CONFLICT');
    expect(err.message).toContain('req-1');
    // Keys are per tenant.
    const other = await store.admitDeployment(OPERATOR, spec('gd/gz', 'web', 1), plan, { idempotencyKey: 'req-1' });
    expect(other.replayed).toBe(false);
    // Concurrent duplicates collapse into one deployment.
    const both = await Promise.all([1, 2, 3].map(() => store.admitDeployment(OPERATOR, spec('gd/sz', 'dup', 1), plan, { idempotencyKey: 'req-2' })));
    expect(new Set(both.map((b) => b.deployment.id)).size).toBe(1);
    expect(both.filter((b) => !b.replayed)).toHaveLength(1);
    expect((await rejection(store.admitDeployment(OPERATOR, spec('gd/sz', 'web', 1), plan))).code).toBe('CONFLICT');
  });

  it('rejects unschedulable and over-quota requests with the counted explanation', async () => {
    const big = await rejection(store.admitDeployment(OPERATOR, spec('gd/gz', 'huge', 1, 9_000), plan));
    expect(big.code).toBe('UNSCHEDULABLE');
    expect(big.details.explanation).toMatch(/0\/2 clouds available/);
    expect(big.details.reasonCounts).toEqual({ INSUFFICIENT_CPU: 2 });
    const quota = await rejection(store.admitDeployment(OPERATOR, spec('gd/sz', 'many', 11), plan));
    expect(quota.code).toBe('QUOTA_EXCEEDED');
    expect(typeof quota.details.explanation).toBe('string');
    expect(await store.findDeployment('gd/sz', 'many')).toBeNull();
    const pending = await store.admitDeployment(OPERATOR, spec('gd/gz', 'later', 1, 9_000), plan, { onUnschedulable: 'pending' });
    expect(pending.deployment).toMatchObject({ phase: 'Pending', slices: [] });
    expect(pending.deployment.message).toMatch(/0\/2 clouds available/);
    expect(pending.placement?.decision.ok).toBe(false);
    expect((await store.getTenant('gd'))?.usage.cpu).toBe(0);
  });

  it('scales, re-places, degrades and deletes, keeping the ledger exact', async () => {
    const a = await store.admitDeployment(OPERATOR, spec('gd/gz', 'web', 4), plan);
    const up = await store.scaleDeployment(OPERATOR, a.deployment.id, 9, plan);
    expect(up.deployment).toMatchObject({ generation: 2, phase: 'Scheduled' });
    expect(up.deployment.slices).toEqual([
      { cloudId: 'c1', replicas: 8 },
      { cloudId: 'c2', replicas: 1 },
    ]);
    expect(up.placement?.cause).toBe('scale');
    expect((await rejection(store.scaleDeployment(OPERATOR, a.deployment.id, 50, plan))).code).toBe('QUOTA_EXCEEDED');

    await store.setCloudCondition(OPERATOR, 'c1', 'NotReady', 'probe failed');
    const moved = await store.replacePlacement(OPERATOR, a.deployment.id, plan, 'failover', (s) => s.cloudId !== 'c1');
    // Only c2 (8 cores, 6 of them L4 quota) is left: 9 replicas cannot fit, so it degrades, keeping c2's slice.
    expect(moved.deployment.phase).toBe('Degraded');
    expect(moved.deployment.slices).toEqual([{ cloudId: 'c2', replicas: 1 }]);
    expect(moved.deployment.message).toMatch(/clouds available/);
    expect(moved.placement?.cause).toBe('failover');
    expect((await store.getCloud('c1'))?.allocated.cpu).toBe(0);
    await store.setCloudCondition(OPERATOR, 'c1', 'Ready', 'probe ok');
    const healed = await store.replacePlacement(OPERATOR, a.deployment.id, plan, 'retry');
    expect(healed.deployment.phase).toBe('Scheduled');
    expect(healed.deployment.slices.reduce((n, s) => n + s.replicas, 0)).toBe(9);

    const running = await store.setPhase(OPERATOR, a.deployment.id, 'Running', 'all replicas ready', healed.deployment.version);
    expect(running.phase).toBe('Running');
    expect((await rejection(store.setPhase(OPERATOR, a.deployment.id, 'Degraded', 'x', healed.deployment.version))).code).toBe('CONFLICT');
    expect((await rejection(store.finishDeletion(OPERATOR, a.deployment.id))).code).toBe('CONFLICT');
    const deleting = await store.deleteDeployment(OPERATOR, a.deployment.id);
    expect(deleting.phase).toBe('Deleting');
    expect((await store.getTenant('gd'))?.usage.cpu).toBe(9_000);
    expect((await rejection(store.scaleDeployment(OPERATOR, a.deployment.id, 1, plan))).code).toBe('CONFLICT');
    await store.finishDeletion(OPERATOR, a.deployment.id);
    expect(await store.getDeployment(a.deployment.id)).toBeNull();
    expect((await store.getTenant('gd'))?.usage.cpu).toBe(0);
    expect((await store.listClouds()).map((c) => c.allocated.cpu)).toEqual([0, 0]);
    expect(await store.checkLedger()).toEqual([]);
  });

  it('pages and filters deployments', async () => {
    for (let i = 0; i < 5; i++) await store.admitDeployment(OPERATOR, spec('gd/sz', `s${i}`, 1), plan);
    await store.admitDeployment(OPERATOR, spec('gd/gz', 'g0', 1, 1_000), firstFit({ only: (c) => c.id === 'c2' }));
    const page1 = await store.listDeployments({ first: 4 });
    expect(page1.items).toHaveLength(4);
    expect(page1.nextCursor).not.toBeNull();
    const page2 = await store.listDeployments({ first: 4, after: page1.nextCursor ?? undefined });
    expect(page2.items).toHaveLength(2);
    expect(page2.nextCursor).toBeNull();
    expect(new Set([...page1.items, ...page2.items].map((d) => d.id)).size).toBe(6);
    expect((await store.listDeployments({ first: 10, under: 'gd/sz' })).items).toHaveLength(5);
    expect((await store.listDeployments({ first: 10, cloudId: 'c2' })).items.map((d) => d.name)).toEqual(['g0']);
    expect((await store.listDeployments({ first: 10, phase: 'Running' })).items).toHaveLength(0);
  });

  it('writes exactly one chained audit event per mutation', async () => {
    const before = (await store.listAuditEvents({ first: 1000 })).items.length;
    expect(before).toBe(5);
    const a = await store.admitDeployment(OPERATOR, spec('gd/sz', 'web', 1), plan, { idempotencyKey: 'k' });
    await store.admitDeployment(OPERATOR, spec('gd/sz', 'web', 1), plan, { idempotencyKey: 'k' }); // replay: no event
    await rejection(store.admitDeployment(OPERATOR, spec('gd/sz', 'x', 1, 99_000), plan)); // refused: no event
    await store.setPhase(OPERATOR, a.deployment.id, 'Running', 'ok');
    await store.recordAudit(OPERATOR, 'deployment.admit', 'deployment/gd/sz/y', 'denied', { reason: 'forbidden' });
    const events = (await store.listAuditEvents({ first: 1000 })).items;
    expect(events.map((e) => e.action).slice(before)).toEqual(['deployment.admit', 'deployment.phase', 'deployment.admit']);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    for (let i = 1; i < events.length; i++) expect(events[i]?.prevHash).toBe(events[i - 1]?.hash);
    expect(events[events.length - 1]).toMatchObject({ actor: 'alice', role: 'operator', result: 'denied', object: 'deployment/gd/sz/y' });
    const scoped = await store.listAuditEvents({ first: 100, objectPrefix: 'deployment/gd/sz/' });
    expect(scoped.items).toHaveLength(3);
    const paged = await store.listAuditEvents({ first: 2, after: 2 });
    expect(paged.items.map((e) => e.seq)).toEqual([3, 4]);
    expect(paged.nextCursor).toBe('4');
    expect(await store.verifyAudit()).toMatchObject({ ok: true, checked: events.length });
  });

  it('purges audit events past retention and still verifies from the checkpoint', async () => {
    clock.advance(200 * 86_400_000);
    await store.admitDeployment(OPERATOR, spec('gd/sz', 'web', 1), plan);
    const res = await store.purgeExpiredAudit();
    expect(res.purged).toBe(5);
    expect(res.checkpoint.seq).toBe(5);
    const events = (await store.listAuditEvents({ first: 100 })).items;
    expect(events.map((e) => e.action)).toEqual(['deployment.admit', 'audit.purge']);
    expect(await store.verifyAudit()).toMatchObject({ ok: true, checked: 2 });
    expect(await store.verifyAudit(res.checkpoint)).toMatchObject({ ok: true });
    const nothing = await store.purgeAudit(new Date('2000-01-01T00:00:00Z'));
    expect(nothing.purged).toBe(0);
  });

  it('survives a reopen with everything intact', async () => {
    const a = await store.admitDeployment(OPERATOR, spec('gd/sz', 'web', 3), plan, { idempotencyKey: 'k' });
    await store.close();
    store = await h.open(url, { clock: clock.now });
    expect(await store.getDeployment(a.deployment.id)).toEqual(a.deployment);
    expect((await store.admitDeployment(OPERATOR, spec('gd/sz', 'web', 3), plan, { idempotencyKey: 'k' })).replayed).toBe(true);
    expect(await store.verifyAudit()).toMatchObject({ ok: true });
    expect(await store.checkLedger()).toEqual([]);
  });

  it('reports ledger drift when usage is edited behind its back', async () => {
    await store.admitDeployment(OPERATOR, spec('gd/sz', 'web', 2), plan);
    const raw = await h.raw(url);
    try {
      await raw.exec(`UPDATE tenants SET usage = '{"cpu":1,"memory":256,"gpu":0,"instances":0}' WHERE path = 'gd/sz'`);
      await raw.exec(`UPDATE clouds SET allocated = '{"cpu":0,"memory":0,"gpu":0,"instances":0}' WHERE id = 'c1'`);
    } finally {
      await raw.close();
    }
    const drift = await store.checkLedger();
    expect(drift.map((d) => `${d.kind}:${d.id}`).sort()).toEqual(['cloud:c1', 'tenant:gd/sz']);
    expect(drift.find((d) => d.id === 'gd/sz')?.recomputed.cpu).toBe(2_000);
  });
});
