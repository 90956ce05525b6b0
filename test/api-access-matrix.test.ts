/**
 * The access matrix, generated from the schema: every Query, Mutation and Subscription field ×
 * (no token, malformed, expired, wrong issuer, wrong audience, foreign tenant, insufficient role)
 * is denied with the right code, and every denied write leaves a `denied` audit event. A root
 * field without a fixture here fails the suite, so new operations cannot skip the matrix.
 */
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { gql } from '../api/graphql.js';
import { OPERATIONS } from '../api/access.js';
import type { OperationName } from '../api/access.js';
import { ROLES } from '../api/auth.js';
import type { Role } from '../api/auth.js';
import { SCHEMA_SDL } from '../api/schema.js';
import { specInput, startHarness } from './api-harness.js';
import type { Harness } from './api-harness.js';

/** One operation's document and the principals that must be refused. */
interface Fixture {
  readonly doc: string;
  /** A principal with an allowed role but a foreign tenant, or null when the operation is not tenant-scoped. */
  readonly foreign: { role: Role; tenant: string } | null;
}

const SPEC = JSON.stringify(specInput({ name: 'matrix-probe' })).replace(/"([a-zA-Z]+)":/g, '$1:');

function fixtures(deploymentId: string): Record<OperationName, Fixture> {
  return {
    viewer: { doc: '{ viewer { role } }', foreign: null },
    clouds: { doc: '{ clouds { id } }', foreign: null },
    cloud: { doc: '{ cloud(id: "gd-sz-k8s-a") { id } }', foreign: null },
    tenants: { doc: '{ tenants(under: "gd/sz") { path } }', foreign: { role: 'tenant-user', tenant: 'zj' } },
    tenant: { doc: '{ tenant(path: "gd/sz") { path } }', foreign: { role: 'tenant-user', tenant: 'zj' } },
    deployments: { doc: '{ deployments(tenant: "gd/sz") { nodes { id } } }', foreign: { role: 'tenant-user', tenant: 'zj' } },
    deployment: { doc: `{ deployment(id: "${deploymentId}") { id } }`, foreign: { role: 'tenant-user', tenant: 'zj' } },
    previewPlacement: { doc: `{ previewPlacement(spec: ${SPEC}) { explanation { ok } } }`, foreign: { role: 'tenant-user', tenant: 'zj' } },
    auditEvents: { doc: '{ auditEvents(objectPrefix: "deployment/gd/sz/") { nodes { seq } } }', foreign: { role: 'auditor', tenant: 'zj' } },
    fleetSummary: { doc: '{ fleetSummary { clouds } }', foreign: null },
    registerCloud: { doc: 'mutation { registerCloud(input: { id: "matrix-cloud", locality: "cn/gd/sz", tier: "L3", capacity: { cpu: 1000 } }) { id } }', foreign: null },
    updateCloud: { doc: 'mutation { updateCloud(id: "gd-sz-k8s-a", patch: { zone: "sz-z" }) { id } }', foreign: null },
    cordonCloud: { doc: 'mutation { cordonCloud(id: "gd-sz-k8s-a") { id } }', foreign: null },
    uncordonCloud: { doc: 'mutation { uncordonCloud(id: "gd-sz-k8s-a") { id } }', foreign: null },
    drainCloud: { doc: 'mutation { drainCloud(id: "gd-sz-k8s-a") { id } }', foreign: null },
    removeCloud: { doc: 'mutation { removeCloud(id: "bj-cy-edge") }', foreign: null },
    createTenant: { doc: 'mutation { createTenant(path: "gd/sz/matrix") { path } }', foreign: { role: 'tenant-admin', tenant: 'zj' } },
    setQuota: { doc: 'mutation { setQuota(path: "gd/sz/health", quota: { total: { cpu: 1 } }) { path } }', foreign: { role: 'tenant-admin', tenant: 'zj' } },
    requestDeployment: { doc: `mutation { requestDeployment(spec: ${SPEC}) { replayed } }`, foreign: { role: 'tenant-user', tenant: 'zj' } },
    scaleDeployment: { doc: `mutation { scaleDeployment(id: "${deploymentId}", replicas: 3) { replayed } }`, foreign: { role: 'tenant-user', tenant: 'zj' } },
    deleteDeployment: { doc: `mutation { deleteDeployment(id: "${deploymentId}") { id } }`, foreign: { role: 'tenant-user', tenant: 'zj' } },
    deploymentEvents: { doc: 'subscription { deploymentEvents(tenant: "gd/sz") { type } }', foreign: { role: 'tenant-user', tenant: 'zj' } },
  };
}

type Scenario = 'no token' | 'malformed' | 'expired' | 'wrong issuer' | 'wrong audience' | 'foreign tenant' | 'insufficient role';
const SCENARIOS: readonly Scenario[] = ['no token', 'malformed', 'expired', 'wrong issuer', 'wrong audience', 'foreign tenant', 'insufficient role'];

/** The root fields of the schema, walked from the SDL. */
function schemaOperations(): { name: string; kind: 'query' | 'mutation' | 'subscription' }[] {
  const schema = gql.buildSchema(SCHEMA_SDL);
  const out: { name: string; kind: 'query' | 'mutation' | 'subscription' }[] = [];
  for (const [kind, type] of [['query', schema.getQueryType()], ['mutation', schema.getMutationType()], ['subscription', schema.getSubscriptionType()]] as const) {
    for (const name of Object.keys(type?.getFields() ?? {})) out.push({ name, kind });
  }
  return out;
}

