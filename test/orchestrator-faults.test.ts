/**
 * A seeded randomized fault run: errors, timeouts, refusals and outages on simulated clouds while
 * deployments are requested, scaled and deleted. When the faults stop, every deployment must be
 * Running on eligible clouds or Degraded with an explanation; no slice may exist on a cloud the
 * store does not place it on; quota usage must equal the placements.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isTianshuError } from '../domain/errors.js';
import { createOrchestrator } from '../orchestrator/orchestrator.js';
import type { Orchestrator } from '../orchestrator/orchestrator.js';
import type { SimulatedFault, SimulatedOperation } from '../providers/simulated/simulated-provider.js';
import { seededRandom } from '../domain/random.js';
import { openStore } from '../store/open.js';
import type { Planner, Store } from '../store/store.js';
import { allDeployments, eventually, FAST, fleetProblems, OPERATOR, realPlanner, seedTenants, SimFleet, simCloud, spec } from './orchestrator-fixtures.js';

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

const CLOUDS = [
  simCloud('sz-1', { locality: 'cn/gd/sz', tier: 'L3', cpu: 24_000 }),
  simCloud('sz-2', { locality: 'cn/gd/sz', tier: 'L4', cpu: 24_000 }),
  simCloud('gz-1', { locality: 'cn/gd/gz', tier: 'L2', cpu: 16_000 }),
  simCloud('gz-2', { locality: 'cn/gd/gz', tier: 'L3', cpu: 16_000, exclusive: true }),
  simCloud('bj-1', { locality: 'cn/bj', tier: 'L4', cpu: 24_000 }),
  simCloud('sh-1', { locality: 'cn/sh', tier: 'L2', cpu: 16_000 }),
];
const RESIDENCIES = [[], ['cn/gd'], ['cn/gd/sz'], ['cn/bj', 'cn/sh'], ['cn']];
const TIERS = ['L2', 'L3', 'L4'];
const FAULTS: readonly SimulatedFault[] = ['error', 'timeout', 'reject'];
const OPS: readonly (SimulatedOperation | undefined)[] = ['apply', 'status', 'remove', 'listSlices', undefined];

describe('orchestrator under a randomized fault run', () => {
  it('ends Running on eligible clouds or Degraded with an explanation, with no double placement and an exact ledger', async () => {
    const rnd = seededRandom(20_260_101);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
    for (const c of CLOUDS) await fleet.add(store, c, { seed: Math.floor(rnd() * 1e9) });
    orch = createOrchestrator({ store, planner, providerFor: fleet.providerFor, config: FAST, random: seededRandom(42) });
    await orch.start();

    const live: string[] = [];
    let n = 0;
    const request = async (): Promise<void> => {
      const name = `app-${n++}`;
      const s = spec(name, 1 + Math.floor(rnd() * 4), { residency: pick(RESIDENCIES), minTier: pick(TIERS), spread: { minClouds: 1 } });
      try {
        const a = await store.admitDeployment(OPERATOR, s, planner);
        live.push(a.deployment.id);
        orch?.kick(a.deployment.id);
      } catch (e) {
        if (!isTianshuError(e, 'UNSCHEDULABLE') && !isTianshuError(e, 'QUOTA_EXCEEDED')) throw e;
      }
    };
    for (let i = 0; i < 25; i++) await request();

    let faults = 0;
    const down = new Set<string>();
    const deadline = Date.now() + 8_000;
    while ((faults < 240 || down.size > 0) && Date.now() < deadline) {
      const roll = rnd();
      const cloud = pick(CLOUDS).id;
      const sim = fleet.sim(cloud);
      if (roll < 0.7) {
        sim.failNext(pick(FAULTS), 1 + Math.floor(rnd() * 3), pick(OPS));
        faults++;
      } else if (roll < 0.76) {
        if (down.has(cloud)) {
          sim.setOutage(false);
          down.delete(cloud);
        } else if (down.size < 2 && faults < 240) {
          sim.setOutage(true);
          down.add(cloud);
          faults++;
        }
      } else if (roll < 0.84) {
        await request();
      } else if (roll < 0.92 && live.length > 0) {
        const id = pick(live);
        await store.scaleDeployment(OPERATOR, id, 1 + Math.floor(rnd() * 5), planner).then(
          () => orch?.kick(id),
          () => undefined, // unschedulable at that size, or being deleted
        );
      } else if (live.length > 0) {
        const id = live.splice(Math.floor(rnd() * live.length), 1)[0] as string;
        await store.deleteDeployment(OPERATOR, id);
        orch.kick(id);
      }
      await new Promise((r) => setTimeout(r, 8 + Math.floor(rnd() * 15)));
      // Let an outage last long enough to fail over sometimes.
      if (down.size > 0 && rnd() < 0.02) {
        for (const c of down) fleet.sim(c).setOutage(false);
        down.clear();
      }
    }
    for (const c of down) fleet.sim(c).setOutage(false);
    expect(faults).toBeGreaterThanOrEqual(200);

    // Faults over (forced ones still queued are drained by the next calls).
    await eventually(
      'a converged fleet',
      async () => {
        const ds = await allDeployments(store);
        if (!ds.every((d) => d.phase === 'Running' || (d.phase === 'Degraded' && d.message !== ''))) return false;
        return (await fleetProblems(store, fleet)).length === 0;
      },
      25_000,
    );
    const ds = await allDeployments(store);
    expect(ds.filter((d) => d.phase !== 'Running' && d.phase !== 'Degraded')).toEqual([]);
    expect(await fleetProblems(store, fleet)).toEqual([]);
    expect(await store.checkLedger()).toEqual([]);
    expect(ds.length).toBeGreaterThan(10);
    console.log(JSON.stringify({ faults, phases: ds.map((d) => d.phase).sort().join(','), counters: orch.stats().counters }));
  }, 60_000);
});
