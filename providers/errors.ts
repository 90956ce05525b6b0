/**
 * Translation of SDK and transport failures into the service's {@link TianshuError}, shared by the
 * adapters so that "retryable" means the same thing on every kind of cloud.
 *
 * @packageDocumentation
 */
import type { ProviderKind } from '../domain/cloud.js';
import { TianshuError } from '../domain/errors.js';

/** The two codes a provider call may fail with (plus VALIDATION at construction). */
export type ProviderErrorCode = 'UNAVAILABLE' | 'PROVIDER_ERROR';

/** Node / undici / fetch error codes that mean "could not talk to the endpoint right now". */
export const TRANSIENT_NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EHOSTDOWN',
  'EPIPE',
  'EAI_AGAIN',
  // DNS "not found" is usually a typo, but resolvers also return it during outages; a later
  // attempt costs little and the message names the host either way.
  'ENOTFOUND',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/** Error names that mean the request was abandoned after a deadline. */
const TIMEOUT_NAMES: ReadonlySet<string> = new Set(['AbortError', 'TimeoutError', 'TimeoutException']);

/**
 * The code for an HTTP status: 408, 429 and 5xx are transient; 409 is too (a concurrent writer,
 * resolved by re-reading); every other 4xx is the cloud refusing the request.
 */
export function codeForHttpStatus(status: number): ProviderErrorCode {
  if (status === 408 || status === 409 || status === 429 || status >= 500) return 'UNAVAILABLE';
  return 'PROVIDER_ERROR';
}

/** Walks `cause` chains looking for a Node-style `code` (ECONNREFUSED…) or a timeout name. */
export function networkCause(e: unknown): string | undefined {
  let cur: unknown = e;
  for (let depth = 0; depth < 6 && cur !== null && typeof cur === 'object'; depth++) {
    const rec = cur as { code?: unknown; errno?: unknown; name?: unknown; cause?: unknown; type?: unknown };
    if (typeof rec.code === 'string' && TRANSIENT_NETWORK_CODES.has(rec.code)) return rec.code;
    if (typeof rec.errno === 'string' && TRANSIENT_NETWORK_CODES.has(rec.errno)) return rec.errno;
    if (typeof rec.name === 'string' && TIMEOUT_NAMES.has(rec.name)) return 'timeout';
    // node-fetch's FetchError carries `type: 'system'` with the errno in `code`; 'request-timeout' too.
    if (rec.type === 'request-timeout') return 'timeout';
    cur = rec.cause;
  }
  return undefined;
}

/** The first line of an error's message, for compact causes. */
export function messageOf(e: unknown): string {
  const m = e instanceof Error ? e.message : typeof e === 'string' ? e : JSON.stringify(e);
  return (m ?? '').split('\n')[0] ?? '';
}

/** Details attached to every provider error. */
export interface ProviderErrorDetails {
  readonly cloudId: string;
  readonly kind: ProviderKind;
  readonly operation: string;
  /** HTTP status of the failed response, when there was one. */
  readonly httpStatus?: number;
  /** The cloud's own error code (`InvalidParameterValue`, `Forbidden`, `ECONNREFUSED`…). */
  readonly cause?: string;
  /** Attempts the adapter already made (the SDK's retries included). */
  readonly attempts?: number;
}

/** Builds a provider error whose message reads `<kind> cloud "<id>": <operation>: <reason>`. */
export function providerError(code: ProviderErrorCode, details: ProviderErrorDetails, reason: string, cause?: unknown): TianshuError {
  const message = `${details.kind} cloud "${details.cloudId}": ${details.operation}: ${reason}`;
  const clean = Object.fromEntries(Object.entries(details).filter(([, v]) => v !== undefined));
  return new TianshuError(code, message, clean, cause === undefined ? {} : { cause });
}
