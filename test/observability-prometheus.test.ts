/**
 * Proof on a real Prometheus: a Tianshu HTTP server (fastify + mercurius + the metrics plugin)
 * with a simulated fleet whose allocations move with real scheduler decisions, under load; a
 * Prometheus on loopback scraping it every 500 ms with the alert rules loaded; then every
 * dashboard panel query and every alert expression evaluated through the HTTP API, and rules the
 * test provokes seen firing. `promtool check rules` and `promtool check metrics` must pass.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import rateLimit from '@fastify/rate-limit';
import fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import mercurius from 'mercurius';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import type { Cloud } from '../domain/cloud.js';
import { TianshuError } from '../domain/errors.js';
import type { Tenant } from '../domain/tenant.js';
import { DASHBOARDS, renderDashboard } from '../observability/dashboards.js';
import { metricsPlugin } from '../observability/fastify-plugin.js';
import { instrumentProvider } from '../observability/instrumented-provider.js';
import { createMetrics } from '../observability/metrics.js';
import type { Metrics } from '../observability/metrics.js';
import { createScheduler, planner } from '../scheduler/scheduler.js';
import { aCloud, aSpec, headroomOf, TEST_TIERS } from './builders.js';
import { describeWithComponents } from './rig/components.js';
import { promtoolPath, startPrometheus } from './rig/prometheus.js';
import type { PrometheusInstance } from './rig/prometheus.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const alertsPath = join(root, 'dashboards', 'alerts.yaml');

interface PromResponse {
  status: string;
  error?: string;
  data: { resultType: string; result: unknown[] };
}

/** The simulated fleet: twelve clouds over three provinces and four tiers, one NotReady, one cordoned. */
function simulatedClouds(): Cloud[] {
  const out: Cloud[] = [];
  const provinces = ['cn/gd/sz', 'cn/zj/hz', 'cn/sc/cd'];
  for (let i = 0; i < 12; i++) {
    const b = aCloud(`cloud-${i}`)
      .kind(i % 2 === 0 ? 'simulated' : 'kubernetes')
      .in(provinces[i % 3] ?? 'cn/gd/sz')
      .zone(`z${i % 2}`)
      .tier(['L1', 'L2', 'L3', 'L4'][i % 4] ?? 'L2')
      .cpu(64_000)
      .memory(262_144)
      .instances(100);
    if (i === 5) b.condition('NotReady');
    if (i === 7) b.condition('Cordoned');
    out.push(b.build());
  }
  return out;
}

function tenant(path: string, limits: { cpu: number; memory: number }, usedCpu: number, byTier: Record<string, { cpu: number }> = {}): Tenant {
  return {
    path,
    displayName: path,
    quota: { total: limits, byTier },
    usage: { cpu: usedCpu, memory: usedCpu * 2, gpu: 0, instances: 0 },
    usageByTier: { L2: { cpu: usedCpu, memory: usedCpu * 2, gpu: 0, instances: 0 } },
    version: 1,
  };
}

/** A tiny Tianshu-shaped service: GraphQL that plans with the real scheduler, and the metrics plugin. */
class Service {
  readonly metrics: Metrics = createMetrics({ sourceTtlMs: 200 });
  clouds: Cloud[] = simulatedClouds();
  tenants: Tenant[] = [
    tenant('gd', { cpu: 400_000, memory: 1_600_000 }, 100_000),
    tenant('gd/sz', { cpu: 100_000, memory: 400_000 }, 95_000, { L2: { cpu: 200_000 } }),
    tenant('zj', { cpu: 50_000, memory: 200_000 }, 10_000),
  ];
  private readonly plan = planner(createScheduler({ tiers: TEST_TIERS }), TEST_TIERS);
  private seq = 0;
  app: FastifyInstance | null = null;
  url = '';

  /** Plans one request with the real scheduler, records it, and applies the allocation. */
  decide(tenantPath: string, tierName: string, replicas: number, cpu: number, preview = false): boolean {
    const spec = aSpec().tenant(tenantPath).name(`d${this.seq++}`).replicas(replicas).cpu(cpu).tier(tierName).build();
    const limit = tenantPath === 'zj' ? { cpu: 600 } : { cpu: 10_000_000 };
    const start = performance.now();
    const decision = this.plan(spec, { clouds: this.clouds, headroom: [headroomOf(tenantPath, limit)] }, []);
    this.metrics.recordDecision(decision, (performance.now() - start) / 1000, spec.minTier, { preview });
    if (decision.ok && !preview) {
      this.clouds = this.clouds.map((c) => {
        const slice = decision.assignments.find((a) => a.cloudId === c.id);
        return slice === undefined ? c : { ...c, allocated: { ...c.allocated, cpu: c.allocated.cpu + slice.replicas * cpu } };
      });
    }
    return decision.ok;
  }

