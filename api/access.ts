/**
 * Access policy: which roles may call each GraphQL operation, and the tenant-subtree scoping every
 * read, write and subscription obeys. One table ({@link OPERATIONS}) lists every root field; the
 * access-matrix test walks the schema and fails on a field missing here.
 */
import { TianshuError } from '../domain/errors.js';
import { isWithinTenant } from '../domain/tenant.js';
import type { TenantPath } from '../domain/tenant.js';
import type { Actor } from '../store/store.js';
import { ROLES } from './auth.js';
import type { Principal, Role } from './auth.js';

/** The authentication outcome of one request or WebSocket connection. */
export interface AuthState {
  readonly principal: Principal | null;
  /** Why a presented credential was refused (malformed, expired, wrong issuer…); null when none was presented or it was fine. */
  readonly error: TianshuError | null;
}

/** No credentials presented. */
export const ANONYMOUS: AuthState = Object.freeze({ principal: null, error: null });

const ALL = ROLES;
const TENANT_WRITERS: readonly Role[] = ['operator', 'tenant-admin', 'tenant-user'];

/** Every root operation: its kind and the roles allowed to call it (scoping applies on top). */
export const OPERATIONS = {
  // queries
  viewer: { kind: 'query', roles: ALL },
  clouds: { kind: 'query', roles: ALL },
  cloud: { kind: 'query', roles: ALL },
  tenants: { kind: 'query', roles: ALL },
  tenant: { kind: 'query', roles: ALL },
  deployments: { kind: 'query', roles: ALL },
  deployment: { kind: 'query', roles: ALL },
  previewPlacement: { kind: 'query', roles: ['operator', 'tenant-admin', 'tenant-user', 'sre'] },
  auditEvents: { kind: 'query', roles: ['operator', 'auditor'] },
  fleetSummary: { kind: 'query', roles: ALL },
  // mutations
  registerCloud: { kind: 'mutation', roles: ['operator'] },
  updateCloud: { kind: 'mutation', roles: ['operator'] },
  cordonCloud: { kind: 'mutation', roles: ['operator', 'sre'] },
  uncordonCloud: { kind: 'mutation', roles: ['operator', 'sre'] },
  drainCloud: { kind: 'mutation', roles: ['operator', 'sre'] },
  removeCloud: { kind: 'mutation', roles: ['operator'] },
  createTenant: { kind: 'mutation', roles: ['operator', 'tenant-admin'] },
  setQuota: { kind: 'mutation', roles: ['operator', 'tenant-admin'] },
  requestDeployment: { kind: 'mutation', roles: TENANT_WRITERS },
  scaleDeployment: { kind: 'mutation', roles: TENANT_WRITERS },
  deleteDeployment: { kind: 'mutation', roles: TENANT_WRITERS },
  // subscriptions
  deploymentEvents: { kind: 'subscription', roles: ALL },
} as const satisfies Record<string, { kind: 'query' | 'mutation' | 'subscription'; roles: readonly Role[] }>;

/** The name of a root operation. */
export type OperationName = keyof typeof OPERATIONS;

/**
 * The principal allowed to run `op`, or a thrown UNAUTHENTICATED (no or bad credentials) or
 * FORBIDDEN (role not allowed).
 */
export function authorize(auth: AuthState, op: OperationName): Principal {
  if (auth.error !== null) throw auth.error;
  const p = auth.principal;
  if (p === null) throw new TianshuError('UNAUTHENTICATED', 'a bearer token is required', { reason: 'missing token' });
  const allowed: readonly Role[] = OPERATIONS[op].roles;
  if (!allowed.includes(p.role)) {
    throw new TianshuError('FORBIDDEN', `role ${p.role} may not call ${op}`, { reason: 'role', required: allowed });
  }
  return p;
}

/** Throws FORBIDDEN unless `tenant` lies in the principal's subtree (fleet-wide principals see all). */
export function requireWithin(p: Principal, tenant: TenantPath): void {
  if (p.tenant !== null && !isWithinTenant(tenant, p.tenant)) {
    throw new TianshuError('FORBIDDEN', `${tenant} is outside your tenant ${p.tenant}`, { reason: 'tenant', tenant });
  }
}

/**
 * Throws FORBIDDEN unless the principal may administer `tenant` (create it, set its quota):
 * operators anywhere; a tenant admin only strictly below its own node, so it can split its quota
 * among children but never raise its own.
 */
export function requireAdministers(p: Principal, tenant: TenantPath): void {
  if (p.role === 'operator' && p.tenant === null) return;
  const own = p.tenant;
  if (own === null || tenant === own || !isWithinTenant(tenant, own)) {
    throw new TianshuError('FORBIDDEN', `${p.role} ${own ?? ''} may administer only tenants beneath its own`.replace('  ', ' '), { reason: 'tenant', tenant });
  }
}

/** The subtree a principal's reads are narrowed to; null for fleet-wide. */
export function scopeOf(p: Principal): TenantPath | null {
  return p.tenant;
}

/** The store actor for a principal (or the anonymous caller of a denied write). */
export function actorOf(p: Principal | null): Actor {
  return p === null ? { subject: 'anonymous', role: 'none', tenant: null } : { subject: p.subject, role: p.role, tenant: p.tenant };
}
