/**
 * Benchmark of `/metrics` rendering at fleet scale: 1,000 clouds and 2,000 tenants (with overall
 * and per-tier quotas), provider counters for every cloud and a reconcile queue per cloud.
 * Prints one `BENCH metrics …` line with render-time percentiles and the worst event-loop delay
 * seen while rendering.
 *
 * @packageDocumentation
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { CloudCondition } from '../domain/cloud.js';
import type { Limits } from '../domain/tenant.js';
import type { Decision } from '../scheduler/decision.js';
import { createMetrics } from '../observability/metrics.js';
import type { Metrics } from '../observability/metrics.js';
import type { CloudSample, FleetView, OrchestratorView, TenantSample } from '../observability/views.js';

const PROVINCES = ['gd', 'zj', 'js', 'sc', 'bj', 'sh', 'hb', 'hn', 'fj', 'sd', 'ha', 'ln', 'jl', 'hl', 'sx', 'sn'];
const TIERS = ['L1', 'L2', 'L3', 'L4'];
const CONDITIONS: readonly CloudCondition[] = ['Ready', 'Ready', 'Ready', 'Ready', 'Ready', 'Ready', 'Ready', 'NotReady', 'Cordoned', 'Draining'];

/** A deterministic synthetic fleet of `clouds` clouds and `tenants` tenants (three-level tree, quotas on most). */
export function syntheticFleet(clouds: number, tenants: number): FleetView {
  const cs: CloudSample[] = [];
  for (let i = 0; i < clouds; i++) {
    const province = PROVINCES[i % PROVINCES.length] ?? 'gd';
    const cpu = 64_000 + (i % 8) * 32_000;
    cs.push({
      id: `cloud-${String(i).padStart(4, '0')}`,
      kind: i % 3 === 0 ? 'ec2' : i % 3 === 1 ? 'kubernetes' : 'simulated',
      locality: `cn/${province}/c${i % 7}`,
      zone: `z${i % 3}`,
      tier: TIERS[i % TIERS.length] ?? 'L2',
      condition: CONDITIONS[i % CONDITIONS.length] ?? 'Ready',
      capacity: { cpu, memory: cpu * 4, gpu: i % 10 === 0 ? 8 : 0, instances: 200 },
      allocated: { cpu: Math.floor(cpu * ((i % 10) / 10)), memory: cpu * 2, gpu: 0, instances: i % 50 },
    });
  }
  const ts: TenantSample[] = [];
  for (let i = 0; i < tenants; i++) {
    const province = PROVINCES[i % PROVINCES.length] ?? 'gd';
    const depth = i < PROVINCES.length ? 1 : i < 200 ? 2 : 3;
    const path = depth === 1 ? province : depth === 2 ? `${province}/city${i}` : `${province}/city${i % 200}/agency${i}`;
    const cpuLimit = 100_000 + (i % 13) * 10_000;
    const total: Limits = i % 5 === 4 ? {} : { cpu: cpuLimit, memory: cpuLimit * 4 };
    const byTier: Record<string, Limits> = i % 4 === 0 ? { L3: { cpu: cpuLimit / 2 } } : {};
    const used = Math.floor(cpuLimit * ((i % 11) / 10));
    ts.push({
      path,
      quota: { total, byTier },
      usage: { cpu: used, memory: used * 2, gpu: 0, instances: 0 },
      usageByTier: { L2: { cpu: used / 2, memory: used, gpu: 0, instances: 0 }, L3: { cpu: used / 2, memory: used, gpu: 0, instances: 0 } },
    });
  }
  return { clouds: cs, tenants: ts };
}

/** A synthetic orchestrator view for `fleet`: one queue per cloud, a few open breakers, phases. */
export function syntheticOrchestrator(fleet: FleetView): OrchestratorView {
  return {
    leader: true,
    queues: fleet.clouds.map((c, i) => ({ cloud: c.id, depth: i % 5, lagSeconds: (i % 5) * 1.5 })),
    breakers: fleet.clouds.map((c, i) => ({ cloud: c.id, state: i % 50 === 0 ? 'open' : 'closed' })),
    deploymentsByPhase: { Pending: 3, Scheduled: 10, Deploying: 20, Running: 5000, Degraded: 4, Failed: 1, Deleting: 2 },
  };
}

