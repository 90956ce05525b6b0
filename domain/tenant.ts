/**
 * Tenants: a tree of agencies (`gd` → `gd/sz` → `gd/sz/health`), each node with an optional quota
 * per resource, optionally per tier. Usage of a node is its own plus its descendants'.
 */
import type { ResourceName, Resources } from './resources.js';

/** A tenant path, slash-separated lower-case segments. */
export type TenantPath = string;

const SEGMENT = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** The deepest tenant tree Tianshu accepts. */
export const MAX_TENANT_DEPTH = 8;

/** True when `path` is a well-formed tenant path. */
export function isTenantPath(path: string): boolean {
  if (path.length === 0) return false;
  const segments = path.split('/');
  return segments.length <= MAX_TENANT_DEPTH && segments.every((s) => SEGMENT.test(s));
}

/** The path of every ancestor, root first, including `path` itself: `gd`, `gd/sz`, `gd/sz/health`. */
export function tenantLineage(path: TenantPath): TenantPath[] {
  const segments = path.split('/');
  const out: TenantPath[] = [];
  for (let i = 1; i <= segments.length; i++) out.push(segments.slice(0, i).join('/'));
  return out;
}

/** The parent path, or null for a root tenant. */
export function parentOf(path: TenantPath): TenantPath | null {
  const i = path.lastIndexOf('/');
  return i < 0 ? null : path.slice(0, i);
}

/** True when `path` is `ancestor` or lies beneath it, by whole segments. */
export function isWithinTenant(path: TenantPath, ancestor: TenantPath): boolean {
  return path === ancestor || (path.startsWith(ancestor) && path.charCodeAt(ancestor.length) === 47 /* '/' */);
}

/** A limit per resource; a missing resource is unlimited. */
export type Limits = Readonly<Partial<Record<ResourceName, number>>>;

/** A tenant's quota: a total, and optionally limits that apply only to usage on clouds of a given tier. */
export interface Quota {
  readonly total: Limits;
  readonly byTier: Readonly<Record<string, Limits>>;
}

/** No limits at all. */
export const UNLIMITED: Quota = Object.freeze({ total: Object.freeze({}), byTier: Object.freeze({}) });

/** A tenant node as stored. */
export interface Tenant {
  readonly path: TenantPath;
  readonly displayName: string;
  readonly quota: Quota;
  /** Usage of this node and all its descendants, in total and per cloud tier. */
  readonly usage: Resources;
  readonly usageByTier: Readonly<Record<string, Resources>>;
  readonly version: number;
}

/**
 * The remaining headroom of one tenant in a lineage, as the scheduler receives it: for each limited
 * resource, limit − usage (may be negative when a quota was lowered below usage).
 */
export interface Headroom {
  readonly tenant: TenantPath;
  readonly total: Limits;
  readonly byTier: Readonly<Record<string, Limits>>;
}
