/**
 * Store benchmark: admissions per second through `admitDeployment`, with full durability
 * (SQLite WAL + synchronous=FULL on the real disk; PostgreSQL with fsync on), and the p99 latency
 * of one admission. SQLite runs twice in the same process: `mode=group` (group commit) and
 * `mode=single` (one transaction per request), the baseline group commit must beat ≥ 5×.
 * PostgreSQL runs when the rig can start it.
 *
 * A closed loop of concurrent clients, each issuing its next request as soon as the last one is
 * answered, after a warm-up. The planner is a trivial first fit, so the numbers are the store's.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Cloud } from '../domain/cloud.js';
import type { DeploymentSpec } from '../domain/deployment.js';
import { demandPerReplica, parseDeploymentSpec } from '../domain/deployment.js';
import { resources, RESOURCE_NAMES } from '../domain/resources.js';
import { MLPS, Tiers } from '../domain/tiers.js';
import type { Decision } from '../scheduler/decision.js';
import type { TianshuStore } from '../store/core.js';
import { openStore } from '../store/open.js';
import type { StoreOptions } from '../store/options.js';
import type { Actor, NewCloud, Planner } from '../store/store.js';
import { POSTGRES_COMPONENTS, requireComponents } from '../test/rig/components.js';
import { startPostgres } from '../test/rig/postgres.js';

const ACTOR: Actor = { subject: 'bench', role: 'operator', tenant: null };
const CLOUDS = 16;
const TENANTS = 8;
const tiers = new Tiers(MLPS);

/** First fit by free cpu, starting at a cloud picked from the name so clients spread out. */
const plan: Planner = (spec, state) => {
  const per = demandPerReplica(spec);
  const n = state.clouds.length;
  const start = spec.name.length > 0 ? spec.name.charCodeAt(spec.name.length - 1) % n : 0;
  for (let i = 0; i < n; i++) {
    const c = state.clouds[(start + i) % n] as Cloud;
    if (c.condition !== 'Ready') continue;
    if (RESOURCE_NAMES.every((r) => c.allocated[r] + per[r] * spec.replicas <= c.capacity[r])) {
      return decision(true, [{ cloudId: c.id, replicas: spec.replicas }], n);
    }
  }
  return decision(false, [], n);
};

function decision(ok: boolean, assignments: Decision['assignments'], n: number): Decision {
  return {
    ok,
    assignments,
    ranked: assignments.map((a) => ({ cloudId: a.cloudId, total: 80, terms: [{ scorer: 'binpack', score: 80, weight: 1 }], maxReplicas: a.replicas })),
    rejected: [],
    reasonCounts: {},
    failure: ok ? null : { reason: 'INSUFFICIENT_TOTAL_CAPACITY', detail: 'full' },
    summary: `${ok ? 1 : 0}/${n} clouds available`,
    demand: resources({ cpu: 100 }),
    considered: n,
  };
}

function cloud(i: number): NewCloud {
  return {
    id: `bench-${String(i).padStart(2, '0')}`,
    kind: 'simulated',
    locality: 'cn/gd/sz',
    zone: `z${i % 3}`,
    tier: 'L3',
    tierExclusive: false,
    attributes: { arch: 'amd64', xinchuang: false, gpuModel: null, labels: {} },
    taints: [],
    capacity: resources({ cpu: 1e12, memory: 1e12, gpu: 0, instances: 1e9 }),
    costPerUnit: resources({ cpu: 1 }),
    condition: 'Ready',
    connection: {},
  };
}

function specs(count: number, prefix: string): DeploymentSpec[] {
  const out: DeploymentSpec[] = [];
  for (let i = 0; i < count; i++) {
    out.push(
      parseDeploymentSpec(
        { tenant: `agency${i % TENANTS}/unit`, name: `${prefix}-${i}`, workload: { kind: 'container', image: 'registry.gov.cn/app:1' }, replicas: 1, resources: { cpu: 100, memory: 64 }, minTier: 'L2' },
        tiers,
      ),
    );
  }
  return out;
}

