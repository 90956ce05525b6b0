/**
 * Dispatch latency of the orchestrator: the time from a committed placement (the store's
 * `admitDeployment` resolving, as the API sees it just before it calls `kick`) to the provider's
 * `apply` call for that deployment's slice. 100 simulated clouds with zero latency, 10,000
 * deployments admitted by 32 concurrent requesters through the real scheduler and the embedded
 * SQLite store (in memory), phases written back as the clouds report Ready.
 * Prints `BENCH orchestrator clouds=… deployments=… dispatch_p50_ms=… dispatch_p99_ms=… …`.
 */
import { performance } from 'node:perf_hooks';
import { cpus } from 'node:os';
import type { Cloud } from '../domain/cloud.js';
import { parseDeploymentSpec } from '../domain/deployment.js';
import { resources } from '../domain/resources.js';
import { Tiers } from '../domain/tiers.js';
import { createOrchestrator } from '../orchestrator/orchestrator.js';
import { SimulatedProvider } from '../providers/simulated/simulated-provider.js';
import { SimulatedConnectionSchema } from '../providers/simulated/connection.js';
import { createScheduler, planner as plannerOf } from '../scheduler/scheduler.js';
import { openStore } from '../store/open.js';
import type { Actor } from '../store/store.js';

const OPERATOR: Actor = { subject: 'bench', role: 'operator', tenant: null };

function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

/** Runs the benchmark and returns its BENCH line. */
export async function runOrchestratorBench(cloudCount = 100, deploymentCount = 10_000, concurrency = 32): Promise<string> {
  const tiers = new Tiers();
  const store = await openStore(':memory:');
  const planner = plannerOf(createScheduler({ tiers }), tiers);
  await store.createTenant(OPERATOR, 'gd', 'Guangdong');
  await store.createTenant(OPERATOR, 'gd/sz', 'Shenzhen');
  const sims = new Map<string, SimulatedProvider>();
  for (let i = 0; i < cloudCount; i++) {
    const id = `cloud-${String(i).padStart(3, '0')}`;
    const capacity = resources({ cpu: 1_000_000, memory: 4_000_000, gpu: 0, instances: 10_000 });
    await store.registerCloud(OPERATOR, {
      id,
      kind: 'simulated',
      locality: `cn/p${i % 10}/c${i % 7}`,
      zone: `z${i % 3}`,
      tier: i % 2 === 0 ? 'L3' : 'L4',
      tierExclusive: false,
      attributes: { arch: 'amd64', xinchuang: false, gpuModel: null, labels: {} },
      taints: [],
      capacity,
      costPerUnit: resources({ cpu: 1 }),
      condition: 'Ready',
      connection: {},
    });
    sims.set(id, new SimulatedProvider(id, SimulatedConnectionSchema.parse({ capacity })));
  }

  const committedAt = new Map<string, number>();
  const latencies: number[] = [];
  const orch = createOrchestrator({
    store,
    planner,
    providerFor: (cloud: Cloud) => {
      const sim = sims.get(cloud.id);
      if (sim === undefined) throw new Error(`no simulated cloud ${cloud.id}`);
      return sim;
    },
    config: { reconcileIntervalMs: 2_000, probeIntervalMs: 1_000, inventoryIntervalMs: 60_000, fullResyncEvery: 1_000 },
    hooks: {
      onApply: (slice) => {
        const t = committedAt.get(slice.deploymentId);
        if (t !== undefined) {
          latencies.push(performance.now() - t);
          committedAt.delete(slice.deploymentId);
        }
      },
    },
  });
  await orch.start();

  let next = 0;
  const began = performance.now();
  const requester = async (): Promise<void> => {
    while (next < deploymentCount) {
      const i = next++;
      const spec = parseDeploymentSpec(
        { tenant: 'gd/sz', name: `app-${i}`, workload: { kind: 'container', image: 'registry.gov.cn/app:1' }, replicas: 2, resources: { cpu: 250, memory: 256 }, minTier: 'L3', strategy: 'spread' },
        tiers,
      );
      const a = await store.admitDeployment(OPERATOR, spec, planner);
      committedAt.set(a.deployment.id, performance.now());
      orch.kick(a.deployment.id);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, requester));
  const admitted = performance.now() - began;
  const until = performance.now() + 120_000;
  while (committedAt.size > 0 && performance.now() < until) await new Promise((r) => setTimeout(r, 20));
  const drained = performance.now() - began;
  await orch.stop();
  await store.close();

  const sorted = [...latencies].sort((a, b) => a - b);
  return (
    `BENCH orchestrator clouds=${cloudCount} deployments=${deploymentCount} dispatched=${latencies.length}` +
    ` dispatch_p50_ms=${percentile(sorted, 0.5).toFixed(2)} dispatch_p99_ms=${percentile(sorted, 0.99).toFixed(2)} dispatch_max_ms=${(sorted[sorted.length - 1] ?? 0).toFixed(2)}` +
    ` admit_s=${(admitted / 1000).toFixed(2)} total_s=${(drained / 1000).toFixed(2)} cores=${cpus().length}`
  );
}

/** The `npm run bench` entry of this module. */
export async function run(): Promise<void> {
  console.log(await runOrchestratorBench());
}
