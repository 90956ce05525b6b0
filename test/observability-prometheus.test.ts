/**
 * Proof on a real Prometheus, against the real service: `startService` with the simulated demo
 * fleet (plus a cloud in outage), fast orchestrator loops and a small rate limit; real load through
 * GraphQL (admissions, refusals for quota and for tier, previews, a scale, a delete, a cordon, a
 * drain, a failover off a cloud that goes down, rate-limited requests); a Prometheus on loopback
 * scraping it every 500 ms with the alert rules loaded; then every dashboard panel query and every
 * alert expression evaluated through Prometheus' HTTP API, and the rules the test provokes seen
 * firing. `promtool check rules` and `promtool check metrics` (on the service's own scrape) pass.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { startService } from '../bin/service.js';
import type { Running } from '../bin/service.js';
import { loadConfig } from '../config/load.js';
import { DASHBOARDS, renderDashboard } from '../observability/dashboards.js';
import { describeWithComponents } from './rig/components.js';
import { promtoolPath, startPrometheus } from './rig/prometheus.js';
import type { PrometheusInstance } from './rig/prometheus.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const alertsPath = join(root, 'dashboards', 'alerts.yaml');

/** Requests per minute per principal; the operator's load stays below it, the SRE's burst goes over. */
const RATE_PER_MINUTE = 100;

/**
 * Panel queries allowed to return no data against the real service, each with why, asserted to be
 * exactly these (a query here that gains data fails the test, so the entry gets dropped). Every
 * condition a panel needs (a NotReady cloud, a failover, a drain, a quota refusal, a 429, …) is
 * provoked below; what remains is a gap in the service, not in the test.
 */
/** Panel queries allowed to return no data in this run, with why; none today. */
const KNOWN_EMPTY: Readonly<Record<string, string>> = {};

interface PromResponse {
  status: string;
  error?: string;
  data: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
}