  async start(): Promise<void> {
    const app = fastify();
    await app.register(rateLimit, { global: false });
    await app.register(mercurius, {
      schema: `type Query { clouds: [String!]!, previewPlacement(tier: String!): Boolean! }
               type Mutation { requestDeployment(tenant: String!, tier: String!, replicas: Int!): Boolean! }`,
      resolvers: {
        Query: {
          clouds: () => this.clouds.map((c) => c.id),
          previewPlacement: (_: unknown, a: { tier: string }) => this.decide('gd', a.tier, 2, 1000, true),
        },
        Mutation: {
          requestDeployment: (_: unknown, a: { tenant: string; tier: string; replicas: number }) => {
            if (!this.decide(a.tenant, a.tier, a.replicas, 500)) throw new mercurius.ErrorWithProps('unschedulable', { code: 'UNSCHEDULABLE' });
            return true;
          },
        },
      },
    });
    await app.register(metricsPlugin, { metrics: this.metrics });
    app.get('/limited', { config: { rateLimit: { max: 2, timeWindow: 60_000 } } }, () => ({ ok: true }));
    this.metrics.setFleetSource(() => ({ clouds: this.clouds, tenants: this.tenants }));
    this.metrics.setOrchestratorSource(() => ({
      leader: true,
      queues: this.clouds.map((c, i) => ({ cloud: c.id, depth: i % 3, lagSeconds: i === 5 ? 42 : 0 })),
      breakers: this.clouds.map((c) => ({ cloud: c.id, state: c.condition === 'NotReady' ? 'open' : 'closed' })),
      deploymentsByPhase: { Running: this.seq, Degraded: 1 },
    }));
    this.metrics.recordAuditVerification({ ok: false, checked: 100 });
    this.metrics.recordFailover('cloud-5', 'replaced');
    this.metrics.recordDrain('cloud-7', 'replaced');
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    this.app = app;
    this.url = address;
  }

