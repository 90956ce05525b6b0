/**
 * Fixtures for the store suites: actors, clouds, specs, and a fake clock.
 */
import type { NewCloud } from '../../store/store.js';
import type { Actor } from '../../store/store.js';
import type { DeploymentSpec, DeploymentSpecInput } from '../../domain/deployment.js';
import { parseDeploymentSpec } from '../../domain/deployment.js';
import { MLPS, Tiers } from '../../domain/tiers.js';
import { resources } from '../../domain/resources.js';

/** An operator. */
export const OPERATOR: Actor = { subject: 'alice', role: 'operator', tenant: null };

const tiers = new Tiers(MLPS);

/** A cloud with the given capacity (cpu millicores, memory MiB). */
export function cloud(id: string, opts: { cpu?: number; memory?: number; gpu?: number; instances?: number; tier?: string; locality?: string } = {}): NewCloud {
  return {
    id,
    kind: 'simulated',
    locality: opts.locality ?? 'cn/gd/sz',
    zone: 'a',
    tier: opts.tier ?? 'L3',
    tierExclusive: false,
    attributes: { arch: 'amd64', xinchuang: false, gpuModel: null, labels: {} },
    taints: [],
    capacity: resources({ cpu: opts.cpu ?? 64_000, memory: opts.memory ?? 262_144, gpu: opts.gpu ?? 0, instances: opts.instances ?? 1_000 }),
    costPerUnit: resources({ cpu: 1 }),
    condition: 'Ready',
    connection: {},
  };
}

/** A validated container spec: `replicas` × `cpu` millicores (and 128 MiB each). */
export function spec(tenant: string, name: string, replicas: number, cpu = 1_000, extra: Partial<DeploymentSpecInput> = {}): DeploymentSpec {
  return parseDeploymentSpec(
    {
      tenant,
      name,
      workload: { kind: 'container', image: 'registry.gov.cn/app:1' },
      replicas,
      resources: { cpu, memory: 128 },
      minTier: 'L2',
      ...extra,
    },
    tiers,
  );
}

/** A clock that moves only when told. */
export function fakeClock(start = '2025-01-01T00:00:00.000Z'): { now: () => Date; advance: (ms: number) => void } {
  let t = new Date(start).getTime();
  return { now: () => new Date(t), advance: (ms) => (t += ms) };
}
