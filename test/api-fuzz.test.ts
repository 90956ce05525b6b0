/**
 * Fuzz (fast-check, seeded): more than 5,000 random and malformed GraphQL documents, request
 * bodies, variables and WebSocket frames. Never a 5xx, never a crash, and every HTTP answer is a
 * well-formed GraphQL response whose errors carry a catalogue code.
 */
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ERROR_CODES } from '../domain/errors.js';
import { specInput, startHarness } from './api-harness.js';
import type { Harness } from './api-harness.js';

const SEED = 20_261_128;
const CODES: ReadonlySet<string> = new Set(ERROR_CODES);

const VALID = [
  '{ viewer { role } }',
  '{ clouds { id tier free { cpu } } }',
  '{ fleetSummary { clouds byTier { tier } } }',
  '{ tenants { path children { path } } }',
  '{ deployments(first: 5) { nodes { id name placement { explanation { summary } } } pageInfo { endCursor } } }',
  'query($id: ID!) { deployment(id: $id) { id } }',
  'query($s: DeploymentSpecInput!) { previewPlacement(spec: $s) { explanation { ok summary } quota { tenant fits } } }',
  'mutation($s: DeploymentSpecInput!, $k: String) { requestDeployment(spec: $s, idempotencyKey: $k) { replayed deployment { id } } }',
  'mutation($id: ID!, $n: Int!) { scaleDeployment(id: $id, replicas: $n) { replayed } }',
  'mutation($p: String!, $q: QuotaInput!) { setQuota(path: $p, quota: $q) { path } }',
  'mutation($i: RegisterCloudInput!) { registerCloud(input: $i) { id } }',
  '{ auditEvents(first: 3) { nodes { seq hash } } }',
];

const TOKENS = ['operator', 'tenant-user', 'auditor', 'none', 'garbage'] as const;

/** Asserts the answer is a well-formed GraphQL response, never a server error. */
function assertWellFormed(status: number, text: string): void {
  expect(status).toBeLessThan(500);
  const body = JSON.parse(text) as { data?: unknown; errors?: { message?: unknown; extensions?: { code?: unknown } }[] };
  expect(typeof body).toBe('object');
  if (body.errors === undefined) {
    expect(body.data).toBeTypeOf('object');
    return;
  }
  expect(Array.isArray(body.errors)).toBe(true);
  expect(body.errors.length).toBeGreaterThan(0);
  for (const e of body.errors) {
    expect(typeof e.message).toBe('string');
    expect(CODES.has(String(e.extensions?.code))).toBe(true);
    expect(e.extensions?.code).not.toBe('INTERNAL');
  }
}

/** Mutates a valid document: truncate, splice random text, duplicate, or swap characters. */
const mutatedDocument = fc
  .tuple(fc.constantFrom(...VALID), fc.nat(400), fc.string({ maxLength: 20 }), fc.integer({ min: 0, max: 4 }))
  .map(([doc, at, junk, how]) => {
    const i = at % (doc.length + 1);
    switch (how) {
      case 0:
        return doc.slice(0, i);
      case 1:
        return doc.slice(0, i) + junk + doc.slice(i);
      case 2:
        return `${doc} ${doc}`;
      case 3:
        return doc.replace(/[{}()]/g, (c) => (junk.length % 2 === 0 ? c : junk.slice(0, 1)));
      default:
        return doc.split('').reverse().join('');
    }
  });

const graphqlish = fc
  .array(fc.constantFrom('{', '}', '(', ')', 'query', 'mutation', 'subscription', 'fragment', '...', 'on', 'viewer', 'clouds', '__typename', '__schema', 'deployments', 'first:', '100', '$x', ':', 'Int!', '@skip(if: true)', 'a:', '"s"', '[', ']', ' '), { maxLength: 60 })
  .map((parts) => parts.join(' '));

