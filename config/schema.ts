/**
 * The configuration schema: one strict zod object for the whole service, plus the cloud and
 * quota input schemas that the GraphQL API reuses, so a cloud declared in a config file and one
 * registered through `registerCloud` are validated by the same rules.
 */
import { OrchestratorConfigSchema } from '../orchestrator/config.js';
import { ADAPTERS } from '../providers/registry.js';
import { z } from 'zod';
import { CLOUD_CONDITIONS, PROVIDER_KINDS, TAINT_EFFECTS } from '../domain/cloud.js';
import { isLocalityPath } from '../domain/locality.js';
import { RESOURCE_NAMES } from '../domain/resources.js';
import { isTenantPath } from '../domain/tenant.js';
import { TIER_PRESETS } from '../domain/tiers.js';

const nonNeg = z.number().int('must be a whole number').nonnegative('must not be negative');
const localityPath = z.string().refine(isLocalityPath, 'must be a locality path such as cn/gd/sz (lower-case segments)');
const tenantPath = z.string().refine(isTenantPath, 'must be a tenant path such as gd/sz/health');
const cloudId = z.string().regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'must be a DNS label: lower-case letters, digits and dashes');

/** An amount of every accounted resource; missing names are zero. */
export const ResourcesSchema = z
  .object({ cpu: nonNeg.default(0), memory: nonNeg.default(0), gpu: nonNeg.default(0), instances: nonNeg.default(0) })
  .strict();

/** Per-resource limits; a missing resource is unlimited. */
export const LimitsSchema = z.object(Object.fromEntries(RESOURCE_NAMES.map((r) => [r, nonNeg.optional()])) as Record<(typeof RESOURCE_NAMES)[number], z.ZodOptional<typeof nonNeg>>).strict();

/** A tenant quota: a total and optional per-tier limits. */
export const QuotaSchema = z
  .object({ total: LimitsSchema.default({}), byTier: z.record(z.string().min(1).max(32), LimitsSchema).default({}) })
  .strict();

/** Cloud attributes a workload may require. */
export const CloudAttributesSchema = z
  .object({
    arch: z.string().min(1).max(32).default('amd64'),
    xinchuang: z.boolean().default(false),
    gpuModel: z.string().min(1).max(64).nullable().default(null),
    labels: z.record(z.string().min(1).max(253), z.string().max(63)).default({}),
  })
  .strict();

/** A taint on a cloud. */
export const TaintSchema = z.object({ key: z.string().min(1).max(253), value: z.string().max(63).default(''), effect: z.enum(TAINT_EFFECTS) }).strict();

/**
 * A cloud as an operator declares it (config file or `registerCloud`); the tier is checked against
 * the configured scale separately, because the scale is itself configuration.
 */
export const CloudSpecSchema = z
  .object({
    id: cloudId,
    kind: z.enum(PROVIDER_KINDS).default('simulated'),
    locality: localityPath,
    zone: z.string().min(1).max(63).default('default'),
    tier: z.string().min(1).max(32),
    tierExclusive: z.boolean().default(false),
    attributes: CloudAttributesSchema.default({ arch: 'amd64', xinchuang: false, gpuModel: null, labels: {} }),
    taints: z.array(TaintSchema).max(32).default([]),
    capacity: ResourcesSchema,
    costPerUnit: ResourcesSchema.default({ cpu: 0, memory: 0, gpu: 0, instances: 0 }),
    condition: z.enum(CLOUD_CONDITIONS).default('Ready'),
    connection: z.record(z.string(), z.unknown()).default({}),
  })
  .strict()
  // The connection is checked by the adapter of the cloud's kind, so a cloud is never registered
  // with settings its provider would refuse later (the error names e.g. `connection.latencyMs`).
  .superRefine((c, ctx) => {
    const parsed = ADAPTERS[c.kind].schema.safeParse(c.connection);
    if (parsed.success) return;
    for (const issue of parsed.error.issues) ctx.addIssue({ code: 'custom', path: ['connection', ...issue.path], message: issue.message });
  });

/** A validated cloud declaration. */
export type CloudSpec = z.output<typeof CloudSpecSchema>;

/** A tenant declared in configuration. */
export const TenantSpecSchema = z
  .object({ path: tenantPath, displayName: z.string().min(1).max(200).optional(), quota: QuotaSchema.optional() })
  .strict();

/** A validated tenant declaration. */
export type TenantSpec = z.output<typeof TenantSpecSchema>;

const tierScale = z.union([
  z.object({ preset: z.enum(Object.keys(TIER_PRESETS) as [string, ...string[]]) }).strict(),
  z.object({ name: z.string().min(1).max(32), levels: z.array(z.string().min(1).max(32)).min(1).max(32) }).strict(),
]);