interface GqlResult {
  data: Record<string, unknown> | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

async function query(prom: PrometheusInstance, expr: string): Promise<PromResponse> {
  const res = await fetch(`${prom.url}/api/v1/query?query=${encodeURIComponent(expr)}`);
  return (await res.json()) as PromResponse;
}

/** Substitutes Grafana's variables the way Grafana would with "All" selected. */
function grafanaExpr(expr: string): string {
  return expr.replaceAll('$__rate_interval', '5s').replace(/\$(tier|province|tenant)\b/g, '.*');
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A deployment spec on the demo fleet (tiers L2–L4 under the default MLPS scale). */
function spec(tenant: string, name: string, o: { replicas?: number; cpu?: number; memory?: number; minTier?: string; residency?: string[] } = {}): Record<string, unknown> {
  return {
    tenant,
    name,
    workload: { kind: 'container', image: `registry.example/${name}:1` },
    replicas: o.replicas ?? 2,
    resources: { cpu: o.cpu ?? 500, memory: o.memory ?? 1024 },
    minTier: o.minTier ?? 'L3',
    ...(o.residency === undefined ? {} : { residency: o.residency }),
  };
}

describeWithComponents(['prometheus', 'promtool'], 'the real service on a real Prometheus: every panel and alert', () => {
  let svc: Running;
  let prom: PrometheusInstance;
  let tmp = '';
  const tokens: Record<string, string> = {};
  const lines: string[] = [];

  async function gql(who: 'operator' | 'sre', q: string, variables: Record<string, unknown> = {}): Promise<GqlResult & { status: number }> {
    const res = await fetch(`${svc.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[who] ?? ''}` },
      body: JSON.stringify({ query: q, variables }),
    });
    return { ...((await res.json()) as GqlResult), status: res.status };
  }

  const REQUEST = 'mutation($s: DeploymentSpecInput!) { requestDeployment(spec: $s) { deployment { id phase slices { cloudId replicas } } } }';
  type Admitted = { id: string; slices: { cloudId: string; replicas: number }[] };
  async function admit(s: Record<string, unknown>): Promise<Admitted> {
    const r = await gql('operator', REQUEST, { s });
    expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
    return (r.data?.requestDeployment as { deployment: Admitted }).deployment;
  }
  async function refused(s: Record<string, unknown>): Promise<string | undefined> {
    const r = await gql('operator', REQUEST, { s });
    return r.errors?.[0]?.extensions?.code;
  }

  async function scrape(): Promise<string> {
    return (await fetch(`${svc.url}/metrics`)).text();
  }

  /** Real load through the API; returns once the orchestrator has acted on all of it. */
  async function drive(): Promise<void> {
    // Admissions that succeed, across tenants; gd/sz/health is taken above 90% of its CPU quota (74 of 80 cores).
    const web = await admit({ ...spec('gd/sz', 'web', { replicas: 3, residency: ['cn/gd'] }), spread: { minClouds: 2 } });
    const api = await admit(spec('zj/hz', 'api', { minTier: 'L2', residency: ['cn/zj'] }));
    const portal = await admit(spec('bj', 'portal', { residency: ['cn/bj'] }));
    await admit(spec('gd/sz/health', 'records', { replicas: 2, cpu: 37_000, residency: ['cn/gd'] }));
    // Refused for quota (the tenant's own, then a per-tier limit: gd may use 48 cores at L4) and for tier.
    expect(await refused(spec('gd/sz/health', 'too-big', { replicas: 1, cpu: 10_000 }))).toBe('QUOTA_EXCEEDED');
    expect(await refused(spec('gd', 'vault', { replicas: 2, cpu: 30_000, minTier: 'L4', residency: ['cn/bj'] }))).toBe('QUOTA_EXCEEDED');
    expect(await refused(spec('zj', 'secret', { minTier: 'L4', residency: ['cn/zj'] }))).toBe('UNSCHEDULABLE');
    // Previews, one that fits and one that does not.
    for (const s of [spec('gd/sz', 'what-if'), spec('zj', 'what-if-l4', { minTier: 'L4', residency: ['cn/zj'] })]) {
      const r = await gql('operator', 'query($s: DeploymentSpecInput!) { previewPlacement(spec: $s) { explanation { ok } } }', { s });
      expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
    }
    // Scale, delete, cordon.
    const scaled = await gql('operator', 'mutation($id: ID!) { scaleDeployment(id: $id, replicas: 4) { deployment { replicas } } }', { id: web.id });
    expect(scaled.errors, JSON.stringify(scaled.errors)).toBeUndefined();
    const deleted = await gql('operator', 'mutation($id: ID!) { deleteDeployment(id: $id) { phase } }', { id: api.id });
    expect(deleted.errors, JSON.stringify(deleted.errors)).toBeUndefined();
    const cordoned = await gql('operator', 'mutation { cordonCloud(id: "zj-hz-k8s-b", reason: "maintenance") { condition } }');
    expect(cordoned.errors, JSON.stringify(cordoned.errors)).toBeUndefined();
    // Drain the cloud the portal landed on: the orchestrator moves it (tianshu_drains_total).
    const drained = portal.slices[0]?.cloudId ?? '';
    const drain = await gql('operator', 'mutation($id: ID!) { drainCloud(id: $id, reason: "decommission") { condition } }', { id: drained });
    expect(drain.errors, JSON.stringify(drain.errors)).toBeUndefined();
    // A cloud that is down from the start, registered through the API and used at once (it is Ready
    // until its health probes fail): it goes NotReady and its deployment fails over.
    const registered = await gql('operator', 'mutation($c: RegisterCloudInput!) { registerCloud(input: $c) { id condition } }', {
      c: { id: 'qh-xn-lost', kind: 'simulated', locality: 'cn/qh/xn', zone: 'xn-a', tier: 'L3', capacity: { cpu: 32_000, memory: 131_072 }, connection: { outage: true } },
    });
    expect(registered.errors, JSON.stringify(registered.errors)).toBeUndefined();
    const relay = await admit(spec('bj', 'relay', { replicas: 1, residency: ['cn/qh'] }));
    expect(relay.slices).toEqual([{ cloudId: 'qh-xn-lost', replicas: 1 }]);
    // Rate limiting: a second principal bursts past its per-minute budget.
    const burst = await Promise.all(Array.from({ length: RATE_PER_MINUTE + 10 }, () => gql('sre', '{ viewer { subject } }')));
    expect(burst.filter((r) => r.status === 429).length).toBeGreaterThan(0);

    // Wait until the orchestrator has acted: the drain, the failover, the NotReady clouds, the phases.
    const wanted: [string, RegExp][] = [
      ['drain', new RegExp(`^tianshu_drains_total\\{cloud="${drained}",[^}]*\\} [1-9]`, 'm')],
      ['failover', /^tianshu_failovers_total\{cloud="qh-xn-lost",[^}]*\} [1-9]/m],
      ['NotReady from config', /^tianshu_cloud_condition\{cloud="xz-ls-down",condition="NotReady"\} 1$/m],
      ['Running deployments', /^tianshu_deployments\{phase="Running"\} [1-9]/m],
      ['provider errors', /^tianshu_provider_errors_total\{[^}]*cloud="xz-ls-down"[^}]*\} [1-9]/m],
    ];
    const deadline = Date.now() + 30_000;
    for (;;) {
      const text = await scrape();
      const missing = wanted.filter(([, re]) => !re.test(text)).map(([what]) => what);
      if (missing.length === 0) return;
      if (Date.now() > deadline) throw new Error(`the service did not show: ${missing.join(', ')}\n${lines.slice(-20).join('\n')}`);
      await sleep(200);
    }
  }

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'tianshu-prom-'));
    const cfg = join(tmp, 'tianshu.yaml');
    writeFileSync(
      cfg,
      stringify({
        listen: { host: '127.0.0.1', port: 0 },
        dataDir: join(tmp, 'data'),
        limits: { ratePerMinute: RATE_PER_MINUTE },
        // Fast loops: NotReady after two failed probes 200 ms apart, failover 300 ms later.
        orchestrator: { reconcileIntervalMs: 200, probeIntervalMs: 200, probeFailuresToNotReady: 2, failoverGraceMs: 300, drainRatePerSecond: 100, leaseIntervalMs: 500, backoff: { baseMs: 50, maxMs: 1000 } },
        // Besides the demo fleet: a cloud whose connection is down from the start.
        clouds: [{ id: 'xz-ls-down', kind: 'simulated', locality: 'cn/xz/ls', zone: 'ls-a', tier: 'L3', capacity: { cpu: 64_000, memory: 262_144 }, connection: { outage: true } }],
      }),
    );
    svc = await startService(loadConfig({ path: cfg, env: {} }), {
      cwd: tmp,
      log: (l) => {
        lines.push(l);
        if (process.env.E2E_DEBUG) console.log(l);
      },
    });
    const printed = lines.join('\n');
    for (const role of ['operator', 'sre'] as const) tokens[role] = new RegExp(`token ${role}:\\n {2}Bearer (\\S+)`).exec(printed)?.[1] ?? '';
    await drive();

    // A copy of the rules with every `for` at 0 s, so a provoked condition fires within a scrape.
    const rules = parse(readFileSync(alertsPath, 'utf8')) as { groups: { name: string; rules: { for?: string }[] }[] };
    for (const g of rules.groups) {
      g.name = `${g.name}.now`;
      for (const r of g.rules) r.for = '0s';
    }
    const fastRules = join(tmp, 'alerts-now.yaml');
    writeFileSync(fastRules, stringify(rules));
    prom = await startPrometheus({ scrapeTargets: [svc.url.replace('http://', '')], scrapeIntervalMs: 500, ruleFiles: [alertsPath, fastRules] });
    // Wait until several scrapes have landed, so rate() windows hold at least two samples.
    const deadline = Date.now() + 60_000;
    for (;;) {
      const r = await query(prom, 'count_over_time(up{job="target0"}[1m])');
      const n = Number(r.data.result[0]?.value[1] ?? 0);
      if (n >= 8) break;
      if (Date.now() > deadline) throw new Error(`Prometheus did not scrape Tianshu: ${JSON.stringify(r)}`);
      await sleep(250);
    }
  }, 120_000);

  afterAll(async () => {
    await prom?.stop();
    await svc?.close();
    if (tmp !== '') rmSync(tmp, { recursive: true, force: true });
  });

  it('scrapes the service successfully', async () => {
    const r = await query(prom, 'up{job="target0"}');
    expect(r.data.result).toHaveLength(1);
    expect(r.data.result[0]?.value[1]).toBe('1');
  });

  it('saw the provoked load through Prometheus', async () => {
    for (const expr of [
      'sum(tianshu_scheduling_decisions_total{result="scheduled"})',
      'sum(tianshu_scheduling_unschedulable_total{reason="QUOTA_EXCEEDED"})',
      'sum(tianshu_scheduling_unschedulable_total{reason!="QUOTA_EXCEEDED"})',
      'sum(tianshu_failovers_total{cloud="qh-xn-lost"})',
      'sum(tianshu_drains_total)',
      'sum(tianshu_http_rate_limited_requests_total)',
      'sum(tianshu_graphql_request_duration_seconds_count{operation="scaleDeployment",code="OK"})',
      'sum(tianshu_graphql_request_duration_seconds_count{operation="requestDeployment",code="QUOTA_EXCEEDED"})',
      'sum(tianshu_clouds{condition="Cordoned"})',
      'sum(tianshu_deployments{phase="Running"})',
      'tianshu_orchestrator_leader',
    ]) {
      const r = await query(prom, expr);
      expect(r.status, r.error).toBe('success');
      expect(Number(r.data.result[0]?.value[1] ?? 0), expr).toBeGreaterThan(0);
    }
  });

  const panels = Object.entries(DASHBOARDS).flatMap(([file, spec]) =>
    ((renderDashboard(spec).panels as { type: string; title: string; targets?: { expr: string }[] }[]) ?? [])
      .filter((p) => p.type !== 'row')
      .flatMap((p) => (p.targets ?? []).map((t) => ({ file, title: p.title, expr: t.expr }))),
  );

  it('has panels to check, and every known-empty query belongs to a panel', () => {
    expect(panels.length).toBeGreaterThan(30);
    for (const expr of Object.keys(KNOWN_EMPTY)) expect(panels.map((p) => p.expr)).toContain(expr);
  });

  it.each(panels)('$file / $title returns data: $expr', async ({ expr }) => {
    const r = await query(prom, grafanaExpr(expr));
    expect(r.status, r.error).toBe('success');
    const gap = KNOWN_EMPTY[expr];
    if (gap !== undefined) expect(r.data.result, `now has data, drop it from KNOWN_EMPTY (${gap})`).toHaveLength(0);
    else expect(r.data.result.length, `no data for ${expr}`).toBeGreaterThan(0);
  });

  const alertRules = (parse(readFileSync(alertsPath, 'utf8')) as { groups: { rules: { alert: string; expr: string }[] }[] }).groups.flatMap((g) => g.rules);

  it.each(alertRules)('alert $alert evaluates without error', async ({ expr }) => {
    const r = await query(prom, expr);
    expect(r.status, r.error).toBe('success');
  });

  it('fires the rules the real load provokes: NotReady clouds, a tenant over 90% of quota, a failing provider', async () => {
    const wanted = ['TianshuCloudNotReady', 'TianshuTenantQuotaNearlyExhausted', 'TianshuProviderErrorRatioHigh'];
    type Alert = { labels: Record<string, string>; state: string };
    let firing: Alert[] = [];
    const deadline = Date.now() + 30_000;
    for (;;) {
      const body = (await (await fetch(`${prom.url}/api/v1/alerts`)).json()) as { data: { alerts: Alert[] } };
      firing = body.data.alerts.filter((a) => a.state === 'firing');
      if (wanted.every((w) => firing.some((a) => a.labels.alertname === w)) || Date.now() > deadline) break;
      await sleep(500);
    }
    const names = new Set(firing.map((a) => a.labels.alertname));
    for (const w of wanted) expect(names, `firing: ${[...names].join(', ')}`).toContain(w);
    const notReady = firing.filter((a) => a.labels.alertname === 'TianshuCloudNotReady').map((a) => a.labels.cloud);
    expect(new Set(notReady)).toEqual(new Set(['xz-ls-down', 'qh-xn-lost']));
    expect(firing.find((a) => a.labels.alertname === 'TianshuTenantQuotaNearlyExhausted')?.labels).toMatchObject({ tenant: 'gd/sz/health', tier: 'all', resource: 'cpu', severity: 'warning' });
    expect(firing.filter((a) => a.labels.alertname === 'TianshuProviderErrorRatioHigh').map((a) => a.labels.cloud)).toContain('xz-ls-down');
    // Healthy conditions stay quiet: one leader, a valid audit chain, verified just now.
    for (const quiet of ['TianshuNoLeader', 'TianshuMultipleLeaders', 'TianshuAuditChainBroken', 'TianshuAuditVerificationStale']) expect(names.has(quiet), quiet).toBe(false);
  });

  it('passes promtool check rules, and promtool check metrics on the service’s own scrape', async () => {
    const rules = spawnSync(promtoolPath(), ['check', 'rules', alertsPath], { encoding: 'utf8' });
    expect(rules.status, rules.stdout + rules.stderr).toBe(0);
    const text = await scrape();
    expect(text).toMatch(/^tianshu_failovers_total\{/m);
    const lint = spawnSync(promtoolPath(), ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(lint.status, lint.stdout + lint.stderr).toBe(0);
  });
});
