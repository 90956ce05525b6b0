/**
 * The GraphQL error boundary: one normaliser that turns anything thrown — a {@link TianshuError},
 * a GraphQL syntax or validation error, a fastify transport error (body too large, bad JSON, rate
 * limited), or a bug — into a GraphQL error with a stable `extensions.code` from the one catalogue
 * in `domain/errors.ts`.
 */
import { gql } from './graphql.js';
import type { ExecutionResult, FormattedExecutionResult, GraphQLFormattedError } from 'graphql';
import { ERROR_CATALOGUE, TianshuError } from '../domain/errors.js';
import type { ErrorCode } from '../domain/errors.js';

const { GraphQLError } = gql;

/**
 * How each code is exposed over GraphQL. A `Record<ErrorCode, …>`: adding a code to the catalogue
 * without deciding here is a compile error.
 *
 * - `expose`: which `details` keys reach the client (internal causes never do).
 * - `httpStatus`: the status of a response that failed before execution (no `data`).
 */
export const GRAPHQL_ERROR_MAP: Readonly<Record<ErrorCode, { readonly expose: readonly string[]; readonly httpStatus: number }>> = {
  UNAUTHENTICATED: { expose: ['reason'], httpStatus: ERROR_CATALOGUE.UNAUTHENTICATED.httpStatus },
  FORBIDDEN: { expose: ['reason', 'required', 'tenant'], httpStatus: ERROR_CATALOGUE.FORBIDDEN.httpStatus },
  VALIDATION: { expose: ['field', 'issues', 'limit', 'max', 'actual'], httpStatus: ERROR_CATALOGUE.VALIDATION.httpStatus },
  QUOTA_EXCEEDED: { expose: ['tenant', 'resource', 'tier', 'limit', 'requested', 'explanation', 'summary', 'reasonCounts', 'failure', 'overLimit'], httpStatus: ERROR_CATALOGUE.QUOTA_EXCEEDED.httpStatus },
  UNSCHEDULABLE: { expose: ['explanation', 'summary', 'reasonCounts', 'failure'], httpStatus: ERROR_CATALOGUE.UNSCHEDULABLE.httpStatus },
  CONFLICT: { expose: ['object', 'id', 'expectedVersion', 'version', 'reason'], httpStatus: ERROR_CATALOGUE.CONFLICT.httpStatus },
  NOT_FOUND: { expose: ['object'], httpStatus: ERROR_CATALOGUE.NOT_FOUND.httpStatus },
  RATE_LIMITED: { expose: ['retryAfterSeconds'], httpStatus: ERROR_CATALOGUE.RATE_LIMITED.httpStatus },
  UNAVAILABLE: { expose: [], httpStatus: ERROR_CATALOGUE.UNAVAILABLE.httpStatus },
  PROVIDER_ERROR: { expose: ['provider', 'operation'], httpStatus: ERROR_CATALOGUE.PROVIDER_ERROR.httpStatus },
  INTERNAL: { expose: [], httpStatus: ERROR_CATALOGUE.INTERNAL.httpStatus },
};

interface WithStatus {
  readonly statusCode?: unknown;
  readonly code?: unknown;
  readonly message?: unknown;
  readonly errors?: unknown;
}

/** Maps a transport-level (fastify/mercurius) error to a code by its HTTP status. */
function codeOfTransportError(e: WithStatus): ErrorCode | null {
  const status = typeof e.statusCode === 'number' ? e.statusCode : null;
  if (status === 429) return 'RATE_LIMITED';
  if (status === 401) return 'UNAUTHENTICATED';
  if (status === 403) return 'FORBIDDEN';
  if (status === 404) return 'NOT_FOUND';
  if (status !== null && status >= 400 && status < 500) return 'VALIDATION';
  if (status === 503) return 'UNAVAILABLE';
  return null;
}

/**
 * Normalises one thrown value into a {@link TianshuError}. GraphQL document errors (syntax,
 * validation, depth) and malformed requests become VALIDATION; anything unrecognised is INTERNAL.
 */
