/**
 * Shared fixtures of the orchestrator suites: a store with tenants, simulated clouds whose
 * providers the test keeps (to inject faults and inspect what each cloud holds), the real
 * scheduler as planner, fast timings, and invariant checks.
 */
import type { Cloud, CloudCondition } from '../domain/cloud.js';
import type { Deployment, DeploymentSpec } from '../domain/deployment.js';
import { parseDeploymentSpec } from '../domain/deployment.js';
import type { DeploymentEvent } from '../domain/events.js';
import { resources } from '../domain/resources.js';
import { isWithin } from '../domain/locality.js';
import { Tiers } from '../domain/tiers.js';
import type { OrchestratorConfigInput } from '../orchestrator/config.js';
import type { Provider } from '../providers/provider.js';
import { sliceKey } from '../providers/provider.js';
import { SimulatedProvider } from '../providers/simulated/simulated-provider.js';
import { SimulatedConnectionSchema } from '../providers/simulated/connection.js';
import type { SimulatedConnectionInput } from '../providers/simulated/connection.js';
import { createScheduler, planner as plannerOf } from '../scheduler/scheduler.js';
import type { Actor, NewCloud, Planner, Store } from '../store/store.js';

/** The tier scale of the suites. */
export const TIERS = new Tiers();

/** An operator, as the API would act. */
export const OPERATOR: Actor = Object.freeze({ subject: 'op', role: 'operator', tenant: null });

/** The real scheduler as the store's planner. */
export function realPlanner(): Planner {
  return plannerOf(createScheduler({ tiers: TIERS }), TIERS);
}

/** Timings that make the loops turn in tens of milliseconds. */
export const FAST: OrchestratorConfigInput = {
  reconcileIntervalMs: 40,
  probeIntervalMs: 15,
  probeFailuresToNotReady: 2,
  inventoryIntervalMs: 100,
  failoverGraceMs: 120,
  drainRatePerSecond: 200,
  rebalanceRatePerSecond: 200,
  backoff: { baseMs: 5, maxMs: 80 },
  breakerThreshold: 4,
  breakerOpenMs: 40,
  callTimeoutMs: 2_000,
  leaseIntervalMs: 40,
  fullResyncEvery: 5,
};

/** A simulated cloud as registered. */
export function simCloud(id: string, opts: { locality?: string; tier?: string; cpu?: number; condition?: CloudCondition; exclusive?: boolean } = {}): NewCloud {
  return {
    id,
    kind: 'simulated',
    locality: opts.locality ?? 'cn/gd/sz',
    zone: 'a',
    tier: opts.tier ?? 'L3',
    tierExclusive: opts.exclusive ?? false,
    attributes: { arch: 'amd64', xinchuang: false, gpuModel: null, labels: {} },
    taints: [],
    capacity: resources({ cpu: opts.cpu ?? 16_000, memory: 65_536, gpu: 0, instances: 100 }),
    costPerUnit: resources({ cpu: 1 }),
    condition: opts.condition ?? 'Ready',
    connection: {},
  };
}

/** A container spec: `replicas` × 500m / 256 MiB. */
export function spec(name: string, replicas: number, extra: Record<string, unknown> = {}): DeploymentSpec {
  return parseDeploymentSpec(
    { tenant: 'gd/sz', name, workload: { kind: 'container', image: 'registry.gov.cn/app:1' }, replicas, resources: { cpu: 500, memory: 256 }, minTier: 'L2', ...extra },
    TIERS,
  );
}

/** A provider that delegates to a shared simulated cloud but is never really closed (several orchestrators may share it). */
export function shared(p: Provider): Provider {
  return {
    kind: p.kind,
    cloudId: p.cloudId,
    inventory: () => p.inventory(),
    apply: (s) => p.apply(s),
    remove: (r) => p.remove(r),
    status: (r) => p.status(r),
    listSlices: () => p.listSlices(),
    health: () => p.health(),
    close: () => Promise.resolve(),
  };
}

