/**
 * GraphQL inputs to domain values: each input is validated by the same zod schema as every other
 * entry point (config files, the CLI), with field paths rooted at the argument name
 * (`spec.resources.cpu`, `input.tier`).
 */
import { z } from 'zod';
import type { Cloud } from '../domain/cloud.js';
import { parseDeploymentSpec } from '../domain/deployment.js';
import type { DeploymentSpec } from '../domain/deployment.js';
import { TianshuError } from '../domain/errors.js';
import { isTenantPath } from '../domain/tenant.js';
import type { Quota, TenantPath } from '../domain/tenant.js';
import type { Tiers } from '../domain/tiers.js';
import { parseWith } from '../domain/validation.js';
import type { CloudPatch, NewCloud } from '../store/store.js';
import { CloudSpecSchema, QuotaSchema } from '../config/schema.js';

/** Whether `value` holds a null anywhere (a walk that allocates nothing). */
function holdsNull(value: unknown): boolean {
  if (value === null) return true;
  if (typeof value !== 'object') return false;
  if (Array.isArray(value)) {
    for (const v of value) if (holdsNull(v)) return true;
    return false;
  }
  const obj = value as Record<string, unknown>;
  for (const k in obj) if (Object.hasOwn(obj, k) && holdsNull(obj[k])) return true;
  return false;
}

/**
 * GraphQL sends explicit nulls for omitted optional inputs; the domain schemas mean "absent".
 * Input without a null, most of it, is returned as it is (the schemas copy what they accept):
 * copying every spec cost a tenth of its validation.
 */
export function stripNulls(value: unknown): unknown {
  return holdsNull(value) ? withoutNulls(value) : value;
}

function withoutNulls(value: unknown): unknown {
  if (value === null) return undefined;
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(obj)) {
      const s = withoutNulls(obj[k]);
      if (s !== undefined) out[k] = s;
    }
    return out;
  }
  return value;
}

/** A list of `{key, value}` pairs to a record; duplicate keys are a VALIDATION error. */
function labelsToRecord(labels: unknown, field: string): unknown {
  if (!Array.isArray(labels)) return labels;
  const out: Record<string, string> = {};
  labels.forEach((l: unknown, i) => {
    const { key, value } = l as { key: string; value: string };
    if (key in out) throw new TianshuError('VALIDATION', `${field}[${i}].key: duplicate label "${key}"`, { field: `${field}[${i}].key` });
    out[key] = value;
  });
  return out;
}

function withLabels(input: Record<string, unknown>, root: string): Record<string, unknown> {
  const attrs = input.attributes as Record<string, unknown> | undefined;
  if (attrs === undefined || attrs.labels === undefined) return input;
  return { ...input, attributes: { ...attrs, labels: labelsToRecord(attrs.labels, `${root}.attributes.labels`) } };
}

function checkTier(tiers: Tiers, tier: string, field: string): void {
  if (!tiers.has(tier)) throw new TianshuError('VALIDATION', `${field}: unknown tier "${tier}" (known: ${tiers.scale.levels.join(', ')})`, { field });
}

/** `registerCloud(input:)` to a cloud ready for the store. */
export function parseNewCloud(raw: unknown, tiers: Tiers): NewCloud {
  const input = withLabels((stripNulls(raw) ?? {}) as Record<string, unknown>, 'input');
  const spec = parseWith(CloudSpecSchema, input, 'input');
  checkTier(tiers, spec.tier, 'input.tier');
  return spec;
}

const PATCH_KEYS = ['locality', 'zone', 'tier', 'tierExclusive', 'attributes', 'taints', 'capacity', 'costPerUnit', 'connection'] as const;

/**
 * `updateCloud(patch:)` to a store patch. The patch is merged onto the current cloud (attributes
 * key by key) and the result validated whole, so a patch can never produce an invalid cloud.
 */
export function parseCloudPatch(raw: unknown, current: Cloud, tiers: Tiers): CloudPatch {
  const input = withLabels((stripNulls(raw) ?? {}) as Record<string, unknown>, 'patch');
  const merged = {
    id: current.id,
    kind: current.kind,
    locality: input.locality ?? current.locality,
    zone: input.zone ?? current.zone,
    tier: input.tier ?? current.tier,
    tierExclusive: input.tierExclusive ?? current.tierExclusive,
    attributes: { ...current.attributes, ...((input.attributes as object | undefined) ?? {}) },
    taints: input.taints ?? current.taints,
    capacity: { ...current.capacity, ...((input.capacity as object | undefined) ?? {}) },
    costPerUnit: { ...current.costPerUnit, ...((input.costPerUnit as object | undefined) ?? {}) },
    condition: current.condition,
    connection: input.connection ?? current.connection,
  };
  const full = parseWith(CloudSpecSchema, merged, 'patch');
  checkTier(tiers, full.tier, 'patch.tier');
  const patch: Record<string, unknown> = {};
  for (const k of PATCH_KEYS) if (input[k] !== undefined) patch[k] = full[k];
  return patch;
}

/** A GraphQL `QuotaInput` (per-tier limits as a list) to a domain {@link Quota}. */
export function parseQuota(raw: unknown, tiers: Tiers, root = 'quota'): Quota {
  const input = (stripNulls(raw) ?? {}) as { total?: unknown; byTier?: unknown };
  const byTier: Record<string, unknown> = {};
  if (Array.isArray(input.byTier)) {
    input.byTier.forEach((entry: unknown, i) => {
      const { tier, limits } = entry as { tier: string; limits: unknown };
      const field = `${root}.byTier[${i}].tier`;
      checkTier(tiers, tier, field);
      if (tier in byTier) throw new TianshuError('VALIDATION', `${field}: duplicate tier "${tier}"`, { field });
      byTier[tier] = limits ?? {};
    });
  }
  const q = parseWith(QuotaSchema, { total: input.total ?? {}, byTier }, root);
  return q;
}

/** A deployment spec from GraphQL, validated against the schema and the tier scale. */
export function parseSpec(raw: unknown, tiers: Tiers): DeploymentSpec {
  return parseDeploymentSpec(stripNulls(raw), tiers, 'spec');
}

/** A tenant path argument; VALIDATION naming `field` when malformed. */
export function parseTenantPath(raw: unknown, field: string): TenantPath {
  if (typeof raw !== 'string' || !isTenantPath(raw)) throw new TianshuError('VALIDATION', `${field}: must be a tenant path such as gd/sz/health`, { field });
  return raw;
}

const idempotencyKey = z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/, 'must be 1–128 letters, digits, dot, dash, underscore or colon');

/** An idempotency key argument. */
export function parseIdempotencyKey(raw: unknown): string | undefined {
  if (raw === null || raw === undefined) return undefined;
  return parseWith(idempotencyKey, raw, 'idempotencyKey');
}

/** A page size: `first` between 1 and `max`, defaulting to `fallback`. */
export function parseFirst(raw: unknown, fallback: number, max: number): number {
  if (raw === null || raw === undefined) return fallback;
  if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < 1 || raw > max) {
    throw new TianshuError('VALIDATION', `first: must be between 1 and ${max}`, { field: 'first', max });
  }
  return raw;
}

/** A replica count for scaling. */
export function parseReplicas(raw: unknown): number {
  return parseWith(z.number().int('must be a whole number').min(0, 'must not be negative').max(10_000, 'must be at most 10000'), raw, 'replicas');
}

/** A short free-text reason (cordon, drain). */
export function parseReason(raw: unknown, fallback: string): string {
  if (raw === null || raw === undefined) return fallback;
  return parseWith(z.string().max(500, 'must be at most 500 characters'), raw, 'reason');
}