const oidc = z
  .object({
    issuer: z.string().url('must be a URL'),
    audience: z.string().min(1),
    jwksUrl: z.string().url('must be a URL'),
    algorithms: z.array(z.enum(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'])).min(1).default(['RS256', 'ES256']),
  })
  .strict();

/** The whole service configuration. */
export const ConfigSchema = z
  .object({
    listen: z
      .object({ host: z.string().min(1).default('127.0.0.1'), port: z.number().int().min(0).max(65535).default(4000) })
      .strict()
      .default({ host: '127.0.0.1', port: 4000 }),
    mode: z.enum(['development', 'production']).default('development'),
    dataDir: z.string().min(1).default('./data'),
    database: z
      .object({ url: z.string().min(1).optional() })
      .strict()
      .default({}),
    tiers: tierScale.default({ preset: 'mlps' }),
    auth: z
      .object({
        /** Development only: the HS256 secret file; default `<dataDir>/dev-jwt-secret`. */
        devSecretFile: z.string().min(1).optional(),
        devIssuer: z.string().min(1).default('tianshu-dev'),
        devAudience: z.string().min(1).default('tianshu'),
        oidc: oidc.optional(),
        clockToleranceSeconds: z.number().int().min(0).max(600).default(30),
        roleClaim: z.string().min(1).default('role'),
        tenantClaim: z.string().min(1).default('tenant'),
      })
      .strict()
      .default({ devIssuer: 'tianshu-dev', devAudience: 'tianshu', clockToleranceSeconds: 30, roleClaim: 'role', tenantClaim: 'tenant' }),
    limits: z
      .object({
        depth: z.number().int().min(2).max(64).default(10),
        aliases: z.number().int().min(0).max(1000).default(15),
        cost: z.number().int().min(1).default(10_000),
        maxPageSize: z.number().int().min(1).max(100).default(100),
        defaultPageSize: z.number().int().min(1).max(100).default(20),
        bodyLimitBytes: z.number().int().min(1024).default(1_048_576),
        ratePerMinute: z.number().int().min(1).default(1200),
      })
      .strict()
      .default({ depth: 10, aliases: 15, cost: 10_000, maxPageSize: 100, defaultPageSize: 20, bodyLimitBytes: 1_048_576, ratePerMinute: 1200 }),
    clouds: z.array(CloudSpecSchema).default([]),
    tenants: z.array(TenantSpecSchema).default([]),
    demo: z.object({ enabled: z.boolean().default(true) }).strict().default({ enabled: true }),
    /** Reconcile, probe, failover, drain and lease timings (see orchestrator/README.md). */
    orchestrator: OrchestratorConfigSchema.prefault({}),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.mode === 'production' && c.auth.oidc === undefined) {
      ctx.addIssue({ code: 'custom', path: ['auth', 'oidc'], message: 'is required in production mode (issuer, audience, jwksUrl)' });
    }
    if ('levels' in c.tiers && new Set(c.tiers.levels).size !== c.tiers.levels.length) {
      ctx.addIssue({ code: 'custom', path: ['tiers', 'levels'], message: 'must be distinct' });
    }
    if (c.limits.defaultPageSize > c.limits.maxPageSize) {
      ctx.addIssue({ code: 'custom', path: ['limits', 'defaultPageSize'], message: `must not exceed maxPageSize (${c.limits.maxPageSize})` });
    }
    const levels = 'levels' in c.tiers ? c.tiers.levels : (TIER_PRESETS[c.tiers.preset]?.levels ?? []);
    const seen = new Set<string>();
    c.clouds.forEach((cloud, i) => {
      if (!levels.includes(cloud.tier)) {
        ctx.addIssue({ code: 'custom', path: ['clouds', i, 'tier'], message: `unknown tier "${cloud.tier}" (known: ${levels.join(', ')})` });
      }
      if (seen.has(cloud.id)) ctx.addIssue({ code: 'custom', path: ['clouds', i, 'id'], message: `duplicate cloud id "${cloud.id}"` });
      seen.add(cloud.id);
    });
    const paths = new Set(c.tenants.map((t) => t.path));
    c.tenants.forEach((t, i) => {
      const parent = t.path.includes('/') ? t.path.slice(0, t.path.lastIndexOf('/')) : null;
      if (parent !== null && !paths.has(parent)) {
        ctx.addIssue({ code: 'custom', path: ['tenants', i, 'path'], message: `parent tenant "${parent}" is not declared` });
      }
    });
  });

/** The input shape of the configuration file. */
export type ConfigInput = z.input<typeof ConfigSchema>;
/** The validated configuration (deep-frozen by {@link loadConfig}). */
export type Config = z.output<typeof ConfigSchema>;
