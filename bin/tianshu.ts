#!/usr/bin/env node
/**
 * The `tianshu` command: `serve` runs the control plane (the embedded default with no
 * arguments), `token` mints a development token. This is the only place that reads the
 * environment, opens the store, wires the parts together and listens.
 *
 * @packageDocumentation
 */
import { mkdirSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { FastifyInstance } from 'fastify';
import { isTianshuError, TianshuError } from '../domain/errors.js';
import type { Tiers } from '../domain/tiers.js';
import { createScheduler, planner } from '../scheduler/scheduler.js';
import { openStore } from '../store/open.js';
import type { Actor, Store } from '../store/store.js';
import { createEventBus } from '../api/events.js';
import type { EventBus } from '../api/events.js';
import { createJwtAuthenticator, createOidcAuthenticator, ensureDevSecret, mintDevToken, ROLES } from '../api/auth.js';
import type { Authenticator, Role } from '../api/auth.js';
import { buildServer } from '../api/server.js';
import type { ApiMetrics } from '../api/server.js';
import { databaseUrlOf, dataDirOf, devSecretFileOf, loadConfig, tiersOf } from '../config/load.js';
import type { Config } from '../config/schema.js';
import type { CloudSpec, TenantSpec } from '../config/schema.js';
import { demoClouds, demoTenants } from '../config/demo-fleet.js';

/** The actor configuration seeding acts as in the audit trail. */
export const SEED_ACTOR: Actor = Object.freeze({ subject: 'tianshu-config', role: 'system', tenant: null });

const USAGE = `usage:
  tianshu serve [--config FILE]
  tianshu token --role ROLE [--tenant PATH] [--ttl 1h] [--subject NAME] [--config FILE]

roles: ${ROLES.join(', ')}`;

/** Registers clouds and creates tenants that the store does not have yet (parents first). */
export async function seed(store: Store, clouds: readonly CloudSpec[], tenants: readonly TenantSpec[], actor: Actor = SEED_ACTOR): Promise<{ clouds: number; tenants: number }> {
  let c = 0;
  let t = 0;
  for (const cloud of clouds) {
    if ((await store.getCloud(cloud.id)) !== null) continue;
    await store.registerCloud(actor, cloud);
    c++;
  }
  const ordered = [...tenants].sort((a, b) => a.path.split('/').length - b.path.split('/').length);
  for (const tenant of ordered) {
    if ((await store.getTenant(tenant.path)) !== null) continue;
    await store.createTenant(actor, tenant.path, tenant.displayName ?? tenant.path, tenant.quota);
    t++;
  }
  return { clouds: c, tenants: t };
}

/** Seeds configuration, and the demo fleet when enabled and the store is empty. */
export async function seedFromConfig(store: Store, config: Config, tiers: Tiers): Promise<{ clouds: number; tenants: number; demo: boolean }> {
  const empty = (await store.listClouds()).length === 0 && (await store.listTenants()).length === 0;
  const declared = await seed(store, config.clouds, config.tenants);
  if (!(config.demo.enabled && empty)) return { ...declared, demo: false };
  const demo = await seed(store, demoClouds(tiers), demoTenants(tiers));
  return { clouds: declared.clouds + demo.clouds, tenants: declared.tenants + demo.tenants, demo: true };
}

/** The authenticator the configuration selects: OIDC in production (or when configured), the dev secret otherwise. */
export function authenticatorFor(config: Config, cwd = process.cwd()): { authenticator: Authenticator; devSecret: Uint8Array | null } {
  const claims = { roleClaim: config.auth.roleClaim, tenantClaim: config.auth.tenantClaim, clockToleranceSeconds: config.auth.clockToleranceSeconds };
  const oidc = config.auth.oidc;
  if (oidc !== undefined) return { authenticator: createOidcAuthenticator({ ...oidc, ...claims }), devSecret: null };
  const secret = ensureDevSecret(devSecretFileOf(config, cwd));
  return { authenticator: createJwtAuthenticator({ ...claims, key: secret, issuer: config.auth.devIssuer, audience: config.auth.devAudience, algorithms: ['HS256'] }), devSecret: secret };
}

/** Example principals printed at start in development, one per role. */
const DEMO_PRINCIPALS: readonly { role: Role; tenant: string | null }[] = [
  { role: 'operator', tenant: null },
  { role: 'tenant-admin', tenant: 'gd' },
  { role: 'tenant-user', tenant: 'gd/sz' },
  { role: 'sre', tenant: null },
  { role: 'auditor', tenant: null },
];

/** A running service, for tests and for graceful shutdown. */
export interface Running {
  readonly app: FastifyInstance;
  readonly store: Store;
  readonly events: EventBus;
  readonly url: string;
  close(): Promise<void>;
}

/** Starts the service from a validated configuration. */
export async function startService(config: Config, options: { cwd?: string; metrics?: ApiMetrics; log?: (line: string) => void } = {}): Promise<Running> {
  const cwd = options.cwd ?? process.cwd();
  const log = options.log ?? ((line: string) => console.log(line));
  const tiers = tiersOf(config);
  mkdirSync(dataDirOf(config, cwd), { recursive: true, mode: 0o700 });
  const store = await openStore(databaseUrlOf(config, cwd));
  try {
    const seeded = await seedFromConfig(store, config, tiers);
    if (seeded.clouds + seeded.tenants > 0) log(`seeded ${seeded.clouds} clouds and ${seeded.tenants} tenants${seeded.demo ? ' (demo fleet)' : ''}`);
    const { authenticator, devSecret } = authenticatorFor(config, cwd);
    const events = createEventBus();
    const scheduler = createScheduler({ tiers });
    const app = await buildServer({
      store,
      planner: planner(scheduler, tiers),
      tiers,
      authenticator,
      events,
      mode: config.mode,
      limits: config.limits,
      ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
    });
    const address = await app.listen({ host: config.listen.host, port: config.listen.port });
    const url = address.replace('://[::1]', '://localhost');
    log(`tianshu ${config.mode} listening on ${url} (store: ${store.engine}${store.engine === 'sqlite' ? ` ${databaseUrlOf(config, cwd)}` : ''})`);
    if (config.mode === 'development') {
      log(`GraphiQL: ${url}/graphiql   (paste a token into the Headers tab as {"Authorization": "Bearer <token>"})`);
      if (devSecret !== null) {
        for (const p of DEMO_PRINCIPALS) {
          const token = await mintDevToken({ secret: devSecret, issuer: config.auth.devIssuer, audience: config.auth.devAudience, role: p.role, tenant: p.tenant, ttl: '12h', roleClaim: config.auth.roleClaim, tenantClaim: config.auth.tenantClaim });
          log(`token ${p.role}${p.tenant === null ? '' : ` (tenant ${p.tenant})`}:\n  Bearer ${token}`);
        }
      }
    }
    return {
      app,
      store,
      events,
      url,
      async close() {
        await app.close();
        await store.close();
      },
    };
  } catch (e) {
    await store.close();
    throw e;
  }
}

async function serve(configPath: string | undefined): Promise<void> {
  const config = loadConfig({ ...(configPath === undefined ? {} : { path: configPath }), env: process.env });
  const running = await startService(config);
  let closing = false;
  const shutdown = (signal: string): void => {
    if (closing) return;
    closing = true;
    console.log(`${signal}: closing`);
    running.close().then(
      () => process.exit(0),
      (e: unknown) => {
        console.error(e);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

async function token(values: { role?: string; tenant?: string; ttl?: string; subject?: string; config?: string }): Promise<void> {
  const role = values.role;
  if (role === undefined || !(ROLES as readonly string[]).includes(role)) throw new TianshuError('VALIDATION', `--role: must be one of ${ROLES.join(', ')}`, { field: '--role' });
  const config = loadConfig({ ...(values.config === undefined ? {} : { path: values.config }), env: process.env });
  if (config.auth.oidc !== undefined) throw new TianshuError('VALIDATION', 'token: OIDC is configured; tokens come from the identity provider', { field: 'auth.oidc' });
  const secret = ensureDevSecret(devSecretFileOf(config));
  const t = await mintDevToken({
    secret,
    issuer: config.auth.devIssuer,
    audience: config.auth.devAudience,
    role: role as Role,
    tenant: values.tenant ?? null,
    ttl: values.ttl ?? '1h',
    roleClaim: config.auth.roleClaim,
    tenantClaim: config.auth.tenantClaim,
    ...(values.subject === undefined ? {} : { subject: values.subject }),
  });
  console.log(t);
}

/** Entry point: parses argv and runs a subcommand; exits 2 on invalid input or configuration. */
export async function main(argv: readonly string[]): Promise<void> {
  const [command, ...rest] = argv;
  try {
    const { values } = parseArgs({
      args: rest,
      options: { config: { type: 'string' }, role: { type: 'string' }, tenant: { type: 'string' }, ttl: { type: 'string' }, subject: { type: 'string' } },
      strict: true,
    });
    if (command === 'serve') await serve(values.config);
    else if (command === 'token') await token(values);
    else {
      console.error(USAGE);
      process.exitCode = 2;
    }
  } catch (e) {
    if (isTianshuError(e, 'VALIDATION')) {
      console.error(`tianshu: refusing to start: invalid configuration: ${e.message}`);
      process.exitCode = 2;
      return;
    }
    if (e instanceof TypeError && 'code' in e && typeof e.code === 'string' && e.code.startsWith('ERR_PARSE_ARGS')) {
      console.error(`tianshu: ${e.message}\n${USAGE}`);
      process.exitCode = 2;
      return;
    }
    console.error('tianshu:', e instanceof Error ? e.message : e);
    process.exitCode = 1;
  }
}

// Run when executed directly (node dist/bin/tianshu.js, tsx bin/tianshu.ts), not when imported by tests.
const invoked = process.argv[1] ?? '';
if (/[\\/]tianshu\.(js|ts)$/.test(invoked)) void main(process.argv.slice(2));
