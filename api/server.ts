/**
 * `buildServer(deps)`: the fastify + mercurius application, never listening (that is `bin/`'s
 * job, and tests use `app.inject()` or `listen({ port: 0 })`).
 *
 * Request path: body limit → bearer authentication (onRequest) → rate limit keyed by the token's
 * subject (or the client address) → GraphQL parse/validate with the limit rules (depth, aliases,
 * cost, introspection in production; cached per document) → resolvers → one error formatter.
 */
import type { Cloud } from '../domain/cloud.js';
import Fastify from 'fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import mercurius from 'mercurius';
import type { IResolvers } from 'mercurius';
import { gql } from './graphql.js';
import type { DocumentNode } from 'graphql';
import { TianshuError, toTianshuError } from '../domain/errors.js';
import type { Tiers } from '../domain/tiers.js';
import type { Planner, Store } from '../store/store.js';
import { ANONYMOUS } from './access.js';
import type { AuthState } from './access.js';
import { bearerToken } from './auth.js';
import type { Authenticator } from './auth.js';
import { createErrorFormatter, formatError } from './errors.js';
import type { EventBus } from './events.js';
import { limitRules } from './limits.js';
import type { QueryLimits } from './limits.js';
import { metricsPlugin } from '../observability/fastify-plugin.js';
import type { MetricsPluginOptions } from '../observability/fastify-plugin.js';
import { registerGraphiql } from './graphiql.js';
import { createResolvers } from './resolvers.js';
import type { ApiContext } from './resolvers.js';
import { SCHEMA_SDL } from './schema.js';

const { GraphQLError, parse, specifiedRules, validate } = gql;

/** The most tokens a document may have; parsing stops there (a cheap guard before validation). */
const MAX_TOKENS = 5000;

/** The API limits (a subset of the configuration's `limits`). */
export interface ApiLimits {
  readonly depth: number;
  readonly aliases: number;
  readonly cost: number;
  readonly maxPageSize: number;
  readonly defaultPageSize: number;
  readonly bodyLimitBytes: number;
  readonly ratePerMinute: number;
}

/** The metrics the HTTP layer records and serves (`observability/metrics.ts`'s `createMetrics()`). */
export type ApiMetrics = MetricsPluginOptions['metrics'];

/** Everything the server needs; nothing is read from the environment or module state. */
export interface ServerDeps {
  readonly store: Store;
  /** The scheduler's planner (`scheduler/scheduler.ts`), used for admission and scaling. */
  readonly planner: Planner;
  /** Answers `previewPlacement`; default `planner`. */
  readonly previewPlanner?: Planner;
  /** Told after a cloud's registration, update or condition change is committed. */
  readonly onCloudChanged?: (cloud: Cloud) => void;
  readonly tiers: Tiers;
  readonly authenticator: Authenticator;
  /** The in-process event bus shared with the orchestrator. */
  readonly events: EventBus;
  readonly mode: 'development' | 'production';
  readonly limits: ApiLimits;
  readonly metrics?: ApiMetrics;
  /** fastify logger option; default off. */
  readonly logger?: boolean | Record<string, unknown>;
  /** Reuse window of `fleetSummary` (ms); default 1000, 0 disables. */
  readonly fleetSummaryTtlMs?: number;
  /** GraphQL JIT after this many executions of a document (mercurius `jit`); default 1, 0 disables. */
  readonly jit?: number;
  readonly now?: () => number;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the authentication hook on every request. */
    tianshuAuth: AuthState;
    /** A POST body's GraphQL variables, taken off the body for graphql-jit alone to coerce (see below). */
    tianshuVariables: unknown;
  }
}

async function authenticate(authenticator: Authenticator, header: unknown): Promise<AuthState> {
  try {
    const token = bearerToken(header);
    if (token === null) return ANONYMOUS;
    return { principal: await authenticator.verify(token), error: null };
  } catch (e) {
    return { principal: null, error: e instanceof TianshuError ? e : new TianshuError('UNAUTHENTICATED', 'invalid token', { reason: 'unverifiable' }, { cause: e }) };
  }
}

/** The token in a WebSocket `connection_init` payload: `{ authorization }`, `{ Authorization }` or `{ headers: { authorization } }`. */
function connectionToken(payload: unknown): unknown {
  if (payload === null || typeof payload !== 'object') return undefined;
  const p = payload as Record<string, unknown>;
  const headers = (p.headers !== null && typeof p.headers === 'object' ? p.headers : p) as Record<string, unknown>;
  return headers.authorization ?? headers.Authorization;
}