  /** One round of load: GraphQL requests (some refused for quota or tier), previews, provider calls, 429s. */
  async load(): Promise<void> {
    const gql = (query: string): Promise<Response> =>
      fetch(`${this.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) });
    const providers = this.clouds.map((c) =>
      instrumentProvider(
        {
          kind: c.kind,
          cloudId: c.id,
          health: async () => {
            await Promise.resolve();
            return { ok: c.condition !== 'NotReady', detail: '' };
          },
          status: async () => {
            await new Promise((r) => setTimeout(r, 2));
            if (c.id === 'cloud-5') throw new TianshuError('UNAVAILABLE', 'unreachable');
            return null;
          },
        },
        this.metrics,
      ),
    );
    const calls: Promise<unknown>[] = [];
    for (const p of providers) calls.push(p.health(), p.status().catch(() => null));
    for (const tierName of ['L1', 'L2', 'L3', 'L4']) {
      calls.push(gql(`mutation { requestDeployment(tenant: "gd", tier: "${tierName}", replicas: 2) }`).then((r) => r.arrayBuffer()));
      calls.push(gql(`mutation { requestDeployment(tenant: "zj", tier: "${tierName}", replicas: 2) }`).then((r) => r.arrayBuffer()));
    }
    calls.push(gql('{ clouds }').then((r) => r.arrayBuffer()));
    calls.push(gql('{ previewPlacement(tier: "L3") }').then((r) => r.arrayBuffer()));
    calls.push(fetch(`${this.url}/limited`).then((r) => r.arrayBuffer()));
    await Promise.all(calls);
  }
}

async function query(prom: PrometheusInstance, expr: string): Promise<PromResponse> {
  const res = await fetch(`${prom.url}/api/v1/query?query=${encodeURIComponent(expr)}`);
  return (await res.json()) as PromResponse;
}

/** Substitutes Grafana's variables the way Grafana would with "All" selected. */
function grafanaExpr(expr: string): string {
  return expr.replaceAll('$__rate_interval', '5s').replace(/\$(tier|province|tenant)\b/g, '.*');
}

describeWithComponents(['prometheus', 'promtool'], 'metrics, dashboards and alerts on a real Prometheus', () => {
  const service = new Service();
  let prom: PrometheusInstance;
  let loadTimer: NodeJS.Timeout | undefined;
  let tmp = '';

  beforeAll(async () => {
    await service.start();
    await service.load();
    // A copy of the rules with every `for` at 0 s, so a provoked condition fires within a scrape.
    tmp = mkdtempSync(join(tmpdir(), 'tianshu-alerts-'));
    const rules = parse(readFileSync(alertsPath, 'utf8')) as { groups: { name: string; rules: { for?: string }[] }[] };
    for (const g of rules.groups) {
      g.name = `${g.name}.now`;
      for (const r of g.rules) r.for = '0s';
    }
    const fastRules = join(tmp, 'alerts-now.yaml');
    writeFileSync(fastRules, stringify(rules));
    prom = await startPrometheus({ scrapeTargets: [service.url.replace('http://', '')], scrapeIntervalMs: 500, ruleFiles: [alertsPath, fastRules] });
    let busy = false;
    loadTimer = setInterval(() => {
      if (busy) return;
      busy = true;
      void service.load().finally(() => {
        busy = false;
      });
    }, 250);
    // Wait until several scrapes have landed, so rate() windows hold at least two samples.
    const deadline = Date.now() + 60_000;
    for (;;) {
      const r = await query(prom, 'count_over_time(up{job="target0"}[1m])');
      const n = Number((r.data.result[0] as { value?: [number, string] } | undefined)?.value?.[1] ?? 0);
      if (n >= 8) break;
      if (Date.now() > deadline) throw new Error(`Prometheus did not scrape Tianshu: ${JSON.stringify(r)}`);
      await new Promise((res) => setTimeout(res, 250));
    }
  }, 120_000);

  afterAll(async () => {
    if (loadTimer !== undefined) clearInterval(loadTimer);
    await prom?.stop();
    await service.app?.close();
    if (tmp !== '') rmSync(tmp, { recursive: true, force: true });
  });

  it('scrapes Tianshu successfully', async () => {
    const r = await query(prom, 'up{job="target0"}');
    expect(r.data.result).toHaveLength(1);
    expect((r.data.result[0] as { value: [number, string] }).value[1]).toBe('1');
  });

  const panels = Object.entries(DASHBOARDS).flatMap(([file, spec]) =>
    ((renderDashboard(spec).panels as { type: string; title: string; targets?: { expr: string }[] }[]) ?? [])
      .filter((p) => p.type !== 'row')
      .flatMap((p) => (p.targets ?? []).map((t) => ({ file, title: p.title, expr: t.expr }))),
  );

  it.each(panels)('$file / $title returns data: $expr', async ({ expr }) => {
    const r = await query(prom, grafanaExpr(expr));
    expect(r.status, r.error).toBe('success');
    expect(r.data.result.length, `no data for ${expr}`).toBeGreaterThan(0);
  });

  const alertRules = (parse(readFileSync(alertsPath, 'utf8')) as { groups: { rules: { alert: string; expr: string }[] }[] }).groups.flatMap((g) => g.rules);

  it.each(alertRules)('alert $alert evaluates without error', async ({ expr }) => {
    const r = await query(prom, expr);
    expect(r.status, r.error).toBe('success');
  });

  it('fires the rules the test provokes: NotReady cloud, tenant over 90% of quota, broken audit chain', async () => {
    const deadline = Date.now() + 30_000;
    const wanted = ['TianshuCloudNotReady', 'TianshuTenantQuotaNearlyExhausted', 'TianshuAuditChainBroken'];
    let firing: { labels: Record<string, string>; state: string }[] = [];
    for (;;) {
      const res = await fetch(`${prom.url}/api/v1/alerts`);
      const body = (await res.json()) as { data: { alerts: { labels: Record<string, string>; state: string }[] } };
      firing = body.data.alerts.filter((a) => a.state === 'firing');
      if (wanted.every((w) => firing.some((a) => a.labels.alertname === w))) break;
      if (Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const names = new Set(firing.map((a) => a.labels.alertname));
    for (const w of wanted) expect(names, `firing: ${[...names].join(', ')}`).toContain(w);
    expect(firing.find((a) => a.labels.alertname === 'TianshuCloudNotReady')?.labels).toMatchObject({ cloud: 'cloud-5', severity: 'warning' });
    expect(firing.find((a) => a.labels.alertname === 'TianshuTenantQuotaNearlyExhausted')?.labels).toMatchObject({ tenant: 'gd/sz', tier: 'all', resource: 'cpu' });
    // Healthy conditions stay quiet.
    expect(names.has('TianshuNoLeader')).toBe(false);
  });

  it('passes promtool check rules and promtool check metrics', async () => {
    const rules = spawnSync(promtoolPath(), ['check', 'rules', alertsPath], { encoding: 'utf8' });
    expect(rules.status, rules.stdout + rules.stderr).toBe(0);
    const scrape = await (await fetch(`${service.url}/metrics`)).text();
    const lint = spawnSync(promtoolPath(), ['check', 'metrics'], { input: scrape, encoding: 'utf8' });
    expect(lint.status, lint.stdout + lint.stderr).toBe(0);
  });
});
