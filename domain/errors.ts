/**
 * The one error type of the service and its catalogue of stable codes. Everything thrown across a
 * boundary (GraphQL, CLI, provider adapters) is a {@link TianshuError}; {@link toTianshuError}
 * normalises anything else at that boundary.
 */

/** Stable error codes, as exposed in GraphQL `extensions.code`. */
export const ERROR_CODES = [
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'VALIDATION',
  'QUOTA_EXCEEDED',
  'UNSCHEDULABLE',
  'CONFLICT',
  'NOT_FOUND',
  'RATE_LIMITED',
  'UNAVAILABLE',
  'PROVIDER_ERROR',
  'INTERNAL',
] as const;

/** One stable error code. */
export type ErrorCode = (typeof ERROR_CODES)[number];

/** What each code means for a caller: an HTTP status for REST-ish surfaces, and whether a retry may succeed. */
export const ERROR_CATALOGUE: Readonly<Record<ErrorCode, { readonly httpStatus: number; readonly retryable: boolean; readonly summary: string }>> = {
  UNAUTHENTICATED: { httpStatus: 401, retryable: false, summary: 'no valid credentials were presented' },
  FORBIDDEN: { httpStatus: 403, retryable: false, summary: 'the principal may not do this' },
  VALIDATION: { httpStatus: 400, retryable: false, summary: 'the input is malformed' },
  QUOTA_EXCEEDED: { httpStatus: 409, retryable: false, summary: 'a tenant quota would be exceeded' },
  UNSCHEDULABLE: { httpStatus: 409, retryable: false, summary: 'no placement satisfies the request' },
  CONFLICT: { httpStatus: 409, retryable: true, summary: 'the state changed concurrently or the request conflicts with existing state' },
  NOT_FOUND: { httpStatus: 404, retryable: false, summary: 'the object does not exist' },
  RATE_LIMITED: { httpStatus: 429, retryable: true, summary: 'too many requests' },
  UNAVAILABLE: { httpStatus: 503, retryable: true, summary: 'a dependency is temporarily unavailable' },
  PROVIDER_ERROR: { httpStatus: 502, retryable: false, summary: 'a cloud provider refused the operation' },
  INTERNAL: { httpStatus: 500, retryable: false, summary: 'an unexpected error' },
};

/** Structured details carried by an error; `field` names the offending input path for VALIDATION. */
export interface ErrorDetails {
  readonly field?: string;
  readonly [key: string]: unknown;
}

/** The service's error: a stable code, a human message, structured details, and whether to retry. */
export class TianshuError extends Error {
  override readonly name = 'TianshuError';
  readonly retryable: boolean;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: ErrorDetails = {},
    options: { cause?: unknown; retryable?: boolean } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.retryable = options.retryable ?? ERROR_CATALOGUE[code].retryable;
  }
}

/** True when `e` is a {@link TianshuError}, optionally with the given code. */
export function isTianshuError(e: unknown, code?: ErrorCode): e is TianshuError {
  return e instanceof TianshuError && (code === undefined || e.code === code);
}

/** Turns anything thrown into a {@link TianshuError}; unknown errors become INTERNAL and keep their cause. */
export function toTianshuError(e: unknown): TianshuError {
  if (e instanceof TianshuError) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new TianshuError('INTERNAL', message, {}, { cause: e });
}
