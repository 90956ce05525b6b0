/**
 * `deploymentEvents` over a real WebSocket (graphql-transport-ws): the server listens on port 0,
 * clients authenticate in `connection_init`, and each receives only its tenant subtree's events —
 * from API mutations and from publishers outside the API (the orchestrator) alike.
 */
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { specInput, startHarness } from './api-harness.js';
import type { Harness } from './api-harness.js';

interface Client {
  readonly events: { type: string; tenant: string; name: string; phase: string }[];
  readonly errors: unknown[];
  close(): void;
}

async function connect(url: string, token: string, query: string): Promise<Client> {
  const ws = new WebSocket(url, 'graphql-transport-ws');
  const events: Client['events'] = [];
  const errors: unknown[] = [];
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const acked = new Promise<void>((resolve) => {
    ws.on('message', (raw: Buffer) => {
      const m = JSON.parse(raw.toString()) as { type: string; payload?: { data?: { deploymentEvents: Client['events'][number] } } };
      if (m.type === 'connection_ack') resolve();
      if (m.type === 'next' && m.payload?.data !== undefined) events.push(m.payload.data.deploymentEvents);
      if (m.type === 'error') errors.push(m.payload);
    });
  });
  ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
  await acked;
  ws.send(JSON.stringify({ id: 's1', type: 'subscribe', payload: { query } }));
  // Let the server register the subscription before the test publishes.
  await new Promise((r) => setTimeout(r, 150));
  return { events, errors, close: () => ws.close() };
}

async function until(pred: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error('timed out waiting for events');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('deploymentEvents over a real WebSocket', () => {
  let h: Harness;
  let url: string;
  const Q = 'subscription { deploymentEvents { type tenant name phase } }';

  beforeAll(async () => {
    h = await startHarness();
    await h.app.listen({ host: '127.0.0.1', port: 0 });
    url = `ws://127.0.0.1:${(h.app.server.address() as AddressInfo).port}/graphql`;
  });
  afterAll(async () => h.close());

  it('delivers each tenant only its subtree, operators everything', async () => {
    const gd = await connect(url, await h.token('tenant-user', 'gd'), Q);
    const health = await connect(url, await h.token('tenant-user', 'gd/sz/health'), Q);
    const zj = await connect(url, await h.token('tenant-admin', 'zj'), Q);
    const op = await connect(url, await h.token('operator'), Q);

    const sz = await h.token('tenant-user', 'gd/sz');
    const made = await h.gql('mutation($s: DeploymentSpecInput!) { requestDeployment(spec: $s) { deployment { id } } }', { s: specInput({ name: 'ws-web' }) }, sz);
    expect(made.body.errors).toBeUndefined();
    const zjUser = await h.token('tenant-user', 'zj/hz');
    await h.gql('mutation($s: DeploymentSpecInput!) { requestDeployment(spec: $s) { deployment { id } } }', { s: specInput({ tenant: 'zj/hz', name: 'ws-zj', residency: ['cn/zj'] }) }, zjUser);
    // A publisher outside the API (the orchestrator) uses the same bus.
    h.events.publish({ type: 'PHASE_CHANGED', deploymentId: 'x', tenant: 'gd/sz/health', name: 'clinic', phase: 'Running', generation: 1, slices: [], message: '', time: new Date().toISOString() });

    await until(() => op.events.length >= 3 && gd.events.length >= 2 && zj.events.length >= 1 && health.events.length >= 1);
    expect(gd.events.map((e) => e.name).sort()).toEqual(['clinic', 'ws-web']);
    expect(health.events.map((e) => e.name)).toEqual(['clinic']);
    expect(zj.events.map((e) => e.name)).toEqual(['ws-zj']);
    expect(op.events.map((e) => `${e.type}:${e.name}`).sort()).toEqual(['ADMITTED:ws-web', 'ADMITTED:ws-zj', 'PHASE_CHANGED:clinic']);
    for (const c of [gd, health, zj, op]) {
      expect(c.errors).toEqual([]);
      c.close();
    }
    await until(() => h.events.size === 0);
  });

  it('refuses a foreign tenant argument and limit-breaking documents with coded errors', async () => {
    const c = await connect(url, await h.token('tenant-user', 'gd'), 'subscription { deploymentEvents(tenant: "zj") { type } }');
    await until(() => c.errors.length > 0);
    expect((c.errors[0] as { extensions: { code: string } }[])[0]?.extensions.code).toBe('FORBIDDEN');
    c.close();
    const aliases = Array.from({ length: 20 }, (_, i) => `a${i}: type`).join(' ');
    const d = await connect(url, await h.token('operator'), `subscription { deploymentEvents { ${aliases} } }`);
    await until(() => d.errors.length > 0);
    expect((d.errors[0] as { extensions: { code: string; limit: string } }[])[0]?.extensions).toMatchObject({ code: 'VALIDATION', limit: 'aliases' });
    d.close();
  });
});
