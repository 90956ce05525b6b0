import { describe, expect, it } from 'vitest';
import type { Planner } from '../store/store.js';
import { aCloud, aSpec, headroomOf, TEST_TIERS } from '../test/builders.js';
import { createScheduler, planner } from './scheduler.js';
import { createSnapshot } from './snapshot.js';

const scheduler = createScheduler({ tiers: TEST_TIERS });

describe('place', () => {
  it('explains a refusal like Kubernetes: counted by reason, largest first', () => {
    const clouds = [
      ...Array.from({ length: 5 }, (_, i) => aCloud(`low${i}`).tier('L2').build()),
      ...Array.from({ length: 4 }, (_, i) => aCloud(`far${i}`).tier('L4').in('cn/bj').build()),
      ...Array.from({ length: 3 }, (_, i) => aCloud(`small${i}`).tier('L3').memory(1024).build()),
    ];
    const d = scheduler.place({ spec: aSpec().tier('L3').residency('cn/gd').memory(4096).build(), headroom: [], seed: 's' }, createSnapshot(clouds, TEST_TIERS));
    expect(d.ok).toBe(false);
    expect(d.summary).toBe('0/12 clouds available: 5 below tier L3, 4 outside residency cn/gd, 3 insufficient memory');
    expect(d.reasonCounts).toEqual({ BELOW_TIER: 5, OUTSIDE_RESIDENCY: 4, INSUFFICIENT_MEMORY: 3 });
    expect(d.rejected).toHaveLength(12);
    expect(d.rejected.find((r) => r.cloudId === 'small0')?.detail).toBe('insufficient memory: needs 4096 MiB per replica, 1024 MiB free');
    expect(d.failure?.reason).toBe('BELOW_TIER');
    expect(d.assignments).toEqual([]);
  });

  it('summarises a success and keeps the score breakdown of chosen clouds', () => {
    const clouds = [aCloud('a').build(), aCloud('b').build(), aCloud('low').tier('L1').build()];
    const d = scheduler.place({ spec: aSpec().replicas(3).tier('L2').minClouds(2).build(), headroom: [], seed: 's' }, createSnapshot(clouds, TEST_TIERS));
    expect(d.ok).toBe(true);
    expect(d.summary).toBe('3 replicas placed on 2/3 clouds (1 rejected: 1 below tier L2)');
    expect(d.ranked.map((r) => r.cloudId).sort()).toEqual(['a', 'b']);
    expect(d.ranked[0]?.terms.map((t) => t.scorer)).toEqual(['binpack', 'spread', 'cost', 'locality', 'topology', 'taints', 'sticky']);
    expect(d.demand).toEqual({ cpu: 1500, memory: 1536, gpu: 0, instances: 0 });
    expect(JSON.parse(JSON.stringify(d))).toMatchObject({ ok: true, summary: d.summary, ranked: [{}, {}], rejected: [{ cloudId: 'low' }] });
  });

  it('packs under binpack and spreads under spread', () => {
    const clouds = [aCloud('a').build(), aCloud('b').build(), aCloud('c').build()];
    const snap = createSnapshot(clouds, TEST_TIERS);
    const packed = scheduler.place({ spec: aSpec().replicas(3).strategy('binpack').build(), headroom: [], seed: 's' }, snap);
    expect(packed.assignments).toHaveLength(1);
    const spread = scheduler.place({ spec: aSpec().replicas(3).strategy('spread').build(), headroom: [], seed: 's' }, snap);
    expect(spread.assignments.map((a) => a.replicas)).toEqual([1, 1, 1]);
  });

  it('binpack prefers the fuller cloud', () => {
    const clouds = [aCloud('empty').build(), aCloud('busy').allocated({ cpu: 32_000, memory: 100_000 }).build()];
    const d = scheduler.place({ spec: aSpec().replicas(2).build(), headroom: [], seed: 's' }, createSnapshot(clouds, TEST_TIERS));
    expect(d.assignments).toEqual([{ cloudId: 'busy', replicas: 2 }]);
  });

  it('honours maxReplicasPerCloud and refuses, all or nothing, when spread cannot be met', () => {
    const snap = createSnapshot([aCloud('a').build(), aCloud('b').build()], TEST_TIERS);
    const ok = scheduler.place({ spec: aSpec().replicas(4).maxPerCloud(2).build(), headroom: [], seed: 's' }, snap);
    expect(ok.assignments.map((a) => a.replicas)).toEqual([2, 2]);
    const no = scheduler.place({ spec: aSpec().replicas(5).maxPerCloud(2).build(), headroom: [], seed: 's' }, snap);
    expect(no.ok).toBe(false);
    expect(no.assignments).toEqual([]);
    expect(no.failure).toEqual({ reason: 'SPREAD_UNSATISFIABLE', detail: 'needs 5 replicas at most 2 per cloud, the 2 available clouds hold 4' });
    expect(no.summary).toContain('2/2 clouds available, but 5 replicas cannot be placed: spread cannot be satisfied');
  });

  it('counts zones, not clouds, under zone topology', () => {
    const snap = createSnapshot([aCloud('a1').zone('a').build(), aCloud('a2').zone('a').build(), aCloud('b1').zone('b').build()], TEST_TIERS);
    const two = scheduler.place({ spec: aSpec().replicas(2).minClouds(2).topology('zone').build(), headroom: [], seed: 's' }, snap);
    expect(two.ok).toBe(true);
    expect(new Set(two.assignments.map((a) => a.cloudId[0]))).toEqual(new Set(['a', 'b']));
    const three = scheduler.place({ spec: aSpec().replicas(3).minClouds(3).topology('zone').build(), headroom: [], seed: 's' }, snap);
    expect(three.failure).toEqual({ reason: 'SPREAD_UNSATISFIABLE', detail: 'needs 3 distinct zones, 2 available' });
    const capped = scheduler.place({ spec: aSpec().replicas(4).maxPerCloud(2).topology('zone').build(), headroom: [], seed: 's' }, snap);
    const perZone = new Map<string, number>();
    for (const a of capped.assignments) perZone.set(a.cloudId[0] ?? '', (perZone.get(a.cloudId[0] ?? '') ?? 0) + a.replicas);
    expect([...perZone.values()]).toEqual([2, 2]);
  });

  it('shares a per-tier quota across every cloud of that tier', () => {
    const snap = createSnapshot([aCloud('l3a').tier('L3').build(), aCloud('l3b').tier('L3').build(), aCloud('l4').tier('L4').build()], TEST_TIERS);
    const headroom = [headroomOf('gd', {}, { L3: { cpu: 1000 } }), headroomOf('gd/sz', { cpu: 1500 })];
    const d = scheduler.place({ spec: aSpec().replicas(4).cpu(500).strategy('spread').build(), headroom, seed: 's' }, snap);
    expect(d.ok).toBe(false);
    expect(d.failure?.reason).toBe('QUOTA_EXCEEDED');
    expect(d.failure?.detail).toContain('tenant gd/sz: 1500m cpu left');
    const three = scheduler.place({ spec: aSpec().replicas(4).cpu(500).strategy('spread').build(), headroom: [headroomOf('gd', {}, { L3: { cpu: 1000 } })], seed: 's' }, snap);
    const onL3 = three.assignments.filter((a) => a.cloudId.startsWith('l3')).reduce((s, a) => s + a.replicas, 0);
    expect(three.ok).toBe(true);
    expect(onL3).toBeLessThanOrEqual(2);
  });

  it('reports over-quota clouds when quota is what blocks', () => {
    const d = scheduler.place({ spec: aSpec().memory(4096).build(), headroom: [headroomOf('gd', { memory: 1024 })], seed: 's' }, createSnapshot([aCloud('a').build()], TEST_TIERS));
    expect(d.summary).toBe('0/1 clouds available: 1 over tenant quota');
    expect(d.failure?.reason).toBe('QUOTA_EXCEEDED');
    expect(d.rejected[0]?.detail).toBe('tenant gd: 1024 MiB memory left, needs 4096 MiB per replica');
  });

  it('keeps held replicas where they are on a scale-up, crediting their capacity and quota', () => {
    const clouds = [aCloud('a').cpu(2000).allocated({ cpu: 2000 }).build(), aCloud('b').cpu(64_000).build(), aCloud('c').cpu(64_000).build()];
    const d = scheduler.place(
      { spec: aSpec().replicas(4).cpu(1000).strategy('spread').build(), headroom: [headroomOf('gd', { cpu: 2000 })], seed: 's', current: [{ cloudId: 'a', replicas: 2 }] },
      createSnapshot(clouds, TEST_TIERS),
    );
    expect(d.ok).toBe(true);
    expect(d.assignments.find((a) => a.cloudId === 'a')?.replicas).toBe(2);
  });

  it('places nothing, successfully, for zero replicas', () => {
    const d = scheduler.place({ spec: aSpec().replicas(0).build(), headroom: [], seed: 's' }, createSnapshot([aCloud('a').build()], TEST_TIERS));
    expect(d).toMatchObject({ ok: true, assignments: [], failure: null });
  });

  it('says so when there are no clouds', () => {
    const d = scheduler.place({ spec: aSpec().build(), headroom: [], seed: 's' }, createSnapshot([], TEST_TIERS));
    expect(d.summary).toBe('0/0 clouds available: no clouds registered');
  });

  it('replays: the same snapshot and seed give the same decision; the seed breaks ties', () => {
    const snap = createSnapshot(Array.from({ length: 20 }, (_, i) => aCloud(`c${i}`).build()), TEST_TIERS);
    const req = (seed: string) => ({ spec: aSpec().replicas(1).build(), headroom: [], seed });
    expect(scheduler.place(req('x'), snap).assignments).toEqual(createScheduler({ tiers: TEST_TIERS }).place(req('x'), snap).assignments);
    const chosen = new Set(Array.from({ length: 20 }, (_, i) => scheduler.place(req(`seed-${i}`), snap).assignments[0]?.cloudId));
    expect(chosen.size).toBeGreaterThan(3);
  });

  it('preview is place', () => {
    const snap = createSnapshot([aCloud('a').build()], TEST_TIERS);
    const req = { spec: aSpec().build(), headroom: [], seed: 's' };
    expect(scheduler.preview(req, snap).assignments).toEqual(scheduler.place(req, snap).assignments);
  });
});

describe('planner', () => {
  it("matches the store's Planner type and caches the snapshot per clouds array", () => {
    const plan: Planner = planner(scheduler, TEST_TIERS);
    const clouds = [aCloud('a').build()];
    const d1 = plan(aSpec().build(), { clouds, headroom: [] }, []);
    const d2 = plan(aSpec().build(), { clouds, headroom: [headroomOf('gd', { cpu: 0 })] }, []);
    expect(d1.assignments).toEqual([{ cloudId: 'a', replicas: 1 }]);
    expect(d2.ok).toBe(false);
  });
});

describe('createScheduler', () => {
  it('takes weight overrides per strategy and rejects bad ones', () => {
    expect(createScheduler({ tiers: TEST_TIERS, weights: { cost: { cost: 5 } } }).weights.cost.cost).toBe(5);
    expect(() => createScheduler({ tiers: TEST_TIERS, weights: { cost: { cost: -1 } } })).toThrow(/non-negative/);
  });
});
