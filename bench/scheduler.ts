/**
 * Scheduler benchmark: decisions per second and latency percentiles of `place` over synthetic
 * fleets of 100, 1,000 and 10,000 clouds (mixed tiers and kinds, three-level localities, about
 * 30% of clouds outside each request's residency, 3 replicas divided), single-threaded, after a
 * warm-up. Prints `BENCH scheduler clouds=… decisions_per_s=… p50_ms=… p99_ms=… cores=1`; then
 * `BENCH scheduler-stored fleet=… clouds=… per_s=…` for the decision plus the stored explanation
 * an admission writes, on the varied fleet and on one of identical clouds; then
 * `BENCH scheduler-committed clouds=… per_s=…` for decisions each made on the snapshot the
 * previous ones' allocations left.
 */
import type { Cloud, ProviderKind } from '../domain/cloud.js';
import { parseDeploymentSpec } from '../domain/deployment.js';
import type { DeploymentSpec, Strategy } from '../domain/deployment.js';
import type { Headroom } from '../domain/tenant.js';
import { Tiers } from '../domain/tiers.js';
import { seededRandom } from '../domain/random.js';
import type { Decision } from '../scheduler/decision.js';
import type { PlacementRequest } from '../scheduler/framework.js';
import { createScheduler, EngineDecision } from '../scheduler/scheduler.js';
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

interface Timing {
  readonly perSecond: number;
  readonly p50: number;
  readonly p99: number;
}

/** Runs `op(i)` `warmup` times, then for `budgetMs` (at most a million times), timing each run. */
function measure(op: (i: number) => void, warmup: number, budgetMs: number): Timing {
  for (let i = 0; i < warmup; i++) op(i);
  const budgetNs = BigInt(budgetMs) * 1_000_000n;
  const samples = new Float64Array(1_000_000);
  let count = 0;
  const start = process.hrtime.bigint();
  let now = start;
  while (now - start < budgetNs && count < samples.length) {
    const t0 = now;
    op(count);
    now = process.hrtime.bigint();
    samples[count++] = Number(now - t0) / 1e6;
  }
  const elapsedS = Number(now - start) / 1e9;
  const sorted = samples.slice(0, count).sort();
  return { perSecond: Math.round(count / elapsedS), p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99) };
}

/** A fresh scheduler over `clouds`, placing the `i`-th request of the bench's pool (cycling through it). */
function benchPlacer(clouds: Cloud[]): (i: number) => Decision {
  const snap = createSnapshot(clouds, TIERS);
  const scheduler = createScheduler({ tiers: TIERS });
  const requests = benchRequests(256);
  return (i) => scheduler.place(requests[i % requests.length] as PlacementRequest, snap);
}

/** Runs the benchmark and returns its BENCH lines. */
export async function runSchedulerBench(sizes: readonly number[] = [100, 1_000, 10_000]): Promise<string[]> {
  const lines: string[] = [];
  for (const n of sizes) {
    const place = benchPlacer(benchFleet(n));
    let placed = 0;
    const t = measure(
      (i) => {
        if (place(i).ok) placed++;
      },
      n >= 10_000 ? 2_000 : 20_000,
      2_000,
    );
    if (placed === 0) throw new Error('bench: no request was placed; the synthetic fleet is wrong');
    lines.push(`BENCH scheduler clouds=${n} decisions_per_s=${t.perSecond} p50_ms=${t.p50.toFixed(4)} p99_ms=${t.p99.toFixed(4)} cores=1`);
    await new Promise((resolve) => setImmediate(resolve));
  }
  return lines;
}

/** `n` clouds alike in everything the scorers read: one kind of cluster registered `n` times. */
function identicalFleet(n: number): Cloud[] {
  const one = benchFleet(1)[0] as Cloud;
  const kind: Cloud = { ...one, kind: 'kubernetes', tier: 'L3', tierExclusive: false, taints: [], condition: 'Ready', locality: 'cn/gd/c1' };
  return Array.from({ length: n }, (_, i) => ({ ...kind, id: `cloud-${String(i).padStart(5, '0')}`, zone: `z${i % 7}` }));
}

