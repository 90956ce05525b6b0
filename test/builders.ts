/**
 * Fluent fixture builders for tests (in the style of Kubernetes' `pkg/scheduler/testing/wrappers.go`):
 * `aCloud('sz-1').in('cn/gd/sz').tier('L3').cpu(64_000).build()`,
 * `aSpec().tenant('gd/sz').replicas(3).cpu(500).tier('L2').residency('cn/gd').build()`,
 * `headroomOf('gd', { memory: 4096 })`.
 */
import type { Cloud, CloudCondition, ProviderKind, TaintEffect } from '../domain/cloud.js';
import { parseDeploymentSpec } from '../domain/deployment.js';
import type { DeploymentSpec, DeploymentSpecInput, Strategy } from '../domain/deployment.js';
import type { ResourceName, Resources } from '../domain/resources.js';
import { resources } from '../domain/resources.js';
import type { Headroom, Limits, TenantPath } from '../domain/tenant.js';
import { Tiers } from '../domain/tiers.js';

/** The default tier scale of the builders (MLPS L1–L4). */
export const TEST_TIERS = new Tiers();

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** A fluent builder of a {@link Cloud}; every setter returns the builder. */
export class CloudBuilder {
  private readonly c: Mutable<Cloud>;
  private readonly labels: Record<string, string> = {};

  constructor(id: string) {
    this.c = {
      id,
      kind: 'kubernetes',
      locality: 'cn/gd/sz',
      zone: 'a',
      tier: 'L3',
      tierExclusive: false,
      attributes: { arch: 'amd64', xinchuang: false, gpuModel: null, labels: {} },
      taints: [],
      capacity: resources({ cpu: 64_000, memory: 262_144, gpu: 0, instances: 100 }),
      allocated: resources(),
      costPerUnit: resources({ cpu: 0.00004, memory: 0.000005, gpu: 1.5, instances: 0.01 }),
      condition: 'Ready',
      connection: {},
      version: 1,
    };
  }

  kind(kind: ProviderKind): this {
    this.c.kind = kind;
    return this;
  }
  in(locality: string): this {
    this.c.locality = locality;
    return this;
  }
  zone(zone: string): this {
    this.c.zone = zone;
    return this;
  }
  tier(tier: string): this {
    this.c.tier = tier;
    return this;
  }
  exclusive(exclusive = true): this {
    this.c.tierExclusive = exclusive;
    return this;
  }
  arch(arch: string): this {
    this.c.attributes = { ...this.c.attributes, arch };
    return this;
  }
  xinchuang(xinchuang = true): this {
    this.c.attributes = { ...this.c.attributes, xinchuang };
    return this;
  }
  /** Offers `count` GPUs of `model`. */
  gpu(model: string, count = 8): this {
    this.c.attributes = { ...this.c.attributes, gpuModel: model };
    this.c.capacity = { ...this.c.capacity, gpu: count };
    return this;
  }
  label(key: string, value: string): this {
    this.labels[key] = value;
    return this;
  }
  taint(key: string, value: string, effect: TaintEffect = 'NoSchedule'): this {
    this.c.taints = [...this.c.taints, { key, value, effect }];
    return this;
  }
  cpu(millicores: number): this {
    return this.capacity({ cpu: millicores });
  }
  memory(mib: number): this {
    return this.capacity({ memory: mib });
  }
  gpus(count: number): this {
    return this.capacity({ gpu: count });
  }
  instances(count: number): this {
    return this.capacity({ instances: count });
  }
  capacity(partial: Partial<Record<ResourceName, number>>): this {
    this.c.capacity = { ...this.c.capacity, ...partial };
    return this;
  }
  allocated(partial: Partial<Record<ResourceName, number>>): this {
    this.c.allocated = { ...this.c.allocated, ...partial };
    return this;
  }
  cost(partial: Partial<Record<ResourceName, number>>): this {
    this.c.costPerUnit = { ...this.c.costPerUnit, ...partial };
    return this;
  }
  condition(condition: CloudCondition): this {
    this.c.condition = condition;
    return this;
  }
  version(version: number): this {
    this.c.version = version;
    return this;
  }
  build(): Cloud {
    return { ...this.c, attributes: { ...this.c.attributes, labels: { ...this.labels } } };
  }
}

/** Starts a {@link CloudBuilder}: a Ready kubernetes L3 cloud in `cn/gd/sz` zone `a`, 64 cores, 256 GiB. */
export function aCloud(id = 'cloud-1'): CloudBuilder {
  return new CloudBuilder(id);
}

