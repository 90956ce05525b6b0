/**
 * Identity: bearer JWTs verified with `jose`, algorithms, issuer and audience pinned, with a clock
 * tolerance. Development signs with an HS256 secret generated on first start and kept (0600) in the
 * data directory; production verifies against an OIDC issuer's JWKS.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import type { JWTPayload, JWTVerifyGetKey } from 'jose';
import { TianshuError } from '../domain/errors.js';
import { isTenantPath } from '../domain/tenant.js';
import type { TenantPath } from '../domain/tenant.js';

/** The roles a token may carry. */
export const ROLES = ['operator', 'tenant-admin', 'tenant-user', 'sre', 'auditor'] as const;
/** One role. */
export type Role = (typeof ROLES)[number];

/** Roles that must carry a tenant claim: their every action is scoped to that subtree. */
export const TENANT_ROLES: ReadonlySet<Role> = new Set<Role>(['tenant-admin', 'tenant-user']);

/** An authenticated caller. `tenant` null means fleet-wide. */
export interface Principal {
  readonly subject: string;
  readonly role: Role;
  readonly tenant: TenantPath | null;
  /** Token expiry, seconds since the epoch. */
  readonly expiresAt: number;
}

/** Verifies a bearer token; throws UNAUTHENTICATED (with `reason`) when it is not acceptable. */
export interface Authenticator {
  verify(token: string): Promise<Principal>;
}

/** Claim names and time tolerance shared by both verifiers. */
export interface ClaimOptions {
  readonly roleClaim: string;
  readonly tenantClaim: string;
  readonly clockToleranceSeconds: number;
}

function unauthenticated(reason: string, cause?: unknown): TianshuError {
  return new TianshuError('UNAUTHENTICATED', `invalid token: ${reason}`, { reason }, cause === undefined ? {} : { cause });
}

/** Maps a verified payload onto a {@link Principal}, refusing unknown roles and missing tenant claims. */
export function principalFromClaims(payload: JWTPayload, claims: Pick<ClaimOptions, 'roleClaim' | 'tenantClaim'>): Principal {
  const subject = payload.sub;
  if (typeof subject !== 'string' || subject === '') throw unauthenticated('missing sub claim');
  const role = payload[claims.roleClaim];
  if (typeof role !== 'string' || !(ROLES as readonly string[]).includes(role)) throw unauthenticated(`claim "${claims.roleClaim}" must be one of ${ROLES.join(', ')}`);
  const tenant = payload[claims.tenantClaim];
  if (tenant !== undefined && tenant !== null && (typeof tenant !== 'string' || !isTenantPath(tenant))) {
    throw unauthenticated(`claim "${claims.tenantClaim}" must be a tenant path`);
  }
  const r = role as Role;
  if (TENANT_ROLES.has(r) && typeof tenant !== 'string') throw unauthenticated(`role ${r} needs a "${claims.tenantClaim}" claim`);
  return Object.freeze({ subject, role: r, tenant: typeof tenant === 'string' ? tenant : null, expiresAt: typeof payload.exp === 'number' ? payload.exp : Number.POSITIVE_INFINITY });
}

function reasonOf(e: unknown): string {
  if (e instanceof joseErrors.JWTExpired) return 'expired';
  if (e instanceof joseErrors.JWTClaimValidationFailed) return `claim ${e.claim} ${e.reason}`;
  if (e instanceof joseErrors.JOSEAlgNotAllowed) return 'algorithm not allowed';
  if (e instanceof joseErrors.JWSSignatureVerificationFailed) return 'signature verification failed';
  if (e instanceof joseErrors.JWSInvalid || e instanceof joseErrors.JWTInvalid) return 'malformed';
  if (e instanceof joseErrors.JWKSNoMatchingKey) return 'no matching key';
  if (e instanceof joseErrors.JOSEError) return e.code;
  return 'unverifiable';
}

/** Options of {@link createJwtAuthenticator}. */
export interface JwtAuthenticatorOptions extends ClaimOptions {
  readonly key: Uint8Array | JWTVerifyGetKey;
  readonly issuer: string;
  readonly audience: string;
  readonly algorithms: readonly string[];
  /** Verified tokens are remembered (up to their expiry) so hot clients skip re-verification. */
  readonly cacheSize?: number;
  readonly now?: () => number;
}