/**
 * What every admission computes: the decision and its stored explanation (the best eight with
 * their score breakdown, examples per reason), serialised as the store writes it; on the bench's
 * varied fleet and on a fleet of identical clouds, where every cloud ties with every other.
 */
export async function runStoredExplanationBench(sizes: readonly number[] = [1_000, 10_000]): Promise<string[]> {
  const lines: string[] = [];
  for (const [fleet, make] of [
    ['varied', benchFleet],
    ['identical', identicalFleet],
  ] as const) {
    for (const n of sizes) {
      const place = benchPlacer(make(n));
      let bytes = 0;
      const admit = (i: number): void => {
        const d = place(i);
        if (!(d instanceof EngineDecision)) throw new Error('bench: the engine returns an EngineDecision');
        bytes += JSON.stringify(d.toStored()).length;
      };
      const t = measure(admit, n >= 10_000 ? 200 : 2_000, 1_000);
      if (bytes === 0) throw new Error('bench: nothing was stored');
      lines.push(`BENCH scheduler-stored fleet=${fleet} clouds=${n} per_s=${t.perSecond} p50_ms=${t.p50.toFixed(4)} p99_ms=${t.p99.toFixed(4)} cores=1`);
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  return lines;
}

/** How many decisions' allocations {@link runCommittedBench} keeps before releasing the oldest. */
const COMMITTED_WINDOW = 64;

/**
 * Decisions as admissions make them, each on the snapshot the previous ones left: every
 * assignment is applied with `withAllocation`, and the allocations of the decision made
 * {@link COMMITTED_WINDOW} decisions earlier are released, so the fleet stays as full as it
 * started. Measures the decision with its candidate index following the allocations, plus the
 * snapshot updates themselves (which copy the free-capacity column: O(clouds) each).
 */
export async function runCommittedBench(sizes: readonly number[] = [1_000, 10_000]): Promise<string[]> {
  const lines: string[] = [];
  for (const n of sizes) {
    let snap = createSnapshot(benchFleet(n), TIERS);
    const scheduler = createScheduler({ tiers: TIERS });
    const requests = benchRequests(256);
    const made: { readonly cloudId: string; readonly delta: Readonly<Record<'cpu' | 'memory', number>> }[][] = [];
    const apply = (cloudId: string, cpu: number, memory: number): void => {
      const cloud = snap.cloud(cloudId);
      if (cloud === undefined) throw new Error(`bench: no cloud ${cloudId}`);
      snap = snap.withAllocation(cloudId, { ...cloud.allocated, cpu: cloud.allocated.cpu + cpu, memory: cloud.allocated.memory + memory });
    };
    let placed = 0;
    const admit = (i: number): void => {
      const req = requests[i % requests.length] as PlacementRequest;
      const d = scheduler.place(req, snap);
      const mine = d.assignments.map((a) => ({ cloudId: a.cloudId, delta: { cpu: a.replicas * req.spec.resources.cpu, memory: a.replicas * req.spec.resources.memory } }));
      if (d.ok) placed++;
      for (const a of mine) apply(a.cloudId, a.delta.cpu, a.delta.memory);
      made.push(mine);
      if (made.length > COMMITTED_WINDOW) for (const a of made.shift() ?? []) apply(a.cloudId, -a.delta.cpu, -a.delta.memory);
    };
    const t = measure(admit, n >= 10_000 ? 2_000 : 20_000, 2_000);
    if (placed === 0) throw new Error('bench: no request was placed; the synthetic fleet is wrong');
    lines.push(`BENCH scheduler-committed clouds=${n} per_s=${t.perSecond} p50_ms=${t.p50.toFixed(4)} p99_ms=${t.p99.toFixed(4)} cores=1`);
    await new Promise((resolve) => setImmediate(resolve));
  }
  return lines;
}

/** The `npm run bench` entry of this module: one BENCH line per fleet size, then the stored-explanation and committed lines. */
export async function run(): Promise<void> {
  for (const line of await runSchedulerBench()) console.log(line);
  for (const line of await runStoredExplanationBench()) console.log(line);
  for (const line of await runCommittedBench()) console.log(line);
}
