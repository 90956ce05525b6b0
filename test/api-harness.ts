/**
 * A real API over a real SQLite store in a temporary directory, seeded with the demo fleet and
 * tenants, with helpers to mint tokens (good and deliberately bad) and run GraphQL through
 * `app.inject()`. Shared by the `test/api-*.test.ts` suites.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { SignJWT } from 'jose';
import { MLPS, Tiers } from '../domain/tiers.js';
import { createScheduler, planner } from '../scheduler/scheduler.js';
import { openStore } from '../store/open.js';
import type { Store } from '../store/store.js';
import { createJwtAuthenticator } from '../api/auth.js';
import type { Role } from '../api/auth.js';
import { createEventBus } from '../api/events.js';
import type { EventBus } from '../api/events.js';
import { buildServer } from '../api/server.js';
import type { ApiLimits, ServerDeps } from '../api/server.js';
import { seed } from '../bin/service.js';
import { demoClouds, demoTenants } from '../config/demo-fleet.js';

/** The issuer and audience test tokens are verified against. */
export const ISSUER = 'tianshu-test';
/** The audience test tokens are verified against. */
export const AUDIENCE = 'tianshu-api';

/** Default limits for tests (a generous rate so suites do not trip it unless they mean to). */
export const TEST_LIMITS: ApiLimits = { depth: 10, aliases: 15, cost: 10_000, maxPageSize: 100, defaultPageSize: 20, bodyLimitBytes: 1_048_576, ratePerMinute: 1_000_000 };

/** A GraphQL response as the tests read it (payloads are loosely typed JSON: tests assert on shape). */
export interface GqlResponse {
  readonly status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- arbitrary GraphQL JSON, narrowed by each assertion
  readonly body: { data?: Record<string, any> | null; errors?: { message: string; path?: unknown[]; extensions?: Record<string, any> }[] };
}

/** Options of {@link startHarness}. */
export interface HarnessOptions {
  readonly limits?: Partial<ApiLimits>;
  readonly mode?: 'development' | 'production';
  readonly demo?: boolean;
  readonly deps?: Partial<ServerDeps>;
}

/** A running harness. */
export interface Harness {
  readonly app: FastifyInstance;
  readonly store: Store;
  readonly events: EventBus;
  readonly tiers: Tiers;
  readonly secret: Uint8Array;
  /** A valid token for `role` (scoped to `tenant` when given). */
  token(role: Role, tenant?: string | null, claims?: Record<string, unknown>): Promise<string>;
  /** A token signed by the right key with adjustable claims/expiry/issuer/audience. */
  craft(options: { role?: string; tenant?: string | null; issuer?: string; audience?: string; expiresIn?: string | number; secret?: Uint8Array; sub?: string }): Promise<string>;
  /** Runs one GraphQL request through `app.inject`. */
  gql(query: string, variables?: Record<string, unknown>, token?: string | null): Promise<GqlResponse>;
  close(): Promise<void>;
}

/** Starts a harness. */
export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'tianshu-api-'));
  const store = await openStore(join(dir, 'tianshu.db'));
  const tiers = new Tiers(MLPS);
  if (options.demo !== false) await seed(store, demoClouds(tiers), demoTenants(tiers));
  const secret = new Uint8Array(randomBytes(32));
  const authenticator = createJwtAuthenticator({ key: secret, issuer: ISSUER, audience: AUDIENCE, algorithms: ['HS256'], roleClaim: 'role', tenantClaim: 'tenant', clockToleranceSeconds: 5 });
  const events = createEventBus();
  const app = await buildServer({
    store,
    planner: planner(createScheduler({ tiers }), tiers),
    tiers,
    authenticator,
    events,
    mode: options.mode ?? 'development',
    limits: { ...TEST_LIMITS, ...options.limits },
    fleetSummaryTtlMs: 0,
    ...options.deps,
  });
  await app.ready();

  const craft: Harness['craft'] = async (o) => {
    const claims: Record<string, unknown> = {};
    if (o.role !== undefined) claims.role = o.role;
    if (o.tenant !== undefined && o.tenant !== null) claims.tenant = o.tenant;
    const jwt = new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(o.sub ?? `test-${o.role ?? 'none'}${o.tenant ? `@${o.tenant}` : ''}`)
      .setIssuer(o.issuer ?? ISSUER)
      .setAudience(o.audience ?? AUDIENCE)
      .setIssuedAt(typeof o.expiresIn === 'number' && o.expiresIn < 0 ? Math.floor(Date.now() / 1000) + o.expiresIn - 60 : undefined)
      .setExpirationTime(typeof o.expiresIn === 'number' ? Math.floor(Date.now() / 1000) + o.expiresIn : (o.expiresIn ?? '1h'));
    return jwt.sign(o.secret ?? secret);
  };
  return {
    app,
    store,
    events,
    tiers,
    secret,
    token: (role, tenant = null, claims = {}) => craft({ role, tenant, ...claims }),
    craft,
    async gql(query, variables, token) {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (token !== undefined && token !== null) headers.authorization = `Bearer ${token}`;
      const res = await app.inject({ method: 'POST', url: '/graphql', headers, payload: JSON.stringify({ query, variables }) });
      return { status: res.statusCode, body: res.json() };
    },
    async close() {
      await app.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A valid deployment spec input for the demo fleet. */
export function specInput(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    tenant: 'gd/sz',
    name: `web-${Math.random().toString(36).slice(2, 10)}`,
    workload: { kind: 'container', image: 'registry.gov.cn/web:1.0' },
    replicas: 2,
    resources: { cpu: 500, memory: 512 },
    minTier: 'L3',
    residency: ['cn/gd'],
    ...overrides,
  };
}

/** The first error's code of a response. */
export function codeOf(res: GqlResponse): unknown {
  return res.body.errors?.[0]?.extensions?.code;
}
