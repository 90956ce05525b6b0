/**
 * Every GraphQL operation through `app.inject()`, its happy path and its error codes, against a real
 * SQLite store seeded with the demo fleet.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TianshuError } from '../domain/errors.js';
import { openStore } from '../store/open.js';
import type { Store } from '../store/store.js';
import { codeOf, specInput, startHarness } from './api-harness.js';
import type { Harness } from './api-harness.js';

const DEPLOY = `mutation($spec: DeploymentSpecInput!, $key: String, $queue: Boolean) {
  requestDeployment(spec: $spec, idempotencyKey: $key, queueIfUnschedulable: $queue) {
    replayed
    deployment { id tenant name phase replicas generation slices { cloudId replicas } }
    placement { cause slices { cloudId replicas } explanation { ok summary considered reasonCounts { reason count } rejected { cloudId reason detail } ranked { cloudId total terms { scorer score weight } } } }
  }
}`;

describe('api operations', () => {
  let h: Harness;
  let operator: string;
  let sz: string;
  let gdAdmin: string;
  let auditor: string;
  let sre: string;

  beforeAll(async () => {
    h = await startHarness();
    operator = await h.token('operator');
    sz = await h.token('tenant-user', 'gd/sz');
    gdAdmin = await h.token('tenant-admin', 'gd');
    auditor = await h.token('auditor');
    sre = await h.token('sre');
  });
  afterAll(async () => h.close());

  it('viewer names the caller', async () => {
    const res = await h.gql('{ viewer { subject role tenant expiresAt } }', {}, sz);
    expect(res.body.data?.viewer).toMatchObject({ role: 'tenant-user', tenant: 'gd/sz', subject: 'test-tenant-user@gd/sz' });
  });

  it('clouds, cloud and fleetSummary show the demo fleet', async () => {
    const res = await h.gql('{ clouds { id tier locality condition free { cpu } attributes { arch xinchuang labels { key value } } } cloud(id: "zj-nb-xc") { id attributes { arch xinchuang } } fleetSummary { clouds byTier { tier clouds } byProvince { province clouds resources { capacity { cpu } headroom { cpu } } } conditions { condition clouds } } }', {}, sz);
    expect(res.status).toBe(200);
    expect(res.body.data?.clouds).toHaveLength(12);
    expect(res.body.data?.cloud).toEqual({ id: 'zj-nb-xc', attributes: { arch: 'arm64', xinchuang: true } });
    const fs = res.body.data?.fleetSummary;
    expect(fs.clouds).toBe(12);
    expect(fs.byTier.map((t: { tier: string }) => t.tier)).toEqual(['L2', 'L3', 'L4']);
    expect(fs.byProvince.map((p: { province: string }) => p.province)).toEqual(['cn/bj', 'cn/gd', 'cn/zj']);
    const filtered = await h.gql('{ clouds(under: "cn/zj", tier: "L3") { id } }', {}, sz);
    expect(filtered.body.data?.clouds.map((c: { id: string }) => c.id).sort()).toEqual(['zj-hz-k8s-a', 'zj-nb-xc']);
  });

  it('cloud of an unknown id is null', async () => {
    const res = await h.gql('{ cloud(id: "nope") { id } }', {}, operator);
    expect(res.body.data?.cloud).toBeNull();
  });

  it('tenants are scoped to the caller subtree; tenant of a foreign path is FORBIDDEN', async () => {
    const mine = await h.gql('{ tenants { path parent quota { total { cpu } } children { path } } }', {}, gdAdmin);
    const paths = mine.body.data?.tenants.map((t: { path: string }) => t.path);
    expect(paths).toContain('gd/sz/health');
    expect(paths).not.toContain('zj');
    const all = await h.gql('{ tenants { path } }', {}, operator);
    expect(all.body.data?.tenants.length).toBeGreaterThanOrEqual(7);
    const foreign = await h.gql('{ tenant(path: "zj") { path } }', {}, gdAdmin);
    expect(codeOf(foreign)).toBe('FORBIDDEN');
    const bad = await h.gql('{ tenant(path: "Not A Path") { path } }', {}, operator);
    expect(codeOf(bad)).toBe('VALIDATION');
    expect(bad.body.errors?.[0]?.extensions?.field).toBe('path');
  });

  it('previewPlacement explains and shows the quota at every ancestor, committing nothing', async () => {
    const res = await h.gql(
      'query($spec: DeploymentSpecInput!) { previewPlacement(spec: $spec) { explanation { ok summary assignments { cloudId replicas } rejected { cloudId reason } reasonCounts { reason count } } quota { tenant limit { cpu } headroom { cpu } request { cpu } after { cpu } fits } } }',
      { spec: specInput({ name: 'preview-only', replicas: 4 }) },
      sz,
    );
    expect(res.status).toBe(200);
    const p = res.body.data?.previewPlacement;
    expect(p.explanation.ok).toBe(true);
    expect(p.quota.map((q: { tenant: string }) => q.tenant)).toEqual(['gd', 'gd/sz']);
    expect(p.quota[1].request.cpu).toBe(2000);
    expect(p.quota[1].after.cpu).toBe(p.quota[1].headroom.cpu - 2000);
    // Clouds outside residency cn/gd are rejected with a reason.
    expect(p.explanation.rejected.some((r: { reason: string }) => r.reason === 'OUTSIDE_RESIDENCY')).toBe(true);
    const list = await h.gql('{ deployments(tenant: "gd/sz") { nodes { name } } }', {}, sz);
    expect(list.body.data?.deployments.nodes.map((d: { name: string }) => d.name)).not.toContain('preview-only');
  });

  it('requestDeployment places, stores the explanation, publishes an event, and replays an idempotency key', async () => {
    const seen: string[] = [];
    const off = h.events.subscribe({ under: 'gd' }, (e) => seen.push(`${e.type}:${e.name}`));
    const spec = specInput({ name: 'portal' });
    const first = await h.gql(DEPLOY, { spec, key: 'req-portal-1' }, sz);
    expect(first.status).toBe(200);
    const r = first.body.data?.requestDeployment;
    expect(r.replayed).toBe(false);
    expect(r.deployment).toMatchObject({ tenant: 'gd/sz', name: 'portal', replicas: 2, generation: 1 });
    expect(r.placement.explanation.ok).toBe(true);
    expect(r.placement.slices.reduce((n: number, s: { replicas: number }) => n + s.replicas, 0)).toBe(2);
    const again = await h.gql(DEPLOY, { spec, key: 'req-portal-1' }, sz);
    expect(again.body.data?.requestDeployment.replayed).toBe(true);
    expect(again.body.data?.requestDeployment.deployment.id).toBe(r.deployment.id);
    expect(seen).toEqual(['ADMITTED:portal']);
    off();
    const got = await h.gql('query($id: ID!) { deployment(id: $id) { id name phase spec placement { cause explanation { ok summary } } } }', { id: r.deployment.id }, sz);
    expect(got.body.data?.deployment.placement.cause).toBe('admit');
    expect(got.body.data?.deployment.spec.strategy).toBe('binpack');
  });

  it('requestDeployment: explicit nulls mean absent, at any depth, and the defaults apply', async () => {
    const spec = specInput({ name: 'nulls', localityPreference: null, spread: { minClouds: null, maxReplicasPerCloud: null, topology: null }, requiredAttributes: null, strategy: null, priority: null });
    const res = await h.gql(DEPLOY, { spec }, sz);
    expect(res.body.errors).toBeUndefined();
    const id = res.body.data?.requestDeployment.deployment.id;
    const got = await h.gql('query($id: ID!) { deployment(id: $id) { spec } }', { id }, sz);
    const stored = got.body.data?.deployment.spec;
    expect(stored).toMatchObject({ strategy: 'binpack', priority: 0, spread: { minClouds: 1, topology: 'cloud' }, requiredAttributes: {} });
    expect(stored).not.toHaveProperty('localityPreference');
    expect(stored.spread).not.toHaveProperty('maxReplicasPerCloud');
  });

  it('requestDeployment: VALIDATION names the field', async () => {
    const res = await h.gql(DEPLOY, { spec: specInput({ resources: { cpu: -1 } }) }, sz);
    expect(codeOf(res)).toBe('VALIDATION');
    expect(res.body.errors?.[0]?.extensions?.field).toBe('spec.resources.cpu');
    const tier = await h.gql(DEPLOY, { spec: specInput({ minTier: 'L9' }) }, sz);
    expect(tier.body.errors?.[0]?.extensions?.field).toBe('spec.minTier');
    const key = await h.gql(DEPLOY, { spec: specInput(), key: 'has spaces' }, sz);
    expect(key.body.errors?.[0]?.extensions?.field).toBe('idempotencyKey');
  });

  it('the explanation answers the same on the first run of a document and once it is compiled', async () => {
    // A document text of its own: the first run is interpreted (graphql-js), later ones compiled (graphql-jit).
    const doc = `${DEPLOY}\n# explanation`;
    for (let run = 0; run < 3; run++) {
      const res = await h.gql(doc, { spec: specInput({ name: `explained-${run}` }) }, sz);
      expect(res.body.errors).toBeUndefined();
      const explanation = res.body.data?.requestDeployment.placement.explanation;
      expect(explanation.summary).toMatch(/^2 replicas placed on \d+\/\d+ clouds/);
      expect(explanation.ranked.length).toBeGreaterThan(0);
      expect(explanation.ranked[0].terms.length).toBeGreaterThan(0);
      expect(Array.isArray(explanation.rejected)).toBe(true);
    }
  });

  it('requestDeployment: variables that do not fit the schema are VALIDATION on every run of a document, and write nothing', async () => {
    const before = await h.store.listDeployments({ under: 'gd/sz', first: 100 });
    // A document text of its own: its first run is interpreted, its second compiles it, its third runs compiled.
    const doc = `${DEPLOY}\n# variables`;
    for (let run = 0; run < 3; run++) {
      const wrongType = await h.gql(doc, { spec: { ...specInput(), replicas: 'three' } }, sz);
      expect(wrongType.status).toBe(400);
      expect(codeOf(wrongType)).toBe('VALIDATION');
      expect(wrongType.body.errors?.[0]?.message).toMatch(/replicas|Int/);
      const missing = await h.gql(doc, { spec: { name: 'only-a-name' } }, sz);
      expect(missing.status).toBe(400);
      expect(codeOf(missing)).toBe('VALIDATION');
      const unknownField = await h.gql(doc, { spec: { ...specInput(), bogus: 1 } }, sz);
      expect(codeOf(unknownField)).toBe('VALIDATION');
      expect(unknownField.body.errors?.[0]?.message).toMatch(/bogus/);
      const fine = await h.gql(doc, { spec: specInput({ name: `vars-${run}` }) }, sz);
      expect(fine.body.errors).toBeUndefined();
      expect(fine.body.data?.requestDeployment.deployment.name).toBe(`vars-${run}`);
    }
    const after = await h.store.listDeployments({ under: 'gd/sz', first: 100 });
    expect(after.items.length).toBe(before.items.length + 3);
  });

  it('requestDeployment: UNSCHEDULABLE carries the counted explanation', async () => {
    const res = await h.gql(DEPLOY, { spec: specInput({ minTier: 'L4', residency: ['cn/zj'] }) }, sz);
    expect(codeOf(res)).toBe('UNSCHEDULABLE');
    const ext = res.body.errors?.[0]?.extensions ?? {};
    expect(String(ext.explanation)).toMatch(/^0\/12 clouds available/);
    expect(ext.reasonCounts).toBeTypeOf('object');
    expect(Object.keys(ext.reasonCounts as object).length).toBeGreaterThan(0);
  });

  it('requestDeployment: QUOTA_EXCEEDED when the subtree quota binds', async () => {
    const res = await h.gql(DEPLOY, { spec: specInput({ tenant: 'gd/sz/health', replicas: 100, resources: { cpu: 1000, memory: 1024 } }) }, sz);
    expect(codeOf(res)).toBe('QUOTA_EXCEEDED');
    expect(String(res.body.errors?.[0]?.extensions?.explanation)).toMatch(/clouds available/);
  });

  it('requestDeployment: CONFLICT when the same key comes with another spec, and queueIfUnschedulable stores Pending', async () => {
    await h.gql(DEPLOY, { spec: specInput({ name: 'dup' }), key: 'k-dup' }, sz);
    const res = await h.gql(DEPLOY, { spec: specInput({ name: 'dup', replicas: 3 }), key: 'k-dup' }, sz);
    expect(codeOf(res)).toBe('CONFLICT');
    const queued = await h.gql(DEPLOY, { spec: specInput({ name: 'queued', minTier: 'L4', residency: ['cn/zj'] }), queue: true }, sz);
    expect(queued.body.data?.requestDeployment.deployment.phase).toBe('Pending');
  });

  it('requestDeployment into a foreign tenant is FORBIDDEN and audited', async () => {
    const res = await h.gql(DEPLOY, { spec: specInput({ tenant: 'zj/hz', residency: ['cn/zj'] }) }, sz);
    expect(codeOf(res)).toBe('FORBIDDEN');
    const audit = await h.store.listAuditEvents({ first: 1000 });
    expect(audit.items.some((e) => e.result === 'denied' && e.action === 'requestDeployment' && e.object.startsWith('deployment/zj/hz/'))).toBe(true);
  });

  it('deployments pages with cursors and refuses first > 100', async () => {
    for (let i = 0; i < 3; i++) await h.gql(DEPLOY, { spec: specInput({ name: `paged-${i}`, replicas: 1 }) }, sz);
    const page1 = await h.gql('{ deployments(tenant: "gd/sz", first: 2) { nodes { name } pageInfo { endCursor hasNextPage } } }', {}, sz);
    const d1 = page1.body.data?.deployments;
    expect(d1.nodes).toHaveLength(2);
    expect(d1.pageInfo.hasNextPage).toBe(true);
    const page2 = await h.gql('query($after: String) { deployments(tenant: "gd/sz", first: 2, after: $after) { nodes { name } } }', { after: d1.pageInfo.endCursor }, sz);
    expect(page2.body.data?.deployments.nodes.length).toBeGreaterThan(0);
    expect(page2.body.data?.deployments.nodes[0].name).not.toBe(d1.nodes[0].name);
    const big = await h.gql('{ deployments(first: 101) { nodes { id } } }', {}, sz);
    expect(codeOf(big)).toBe('VALIDATION');
    expect(big.body.errors?.[0]?.extensions?.field).toBe('first');
    const foreign = await h.gql('{ deployments(tenant: "zj") { nodes { id } } }', {}, sz);
    expect(codeOf(foreign)).toBe('FORBIDDEN');
  });

  it('scaleDeployment and deleteDeployment; NOT_FOUND for unknown ids', async () => {
    const made = await h.gql(DEPLOY, { spec: specInput({ name: 'scaler' }) }, sz);
    const id = made.body.data?.requestDeployment.deployment.id as string;
    const scaled = await h.gql('mutation($id: ID!) { scaleDeployment(id: $id, replicas: 5) { deployment { replicas generation } placement { cause slices { replicas } } } }', { id }, sz);
    expect(scaled.body.data?.scaleDeployment.deployment).toEqual({ replicas: 5, generation: 2 });
    const bad = await h.gql('mutation($id: ID!) { scaleDeployment(id: $id, replicas: -1) { replayed } }', { id }, sz);
    expect(bad.body.errors?.[0]?.extensions).toMatchObject({ code: 'VALIDATION', field: 'replicas' });
    const del = await h.gql('mutation($id: ID!) { deleteDeployment(id: $id) { phase } }', { id }, sz);
    expect(del.body.data?.deleteDeployment.phase).toBe('Deleting');
    const missing = await h.gql('mutation { deleteDeployment(id: "no-such") { phase } }', {}, sz);
    expect(codeOf(missing)).toBe('NOT_FOUND');
    const unknown = await h.gql('{ deployment(id: "no-such") { id } }', {}, sz);
    expect(unknown.body.data?.deployment).toBeNull();
  });

  it('registerCloud, updateCloud (CONFLICT on a stale version), cordon/uncordon/drain, removeCloud', async () => {
    const reg = await h.gql(
      'mutation($input: RegisterCloudInput!) { registerCloud(input: $input) { id tier version attributes { labels { key value } } } }',
      { input: { id: 'gd-sz-new', locality: 'cn/gd/sz', zone: 'sz-d', tier: 'L3', capacity: { cpu: 64000, memory: 262144 }, attributes: { labels: [{ key: 'vendor', value: 'tke' }] } } },
      operator,
    );
    expect(reg.body.data?.registerCloud).toMatchObject({ id: 'gd-sz-new', tier: 'L3', attributes: { labels: [{ key: 'vendor', value: 'tke' }] } });
    const version = reg.body.data?.registerCloud.version as number;
    const dupe = await h.gql('mutation { registerCloud(input: { id: "gd-sz-new", locality: "cn/gd/sz", tier: "L3", capacity: { cpu: 1 } }) { id } }', {}, operator);
    expect(codeOf(dupe)).toBe('CONFLICT');
    const badTier = await h.gql('mutation { registerCloud(input: { id: "x1", locality: "cn/gd/sz", tier: "L7", capacity: { cpu: 1 } }) { id } }', {}, operator);
    expect(badTier.body.errors?.[0]?.extensions).toMatchObject({ code: 'VALIDATION', field: 'input.tier' });
    const upd = await h.gql('mutation($v: Int) { updateCloud(id: "gd-sz-new", patch: { zone: "sz-e", attributes: { gpuModel: "a10" } }, expectedVersion: $v) { zone version attributes { arch gpuModel } } }', { v: version }, operator);
    expect(upd.body.data?.updateCloud).toMatchObject({ zone: 'sz-e', attributes: { arch: 'amd64', gpuModel: 'a10' } });
    const stale = await h.gql('mutation($v: Int) { updateCloud(id: "gd-sz-new", patch: { zone: "sz-f" }, expectedVersion: $v) { zone } }', { v: version }, operator);
    expect(codeOf(stale)).toBe('CONFLICT');
    const badPatch = await h.gql('mutation { updateCloud(id: "gd-sz-new", patch: { capacity: { cpu: -5 } }) { zone } }', {}, operator);
    expect(badPatch.body.errors?.[0]?.extensions).toMatchObject({ code: 'VALIDATION', field: 'patch.capacity.cpu' });
    for (const [m, cond] of [['cordonCloud', 'Cordoned'], ['uncordonCloud', 'Ready'], ['drainCloud', 'Draining']] as const) {
      const res = await h.gql(`mutation { ${m}(id: "gd-sz-new") { condition } }`, {}, sre);
      expect(res.body.data?.[m].condition).toBe(cond);
    }
    const removed = await h.gql('mutation { removeCloud(id: "gd-sz-new") }', {}, operator);
    expect(removed.body.data?.removeCloud).toBe('gd-sz-new');
    const gone = await h.gql('mutation { cordonCloud(id: "gd-sz-new") { id } }', {}, operator);
    expect(codeOf(gone)).toBe('NOT_FOUND');
  });

  it('removeCloud of a cloud holding placements is CONFLICT', async () => {
    const made = await h.gql(DEPLOY, { spec: specInput({ name: 'pinned', replicas: 1 }) }, sz);
    const cloudId = made.body.data?.requestDeployment.deployment.slices[0].cloudId as string;
    const res = await h.gql('mutation($id: ID!) { removeCloud(id: $id) }', { id: cloudId }, operator);
    expect(codeOf(res)).toBe('CONFLICT');
  });

  it('createTenant and setQuota: a tenant admin splits its own quota, never above it, never its own node', async () => {
    const made = await h.gql('mutation { createTenant(path: "gd/fs", displayName: "Foshan", quota: { total: { cpu: 10000 } }) { path parent quota { total { cpu memory } } } }', {}, gdAdmin);
    expect(made.body.data?.createTenant).toEqual({ path: 'gd/fs', parent: 'gd', quota: { total: { cpu: 10000, memory: null } } });
    const set = await h.gql('mutation { setQuota(path: "gd/fs", quota: { total: { cpu: 20000 }, byTier: [{ tier: "L3", limits: { cpu: 5000 } }] }) { quota { total { cpu } byTier { tier limits { cpu } } } } }', {}, gdAdmin);
    expect(set.body.data?.setQuota.quota).toEqual({ total: { cpu: 20000 }, byTier: [{ tier: 'L3', limits: { cpu: 5000 } }] });
    const above = await h.gql('mutation { setQuota(path: "gd/fs", quota: { total: { cpu: 99999999 } }) { path } }', {}, gdAdmin);
    expect(codeOf(above)).toBe('VALIDATION');
    const own = await h.gql('mutation { setQuota(path: "gd", quota: { total: { cpu: 99999999 } }) { path } }', {}, gdAdmin);
    expect(codeOf(own)).toBe('FORBIDDEN');
    const sibling = await h.gql('mutation { createTenant(path: "zj/nb") { path } }', {}, gdAdmin);
    expect(codeOf(sibling)).toBe('FORBIDDEN');
    const exists = await h.gql('mutation { createTenant(path: "gd/fs") { path } }', {}, gdAdmin);
    expect(codeOf(exists)).toBe('CONFLICT');
    const orphan = await h.gql('mutation { createTenant(path: "nowhere/child") { path } }', {}, operator);
    expect(codeOf(orphan)).toBe('NOT_FOUND');
    const badTier = await h.gql('mutation { setQuota(path: "gd/fs", quota: { byTier: [{ tier: "L9", limits: {} }] }) { path } }', {}, gdAdmin);
    expect(badTier.body.errors?.[0]?.extensions).toMatchObject({ code: 'VALIDATION', field: 'quota.byTier[0].tier' });
  });

  it('auditEvents: operators and auditors read the chain; scoped auditors only their subtree', async () => {
    const res = await h.gql('{ auditEvents(first: 5) { nodes { seq action object result hash prevHash detail } pageInfo { endCursor hasNextPage } } }', {}, auditor);
    expect(res.body.data?.auditEvents.nodes).toHaveLength(5);
    const next = await h.gql('query($a: String) { auditEvents(first: 5, after: $a) { nodes { seq } } }', { a: res.body.data?.auditEvents.pageInfo.endCursor }, auditor);
    expect(next.body.data?.auditEvents.nodes[0].seq).toBeGreaterThan(res.body.data?.auditEvents.nodes[4].seq);
    const scoped = await h.token('auditor', 'gd/sz');
    const mine = await h.gql('{ auditEvents(first: 100) { nodes { object } } }', {}, scoped);
    expect(mine.body.data?.auditEvents.nodes.every((e: { object: string }) => e.object.startsWith('deployment/gd/sz/'))).toBe(true);
    const other = await h.gql('{ auditEvents(objectPrefix: "deployment/zj/") { nodes { object } } }', {}, scoped);
    expect(codeOf(other)).toBe('FORBIDDEN');
    const badCursor = await h.gql('{ auditEvents(after: "abc") { nodes { seq } } }', {}, auditor);
    expect(badCursor.body.errors?.[0]?.extensions).toMatchObject({ code: 'VALIDATION', field: 'after' });
  });

  it('limits: depth, aliases and cost are refused before execution with code VALIDATION', async () => {
    const deep = await h.gql('{ tenants { children { children { children { children { children { children { children { children { children { path } } } } } } } } } } }', {}, operator);
    expect(deep.status).toBe(400);
    expect(deep.body.errors?.[0]?.extensions).toMatchObject({ code: 'VALIDATION', limit: 'depth' });
    const aliases = Array.from({ length: 16 }, (_, i) => `a${i}: viewer { role }`).join(' ');
    const al = await h.gql(`{ ${aliases} }`, {}, operator);
    expect(al.body.errors?.[0]?.extensions).toMatchObject({ code: 'VALIDATION', limit: 'aliases' });
    const costly = await h.gql('{ deployments(first: 100) { nodes { placement { explanation { ranked { cloudId terms { scorer score weight } } rejected { cloudId reason detail filter } } } } } }', {}, operator);
    expect(costly.body.errors?.[0]?.extensions).toMatchObject({ code: 'VALIDATION', limit: 'cost' });
  });

  it('body limit, malformed JSON and missing query are VALIDATION, never 5xx', async () => {
    const big = await h.app.inject({ method: 'POST', url: '/graphql', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ query: `{ viewer { role } } #${'x'.repeat(1_100_000)}` }) });
    expect(big.statusCode).toBe(400);
    expect(big.json().errors[0].extensions.code).toBe('VALIDATION');
    const bad = await h.app.inject({ method: 'POST', url: '/graphql', headers: { 'content-type': 'application/json' }, payload: '{"query": ' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0].extensions.code).toBe('VALIDATION');
  });

  it('healthz and readyz answer', async () => {
    expect((await h.app.inject({ url: '/healthz' })).json()).toEqual({ status: 'ok' });
    expect((await h.app.inject({ url: '/readyz' })).json()).toEqual({ status: 'ready', store: 'sqlite' });
  });
});

describe('api rate limit and production mode', () => {
  it('rate-limits per principal with RATE_LIMITED', async () => {
    const h = await startHarness({ limits: { ratePerMinute: 3 }, demo: false });
    try {
      const a = await h.token('operator', null, { sub: 'alice' });
      const b = await h.token('operator', null, { sub: 'bob' });
      for (let i = 0; i < 3; i++) expect((await h.gql('{ viewer { role } }', {}, a)).status).toBe(200);
      const limited = await h.gql('{ viewer { role } }', {}, a);
      expect(limited.status).toBe(429);
      expect(codeOf(limited)).toBe('RATE_LIMITED');
      expect((await h.gql('{ viewer { role } }', {}, b)).status).toBe(200);
    } finally {
      await h.close();
    }
  });

  it('production refuses introspection, hides GraphiQL and internal messages', async () => {
    const h = await startHarness({ mode: 'production', demo: false });
    try {
      const op = await h.token('operator');
      const intro = await h.gql('{ __schema { types { name } } }', {}, op);
      expect(codeOf(intro)).toBe('VALIDATION');
      expect((await h.app.inject({ url: '/graphiql' })).statusCode).toBe(404);
      expect((await h.gql('{ __typename }', {}, op)).body.data).toEqual({ __typename: 'Query' });
    } finally {
      await h.close();
    }
  });

  it('fails liveness only once the store is broken for good, and readiness with it', async () => {
    const real = await openStore(':memory:');
    const broken = new TianshuError('UNAVAILABLE', 'the SQLite writer thread stopped, and a new one could not be started');
    // What a SQLite store is once its writer has given up: it says so, and refuses reads.
    const store = Object.create(real, { broken: { value: broken }, getCloud: { value: () => Promise.reject(broken) } }) as Store;
    const h = await startHarness({ demo: false, deps: { store } });
    try {
      const live = await h.app.inject({ url: '/healthz' });
      expect(live.statusCode).toBe(503);
      expect(live.json()).toEqual({ status: 'broken', store: 'sqlite', reason: broken.message });
      expect((await h.app.inject({ url: '/readyz' })).statusCode).toBe(503);
    } finally {
      await h.close();
      await real.close();
    }
  });

  it('development serves GraphiQL and introspection', async () => {
    const h = await startHarness({ demo: false });
    try {
      expect((await h.app.inject({ url: '/graphiql' })).statusCode).toBe(200);
      const intro = await h.gql('{ __schema { queryType { name } } }', {}, null);
      expect(intro.body.data?.__schema.queryType.name).toBe('Query');
    } finally {
      await h.close();
    }
  });
});