/**
 * A JWT verifier with pinned algorithms, issuer and audience. Verified tokens are cached by their
 * exact text until expiry (bounded), which keeps per-request cost flat under load.
 */
export function createJwtAuthenticator(options: JwtAuthenticatorOptions): Authenticator {
  const cache = new Map<string, Principal>();
  const cacheSize = options.cacheSize ?? 10_000;
  const now = options.now ?? (() => Date.now());
  const verifyOptions = {
    issuer: options.issuer,
    audience: options.audience,
    algorithms: [...options.algorithms],
    clockTolerance: options.clockToleranceSeconds,
    requiredClaims: ['exp', 'sub'],
  };
  return {
    async verify(token: string): Promise<Principal> {
      const hit = cache.get(token);
      if (hit !== undefined) {
        if (hit.expiresAt + options.clockToleranceSeconds > now() / 1000) return hit;
        cache.delete(token);
      }
      if (token.length > 8192) throw unauthenticated('too long');
      let payload: JWTPayload;
      try {
        const key = options.key;
        payload = (typeof key === 'function' ? await jwtVerify(token, key, verifyOptions) : await jwtVerify(token, key, verifyOptions)).payload;
      } catch (e) {
        throw unauthenticated(reasonOf(e), e);
      }
      const principal = principalFromClaims(payload, options);
      if (cache.size >= cacheSize) cache.clear();
      cache.set(token, principal);
      return principal;
    },
  };
}

/** Options of {@link createOidcAuthenticator}. */
export interface OidcOptions extends ClaimOptions {
  readonly issuer: string;
  readonly audience: string;
  readonly jwksUrl: string;
  readonly algorithms: readonly string[];
}

/** Production verification against an OIDC issuer's JWKS (fetched and cached by `jose`). */
export function createOidcAuthenticator(options: OidcOptions): Authenticator {
  return createJwtAuthenticator({ ...options, key: createRemoteJWKSet(new URL(options.jwksUrl)) });
}

/**
 * Reads the development HS256 secret from `file`, generating 32 random bytes on first use; the
 * file is created with mode 0600 (and its directory with 0700).
 */
export function ensureDevSecret(file: string): Uint8Array {
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    writeFileSync(file, randomBytes(32).toString('base64url') + '\n', { mode: 0o600, flag: 'wx' });
  }
  chmodSync(file, 0o600);
  const text = readFileSync(file, 'utf8').trim();
  if (text.length < 32) throw new TianshuError('VALIDATION', `auth.devSecretFile: ${file} holds a secret shorter than 32 characters`, { field: 'auth.devSecretFile' });
  return new TextEncoder().encode(text);
}

/** Options of {@link mintDevToken}. */
export interface MintOptions {
  readonly secret: Uint8Array;
  readonly issuer: string;
  readonly audience: string;
  readonly role: Role;
  readonly tenant?: TenantPath | null;
  readonly subject?: string;
  /** Lifetime, e.g. `1h`, `30m`, `7d` (jose time span). */
  readonly ttl?: string;
  readonly roleClaim?: string;
  readonly tenantClaim?: string;
}

/** Mints a development token signed with the HS256 secret. */
export async function mintDevToken(options: MintOptions): Promise<string> {
  const claims: JWTPayload = { [options.roleClaim ?? 'role']: options.role };
  if (options.tenant !== undefined && options.tenant !== null) claims[options.tenantClaim ?? 'tenant'] = options.tenant;
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(options.subject ?? `dev-${options.role}${options.tenant ? `@${options.tenant}` : ''}`)
    .setIssuer(options.issuer)
    .setAudience(options.audience)
    .setIssuedAt()
    .setExpirationTime(options.ttl ?? '12h')
    .sign(options.secret);
}

/** The bearer token of an `Authorization` header value, or null when absent; malformed headers throw UNAUTHENTICATED. */
export function bearerToken(header: unknown): string | null {
  if (header === undefined || header === null || header === '') return null;
  if (typeof header !== 'string') throw unauthenticated('malformed Authorization header');
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (m?.[1] === undefined) throw unauthenticated('Authorization must be "Bearer <token>"');
  return m[1];
}