async function setup(store: TianshuStore): Promise<void> {
  for (let i = 0; i < CLOUDS; i++) await store.registerCloud(ACTOR, cloud(i));
  // Eight agencies, each with one sub-unit: quota is enforced at both levels of every lineage.
  for (let t = 0; t < TENANTS; t++) {
    await store.createTenant(ACTOR, `agency${t}`, `Agency ${t}`, { total: { cpu: 1e12 }, byTier: {} });
    await store.createTenant(ACTOR, `agency${t}/unit`, `Unit ${t}`, { total: { cpu: 1e11 }, byTier: {} });
  }
}

/** Closed loop: `clients` workers take specs from a shared list until it is empty or time is up. */
async function load(stores: readonly TianshuStore[], list: readonly DeploymentSpec[], clients: number, maxMs: number): Promise<{ done: number; ms: number; latencies: number[] }> {
  let next = 0;
  const latencies: number[] = [];
  const t0 = performance.now();
  const deadline = t0 + maxMs;
  const worker = async (w: number): Promise<void> => {
    const store = stores[w % stores.length] as TianshuStore;
    while (next < list.length && performance.now() < deadline) {
      const spec = list[next++] as DeploymentSpec;
      const t = performance.now();
      await store.admitDeployment(ACTOR, spec, plan);
      latencies.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: clients }, (_, w) => worker(w)));
  return { done: latencies.length, ms: performance.now() - t0, latencies };
}

function p99(latencies: number[]): number {
  const sorted = [...latencies].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] ?? 0;
}

async function measure(engine: string, mode: string, stores: readonly TianshuStore[], opts: { warm: number; total: number; clients: number; maxMs: number }): Promise<number> {
  await load(stores, specs(opts.warm, 'warm'), opts.clients, 60_000);
  const r = await load(stores, specs(opts.total, 'run'), opts.clients, opts.maxMs);
  const rate = (r.done / r.ms) * 1000;
  console.log(`BENCH store engine=${engine} mode=${mode} placements_per_s=${Math.round(rate)} p99_ms=${p99(r.latencies).toFixed(1)}`);
  return rate;
}

async function sqlite(mode: 'group' | 'single'): Promise<number> {
  // The real disk, not tmpfs: durability is what group commit must not give up.
  const dir = mkdtempSync(join(tmpdir(), 'tianshu-bench-store-'));
  const options: StoreOptions = { mode };
  const store = await openStore(join(dir, 'bench.db'), options);
  try {
    await setup(store);
    return await measure('sqlite', mode, [store], mode === 'group' ? { warm: 3_000, total: 40_000, clients: 512, maxMs: 5_000 } : { warm: 200, total: 5_000, clients: 512, maxMs: 3_000 });
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function postgres(): Promise<void> {
  if (!requireComponents(...POSTGRES_COMPONENTS).available) {
    console.log('# store bench: PostgreSQL not provisioned (npm run rig); skipping engine=postgres');
    return;
  }
  const server = await startPostgres({ database: 'bench' });
  const stores: TianshuStore[] = [];
  try {
    for (let i = 0; i < 2; i++) stores.push(await openStore(server.url, { poolSize: 16 }));
    await setup(stores[0] as TianshuStore);
    await measure('postgres', 'single', stores, { warm: 300, total: 10_000, clients: 32, maxMs: 4_000 });
  } finally {
    for (const s of stores) await s.close();
    await server.stop();
  }
}

/** Runs the store benchmark and prints its BENCH lines. */
export async function run(): Promise<void> {
  const group = await sqlite('group');
  if (process.env.STORE_BENCH_ONLY === 'group') return;
  const single = await sqlite('single');
  console.log(`# store bench: group commit is ${(group / single).toFixed(1)}x the one-transaction-per-request baseline`);
  await postgres();
}
