/**
 * Resolvers: thin over the store and the scheduler. Each root field goes through {@link guarded},
 * which authorises the caller against {@link OPERATIONS}, audits a denied write, and turns store
 * errors that carry a decision into the counted explanation.
 */
import { gql } from './graphql.js';
import type { GraphQLError as GraphQLErrorType } from 'graphql';
import type { Cloud, CloudCondition } from '../domain/cloud.js';
import type { Deployment } from '../domain/deployment.js';
import { isTianshuError, TianshuError } from '../domain/errors.js';
import { isWithinTenant, parentOf } from '../domain/tenant.js';
import type { Tenant } from '../domain/tenant.js';
import type { Tiers } from '../domain/tiers.js';
import type { Decision } from '../scheduler/decision.js';
import type { Admission, Planner, Store } from '../store/store.js';
import { actorOf, authorize, OPERATIONS, requireAdministers, requireWithin } from './access.js';
import type { AuthState, OperationName } from './access.js';
import type { Principal } from './auth.js';
import { formatError } from './errors.js';
import type { DeploymentEvent, DeploymentEventType, EventBus } from './events.js';
import { parseCloudPatch, parseFirst, parseIdempotencyKey, parseNewCloud, parseQuota, parseReason, parseReplicas, parseSpec, parseTenantPath } from './inputs.js';
import { cloudView, explanationData, explanationView, fleetSummaryView, placementView, quotaUseView, tenantView } from './views.js';

const { GraphQLError } = gql;

/** What the resolvers need. */
export interface ResolverDeps {
  readonly store: Store;
  readonly planner: Planner;
  /** Answers `previewPlacement`; default `planner` (a separate one lets metrics count previews apart). */
  readonly previewPlanner?: Planner;
  /** Told after a cloud's registration, update or condition change is committed (the orchestrator drains at once). */
  readonly onCloudChanged?: (cloud: Cloud) => void;
  readonly tiers: Tiers;
  readonly events: EventBus;
  readonly defaultPageSize: number;
  readonly maxPageSize: number;
  /** How long a computed fleet summary is reused (invalidated by this API's own writes). 0 disables. */
  readonly fleetSummaryTtlMs: number;
  readonly production: boolean;
  readonly now: () => number;
}

/** The per-request (or per-WebSocket) GraphQL context. */
export interface ApiContext {
  readonly auth: AuthState;
}

type Args = Record<string, unknown>;
type Resolver = (root: unknown, args: Args, ctx: ApiContext) => Promise<unknown>;

/** The audit object a denied write names, derived from its arguments. */
function objectOf(op: OperationName, args: Args): string {
  const str = (v: unknown): string => (typeof v === 'string' ? v : '?');
  switch (op) {
    case 'registerCloud':
      return `cloud/${str((args.input as Args | undefined)?.id)}`;
    case 'updateCloud':
    case 'cordonCloud':
    case 'uncordonCloud':
    case 'drainCloud':
    case 'removeCloud':
      return `cloud/${str(args.id)}`;
    case 'createTenant':
    case 'setQuota':
      return `tenant/${str(args.path)}`;
    case 'requestDeployment': {
      const spec = args.spec as Args | undefined;
      return `deployment/${str(spec?.tenant)}/${str(spec?.name)}`;
    }
    default:
      return `deployment/${str(args.id)}`;
  }
}

/** A thrown value as the error a subscription can carry (its extensions survive the WebSocket path). */
function asGraphQLError(e: unknown, production: boolean): GraphQLErrorType {
  const formatted = formatError(e, { production });
  return new GraphQLError(formatted.message, { originalError: e instanceof Error ? e : undefined, extensions: formatted.extensions });
}

/** The decision a store error carries, if any, under the names the store may use. */
function decisionOf(e: TianshuError): Decision | null {
  const d = (e.details.decision ?? e.details.explanation) as Decision | undefined;
  return d !== undefined && d !== null && typeof d === 'object' && 'rejected' in d && 'reasonCounts' in d ? d : null;
}

