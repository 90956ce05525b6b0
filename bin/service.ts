/**
 * Wiring: the one place that assembles the service from its parts — store, scheduler, metrics,
 * API, orchestrator, leadership lease and audit probe — in the order the flow runs, and takes
 * it apart again in reverse. Nothing here decides anything; each part's behaviour lives in its
 * own folder.
 *
 * @packageDocumentation
 */
import { hostname } from 'node:os';
import { mkdirSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { Tiers } from '../domain/tiers.js';
import { createScheduler, planner } from '../scheduler/scheduler.js';
import { openStore } from '../store/open.js';
import type { Actor, Store } from '../store/store.js';
import { createProvider } from '../providers/registry.js';
import { createOrchestrator } from '../orchestrator/orchestrator.js';
import type { Orchestrator } from '../orchestrator/orchestrator.js';
import { createLocalLease, createPostgresLease } from '../orchestrator/lease.js';
import { createMetrics } from '../observability/metrics.js';
import type { Metrics } from '../observability/metrics.js';
import { instrumentPlanner } from '../observability/instrumented-planner.js';
import { instrumentProvider } from '../observability/instrumented-provider.js';
import { startAuditProbe } from '../observability/audit-probe.js';
import { deploymentPhasesFromStore, fleetSourceFromStore } from '../observability/views.js';
import { createEventBus } from '../api/events.js';
import type { EventBus } from '../api/events.js';
import { createJwtAuthenticator, createOidcAuthenticator, ensureDevSecret, mintDevToken } from '../api/auth.js';
import type { Authenticator, Role } from '../api/auth.js';
import { buildServer } from '../api/server.js';
import { databaseUrlOf, dataDirOf, devSecretFileOf, tiersOf } from '../config/load.js';
import type { CloudSpec, Config, TenantSpec } from '../config/schema.js';
import { demoClouds, demoTenants } from '../config/demo-fleet.js';

/** The actor configuration seeding acts as in the audit trail. */
export const SEED_ACTOR: Actor = Object.freeze({ subject: 'tianshu-config', role: 'system', tenant: null });

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
  readonly metrics: Metrics;
  readonly orchestrator: Orchestrator;
  readonly url: string;
  close(): Promise<void>;
}

/** Options of {@link startService}. */
export interface ServiceOptions {
  readonly cwd?: string;
  readonly log?: (line: string) => void;
  /** A metrics object to record into (default: a fresh one with its own registry). */
  readonly metrics?: Metrics;
}

/** Events after which the orchestrator should reconcile a deployment at once. */
const KICKING_EVENTS: ReadonlySet<string> = new Set(['ADMITTED', 'SCALED', 'DELETING']);