/** The simulated clouds of a test, by id, and the `providerFor` that hands them out. */
export class SimFleet {
  readonly sims = new Map<string, SimulatedProvider>();

  /** Registers `cloud` in the store and creates its simulated provider. */
  async add(store: Store, cloud: NewCloud, connection: SimulatedConnectionInput = {}): Promise<SimulatedProvider> {
    await store.registerCloud(OPERATOR, cloud);
    const sim = new SimulatedProvider(cloud.id, SimulatedConnectionSchema.parse({ capacity: cloud.capacity, ...connection }));
    this.sims.set(cloud.id, sim);
    return sim;
  }

  sim(id: string): SimulatedProvider {
    const s = this.sims.get(id);
    if (s === undefined) throw new Error(`no simulated cloud ${id}`);
    return s;
  }

  readonly providerFor = (cloud: Cloud): Provider => shared(this.sim(cloud.id));
}

/** Creates the tenants `gd` and `gd/sz`. */
export async function seedTenants(store: Store): Promise<void> {
  await store.createTenant(OPERATOR, 'gd', 'Guangdong');
  await store.createTenant(OPERATOR, 'gd/sz', 'Shenzhen');
}

/** Polls `check` until it returns true, or throws with `what` after `timeoutMs`. */
export async function eventually(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > until) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Every deployment in the store. */
export async function allDeployments(store: Store): Promise<Deployment[]> {
  const out: Deployment[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await store.listDeployments({ first: 1000, ...(after === undefined ? {} : { after }) });
    out.push(...page.items);
    if (page.nextCursor === null || page.items.length === 0) return out;
    after = page.nextCursor;
  }
}

/**
 * The invariants of a converged fleet: every slice the store places exists on its cloud at the
 * right size, nothing exists anywhere else (no double placement), tier and residency hold.
 * Returns the problems found (empty when all hold).
 */
export async function fleetProblems(store: Store, fleet: SimFleet): Promise<string[]> {
  const problems: string[] = [];
  const deployments = await allDeployments(store);
  const clouds = new Map((await store.listClouds()).map((c) => [c.id, c]));
  const placed = new Map<string, number>();
  for (const d of deployments) {
    for (const s of d.slices) {
      const ref = { deploymentId: d.id, tenant: d.tenant, name: d.name };
      placed.set(`${s.cloudId} ${sliceKey(ref)}`, s.replicas);
      const cloud = clouds.get(s.cloudId);
      if (cloud === undefined) problems.push(`${d.name}: placed on unknown cloud ${s.cloudId}`);
      else {
        if (!TIERS.hosts(cloud.tier, d.spec.minTier, cloud.tierExclusive)) problems.push(`${d.name}: on ${cloud.id} (${cloud.tier}) below tier ${d.spec.minTier}`);
        if (d.spec.residency.length > 0 && !d.spec.residency.some((r) => isWithin(cloud.locality, r))) problems.push(`${d.name}: on ${cloud.id} outside residency`);
      }
    }
  }
  for (const [cloudId, sim] of fleet.sims) {
    let present;
    try {
      present = await sim.listSlices();
    } catch (e) {
      // An injected fault still queued: not converged yet (the call consumed it).
      problems.push(`cannot list ${cloudId}: ${String(e)}`);
      continue;
    }
    for (const ref of present) {
      const k = `${cloudId} ${sliceKey(ref)}`;
      const want = placed.get(k);
      if (want === undefined) problems.push(`double placement: ${ref.name} present on ${cloudId}, which the store does not place it on`);
      else if (sim.inspect(ref)?.slice.replicas !== want) problems.push(`${ref.name} on ${cloudId}: ${sim.inspect(ref)?.slice.replicas} replicas, store says ${want}`);
      placed.delete(k);
    }
  }
  for (const k of placed.keys()) problems.push(`missing: ${k} is placed but not present`);
  return problems;
}

/** Collects published events. */
export function eventLog(): { events: DeploymentEvent[]; publish: (e: DeploymentEvent) => void } {
  const events: DeploymentEvent[] = [];
  return { events, publish: (e) => void events.push(e) };
}
