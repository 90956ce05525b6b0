/**
 * The demo fleet `npm start` seeds into an empty store: twelve simulated clouds across three
 * provinces and Beijing, tiers low to high of the configured scale (L2–L4 under MLPS), one exclusive
 * high-tier enclave, one xinchuang arm64 cloud, one VM cloud, one GPU cloud; and demo tenants with
 * quotas that nest (`gd` → `gd/sz` → `gd/sz/health`).
 */
import type { Tiers } from '../domain/tiers.js';
import type { CloudSpec, TenantSpec } from './schema.js';

const CORES = 1000;
const GIB = 1024;

/**
 * Maps the demo's three levels (0 low, 1 middle, 2 high) onto the configured scale: the top three
 * levels, so MLPS gives L2/L3/L4 and FedRAMP Low/Moderate/High.
 */
function level(tiers: Tiers, k: 0 | 1 | 2): string {
  const levels = tiers.scale.levels;
  const i = Math.min(levels.length - 1, Math.max(0, levels.length - 3 + k));
  return levels[i] ?? levels[0] ?? 'L1';
}

interface DemoCloud {
  id: string;
  locality: string;
  zone: string;
  k: 0 | 1 | 2;
  cpu: number;
  memoryGiB: number;
  gpu?: number;
  instances?: number;
  arch?: string;
  xinchuang?: boolean;
  gpuModel?: string;
  exclusive?: boolean;
  cost: number;
  labels?: Record<string, string>;
}

const FLEET: readonly DemoCloud[] = [
  { id: 'gd-sz-k8s-a', locality: 'cn/gd/sz', zone: 'sz-a', k: 1, cpu: 256, memoryGiB: 1024, cost: 30, labels: { vendor: 'ack' } },
  { id: 'gd-sz-k8s-b', locality: 'cn/gd/sz', zone: 'sz-b', k: 1, cpu: 192, memoryGiB: 768, cost: 28, labels: { vendor: 'cce' } },
  { id: 'gd-sz-enclave', locality: 'cn/gd/sz', zone: 'sz-c', k: 2, cpu: 64, memoryGiB: 256, exclusive: true, cost: 90, labels: { vendor: 'self-built' } },
  { id: 'gd-gz-k8s', locality: 'cn/gd/gz', zone: 'gz-a', k: 0, cpu: 128, memoryGiB: 512, cost: 18, labels: { vendor: 'tke' } },
  { id: 'gd-gz-gpu', locality: 'cn/gd/gz', zone: 'gz-b', k: 1, cpu: 96, memoryGiB: 768, gpu: 32, gpuModel: 'a100', cost: 60, labels: { vendor: 'ack' } },
  { id: 'gd-gz-vm', locality: 'cn/gd/gz', zone: 'gz-c', k: 1, cpu: 128, memoryGiB: 512, instances: 200, cost: 25, labels: { vendor: 'ec2-compatible' } },
  { id: 'zj-hz-k8s-a', locality: 'cn/zj/hz', zone: 'hz-a', k: 1, cpu: 256, memoryGiB: 1024, cost: 26, labels: { vendor: 'ack' } },
  { id: 'zj-hz-k8s-b', locality: 'cn/zj/hz', zone: 'hz-b', k: 0, cpu: 128, memoryGiB: 512, cost: 15, labels: { vendor: 'openshift' } },
  { id: 'zj-nb-xc', locality: 'cn/zj/nb', zone: 'nb-a', k: 1, cpu: 128, memoryGiB: 512, arch: 'arm64', xinchuang: true, cost: 35, labels: { vendor: 'kunpeng' } },
  { id: 'bj-dc-k8s', locality: 'cn/bj/dc', zone: 'dc-a', k: 2, cpu: 192, memoryGiB: 768, cost: 70, labels: { vendor: 'self-built' } },
  { id: 'bj-hd-k8s', locality: 'cn/bj/hd', zone: 'hd-a', k: 1, cpu: 160, memoryGiB: 640, cost: 32, labels: { vendor: 'cce' } },
  { id: 'bj-cy-edge', locality: 'cn/bj/cy', zone: 'cy-a', k: 0, cpu: 64, memoryGiB: 256, cost: 12, labels: { vendor: 'k3s', edge: 'true' } },
];

/** The demo clouds, with tiers mapped onto the configured scale. */
export function demoClouds(tiers: Tiers): CloudSpec[] {
  return FLEET.map((c) => ({
    id: c.id,
    kind: 'simulated',
    locality: c.locality,
    zone: c.zone,
    tier: level(tiers, c.k),
    tierExclusive: c.exclusive ?? false,
    attributes: { arch: c.arch ?? 'amd64', xinchuang: c.xinchuang ?? false, gpuModel: c.gpuModel ?? null, labels: c.labels ?? {} },
    taints: c.exclusive === true ? [{ key: 'tianshu.io/enclave', value: 'true', effect: 'NoSchedule' }] : [],
    capacity: { cpu: c.cpu * CORES, memory: c.memoryGiB * GIB, gpu: c.gpu ?? 0, instances: c.instances ?? 0 },
    // Cost per unit per hour: per core, per GiB (expressed per MiB), per GPU, per instance.
    costPerUnit: { cpu: c.cost, memory: Math.max(1, Math.round(c.cost / 8)), gpu: c.gpu === undefined ? 0 : 900, instances: c.instances === undefined ? 0 : 50 },
    condition: 'Ready',
    // Simulated clouds: capacity from the registration, no injected faults, replicas ready at once.
    connection: {},
  }));
}

/** The demo tenants, parents before children, with nested quotas. */
export function demoTenants(tiers: Tiers): TenantSpec[] {
  const high = level(tiers, 2);
  return [
    { path: 'gd', displayName: 'Guangdong Provincial Government', quota: { total: { cpu: 600 * CORES, memory: 2400 * GIB, gpu: 24, instances: 120 }, byTier: { [high]: { cpu: 48 * CORES } } } },
    { path: 'gd/sz', displayName: 'Shenzhen Municipal Government', quota: { total: { cpu: 300 * CORES, memory: 1200 * GIB, gpu: 8, instances: 60 }, byTier: {} } },
    { path: 'gd/sz/health', displayName: 'Shenzhen Health Commission', quota: { total: { cpu: 80 * CORES, memory: 320 * GIB, gpu: 4, instances: 20 }, byTier: {} } },
    { path: 'gd/gz', displayName: 'Guangzhou Municipal Government', quota: { total: { cpu: 200 * CORES, memory: 800 * GIB, gpu: 8, instances: 40 }, byTier: {} } },
    { path: 'zj', displayName: 'Zhejiang Provincial Government', quota: { total: { cpu: 400 * CORES, memory: 1600 * GIB, gpu: 0, instances: 40 }, byTier: {} } },
    { path: 'zj/hz', displayName: 'Hangzhou Municipal Government', quota: { total: { cpu: 200 * CORES, memory: 800 * GIB }, byTier: {} } },
    { path: 'bj', displayName: 'Beijing Municipal Government', quota: { total: { cpu: 300 * CORES, memory: 1200 * GIB }, byTier: {} } },
  ];
}