export function normaliseError(e: unknown): TianshuError {
  if (e instanceof TianshuError) return e;
  if (e instanceof GraphQLError) {
    const original = e.originalError;
    if (original instanceof TianshuError) return original;
    const code = (e.extensions as Record<string, unknown> | undefined)?.code;
    if (original === undefined || original === null) {
      // A GraphQLError without a cause comes from parsing/validation (or our own limit rules).
      const known = typeof code === 'string' && code in GRAPHQL_ERROR_MAP ? (code as ErrorCode) : 'VALIDATION';
      return new TianshuError(known, e.message, { ...((e.extensions) ?? {}) });
    }
    return normaliseError(original);
  }
  if (e !== null && typeof e === 'object') {
    const t = e as WithStatus;
    const code = codeOfTransportError(t);
    const message = typeof t.message === 'string' ? t.message : 'request failed';
    if (code !== null) return new TianshuError(code, message, {}, { cause: e });
  }
  return new TianshuError('INTERNAL', e instanceof Error ? e.message : String(e), {}, { cause: e });
}

/** Options of {@link formatError}. */
export interface FormatOptions {
  /** Hide internal messages (production). */
  readonly production: boolean;
  /** Called with every INTERNAL error so it is logged with its cause. */
  readonly onInternal?: (e: TianshuError) => void;
}

/** Formats one error for the response: message, locations, path, `extensions.code` and the exposed details. */
export function formatError(e: unknown, options: FormatOptions): GraphQLFormattedError {
  const gql = e instanceof GraphQLError ? e : null;
  const te = normaliseError(e);
  if (te.code === 'INTERNAL') options.onInternal?.(te);
  const extensions: Record<string, unknown> = { code: te.code };
  for (const key of GRAPHQL_ERROR_MAP[te.code].expose) {
    if (te.details[key] !== undefined) extensions[key] = te.details[key];
  }
  if (te.retryable) extensions.retryable = true;
  const message = te.code === 'INTERNAL' && options.production ? 'internal error' : te.message;
  const out: { message: string; locations?: GraphQLFormattedError['locations']; path?: GraphQLFormattedError['path']; extensions: Record<string, unknown> } = { message, extensions };
  if (gql?.locations !== undefined) out.locations = gql.locations;
  if (gql?.path !== undefined) out.path = gql.path;
  return out;
}

/** Flattens mercurius' wrapper errors (a validation error carrying an `errors` array) into their parts. */
function flatten(errors: readonly unknown[]): unknown[] {
  const out: unknown[] = [];
  for (const e of errors) {
    const original = e instanceof GraphQLError ? e.originalError : e;
    const wrapper = original as WithStatus | null | undefined;
    const inner = wrapper?.errors;
    if (Array.isArray(inner) && inner.length > 0) {
      // Plain errors inside a wrapper (e.g. "mutation via GET", 405) keep the wrapper's status.
      const status = wrapper?.statusCode;
      out.push(...flatten(inner.map((i: unknown) => (i instanceof GraphQLError || typeof status !== 'number' || !(i instanceof Error) ? i : Object.assign(new Error(i.message), { statusCode: status })))));
    } else out.push(e);
  }
  return out;
}

/**
 * The mercurius `errorFormatter`: every error normalised and coded. A response that executed
 * (`data` present) is 200, per GraphQL over HTTP; one refused before execution takes the status
 * of its first error's code (400 VALIDATION, 401, 413 as 400, 429, …).
 */
export function createErrorFormatter(options: FormatOptions): (execution: ExecutionResult, context: unknown) => { statusCode: number; response: FormattedExecutionResult } {
  return (execution) => {
    const raw = flatten(execution.errors ?? []);
    const errors = raw.map((e) => formatError(e, options));
    const executed = 'data' in execution && execution.data !== undefined;
    let statusCode = 200;
    if (!executed) {
      const first = errors[0]?.extensions?.code;
      statusCode = typeof first === 'string' && first in GRAPHQL_ERROR_MAP ? GRAPHQL_ERROR_MAP[first as ErrorCode].httpStatus : 400;
      // A malformed request never earns a 5xx: only a genuine bug (INTERNAL) or a dependency does.
      if (first === 'VALIDATION') statusCode = 400;
    }
    return { statusCode, response: { data: execution.data ?? null, errors } };
  };
}