/** A principal of a role the operation refuses (scoped where the role needs a tenant), or null when every role may call it. */
function insufficient(op: OperationName): { role: Role; tenant: string | null } | null {
  const allowed: readonly Role[] = OPERATIONS[op].roles;
  const role = ROLES.find((r) => !allowed.includes(r));
  if (role === undefined) return null;
  return { role, tenant: role === 'tenant-admin' || role === 'tenant-user' ? 'gd/sz' : null };
}

/** Runs a subscription document over a real WebSocket and returns the first error (or null). */
async function subscribeOnce(url: string, doc: string, token: string | null): Promise<{ code: unknown } | null> {
  const ws = new WebSocket(url, 'graphql-transport-ws');
  const messages: { type: string; payload?: unknown }[] = [];
  const done = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => resolve(), 3000);
    ws.on('message', (raw: Buffer) => {
      const m = JSON.parse(raw.toString()) as { type: string; payload?: unknown };
      messages.push(m);
      if (m.type === 'connection_ack') ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: doc } }));
      if (m.type === 'error' || m.type === 'next' || m.type === 'complete') {
        clearTimeout(timer);
        resolve();
      }
    });
    ws.on('error', reject);
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  ws.send(JSON.stringify({ type: 'connection_init', payload: token === null ? {} : { authorization: `Bearer ${token}` } }));
  await done;
  ws.close();
  const err = messages.find((m) => m.type === 'error');
  if (err === undefined) return null;
  const first = (err.payload as { extensions?: { code?: unknown } }[])[0];
  return { code: first?.extensions?.code };
}

/** How many `denied` audit events name `action` (paging through the whole chain). */
async function deniedCount(h: Harness, action: string): Promise<number> {
  let n = 0;
  let after: number | undefined;
  for (;;) {
    const page = await h.store.listAuditEvents({ first: 1000, ...(after === undefined ? {} : { after }) });
    n += page.items.filter((e) => e.result === 'denied' && e.action === action).length;
    if (page.nextCursor === null || page.items.length === 0) return n;
    after = page.items[page.items.length - 1]?.seq;
  }
}

describe('access matrix (generated from the schema)', () => {
  let h: Harness;
  let wsUrl: string;
  let deploymentId: string;

  beforeAll(async () => {
    h = await startHarness();
    const made = await h.gql('mutation($spec: DeploymentSpecInput!) { requestDeployment(spec: $spec) { deployment { id } } }', { spec: specInput({ name: 'matrix-target' }) }, await h.token('tenant-user', 'gd/sz'));
    deploymentId = made.body.data?.requestDeployment.deployment.id as string;
    await h.app.listen({ host: '127.0.0.1', port: 0 });
    wsUrl = `ws://127.0.0.1:${(h.app.server.address() as AddressInfo).port}/graphql`;
  });
  afterAll(async () => h.close());

  it('has a fixture and a policy for every root field of the schema', () => {
    const ops = schemaOperations();
    const fx = fixtures('x');
    expect(ops.map((o) => o.name).sort()).toEqual(Object.keys(fx).sort());
    for (const o of ops) expect(OPERATIONS[o.name as OperationName]?.kind).toBe(o.kind);
  });

  const cases = schemaOperations().flatMap((o) => SCENARIOS.map((s) => [o.name, o.kind, s] as const));

  it.each(cases)('%s (%s) × %s is denied', async (name, kind, scenario) => {
    const op = name as OperationName;
    const fx = fixtures(deploymentId)[op];
    let token: string | null;
    let expected: 'UNAUTHENTICATED' | 'FORBIDDEN' = 'UNAUTHENTICATED';
    const allowedRole = OPERATIONS[op].roles[0];
    switch (scenario) {
      case 'no token':
        token = null;
        break;
      case 'malformed':
        token = 'not.a.jwt';
        break;
      case 'expired':
        token = await h.craft({ role: allowedRole, expiresIn: -120 });
        break;
      case 'wrong issuer':
        token = await h.craft({ role: allowedRole, issuer: 'https://evil.example' });
        break;
      case 'wrong audience':
        token = await h.craft({ role: allowedRole, audience: 'someone-else' });
        break;
      case 'foreign tenant': {
        if (fx.foreign === null) return; // not tenant-scoped: no foreign tenant exists for it
        token = await h.token(fx.foreign.role, fx.foreign.tenant);
        expected = 'FORBIDDEN';
        break;
      }
      case 'insufficient role': {
        const p = insufficient(op);
        if (p === null) return; // every role may call it
        token = await h.token(p.role, p.tenant);
        expected = 'FORBIDDEN';
        break;
      }
    }

    if (kind === 'subscription') {
      const err = await subscribeOnce(wsUrl, fx.doc, token);
      expect(err?.code).toBe(expected);
      return;
    }
    const before = kind === 'mutation' ? await deniedCount(h, op) : 0;
    const res = await h.gql(fx.doc, {}, token);
    expect(res.status).toBeLessThan(500);
    expect(res.body.data?.[op] ?? null).toBeNull();
    expect(res.body.errors?.[0]?.extensions?.code).toBe(expected);
    if (kind === 'mutation') {
      expect(await deniedCount(h, op)).toBe(before + 1);
    }
  });

  it('an allowed principal passes the same fixtures (the matrix is not vacuous)', async () => {
    const op = await h.token('operator');
    for (const name of ['viewer', 'clouds', 'tenants', 'deployment', 'previewPlacement', 'fleetSummary', 'auditEvents'] as const) {
      const res = await h.gql(fixtures(deploymentId)[name].doc, {}, op);
      expect(res.body.errors, name).toBeUndefined();
    }
  });
});