/** UNSCHEDULABLE and QUOTA_EXCEEDED carry the counted explanation in GraphQL shape. */
function enrich(e: unknown): unknown {
  if (!(isTianshuError(e, 'UNSCHEDULABLE') || isTianshuError(e, 'QUOTA_EXCEEDED'))) return e;
  const d = decisionOf(e);
  if (d === null) return e;
  const view = explanationData(d);
  return new TianshuError(e.code, e.message, { ...e.details, decision: undefined, explanation: view, summary: d.summary, reasonCounts: view.reasonCounts }, { cause: e });
}

function publishAdmission(events: EventBus, type: DeploymentEventType, d: Deployment, now: number): void {
  const event: DeploymentEvent = { type, deploymentId: d.id, tenant: d.tenant, name: d.name, phase: d.phase, generation: d.generation, slices: d.slices, message: d.message, time: new Date(now).toISOString() };
  events.publish(event);
}

/** Builds the resolver map for mercurius. */
export function createResolvers(deps: ResolverDeps): Record<string, Record<string, unknown>> {
  const { store, planner, tiers, events } = deps;
  const previewPlanner = deps.previewPlanner ?? planner;
  const cloudChanged = (cloud: Cloud): Cloud => {
    deps.onCloudChanged?.(cloud);
    return cloud;
  };
  let summary: { at: number; value: Record<string, unknown> } | null = null;
  const invalidate = (): void => {
    summary = null;
  };

  /** Authorises, runs, audits denials of writes, enriches store errors. */
  function guarded(op: OperationName, fn: (p: Principal, args: Args, ctx: ApiContext) => Promise<unknown>): Resolver {
    const write = OPERATIONS[op].kind === 'mutation';
    return async (_root, args, ctx) => {
      let principal: Principal | null = null;
      try {
        principal = authorize(ctx.auth, op);
        const out = await fn(principal, args, ctx);
        if (write) invalidate();
        return out;
      } catch (e) {
        if (write && (isTianshuError(e, 'UNAUTHENTICATED') || isTianshuError(e, 'FORBIDDEN'))) {
          await store.recordAudit(actorOf(principal ?? ctx.auth.principal), op, objectOf(op, args), 'denied', { code: e.code, reason: e.message });
        }
        throw enrich(e);
      }
    };
  }

  async function visibleDeployment(p: Principal, id: unknown): Promise<Deployment> {
    const d = typeof id === 'string' ? await store.getDeployment(id) : null;
    if (d === null) throw new TianshuError('NOT_FOUND', `deployment ${String(id)} does not exist`, { object: `deployment/${String(id)}` });
    requireWithin(p, d.tenant);
    return d;
  }

  async function existingCloud(id: unknown): Promise<Cloud> {
    const c = typeof id === 'string' ? await store.getCloud(id) : null;
    if (c === null) throw new TianshuError('NOT_FOUND', `cloud ${String(id)} does not exist`, { object: `cloud/${String(id)}` });
    return c;
  }

  async function setCondition(p: Principal, id: unknown, condition: CloudCondition, reason: string): Promise<unknown> {
    const c = await existingCloud(id);
    return cloudView(cloudChanged(await store.setCloudCondition(actorOf(p), c.id, condition, reason)));
  }

  function admissionView(a: Admission): Record<string, unknown> {
    return { deployment: a.deployment, placement: a.placement === null ? null : placementView(a.placement), replayed: a.replayed };
  }

  const Query = {
    viewer: guarded('viewer', (p) => Promise.resolve({ subject: p.subject, role: p.role, tenant: p.tenant, expiresAt: Number.isFinite(p.expiresAt) ? p.expiresAt : null })),
    clouds: guarded('clouds', async (_p, args) => {
      const all = await store.listClouds();
      return all
        .filter((c) => (typeof args.condition !== 'string' || c.condition === args.condition) && (typeof args.tier !== 'string' || c.tier === args.tier) && (typeof args.under !== 'string' || c.locality === args.under || c.locality.startsWith(`${args.under}/`)))
        .map(cloudView);
    }),
    cloud: guarded('cloud', async (_p, args) => {
      const c = typeof args.id === 'string' ? await store.getCloud(args.id) : null;
      return c === null ? null : cloudView(c);
    }),
    tenants: guarded('tenants', async (p, args) => {
      const under = args.under === undefined || args.under === null ? p.tenant ?? undefined : parseTenantPath(args.under, 'under');
      if (under !== undefined) requireWithin(p, under);
      return (await store.listTenants(under)).map(tenantView);
    }),
    tenant: guarded('tenant', async (p, args) => {
      const path = parseTenantPath(args.path, 'path');
      requireWithin(p, path);
      const t = await store.getTenant(path);
      return t === null ? null : tenantView(t);
    }),
    deployments: guarded('deployments', async (p, args) => {
      const first = parseFirst(args.first, deps.defaultPageSize, deps.maxPageSize);
      const under = args.tenant === undefined || args.tenant === null ? p.tenant ?? undefined : parseTenantPath(args.tenant, 'tenant');
      if (under !== undefined) requireWithin(p, under);
      const q: Parameters<Store['listDeployments']>[0] = { first };
      const query: { -readonly [K in keyof typeof q]: (typeof q)[K] } = { ...q };
      if (under !== undefined) query.under = under;
      if (typeof args.phase === 'string') query.phase = args.phase as Deployment['phase'];
      if (typeof args.cloudId === 'string') query.cloudId = args.cloudId;
      if (typeof args.after === 'string') query.after = args.after;
      const page = await store.listDeployments(query);
      return { nodes: page.items, pageInfo: { endCursor: page.nextCursor, hasNextPage: page.nextCursor !== null } };
    }),
    deployment: guarded('deployment', async (p, args) => {
      const d = typeof args.id === 'string' ? await store.getDeployment(args.id) : null;
      if (d === null) return null;
      requireWithin(p, d.tenant);
      return d;
    }),
    previewPlacement: guarded('previewPlacement', async (p, args) => {
      const spec = parseSpec(args.spec, tiers);
      requireWithin(p, spec.tenant);
      const [clouds, headroom] = await Promise.all([store.listClouds(), store.headroom(spec.tenant)]);
      const decision = previewPlanner(spec, { clouds, headroom }, []);
      const tenants = new Map<string, Tenant>();
      for (const h of headroom) {
        const t = await store.getTenant(h.tenant);
        if (t !== null) tenants.set(t.path, t);
      }
      return { explanation: explanationView(decision), quota: quotaUseView(spec, decision, headroom, tenants, new Map(clouds.map((c) => [c.id, c]))) };
    }),
    auditEvents: guarded('auditEvents', async (p, args) => {
      const first = parseFirst(args.first, deps.defaultPageSize, deps.maxPageSize);
      const q: { first: number; after?: number; objectPrefix?: string } = { first };
      if (typeof args.after === 'string') {
        if (!/^\d{1,15}$/.test(args.after)) throw new TianshuError('VALIDATION', 'after: must be a cursor returned by a previous page', { field: 'after' });
        q.after = Number(args.after);
      }
      if (typeof args.objectPrefix === 'string') q.objectPrefix = args.objectPrefix;
      if (p.tenant !== null) {
        // A scoped auditor reads the events of its own subtree's deployments (default) or tenants.
        const allowed = [`deployment/${p.tenant}/`, `tenant/${p.tenant}/`];
        const prefix = q.objectPrefix ?? allowed[0];
        if (prefix === undefined || !allowed.some((a) => prefix.startsWith(a))) {
          throw new TianshuError('FORBIDDEN', `objectPrefix must start with ${allowed.join(' or ')}`, { reason: 'tenant', tenant: p.tenant });
        }
        q.objectPrefix = prefix;
      }
      const page = await store.listAuditEvents(q);
      return { nodes: page.items, pageInfo: { endCursor: page.nextCursor, hasNextPage: page.nextCursor !== null } };
    }),
    fleetSummary: guarded('fleetSummary', async () => {
      const now = deps.now();
      if (summary !== null && deps.fleetSummaryTtlMs > 0 && now - summary.at < deps.fleetSummaryTtlMs) return summary.value;
      const value = fleetSummaryView(await store.listClouds(), tiers.scale.levels);
      summary = { at: now, value };
      return value;
    }),
  };

  const Mutation = {
    registerCloud: guarded('registerCloud', async (p, args) => cloudView(cloudChanged(await store.registerCloud(actorOf(p), parseNewCloud(args.input, tiers))))),
    updateCloud: guarded('updateCloud', async (p, args) => {
      const current = await existingCloud(args.id);
      const patch = parseCloudPatch(args.patch, current, tiers);
      const expected = typeof args.expectedVersion === 'number' ? args.expectedVersion : undefined;
      return cloudView(cloudChanged(await store.updateCloud(actorOf(p), current.id, patch, expected)));
    }),
    cordonCloud: guarded('cordonCloud', (p, args) => setCondition(p, args.id, 'Cordoned', parseReason(args.reason, 'cordoned by operator'))),
    uncordonCloud: guarded('uncordonCloud', (p, args) => setCondition(p, args.id, 'Ready', 'uncordoned')),
    drainCloud: guarded('drainCloud', (p, args) => setCondition(p, args.id, 'Draining', parseReason(args.reason, 'drained by operator'))),
    removeCloud: guarded('removeCloud', async (p, args) => {
      const c = await existingCloud(args.id);
      await store.removeCloud(actorOf(p), c.id);
      return c.id;
    }),
    createTenant: guarded('createTenant', async (p, args) => {
      const path = parseTenantPath(args.path, 'path');
      requireAdministers(p, path);
      const displayName = typeof args.displayName === 'string' && args.displayName.length > 0 ? args.displayName.slice(0, 200) : path;
      const quota = args.quota === undefined || args.quota === null ? undefined : parseQuota(args.quota, tiers);
      return tenantView(await store.createTenant(actorOf(p), path, displayName, quota));
    }),
    setQuota: guarded('setQuota', async (p, args) => {
      const path = parseTenantPath(args.path, 'path');
      requireAdministers(p, path);
      return tenantView(await store.setQuota(actorOf(p), path, parseQuota(args.quota, tiers)));
    }),
    requestDeployment: guarded('requestDeployment', async (p, args) => {
      const spec = parseSpec(args.spec, tiers);
      requireWithin(p, spec.tenant);
      const key = parseIdempotencyKey(args.idempotencyKey);
      const admission = await store.admitDeployment(actorOf(p), spec, planner, {
        ...(key === undefined ? {} : { idempotencyKey: key }),
        onUnschedulable: args.queueIfUnschedulable === true ? 'pending' : 'reject',
      });
      if (!admission.replayed) publishAdmission(events, 'ADMITTED', admission.deployment, deps.now());
      return admissionView(admission);
    }),
    scaleDeployment: guarded('scaleDeployment', async (p, args) => {
      const d = await visibleDeployment(p, args.id);
      const admission = await store.scaleDeployment(actorOf(p), d.id, parseReplicas(args.replicas), planner);
      publishAdmission(events, 'SCALED', admission.deployment, deps.now());
      return admissionView(admission);
    }),
    deleteDeployment: guarded('deleteDeployment', async (p, args) => {
      const d = await visibleDeployment(p, args.id);
      const deleted = await store.deleteDeployment(actorOf(p), d.id);
      publishAdmission(events, 'DELETING', deleted, deps.now());
      return deleted;
    }),
  };

  const subscribeGuard = guarded('deploymentEvents', (p, args) => {
    let under = p.tenant;
    if (typeof args.tenant === 'string') {
      const t = parseTenantPath(args.tenant, 'tenant');
      requireWithin(p, t);
      under = t;
    }
    return Promise.resolve(events.iterate({ under, ...(typeof args.deploymentId === 'string' ? { deploymentId: args.deploymentId } : {}) }));
  });

  const Subscription = {
    deploymentEvents: {
      subscribe: async (root: unknown, args: Args, ctx: ApiContext) => {
        try {
          return await subscribeGuard(root, args, ctx);
        } catch (e) {
          throw asGraphQLError(e, deps.production);
        }
      },
      resolve: (event: DeploymentEvent) => event,
    },
  };

  const Deployment = {
    replicas: (d: Deployment) => d.spec.replicas,
    placement: async (d: Deployment) => {
      const p = await store.getPlacement(d.id);
      return p === null ? null : placementView(p);
    },
  };

  const Tenant = {
    children: async (t: { path: string }) => (await store.listTenants(t.path)).filter((c) => parentOf(c.path) === t.path && isWithinTenant(c.path, t.path)).map(tenantView),
  };

  return { Query, Mutation, Subscription, Deployment, Tenant };
}
