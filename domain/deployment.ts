/**
 * Deployment: what an agency asks for (the spec), and the record of it as it moves through its
 * phases. The spec schema is the single source of validation for every entry point (GraphQL,
 * config files, the CLI).
 */
import { z } from 'zod';
import { isLocalityPath } from './locality.js';
import type { Resources } from './resources.js';
import { isTenantPath } from './tenant.js';
import type { TenantPath } from './tenant.js';
import type { Tiers } from './tiers.js';
import { parseWith } from './validation.js';
import { TianshuError } from './errors.js';

/** Placement strategies; each sets the weights of the scorers. */
export const STRATEGIES = ['binpack', 'spread', 'cost', 'locality'] as const;
/** One placement strategy. */
export type Strategy = (typeof STRATEGIES)[number];

/** Deployment phases. */
export const PHASES = ['Pending', 'Scheduled', 'Deploying', 'Running', 'Degraded', 'Failed', 'Deleting'] as const;
/** One deployment phase. */
export type Phase = (typeof PHASES)[number];

const name = z.string().regex(/^[a-z0-9]([a-z0-9-]{0,51}[a-z0-9])?$/, 'must be a DNS label: lower-case letters, digits and dashes, at most 53 characters');
const tenantPath = z.string().refine(isTenantPath, 'must be a tenant path such as gd/sz/health');
const localityPath = z.string().refine(isLocalityPath, 'must be a locality path such as cn/gd/sz (lower-case segments)');
const labelKey = z.string().regex(/^[A-Za-z0-9]([A-Za-z0-9._/-]{0,252})$/, 'must be a label key');
const nonNegInt = z.number().int('must be a whole number').nonnegative('must not be negative');

/** Per-replica resources; at least one must be positive. */
const perReplica = z
  .object({
    cpu: nonNegInt.max(1_024_000).default(0),
    memory: nonNegInt.max(16_777_216).default(0),
    gpu: nonNegInt.max(64).default(0),
  })
  .strict()
  .refine((r) => r.cpu > 0 || r.memory > 0 || r.gpu > 0, 'must request at least one of cpu, memory or gpu');

const workload = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('container'), image: z.string().min(1).max(512) }).strict(),
  z.object({ kind: z.literal('vm'), image: z.string().min(1).max(512), instanceType: z.string().min(1).max(64).optional() }).strict(),
]);

const labelExpression = z
  .object({
    key: labelKey,
    operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']),
    values: z.array(z.string().max(63)).max(32).default([]),
  })
  .strict()
  .refine((e) => (e.operator === 'In' || e.operator === 'NotIn' ? e.values.length > 0 : e.values.length === 0), {
    message: 'In and NotIn need values; Exists and DoesNotExist take none',
    path: ['values'],
  });

const toleration = z
  .object({
    key: labelKey,
    operator: z.enum(['Equal', 'Exists']).default('Equal'),
    value: z.string().max(63).default(''),
    effect: z.enum(['NoSchedule', 'PreferNoSchedule']).optional(),
  })
  .strict();

/** The zod schema of a deployment spec, before tier checks (which need the configured scale). */
export const DeploymentSpecSchema = z
  .object({
    tenant: tenantPath,
    name,
    workload,
    replicas: nonNegInt.max(10_000),
    resources: perReplica,
    minTier: z.string().min(1),
    residency: z.array(localityPath).max(32).default([]),
    localityPreference: localityPath.optional(),
    spread: z
      .object({
        minClouds: z.number().int('must be a whole number').min(1, 'must be at least 1').max(1000).default(1),
        maxReplicasPerCloud: z.number().int('must be a whole number').min(1, 'must be at least 1').optional(),
        topology: z.enum(['cloud', 'zone']).default('cloud'),
      })
      .strict()
      .default({ minClouds: 1, topology: 'cloud' }),
    requiredAttributes: z
      .object({ arch: z.string().min(1).max(32).optional(), xinchuang: z.boolean().optional(), gpuModel: z.string().min(1).max(64).optional() })
      .strict()
      .default({}),
    labelSelector: z.array(labelExpression).max(32).default([]),
    tolerations: z.array(toleration).max(32).default([]),
    strategy: z.enum(STRATEGIES).default('binpack'),
    priority: z.number().int().min(0).max(1000).default(0),
    allowPreemption: z.boolean().default(false),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.replicas > 0 && s.spread.minClouds > s.replicas) {
      ctx.addIssue({ code: 'custom', path: ['spread', 'minClouds'], message: `must not exceed replicas (${s.replicas})` });
    }
    if (s.workload.kind === 'vm' && s.resources.gpu > 0 && s.workload.instanceType === undefined) {
      // A GPU VM is sized by an explicit instance type; guessing one silently would surprise billing.
      ctx.addIssue({ code: 'custom', path: ['workload', 'instanceType'], message: 'is required for vm workloads that request gpu' });
    }
  });

/** A validated deployment spec. */
export type DeploymentSpec = z.output<typeof DeploymentSpecSchema>;
/** The input shape of a deployment spec (defaults not yet applied). */
export type DeploymentSpecInput = z.input<typeof DeploymentSpecSchema>;
/** One label expression of a spec. */
export type LabelExpression = DeploymentSpec['labelSelector'][number];
/** One toleration of a spec. */
export type Toleration = DeploymentSpec['tolerations'][number];

/**
 * Validates a spec against the schema and the configured tier scale; throws a VALIDATION
 * {@link TianshuError} naming the field.
 */
export function parseDeploymentSpec(input: unknown, tiers: Tiers, root = ''): DeploymentSpec {
  const spec = parseWith(DeploymentSpecSchema, input, root);
  if (!tiers.has(spec.minTier)) {
    const field = root === '' ? 'minTier' : `${root}.minTier`;
    throw new TianshuError('VALIDATION', `${field}: unknown tier "${spec.minTier}" (known: ${tiers.scale.levels.join(', ')})`, { field });
  }
  return Object.freeze(spec);
}

/** What one replica consumes: its resources, plus one instance for a VM. */
export function demandPerReplica(spec: Pick<DeploymentSpec, 'resources' | 'workload'>): Resources {
  return {
    cpu: spec.resources.cpu,
    memory: spec.resources.memory,
    gpu: spec.resources.gpu,
    instances: spec.workload.kind === 'vm' ? 1 : 0,
  };
}

/** One slice of a placement: some replicas of a deployment on one cloud. */
export interface PlacementSlice {
  readonly cloudId: string;
  readonly replicas: number;
}

/** A deployment as stored. */
export interface Deployment {
  readonly id: string;
  readonly tenant: TenantPath;
  readonly name: string;
  readonly spec: DeploymentSpec;
  /** Bumped whenever the spec (e.g. replicas) changes. */
  readonly generation: number;
  readonly phase: Phase;
  /** The current placement; empty while Pending or after deletion. */
  readonly slices: readonly PlacementSlice[];
  /** A human-readable reason for the current phase (the counted explanation when Degraded/Pending). */
  readonly message: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly version: number;
}