/** Builds the application. Await `app.ready()` (or `inject`) before use; `app.close()` does not close the store. */
export async function buildServer(deps: ServerDeps): Promise<FastifyInstance> {
  const production = deps.mode === 'production';
  const limits: QueryLimits = { depth: deps.limits.depth, aliases: deps.limits.aliases, cost: deps.limits.cost, maxPageSize: deps.limits.maxPageSize, defaultListSize: deps.limits.defaultPageSize };
  const rules = limitRules(limits, production);
  const app = Fastify({ logger: deps.logger ?? false, bodyLimit: deps.limits.bodyLimitBytes, trustProxy: false });

  app.decorateRequest('tianshuAuth', null as unknown as AuthState);
  app.addHook('onRequest', async (request: FastifyRequest) => {
    request.tianshuAuth = await authenticate(deps.authenticator, request.headers.authorization);
  });

  await app.register(rateLimit, {
    global: false,
    max: deps.limits.ratePerMinute,
    timeWindow: 60_000,
    keyGenerator: (request: FastifyRequest) => request.tianshuAuth?.principal?.subject ?? `ip:${request.ip}`,
    errorResponseBuilder: (_request, context) => {
      const e = new TianshuError('RATE_LIMITED', `rate limit of ${context.max} requests per minute exceeded; retry in ${context.after}`, { retryAfterSeconds: Math.ceil(context.ttl / 1000) });
      return Object.assign(e, { statusCode: 429 });
    },
  });

  const formatter = createErrorFormatter({ production, onInternal: (e) => app.log.error({ err: e.cause ?? e }, e.message) });
  const resolvers = createResolvers({
    store: deps.store,
    planner: deps.planner,
    ...(deps.previewPlanner === undefined ? {} : { previewPlanner: deps.previewPlanner }),
    ...(deps.onCloudChanged === undefined ? {} : { onCloudChanged: deps.onCloudChanged }),
    tiers: deps.tiers,
    events: deps.events,
    defaultPageSize: deps.limits.defaultPageSize,
    maxPageSize: deps.limits.maxPageSize,
    fleetSummaryTtlMs: deps.fleetSummaryTtlMs ?? 1000,
    production,
    now: deps.now ?? (() => Date.now()),
  });

  if (!production) registerGraphiql(app);

  // mercurius checks the variables of every request with graphql-js (an interpreted walk over each
  // input object) before graphql-jit coerces them again in compiled code: ~5 % of an admission.
  // So a POST body's variables are taken off the body before mercurius reads it and handed back in
  // its preExecution hook; graphql-jit, or graphql-js's execute before a document is compiled,
  // coerces them once and refuses bad ones with the same coded VALIDATION error.
  app.decorateRequest('tianshuVariables', undefined);
  app.addHook('preHandler', (request: FastifyRequest, _reply, done) => {
    const body = request.body;
    if (request.method === 'POST' && body !== null && typeof body === 'object' && !Array.isArray(body)) {
      const b = body as { variables?: unknown };
      if (b.variables !== undefined && b.variables !== null) {
        request.tianshuVariables = b.variables;
        b.variables = undefined;
      }
    }
    done();
  });

  await app.register(mercurius, {
    schema: SCHEMA_SDL,
    // mercurius' resolver typing is loose (`any` sources); ours are checked in resolvers.ts.
    resolvers: resolvers as IResolvers,
    // GraphiQL is served from local assets by registerGraphiql (mercurius' page loads them from a CDN).
    graphiql: false,
    jit: deps.jit ?? 1,
    graphql: { parseOptions: { maxTokens: MAX_TOKENS } },
    validationRules: rules,
    errorFormatter: formatter,
    context: (request: FastifyRequest): ApiContext => ({ auth: request.tianshuAuth ?? ANONYMOUS }),
    additionalRouteOptions: { config: { rateLimit: {} } },
    subscription: {
      context: (_socket, request: FastifyRequest): ApiContext => ({ auth: request.tianshuAuth ?? ANONYMOUS }),
      // Authentication is by the connection_init payload; a refused token does not refuse the
      // connection, so the subscription answers with a coded UNAUTHENTICATED error instead.
      onConnect: async (data: { payload: unknown }) => {
        const token = connectionToken(data.payload);
        return token === undefined ? true : { auth: await authenticate(deps.authenticator, token) };
      },
      keepAlive: 30_000,
    },
  });

  app.graphql.addHook('preExecution', (_schema, _document, context) => {
    const variables = (context.reply as FastifyReply | undefined)?.request.tianshuVariables;
    return variables === undefined ? undefined : { variables: variables as Record<string, unknown> };
  });

  // mercurius falls back to JSON.parse for a query that fails to parse (a pre-parsed AST), so
  // "0" or "\"s\"" would reach validation as non-documents. Parse first and refuse with a coded
  // syntax error; documents that parsed before are remembered, so the hot path is one Set lookup.
  const parsed = new Set<string>();
  app.graphql.addHook('preParsing', (_schema, source: string) => {
    if (parsed.has(source)) return;
    try {
      parse(source, { maxTokens: MAX_TOKENS });
    } catch (e) {
      const f = formatError(e, { production });
      throw new GraphQLError(f.message, { extensions: f.extensions });
    }
    if (parsed.size >= 2048) parsed.clear();
    parsed.add(source);
  });

  // The WebSocket path skips mercurius' validation: apply the spec rules and our limits there too.
  app.graphql.addHook('preSubscriptionExecution', (schema, document: DocumentNode) => {
    const errors = validate(schema, document, [...specifiedRules, ...rules]);
    const first = errors[0];
    if (first !== undefined) {
      const f = formatError(first, { production });
      throw new GraphQLError(f.message, { extensions: f.extensions });
    }
  });

  // GET /metrics, and GraphQL duration by root field and result code (bounded labels: the
  // client-chosen operation name is not one).
  if (deps.metrics !== undefined) await app.register(metricsPlugin, { metrics: deps.metrics });

  // Liveness: only what a restart mends fails it (a store that is merely unreachable fails readiness).
  app.get('/healthz', async (_request, reply) => {
    const broken = deps.store.broken;
    if (broken === null) return { status: 'ok' };
    return reply.code(503).send({ status: 'broken', store: deps.store.engine, reason: production ? 'store broken' : broken.message });
  });
  app.get('/readyz', async (_request, reply) => {
    try {
      // A keyed read touches the database without scanning it.
      await deps.store.getCloud('readyz-probe');
      return { status: 'ready', store: deps.store.engine };
    } catch (e) {
      const te = toTianshuError(e);
      return reply.code(503).send({ status: 'unavailable', store: deps.store.engine, reason: production ? 'store unreachable' : te.message });
    }
  });

  return app;
}