/** A minimal decision value for load generation (scheduled, or rejected by the given reasons). */
export function syntheticDecision(ok: boolean, reasonCounts: Decision['reasonCounts'] = {}): Decision {
  return {
    ok,
    assignments: ok ? [{ cloudId: 'cloud-0000', replicas: 1 }] : [],
    ranked: [],
    rejected: [],
    reasonCounts,
    failure: null,
    summary: ok ? 'placed' : 'unschedulable',
    demand: { cpu: 0, memory: 0, gpu: 0, instances: 0 },
    considered: 1,
  };
}

/** Pushes the event metrics a busy service would have: provider calls on every cloud, decisions, GraphQL requests. */
export function populateEvents(metrics: Metrics, fleet: FleetView): void {
  for (const c of fleet.clouds) {
    for (const op of ['health', 'inventory', 'status']) metrics.recordProviderCall(c.kind, c.id, op, 0.02, null);
    if (c.condition === 'NotReady') metrics.recordProviderCall(c.kind, c.id, 'health', 1, 'UNHEALTHY');
  }
  for (const tier of TIERS) {
    metrics.recordDecision(syntheticDecision(true, { BELOW_TIER: 3, INSUFFICIENT_CPU: 2 }), 0.004, tier);
    metrics.recordDecision(syntheticDecision(false, { QUOTA_EXCEEDED: 10 }), 0.006, tier);
  }
  for (const op of ['clouds', 'tenants', 'deployments', 'requestDeployment', 'previewPlacement', 'fleetSummary']) {
    metrics.recordGraphqlRequest('query', op, 'OK', 0.01);
  }
}

/** Quantile of sorted samples (nearest rank). */
function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN;
}

/** Result of {@link measureRender}. */
export interface RenderMeasurement {
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** CPU time (user + system) of one render, median: the cost independent of machine load. */
  readonly cpuMsP50: number;
  readonly maxLoopDelayMs: number;
  readonly bytes: number;
  readonly series: number;
}

/**
 * Renders `/metrics` `iterations` times over a fleet of the given size, with the source cache
 * disabled so every render recomputes the fleet gauges (the worst case: one scrape per TTL).
 */
export async function measureRender(clouds: number, tenants: number, iterations = 60): Promise<RenderMeasurement> {
  const fleet = syntheticFleet(clouds, tenants);
  const orchestrator = syntheticOrchestrator(fleet);
  const metrics = createMetrics({ sourceTtlMs: 0 });
  // Fresh view objects each time, as a store would hand out, so nothing is memoised across renders.
  metrics.setFleetSource(() => ({ clouds: fleet.clouds, tenants: fleet.tenants }));
  metrics.setOrchestratorSource(() => ({ ...orchestrator }));
  populateEvents(metrics, fleet);
  let text = '';
  for (let i = 0; i < 5; i++) text = await metrics.render();
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  const times: number[] = [];
  const cpu: number[] = [];
  histogram.enable();
  for (let i = 0; i < iterations; i++) {
    const start = performance.now();
    const cpuStart = process.cpuUsage();
    text = await metrics.render();
    const used = process.cpuUsage(cpuStart);
    times.push(performance.now() - start);
    cpu.push((used.user + used.system) / 1000);
  }
  histogram.disable();
  times.sort((a, b) => a - b);
  cpu.sort((a, b) => a - b);
  const series = text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length;
  return {
    p50Ms: quantile(times, 0.5),
    p99Ms: quantile(times, 0.99),
    cpuMsP50: quantile(cpu, 0.5),
    // The monitor reports nanoseconds and includes its own 1 ms sampling resolution.
    maxLoopDelayMs: histogram.max / 1e6,
    bytes: Buffer.byteLength(text),
    series,
  };
}

/** Runs the benchmark and prints its BENCH line. */
export async function run(): Promise<void> {
  const m = await measureRender(1000, 2000);
  console.log(
    `BENCH metrics clouds=1000 tenants=2000 series=${m.series} bytes=${m.bytes} render_ms_p50=${m.p50Ms.toFixed(1)} render_ms_p99=${m.p99Ms.toFixed(1)} render_cpu_ms_p50=${m.cpuMsP50.toFixed(1)} event_loop_max_delay_ms=${m.maxLoopDelayMs.toFixed(1)}`,
  );
}

if (import.meta.url === `file://${process.argv[1] ?? ''}`) await run();
