/**
 * The orchestrator against simulated clouds and a real (in-memory SQLite) store: dispatch, phases,
 * faults, failover, recovery, drain, rebalance, scale and deletion.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { OrchestratorView } from '../observability/views.js';
import { createOrchestrator } from '../orchestrator/orchestrator.js';
import type { Orchestrator, OrchestratorDeps } from '../orchestrator/orchestrator.js';
import { openStore } from '../store/open.js';
import type { Planner, Store } from '../store/store.js';
import { eventLog, eventually, FAST, fleetProblems, OPERATOR, realPlanner, seedTenants, SimFleet, simCloud, spec } from './orchestrator-fixtures.js';

let store: Store;
let fleet: SimFleet;
let planner: Planner;
let orch: Orchestrator | null = null;

beforeEach(async () => {
  store = await openStore(':memory:');
  await seedTenants(store);
  fleet = new SimFleet();
  planner = realPlanner();
});

afterEach(async () => {
  await orch?.stop();
  orch = null;
  await store.close();
});

function start(extra: Partial<OrchestratorDeps> = {}): Orchestrator {
  orch = createOrchestrator({ store, planner, providerFor: fleet.providerFor, config: FAST, ...extra });
  void orch.start();
  return orch;
}

async function request(name: string, replicas: number, extra: Record<string, unknown> = {}, pending = false): Promise<string> {
  const a = await store.admitDeployment(OPERATOR, spec(name, replicas, extra), planner, pending ? { onUnschedulable: 'pending' } : {});
  orch?.kick(a.deployment.id);
  return a.deployment.id;
}

async function phaseOf(id: string): Promise<string | undefined> {
  return (await store.getDeployment(id))?.phase;
}

describe('orchestrator with simulated clouds', () => {
  it('takes requested deployments to Running and publishes each phase change', async () => {
    await fleet.add(store, simCloud('sz-1'));
    await fleet.add(store, simCloud('sz-2'));
    const log = eventLog();
    const o = start({ publish: log.publish });
    const ids = [await request('web', 3), await request('api', 2, { spread: { minClouds: 2 } }), await request('idle', 0)];
    await eventually('all Running', async () => (await Promise.all(ids.map(phaseOf))).every((p) => p === 'Running'));
    expect(await fleetProblems(store, fleet)).toEqual([]);
    expect(log.events.filter((e) => e.type === 'PHASE_CHANGED' && e.phase === 'Running').map((e) => e.name).sort()).toEqual(['api', 'idle', 'web']);
    expect(o.stats().counters.applies).toBe(3);
    // stats() feeds metrics.setOrchestratorSource as it is.
    const view: OrchestratorView = o.stats();
    expect(view.leader).toBe(true);
    expect(view.queues?.map((q) => q.cloud).sort()).toEqual(['sz-1', 'sz-2']);
  });

  it('goes through Deploying while replicas come up', async () => {
    await fleet.add(store, simCloud('sz-1'), { readyAfterMs: 150 });
    start();
    const id = await request('web', 2);
    await eventually('Deploying', async () => (await phaseOf(id)) === 'Deploying');
    await eventually('Running', async () => (await phaseOf(id)) === 'Running');
  });

  it('converges through injected errors and timeouts without retry loops around calls', async () => {
    const a = await fleet.add(store, simCloud('sz-1'), { errorRate: 0.3, timeoutRate: 0.2, seed: 7 });
    const b = await fleet.add(store, simCloud('sz-2'), { errorRate: 0.3, timeoutRate: 0.2, seed: 9 });
    start();
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) ids.push(await request(`app-${i}`, 2, { spread: { minClouds: 2 } }));
    await eventually('all Running', async () => (await Promise.all(ids.map(phaseOf))).every((p) => p === 'Running'));
    const calls = a.calls.apply + a.calls.status + b.calls.apply + b.calls.status;
    for (const s of [a, b]) {
      s.setErrorRate(0);
      s.setTimeoutRate(0);
    }
    expect(await fleetProblems(store, fleet)).toEqual([]);
    // 20 slices, each a status and an apply when nothing fails: the faults cost extra calls.
    expect(calls).toBeGreaterThan(40);
  });

  it('marks Failed on a refusal and recovers when the cloud accepts again', async () => {
    const sim = await fleet.add(store, simCloud('sz-1'));
    sim.failNext('reject', 1, 'apply');
    start();
    const id = await request('web', 1);
    await eventually('Failed', async () => (await phaseOf(id)) === 'Failed');
    expect((await store.getDeployment(id))?.message).toMatch(/sz-1.*HTTP 400/);
    await eventually('Running', async () => (await phaseOf(id)) === 'Running');
  });

  it('fails over from a cloud that stays NotReady within the grace period plus one pass, and removes the leftover when it returns', async () => {
    const a = await fleet.add(store, simCloud('a-1', { cpu: 64_000 }));
    await fleet.add(store, simCloud('b-1', { cpu: 64_000, condition: 'Cordoned' }));
    const failovers: string[] = [];
    const o = start({ hooks: { recordFailover: (cloud, outcome) => failovers.push(`${cloud}:${outcome}`) } });
    const id = await request('web', 4);
    await eventually('Running', async () => (await phaseOf(id)) === 'Running');
    expect((await store.getDeployment(id))?.slices.map((s) => s.cloudId)).toEqual(['a-1']);
    await store.setCloudCondition(OPERATOR, 'b-1', 'Ready', 'open');

    a.setOutage(true);
    await eventually('a-1 NotReady', async () => (await store.getCloud('a-1'))?.condition === 'NotReady');
    const notReadyAt = Date.now();
    await eventually('moved off a-1', async () => (await store.getDeployment(id))?.slices.every((s) => s.cloudId !== 'a-1') ?? false);
    const tookMs = Date.now() - notReadyAt;
    expect(tookMs).toBeLessThanOrEqual((FAST.failoverGraceMs ?? 0) + (FAST.reconcileIntervalMs ?? 0) + 100);
    await eventually('Running on b-1', async () => (await phaseOf(id)) === 'Running');
    expect((await store.getPlacement(id))?.cause).toBe('failover');
    expect(failovers).toEqual(['a-1:replaced']);
    // a-1 still holds the old slice while it is down.
    expect(await a.listSlices().catch(() => 'unreachable')).toBe('unreachable');

    a.setOutage(false);
    await eventually('a-1 Ready', async () => (await store.getCloud('a-1'))?.condition === 'Ready');
    await eventually('leftover removed', async () => (await a.listSlices()).length === 0);
    expect(await fleetProblems(store, fleet)).toEqual([]);
    expect(o.stats().counters.failovers).toBe(1);
    expect(await store.checkLedger()).toEqual([]);
  });

  it('degrades with the counted explanation when no other cloud qualifies, and recovers by rebalance', async () => {
    const a = await fleet.add(store, simCloud('gz-1', { locality: 'cn/gd/gz' }));
    await fleet.add(store, simCloud('bj-1', { locality: 'cn/bj' }));
    start();
    const id = await request('web', 2, { residency: ['cn/gd'] });
    await eventually('Running', async () => (await phaseOf(id)) === 'Running');
    a.setOutage(true);
    await eventually('Degraded', async () => (await phaseOf(id)) === 'Degraded');
    const d = await store.getDeployment(id);
    expect(d?.message).toMatch(/0\/2 clouds available/);
    expect(d?.message).toMatch(/outside residency cn\/gd/);
    expect(d?.slices).toEqual([]);
    a.setOutage(false);
    await eventually('Running again', async () => (await phaseOf(id)) === 'Running');
    expect((await store.getPlacement(id))?.cause).toBe('rebalance');
    expect(await fleetProblems(store, fleet)).toEqual([]);
  });

  it('drains a cloud at a bounded rate, each move explained, and cordon moves nothing', async () => {
    await fleet.add(store, simCloud('sz-1', { cpu: 64_000 }));
    await fleet.add(store, simCloud('sz-2', { cpu: 8_000, condition: 'Cordoned' }));
    const drains: string[] = [];
    const o = start({ config: { ...FAST, drainRatePerSecond: 20 }, hooks: { recordDrain: (c, out) => drains.push(`${c}:${out}`) } });
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push(await request(`app-${i}`, 1));
    await eventually('all Running', async () => (await Promise.all(ids.map(phaseOf))).every((p) => p === 'Running'));
    expect(new Set((await Promise.all(ids.map((id) => store.getDeployment(id)))).flatMap((d) => d?.slices.map((s) => s.cloudId) ?? []))).toEqual(new Set(['sz-1']));

    await store.setCloudCondition(OPERATOR, 'sz-1', 'Cordoned', 'maintenance');
    await new Promise((r) => setTimeout(r, 150));
    expect(o.stats().counters.drains).toBe(0);
    await store.setCloudCondition(OPERATOR, 'sz-2', 'Ready', 'open');

    await store.setCloudCondition(OPERATOR, 'sz-1', 'Draining', 'decommission');
    const began = Date.now();
    o.drain('sz-1');
    await eventually('sz-1 empty', async () => (await store.listDeployments({ cloudId: 'sz-1', first: 100 })).items.length === 0);
    // 6 moves at 20/s with a burst of 20 is immediate; the bound is checked by rate, not wall time, below.
    expect(Date.now() - began).toBeLessThan(5_000);
    expect(drains).toHaveLength(6);
    expect(drains.every((d) => d === 'sz-1:replaced')).toBe(true);
    for (const id of ids) expect((await store.getPlacement(id))?.cause).toBe('drain');
    await eventually('all Running on sz-2', async () => (await fleetProblems(store, fleet)).length === 0 && (await Promise.all(ids.map(phaseOf))).every((p) => p === 'Running'));
  });

  it('limits the drain rate', async () => {
    await fleet.add(store, simCloud('sz-1', { cpu: 64_000 }));
    await fleet.add(store, simCloud('sz-2', { cpu: 64_000, condition: 'Cordoned' }));
    const o = start({ config: { ...FAST, drainRatePerSecond: 10 } });
    const ids: string[] = [];
    for (let i = 0; i < 15; i++) ids.push(await request(`app-${i}`, 1));
    await eventually('all Running', async () => (await Promise.all(ids.map(phaseOf))).every((p) => p === 'Running'));
    await store.setCloudCondition(OPERATOR, 'sz-2', 'Ready', 'open');
    await store.setCloudCondition(OPERATOR, 'sz-1', 'Draining', 'decommission');
    const began = Date.now();
    o.drain('sz-1');
    await eventually('sz-1 empty', async () => (await store.listDeployments({ cloudId: 'sz-1', first: 100 })).items.length === 0);
    // A burst of 10, then 10/s: the last 5 need about half a second.
    expect(Date.now() - began).toBeGreaterThanOrEqual(400);
  });

  it('retries Pending deployments when a cloud is added', async () => {
    await fleet.add(store, simCloud('bj-1', { locality: 'cn/bj' }));
    start();
    const id = await request('web', 2, { residency: ['cn/gd'] }, true);
    expect(await phaseOf(id)).toBe('Pending');
    await fleet.add(store, simCloud('gz-1', { locality: 'cn/gd/gz' }));
    await eventually('Running', async () => (await phaseOf(id)) === 'Running');
    expect((await store.getPlacement(id))?.cause).toBe('rebalance');
  });

  it('scales and deletes', async () => {
    const sim = await fleet.add(store, simCloud('sz-1'));
    const log = eventLog();
    start({ publish: log.publish });
    const id = await request('web', 2);
    await eventually('Running', async () => (await phaseOf(id)) === 'Running');
    await store.scaleDeployment(OPERATOR, id, 5, planner);
    orch?.kick(id);
    await eventually('scaled', async () => (await sim.listSlices()).length === 1 && sim.inspect((await sim.listSlices())[0]!)?.slice.replicas === 5 && (await phaseOf(id)) === 'Running');
    await store.deleteDeployment(OPERATOR, id);
    orch?.kick(id);
    await eventually('gone', async () => (await store.getDeployment(id)) === null);
    expect(await sim.listSlices()).toEqual([]);
    expect(log.events.some((e) => e.type === 'DELETED' && e.deploymentId === id)).toBe(true);
    expect(await store.checkLedger()).toEqual([]);
  });

  it('opens the breaker on a failing cloud while others keep flowing', async () => {
    const bad = await fleet.add(store, simCloud('bad', { locality: 'cn/gd/gz' }), { errorRate: 1 });
    await fleet.add(store, simCloud('good', { locality: 'cn/bj' }));
    const o = start({ config: { ...FAST, probeFailuresToNotReady: 100 } });
    const slow = await request('slow', 1, { residency: ['cn/gd'] });
    const fast = await request('fast', 1, { residency: ['cn/bj'] });
    await eventually('fast Running', async () => (await phaseOf(fast)) === 'Running');
    await eventually('breaker open', () => o.stats().breakers.some((b) => b.cloud === 'bad' && b.state !== 'closed'));
    const before = bad.calls.status + bad.calls.apply;
    await new Promise((r) => setTimeout(r, 200));
    // Held back: at most a trial per open period, not a call per backoff step.
    expect(bad.calls.status + bad.calls.apply - before).toBeLessThanOrEqual(8);
    bad.setErrorRate(0);
    await eventually('slow Running', async () => (await phaseOf(slow)) === 'Running');
  });

  it('preempts lower-priority slices under the same quota ancestor, explained and audited, and no one else', async () => {
    await store.createTenant(OPERATOR, 'bj', 'Beijing');
    await store.createTenant(OPERATOR, 'bj/x', 'Beijing X');
    await fleet.add(store, simCloud('sz-1', { cpu: 4_000 }));
    const log = eventLog();
    const o = start({ publish: log.publish });
    const other = await request('other', 2, { tenant: 'bj/x', priority: 0 });
    const batch = await request('batch', 4, { priority: 10 });
    await eventually('Running', async () => (await phaseOf(other)) === 'Running' && (await phaseOf(batch)) === 'Running');
    const urgent = await request('urgent', 4, { priority: 100, allowPreemption: true }, true);
    expect(await phaseOf(urgent)).toBe('Pending');
    await eventually('urgent Running', async () => (await phaseOf(urgent)) === 'Running');
    const victim = await store.getDeployment(batch);
    expect(victim?.phase).toBe('Degraded');
    expect(victim?.message).toBe('preempted by gd/sz/urgent (priority 100)');
    expect((await store.getPlacement(batch))?.cause).toBe('preempt');
    expect((await store.getPlacement(urgent))?.cause).toBe('preempt');
    expect(await phaseOf(other)).toBe('Running');
    const audit = await store.listAuditEvents({ first: 1000 });
    const pre = audit.items.filter((a) => a.action === 'deployment.preempt');
    expect(pre).toHaveLength(1);
    expect(pre[0]?.detail).toMatchObject({ preemptor: urgent, victims: [{ id: batch, priority: 10 }] });
    expect(o.stats().counters.preemptions).toBe(1);
    await eventually('converged', async () => (await fleetProblems(store, fleet)).length === 0);
    expect(await store.checkLedger()).toEqual([]);
  });
});
