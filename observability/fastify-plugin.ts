/**
 * The fastify plugin that exposes `GET /metrics` and measures the API: GraphQL request duration
 * by operation and result code, and requests refused by the rate limiter.
 *
 * Register it after mercurius (so it can attach mercurius hooks) and it instruments the whole
 * application (it is not encapsulated):
 * ```ts
 * await app.register(metricsPlugin, { metrics: deps.metrics });
 * ```
 *
 * How a GraphQL request is measured: fastify's `onRequest` notes the start; mercurius'
 * `preValidation`/`preExecution` hooks note the operation type and root fields of the parsed
 * document; `onResolution` notes the first error's code; fastify's `onResponse` observes the
 * duration. A request that never reached execution (unparsable, invalid, refused by auth or the
 * rate limiter) is still observed, with operation `unknown` (or what was parsed) and a code
 * derived from the HTTP status. Root field names label the operation rather than the client's
 * operation name: they come from the schema, so the label set stays bounded.
 *
 * @packageDocumentation
 */
import type { FastifyInstance, FastifyPluginCallback, FastifyRequest } from 'fastify';
import { Kind } from 'graphql';
import type { DocumentNode, ExecutionResult } from 'graphql';
import type { MercuriusContext } from 'mercurius';
import { ERROR_CATALOGUE, ERROR_CODES } from '../domain/errors.js';
import type { ErrorCode } from '../domain/errors.js';
import type { Metrics } from './metrics.js';

/** Options of {@link metricsPlugin}. */
export interface MetricsPluginOptions {
  readonly metrics: Pick<Metrics, 'render' | 'contentType' | 'recordGraphqlRequest' | 'recordRateLimited'>;
  /** Where the exposition is served; default `/metrics`. */
  readonly path?: string;
  /** The GraphQL endpoint, so requests that fail before mercurius' hooks are still measured; default `/graphql`. */
  readonly graphqlPath?: string;
}

/** What one request carries through the hooks. */
interface RequestState {
  readonly start: number;
  type: string;
  operation: string;
  code: string | null;
}

const KNOWN_CODES = new Set<string>(ERROR_CODES);

/** The first error's stable code: `extensions.code`, else the original error's `code`, else INTERNAL. */
export function graphqlErrorCode(errors: readonly unknown[] | undefined): string {
  const first = errors?.[0];
  if (first === undefined) return 'OK';
  if (typeof first === 'object' && first !== null) {
    const ext = (first as { extensions?: { code?: unknown } }).extensions?.code;
    if (typeof ext === 'string' && KNOWN_CODES.has(ext)) return ext;
    const original = (first as { originalError?: { code?: unknown } }).originalError?.code;
    if (typeof original === 'string' && KNOWN_CODES.has(original)) return original;
  }
  return 'INTERNAL';
}

/** The operation type and root fields (sorted, `+`-joined, at most three, then `+…`) of a document. */
export function describeOperation(document: DocumentNode, operationName?: string | null): { type: string; operation: string } {
  for (const def of document.definitions) {
    if (def.kind !== Kind.OPERATION_DEFINITION) continue;
    if (operationName && def.name?.value !== operationName) continue;
    const fields: string[] = [];
    for (const sel of def.selectionSet.selections) if (sel.kind === Kind.FIELD) fields.push(sel.name.value);
    fields.sort();
    const unique = [...new Set(fields)];
    const operation = unique.length === 0 ? 'unknown' : unique.length > 3 ? `${unique.slice(0, 3).join('+')}+…` : unique.join('+');
    return { type: def.operation, operation };
  }
  return { type: 'unknown', operation: 'unknown' };
}

/** The error code an HTTP status stands for, when nothing more specific is known. */
function codeForStatus(status: number): string {
  if (status < 400) return 'OK';
  const exact = (Object.keys(ERROR_CATALOGUE) as ErrorCode[]).find((c) => ERROR_CATALOGUE[c].httpStatus === status);
  if (exact !== undefined) return exact;
  return status >= 500 ? 'INTERNAL' : 'VALIDATION';
}

function operationNameOf(request: FastifyRequest): string | null {
  const body = request.body;
  if (typeof body === 'object' && body !== null && 'operationName' in body) {
    const name = (body).operationName;
    return typeof name === 'string' ? name : null;
  }
  return null;
}

const plugin: FastifyPluginCallback<MetricsPluginOptions> = (app: FastifyInstance, options: MetricsPluginOptions, done) => {
  const { metrics } = options;
  const path = options.path ?? '/metrics';
  const graphqlPath = options.graphqlPath ?? '/graphql';
  const states = new WeakMap<FastifyRequest, RequestState>();

  app.get(path, { config: { rateLimit: false }, logLevel: 'warn' }, async (_request, reply) => {
    const body = await metrics.render();
    return reply.header('content-type', metrics.contentType).header('cache-control', 'no-store').send(body);
  });

  app.addHook('onRequest', (request, _reply, next) => {
    states.set(request, { start: performance.now(), type: 'unknown', operation: 'unknown', code: null });
    next();
  });

  const noteOperation = (document: DocumentNode, context: MercuriusContext): void => {
    const request = context.reply.request;
    const state = states.get(request);
    if (state === undefined) return;
    const { type, operation } = describeOperation(document, operationNameOf(request));
    state.type = type;
    state.operation = operation;
  };
  const attachGraphqlHooks = (): boolean => {
    if (!app.hasDecorator('graphql')) return false;
    app.graphql.addHook('preValidation', (_schema, document, context) => {
      noteOperation(document, context);
    });
    app.graphql.addHook('preExecution', (_schema, document, context) => {
      noteOperation(document, context);
    });
    app.graphql.addHook('onResolution', (execution: ExecutionResult, context) => {
      const state = states.get(context.reply.request);
      if (state !== undefined) state.code = graphqlErrorCode(execution.errors);
    });
    return true;
  };
  // Registered after mercurius the hooks attach now; registered before, once the app is ready.
  if (!attachGraphqlHooks()) {
    app.addHook('onReady', (next) => {
      attachGraphqlHooks();
      next();
    });
  }

  app.addHook('onResponse', (request, reply, next) => {
    next();
    const state = states.get(request);
    if (state === undefined) return;
    const status = reply.statusCode;
    if (status === 429) metrics.recordRateLimited(request.routeOptions.url ?? 'unmatched');
    const url = request.routeOptions.url ?? request.url.split('?')[0];
    if (url !== graphqlPath && state.code === null && state.operation === 'unknown') return;
    // A resolver error keeps its code; an HTTP-level refusal (400, 401, 429…) is named by its status.
    let code = state.code ?? 'OK';
    if (status >= 400 && (state.code === null || state.code === 'OK')) code = codeForStatus(status);
    metrics.recordGraphqlRequest(state.type, state.operation, code, (performance.now() - state.start) / 1000);
  });
  done();
};

// Not encapsulated: the hooks must see every route of the application, as fastify-plugin would do.
(plugin as unknown as Record<symbol, unknown>)[Symbol.for('skip-override')] = true;
(plugin as unknown as Record<symbol, unknown>)[Symbol.for('fastify.display-name')] = 'tianshu-metrics';

/** The metrics plugin: `GET /metrics` plus GraphQL and rate-limit instrumentation. */
export const metricsPlugin: FastifyPluginCallback<MetricsPluginOptions> = plugin;