describe('fuzz', () => {
  let h: Harness;
  let tokens: Record<(typeof TOKENS)[number], string | null>;
  let wsUrl: string;

  beforeAll(async () => {
    h = await startHarness();
    tokens = { operator: await h.token('operator'), 'tenant-user': await h.token('tenant-user', 'gd/sz'), auditor: await h.token('auditor'), none: null, garbage: 'x.y.z' };
    await h.app.listen({ host: '127.0.0.1', port: 0 });
    wsUrl = `ws://127.0.0.1:${(h.app.server.address() as AddressInfo).port}/graphql`;
  });
  afterAll(async () => h.close());

  it('random and malformed documents (3,000)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string({ maxLength: 300 }), mutatedDocument, graphqlish), fc.constantFrom(...TOKENS), async (query, who) => {
        const token = tokens[who];
        const res = await h.app.inject({ method: 'POST', url: '/graphql', headers: { 'content-type': 'application/json', ...(token === null ? {} : { authorization: `Bearer ${token}` }) }, payload: JSON.stringify({ query }) });
        assertWellFormed(res.statusCode, res.body);
      }),
      { seed: SEED, numRuns: 3000 },
    );
  });

  it('random request bodies and variables (1,500)', async () => {
    const jsonish = fc.jsonValue({ maxDepth: 4 });
    const body = fc.oneof(
      fc.record({ query: fc.constantFrom(...VALID), variables: fc.oneof(fc.dictionary(fc.constantFrom('s', 'id', 'n', 'k', 'p', 'q', 'i'), jsonish), jsonish) }).map((b) => JSON.stringify(b)),
      fc.record({ query: fc.constantFrom(...VALID), variables: fc.record({ s: fc.record({ ...Object.fromEntries(Object.entries(specInput()).map(([k, v]) => [k, fc.oneof(fc.constant(v), jsonish)])) }), id: fc.string(), n: fc.integer(), k: fc.string() }) }).map((b) => JSON.stringify(b)),
      jsonish.map((v) => JSON.stringify(v)),
      fc.record({ query: jsonish, operationName: jsonish, variables: jsonish }).map((b) => JSON.stringify(b)),
      fc.string({ maxLength: 200 }),
    );
    await fc.assert(
      fc.asyncProperty(body, fc.constantFrom(...TOKENS), async (payload, who) => {
        const token = tokens[who];
        const res = await h.app.inject({ method: 'POST', url: '/graphql', headers: { 'content-type': 'application/json', ...(token === null ? {} : { authorization: `Bearer ${token}` }) }, payload });
        assertWellFormed(res.statusCode, res.body);
      }),
      { seed: SEED + 1, numRuns: 1500 },
    );
  });

  it('random GET queries and authorization headers (300)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string({ maxLength: 100 }), mutatedDocument), fc.oneof(fc.constant(undefined), fc.string({ maxLength: 80 }), fc.constant('Bearer'), fc.string().map((s) => `Bearer ${s}`)), async (query, authorization) => {
        const res = await h.app.inject({ method: 'GET', url: '/graphql', query: { query }, headers: authorization === undefined ? {} : { authorization } });
        assertWellFormed(res.statusCode, res.body);
      }),
      { seed: SEED + 2, numRuns: 300 },
    );
  });

  it('random WebSocket frames (1,000) never crash the server', async () => {
    const frame = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
      fc.record({ type: fc.constantFrom('connection_init', 'subscribe', 'complete', 'ping', 'pong', 'start', 'stop', 'bogus'), id: fc.oneof(fc.string(), fc.integer()), payload: fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.record({ query: fc.oneof(fc.string(), mutatedDocument, fc.constant('subscription { deploymentEvents { type } }')), variables: fc.jsonValue({ maxDepth: 2 }) })) }).map((v) => JSON.stringify(v)),
    );
    let socket: WebSocket | null = null;
    const open = async (): Promise<WebSocket> => {
      const ws = new WebSocket(wsUrl, 'graphql-transport-ws');
      ws.on('error', () => undefined);
      ws.on('message', (raw: Buffer) => {
        // Every server frame is JSON with a type.
        const m = JSON.parse(raw.toString()) as { type?: unknown };
        expect(typeof m.type).toBe('string');
      });
      await new Promise<void>((resolve) => {
        ws.once('open', () => resolve());
        ws.once('close', () => resolve());
      });
      return ws;
    };
    await fc.assert(
      fc.asyncProperty(fc.array(frame, { minLength: 1, maxLength: 3 }), async (frames) => {
        if (socket === null || socket.readyState !== WebSocket.OPEN) socket = await open();
        for (const f of frames) if (socket.readyState === WebSocket.OPEN) socket.send(f);
        await new Promise((r) => setImmediate(r));
      }),
      { seed: SEED + 3, numRuns: 1000 },
    );
    (socket as WebSocket | null)?.close();
    await new Promise((r) => setTimeout(r, 100));
    const health = await h.app.inject({ url: '/healthz' });
    expect(health.statusCode).toBe(200);
    const still = await h.gql('{ viewer { role } }', {}, tokens.operator);
    expect(still.body.data?.viewer.role).toBe('operator');
  });
});