/** Starts the service from a validated configuration: serves the API and runs the orchestrator. */
export async function startService(config: Config, options: ServiceOptions = {}): Promise<Running> {
  const cwd = options.cwd ?? process.cwd();
  const log = options.log ?? ((line: string) => console.log(line));
  const tiers = tiersOf(config);
  mkdirSync(dataDirOf(config, cwd), { recursive: true, mode: 0o700 });
  const databaseUrl = databaseUrlOf(config, cwd);
  const store = await openStore(databaseUrl);
  // Parts started so far, stopped in reverse on close or on a failed start.
  const stops: (() => Promise<void>)[] = [() => store.close()];
  const stopAll = async (): Promise<void> => {
    for (const stop of stops.splice(0).reverse()) await stop();
  };
  try {
    const seeded = await seedFromConfig(store, config, tiers);
    if (seeded.clouds + seeded.tenants > 0) log(`seeded ${seeded.clouds} clouds and ${seeded.tenants} tenants${seeded.demo ? ' (demo fleet)' : ''}`);
    const { authenticator, devSecret } = authenticatorFor(config, cwd);

    const metrics = options.metrics ?? createMetrics();
    metrics.setFleetSource(fleetSourceFromStore(store));
    const events = createEventBus();
    const scheduler = createScheduler({ tiers });
    const plan = instrumentPlanner(planner(scheduler, tiers), metrics);
    // Previews get their own planner (and snapshot cache), counted apart from placements.
    const previewPlan = instrumentPlanner(planner(scheduler, tiers), metrics, { preview: true });

    // One leader runs the loops: a PostgreSQL advisory lock with a fencing token when replicas
    // share a database; SQLite means a single instance, which always leads.
    const lease =
      store.engine === 'postgres'
        ? createPostgresLease({ url: databaseUrl, applicationName: `tianshu-lease:${hostname()}`, log: (m) => log(`lease: ${m}`), onLost: (why) => log(`lease lost: ${why}`) })
        : createLocalLease();
    const orchestrator = createOrchestrator({
      store,
      planner: plan,
      config: config.orchestrator,
      publish: (e) => events.publish(e),
      lease,
      hooks: metrics,
      providerFor: (cloud) => instrumentProvider(createProvider(cloud), metrics),
      log: (level, message, fields) => {
        if (level !== 'debug') log(`orchestrator ${level}: ${message}${fields === undefined ? '' : ` ${JSON.stringify(fields)}`}`);
      },
    });
    // Deployments by phase come from the store (counted at most every 10 s), reported by the
    // leader only so that summing over replicas counts each deployment once.
    const phases = deploymentPhasesFromStore(store);
    metrics.setOrchestratorSource(async () => {
      const stats = orchestrator.stats();
      return stats.leader ? { ...stats, deploymentsByPhase: await phases() } : stats;
    });
    // The API publishes each committed change; the orchestrator reconciles that deployment now
    // rather than at its next periodic pass.
    const unsubscribe = events.subscribe({ under: null }, (e) => {
      if (KICKING_EVENTS.has(e.type)) orchestrator.kick(e.deploymentId);
    });
    stops.push(async () => {
      unsubscribe();
      await orchestrator.stop();
    });
    const auditProbe = startAuditProbe({ verify: () => store.verifyAudit(), metrics, onError: (e) => log(`audit probe: ${e instanceof Error ? e.message : String(e)}`) });
    stops.push(() => auditProbe.stop());

    const app = await buildServer({
      store,
      planner: plan,
      previewPlanner: previewPlan,
      // A cloud set Draining is emptied now rather than at the orchestrator's next pass.
      onCloudChanged: (cloud) => {
        if (cloud.condition === 'Draining') orchestrator.drain(cloud.id);
      },
      tiers,
      authenticator,
      events,
      mode: config.mode,
      limits: config.limits,
      metrics,
    });
    stops.push(() => app.close());
    await orchestrator.start();
    const address = await app.listen({ host: config.listen.host, port: config.listen.port });
    const url = address.replace('://[::1]', '://localhost');
    log(`tianshu ${config.mode} listening on ${url} (store: ${store.engine}${store.engine === 'sqlite' ? ` ${databaseUrl}` : ''}; metrics at ${url}/metrics)`);
    if (config.mode === 'development') {
      log(`GraphiQL: ${url}/graphiql   (paste a token into the Headers tab as {"Authorization": "Bearer <token>"})`);
      if (devSecret !== null) {
        for (const p of DEMO_PRINCIPALS) {
          const token = await mintDevToken({ secret: devSecret, issuer: config.auth.devIssuer, audience: config.auth.devAudience, role: p.role, tenant: p.tenant, ttl: '12h', roleClaim: config.auth.roleClaim, tenantClaim: config.auth.tenantClaim });
          log(`token ${p.role}${p.tenant === null ? '' : ` (tenant ${p.tenant})`}:\n  Bearer ${token}`);
        }
      }
    }
    return { app, store, events, metrics, orchestrator, url, close: stopAll };
  } catch (e) {
    await stopAll();
    throw e;
  }
}