/** A fluent builder of a validated {@link DeploymentSpec}; `build()` goes through `parseDeploymentSpec`. */
export class SpecBuilder {
  private readonly s: {
    tenant: string;
    name: string;
    workload: DeploymentSpecInput['workload'];
    replicas: number;
    resources: { cpu?: number; memory?: number; gpu?: number };
    minTier: string;
    residency: string[];
    localityPreference?: string;
    spread: { minClouds?: number; maxReplicasPerCloud?: number; topology?: 'cloud' | 'zone' };
    requiredAttributes: { arch?: string; xinchuang?: boolean; gpuModel?: string };
    labelSelector: { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values: string[] }[];
    tolerations: { key: string; operator: 'Equal' | 'Exists'; value: string; effect?: TaintEffect }[];
    strategy: Strategy;
    priority: number;
  } = {
    tenant: 'gd/sz',
    name: 'web',
    workload: { kind: 'container', image: 'registry.gov.cn/web:1' },
    replicas: 1,
    resources: { cpu: 500, memory: 512 },
    minTier: 'L1',
    residency: [],
    spread: {},
    requiredAttributes: {},
    labelSelector: [],
    tolerations: [],
    strategy: 'binpack',
    priority: 0,
  };

  tenant(tenant: TenantPath): this {
    this.s.tenant = tenant;
    return this;
  }
  name(name: string): this {
    this.s.name = name;
    return this;
  }
  container(image = 'registry.gov.cn/web:1'): this {
    this.s.workload = { kind: 'container', image };
    return this;
  }
  vm(image = 'kylin-v10', instanceType?: string): this {
    this.s.workload = instanceType === undefined ? { kind: 'vm', image } : { kind: 'vm', image, instanceType };
    return this;
  }
  replicas(n: number): this {
    this.s.replicas = n;
    return this;
  }
  cpu(millicores: number): this {
    this.s.resources = { ...this.s.resources, cpu: millicores };
    return this;
  }
  memory(mib: number): this {
    this.s.resources = { ...this.s.resources, memory: mib };
    return this;
  }
  gpu(count: number): this {
    this.s.resources = { ...this.s.resources, gpu: count };
    return this;
  }
  /** Sets every per-replica resource at once (missing ones become 0). */
  resources(r: Partial<Record<'cpu' | 'memory' | 'gpu', number>>): this {
    this.s.resources = { cpu: r.cpu ?? 0, memory: r.memory ?? 0, gpu: r.gpu ?? 0 };
    return this;
  }
  tier(minTier: string): this {
    this.s.minTier = minTier;
    return this;
  }
  residency(...paths: string[]): this {
    this.s.residency = paths;
    return this;
  }
  prefer(locality: string): this {
    this.s.localityPreference = locality;
    return this;
  }
  minClouds(n: number): this {
    this.s.spread = { ...this.s.spread, minClouds: n };
    return this;
  }
  maxPerCloud(n: number): this {
    this.s.spread = { ...this.s.spread, maxReplicasPerCloud: n };
    return this;
  }
  topology(topology: 'cloud' | 'zone'): this {
    this.s.spread = { ...this.s.spread, topology };
    return this;
  }
  arch(arch: string): this {
    this.s.requiredAttributes = { ...this.s.requiredAttributes, arch };
    return this;
  }
  xinchuang(xinchuang = true): this {
    this.s.requiredAttributes = { ...this.s.requiredAttributes, xinchuang };
    return this;
  }
  gpuModel(gpuModel: string): this {
    this.s.requiredAttributes = { ...this.s.requiredAttributes, gpuModel };
    return this;
  }
  label(key: string, operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist', ...values: string[]): this {
    this.s.labelSelector = [...this.s.labelSelector, { key, operator, values }];
    return this;
  }
  /** Tolerates `key` (=`value` when given, any value otherwise), for one effect or all. */
  tolerate(key: string, value?: string, effect?: TaintEffect): this {
    const t = value === undefined ? { key, operator: 'Exists' as const, value: '' } : { key, operator: 'Equal' as const, value };
    this.s.tolerations = [...this.s.tolerations, effect === undefined ? t : { ...t, effect }];
    return this;
  }
  strategy(strategy: Strategy): this {
    this.s.strategy = strategy;
    return this;
  }
  priority(priority: number): this {
    this.s.priority = priority;
    return this;
  }
  /** The raw input, before validation (for validation tests). */
  input(): Record<string, unknown> {
    const { localityPreference, ...rest } = this.s;
    return structuredClone(localityPreference === undefined ? rest : { ...rest, localityPreference });
  }
  /** Validates through `parseDeploymentSpec`; throws a VALIDATION TianshuError on bad input. */
  build(tiers: Tiers = TEST_TIERS): DeploymentSpec {
    return parseDeploymentSpec(this.input(), tiers);
  }
}

/** Starts a {@link SpecBuilder}: tenant `gd/sz`, one container replica of 500m/512 MiB at L1 or above, binpack. */
export function aSpec(): SpecBuilder {
  return new SpecBuilder();
}

/** A tenant's remaining {@link Headroom}: total limits and optional per-tier limits; missing resources are unlimited. */
export function headroomOf(tenant: TenantPath, total: Limits = {}, byTier: Readonly<Record<string, Limits>> = {}): Headroom {
  return { tenant, total, byTier };
}

/** Shorthand for a full {@link Resources}. */
export function res(partial: Partial<Record<ResourceName, number>>): Resources {
  return resources(partial);
}
