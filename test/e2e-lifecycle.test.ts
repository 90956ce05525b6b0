/**
 * The assembled service end to end, as `npm start` runs it: a deployment requested through
 * GraphQL is placed, carried out on the simulated demo fleet by the orchestrator until it is
 * Running, announced on the event bus, visible in `/metrics`, and on deletion removed from the
 * clouds and from the tenant's usage.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startService } from '../bin/service.js';
import type { Running } from '../bin/service.js';
import { loadConfig } from '../config/load.js';
import type { DeploymentEvent } from '../domain/events.js';

describe('the assembled service: request → Running → delete', () => {
  let svc: Running;
  let token: string;
  const events: DeploymentEvent[] = [];

  async function gql(query: string, variables: Record<string, unknown> = {}): Promise<{ data: Record<string, unknown> | null; errors?: { message: string; extensions?: { code?: string } }[] }> {
    const res = await fetch(`${svc.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query, variables }) });
    return (await res.json()) as { data: Record<string, unknown> | null };
  }

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tianshu-life-'));
    const cfg = join(dir, 'tianshu.yaml');
    // Fast loops so the test sees the orchestrator act within a second or two.
    writeFileSync(cfg, `listen: { host: 127.0.0.1, port: 0 }\ndataDir: ${join(dir, 'data')}\norchestrator: { reconcileIntervalMs: 200, probeIntervalMs: 200 }\n`);
    const lines: string[] = [];
    svc = await startService(loadConfig({ path: cfg, env: {} }), { cwd: dir, log: (l) => lines.push(l) });
    svc.events.subscribe({ under: null }, (e) => events.push(e));
    const m = /token operator:\n {2}Bearer (\S+)/.exec(lines.join('\n'));
    token = m?.[1] ?? '';
  });
  afterAll(async () => svc?.close());

  it('runs a requested deployment on the clouds the decision chose, then removes it', async () => {
    const spec = { tenant: 'gd/sz', name: 'clinic', workload: { kind: 'container', image: 'registry.example/clinic:1' }, replicas: 3, resources: { cpu: 500, memory: 1024 }, minTier: 'L3', residency: ['cn/gd'], spread: { minClouds: 2 } };
    const admitted = await gql('mutation($s: DeploymentSpecInput!) { requestDeployment(spec: $s, idempotencyKey: "e2e-1") { deployment { id phase slices { cloudId replicas } } } }', { s: spec });
    expect(admitted.errors).toBeUndefined();
    const dep = (admitted.data?.requestDeployment as { deployment: { id: string; slices: { cloudId: string; replicas: number }[] } }).deployment;
    expect(dep.slices.reduce((n, s) => n + s.replicas, 0)).toBe(3);
    expect(new Set(dep.slices.map((s) => s.cloudId)).size).toBeGreaterThanOrEqual(2);

    await expect
      .poll(async () => ((await gql('query($id: ID!) { deployment(id: $id) { phase } }', { id: dep.id })).data?.deployment as { phase: string }).phase, { timeout: 15_000, interval: 100 })
      .toBe('Running');
    expect(events.filter((e) => e.deploymentId === dep.id).map((e) => e.type)).toEqual(expect.arrayContaining(['ADMITTED', 'PHASE_CHANGED']));
    expect(events.some((e) => e.deploymentId === dep.id && e.type === 'PHASE_CHANGED' && e.phase === 'Running')).toBe(true);

    const metrics = await (await fetch(`${svc.url}/metrics`)).text();
    expect(metrics).toMatch(/^tianshu_scheduling_decisions_total\{[^}]*result="scheduled"[^}]*\} [1-9]/m);
    expect(metrics).toMatch(/^tianshu_provider_requests_total\{[^}]*operation="apply"[^}]*\} [1-9]/m);

    const deleted = await gql('mutation($id: ID!) { deleteDeployment(id: $id) { phase } }', { id: dep.id });
    expect(deleted.errors).toBeUndefined();
    await expect.poll(async () => (await gql('query($id: ID!) { deployment(id: $id) { id } }', { id: dep.id })).data?.deployment ?? null, { timeout: 15_000, interval: 100 }).toBeNull();
    const tenant = await gql('{ tenant(path: "gd/sz") { usage { cpu memory } } }');
    expect((tenant.data?.tenant as { usage: { cpu: number; memory: number } }).usage).toEqual({ cpu: 0, memory: 0 });
  });
});
