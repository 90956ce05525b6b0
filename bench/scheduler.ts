/**
 * Scheduler benchmark: decisions per second and latency percentiles of `place` over synthetic
 * fleets of 100, 1,000 and 10,000 clouds (mixed tiers and kinds, three-level localities, about
 * 30% of clouds outside each request's residency, 3 replicas divided), single-threaded, after a
 * warm-up. Prints `BENCH scheduler clouds=… decisions_per_s=… p50_ms=… p99_ms=… cores=1`.
 */
import type { Cloud, ProviderKind } from '../domain/cloud.js';
import { parseDeploymentSpec } from '../domain/deployment.js';
import type { DeploymentSpec, Strategy } from '../domain/deployment.js';
import type { Headroom } from '../domain/tenant.js';
import { Tiers } from '../domain/tiers.js';
import { seededRandom } from '../domain/random.js';
import type { PlacementRequest } from '../scheduler/framework.js';
import { createScheduler } from '../scheduler/scheduler.js';
import { createSnapshot } from '../scheduler/snapshot.js';

const PROVINCES = ['gd', 'bj', 'sh', 'zj', 'js', 'sc', 'hb', 'hn', 'fj', 'sd'];
const CITIES = ['c1', 'c2', 'c3', 'c4', 'c5'];
const TIERS = new Tiers();

/** A synthetic fleet of `n` clouds, deterministic for a given `n`. */
export function benchFleet(n: number): Cloud[] {
  const rnd = seededRandom(`fleet-${n}`);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const clouds: Cloud[] = [];
  for (let i = 0; i < n; i++) {
    const cpu = pick([32_000, 64_000, 128_000, 256_000]);
    const memory = cpu * 4;
    const kind: ProviderKind = rnd() < 0.85 ? 'kubernetes' : rnd() < 0.5 ? 'ec2' : 'simulated';
    const used = rnd() * 0.9;
    clouds.push({
      id: `cloud-${String(i).padStart(5, '0')}`,
      kind,
      locality: `cn/${pick(PROVINCES)}/${pick(CITIES)}`,
      zone: `z${i % 7}`,
      tier: pick(TIERS.scale.levels),
      tierExclusive: rnd() < 0.05,
      attributes: { arch: rnd() < 0.8 ? 'amd64' : 'arm64', xinchuang: rnd() < 0.3, gpuModel: null, labels: { env: rnd() < 0.9 ? 'prod' : 'test' } },
      taints: rnd() < 0.05 ? [{ key: 'dedicated', value: 'ops', effect: 'NoSchedule' }] : [],
      capacity: { cpu, memory, gpu: 0, instances: 200 },
      allocated: { cpu: Math.floor(cpu * used), memory: Math.floor(memory * used * rnd()), gpu: 0, instances: 0 },
      costPerUnit: { cpu: 0.00002 + rnd() * 0.00004, memory: 0.000005, gpu: 1.5, instances: 0.01 },
      condition: rnd() < 0.95 ? 'Ready' : pick(['NotReady', 'Cordoned', 'Draining'] as const),
      connection: {},
      version: 1,
    });
  }
  return clouds;
}

/** A pool of requests: residency over 7 of the 10 provinces (≈30% rejected by residency), 3 replicas each. */
export function benchRequests(count: number): PlacementRequest[] {
  const rnd = seededRandom('requests');
  const strategies: Strategy[] = ['binpack', 'spread', 'cost', 'locality'];
  const residencies = Array.from({ length: 8 }, (_, k) => PROVINCES.filter((_p, i) => (i + k) % 10 < 7).map((p) => `cn/${p}`));
  const headroom: Headroom[] = [
    { tenant: 'gd', total: { cpu: 50_000_000, memory: 200_000_000 }, byTier: { L4: { cpu: 10_000_000 } } },
    { tenant: 'gd/sz', total: { cpu: 20_000_000 }, byTier: {} },
  ];
  const out: PlacementRequest[] = [];
  for (let i = 0; i < count; i++) {
    const residency = residencies[i % residencies.length] ?? [];
    const spec: DeploymentSpec = parseDeploymentSpec(
      {
        tenant: 'gd/sz',
        name: `app-${i}`,
        workload: { kind: 'container', image: 'registry.gov.cn/app:1' },
        replicas: 3,
        resources: { cpu: 250 * (1 + Math.floor(rnd() * 8)), memory: 512 * (1 + Math.floor(rnd() * 8)) },
        minTier: rnd() < 0.5 ? 'L2' : 'L3',
        residency,
        localityPreference: `${residency[0] ?? 'cn'}/c1`,
        spread: { minClouds: i % 3 === 0 ? 2 : 1 },
        strategy: strategies[i % strategies.length],
      },
      TIERS,
    );
    out.push({ spec, headroom, seed: `bench-${i}` });
  }
  return out;
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
}

/** Runs the benchmark and returns its BENCH lines. */
export async function runSchedulerBench(sizes: readonly number[] = [100, 1_000, 10_000]): Promise<string[]> {
  const lines: string[] = [];
  for (const n of sizes) {
    const snap = createSnapshot(benchFleet(n), TIERS);
    const scheduler = createScheduler({ tiers: TIERS });
    const requests = benchRequests(256);
    const warmup = n >= 10_000 ? 2_000 : 20_000;
    let placed = 0;
    for (let i = 0; i < warmup; i++) if (scheduler.place(requests[i % requests.length] as PlacementRequest, snap).ok) placed++;
    const budgetNs = 2_000_000_000n;
    const samples = new Float64Array(1_000_000);
    let count = 0;
    const start = process.hrtime.bigint();
    let now = start;
    while (now - start < budgetNs && count < samples.length) {
      const t0 = now;
      if (scheduler.place(requests[count % requests.length] as PlacementRequest, snap).ok) placed++;
      now = process.hrtime.bigint();
      samples[count++] = Number(now - t0) / 1e6;
    }
    const elapsedS = Number(now - start) / 1e9;
    const sorted = samples.slice(0, count).sort();
    if (placed === 0) throw new Error('bench: no request was placed; the synthetic fleet is wrong');
    lines.push(
      `BENCH scheduler clouds=${n} decisions_per_s=${Math.round(count / elapsedS)} p50_ms=${percentile(sorted, 0.5).toFixed(4)} p99_ms=${percentile(sorted, 0.99).toFixed(4)} cores=1`,
    );
    await new Promise((resolve) => setImmediate(resolve));
  }
  return lines;
}

/** The `npm run bench` entry of this module: prints one BENCH line per fleet size. */
export async function run(): Promise<void> {
  for (const line of await runSchedulerBench()) console.log(line);
}
