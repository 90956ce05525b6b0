/**
 * The pure half of the Kubernetes adapter: a slice becomes manifests (Namespace, ResourceQuota,
 * Deployment), and Kubernetes objects (Nodes, Pods, Deployments) become our Inventory, SliceRef
 * and SliceStatus. No I/O here, so all of it is unit-tested without a cluster.
 *
 * Naming. A tenant's namespace is `tianshu-<path with / as ->` (`gd/sz/health` →
 * `tianshu-gd-sz-health`). Because tenant segments may themselves contain dashes, that mapping
 * alone is ambiguous (`gd/sz-health` and `gd-sz/health`), so paths containing a dash, and paths
 * too long for a DNS label, get an 8-hex hash suffix; the exact path is recorded in an annotation
 * and checked on every apply. Label values use `.` for `/`, which tenant segments cannot contain,
 * so they are unambiguous as long as they fit in 63 characters (beyond that: hashed).
 *
 * @packageDocumentation
 */
import { createHash } from 'node:crypto';
import type { V1Deployment, V1Namespace, V1Node, V1Pod, V1ResourceQuota, V1ResourceRequirements } from '@kubernetes/client-node';
import { add, resources, scale, ZERO } from '../../domain/resources.js';
import type { Resources } from '../../domain/resources.js';
import type { TenantPath } from '../../domain/tenant.js';
import { conditionOf } from '../provider.js';
import type { ReplicaResources, Slice, SliceCondition, SliceRef, SliceStatus } from '../provider.js';
import { count, cpuMillis, formatCpu, formatMemory, memoryMiB } from './quantity.js';

/** The field manager of every server-side apply Tianshu makes. */
export const FIELD_MANAGER = 'tianshu';

/** Labels and annotations Tianshu puts on the objects it manages. */
export const LABELS = {
  managedBy: 'app.kubernetes.io/managed-by',
  deployment: 'tianshu.io/deployment',
  tenant: 'tianshu.io/tenant',
  slice: 'tianshu.io/slice',
} as const;

/** Annotations carrying exact values that labels can only approximate. */
export const ANNOTATIONS = {
  deploymentId: 'tianshu.io/deployment-id',
  tenantPath: 'tianshu.io/tenant-path',
  name: 'tianshu.io/name',
  generation: 'tianshu.io/generation',
  quotaSource: 'tianshu.io/quota-source',
} as const;

/** The value of `app.kubernetes.io/managed-by` on everything Tianshu creates. */
export const MANAGED_BY = 'tianshu';
/** Selects every object Tianshu manages. */
export const MANAGED_SELECTOR = `${LABELS.managedBy}=${MANAGED_BY}`;
/** The name of the ResourceQuota in each tenant namespace. */
export const QUOTA_NAME = 'tianshu-tenant-share';
/** The name of the single container in each Deployment's pods. */
export const CONTAINER_NAME = 'workload';

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 8);
}

/** The namespace of a tenant, a DNS label of at most 63 characters (see the module comment). */
export function namespaceFor(tenant: TenantPath): string {
  const base = `tianshu-${tenant.replace(/\//g, '-')}`;
  const ambiguous = tenant.split('/').some((s) => s.includes('-'));
  if (!ambiguous && base.length <= 63) return base;
  const head = base.slice(0, 63 - 9).replace(/-+$/, '');
  return `${head}-${shortHash(tenant)}`;
}

/** A label-safe value (≤ 63 chars of `[A-Za-z0-9._-]`, alphanumeric at both ends) for any string; `/` becomes `.`. */
export function labelValue(value: string): string {
  const direct = value.replace(/\//g, '.');
  if (/^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/.test(direct)) return direct;
  // Lossy: keep a readable head and make it unique with a hash of the original.
  const head = direct
    .replace(/[^A-Za-z0-9._-]/g, '-')
    .slice(0, 54)
    .replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
  return head === '' ? shortHash(value) : `${head}-${shortHash(value)}`;
}

/** The tenant label value: `gd/sz/health` → `gd.sz.health`. */
export function tenantLabel(tenant: TenantPath): string {
  return labelValue(tenant);
}

/** The name of a slice's Deployment: the deployment name, already a DNS label of ≤ 53 characters. */
export function deploymentNameFor(ref: Pick<SliceRef, 'name'>): string {
  return ref.name;
}

function managedLabels(tenant: TenantPath): Record<string, string> {
  return { [LABELS.managedBy]: MANAGED_BY, [LABELS.tenant]: tenantLabel(tenant) };
}

/** The Namespace manifest of a tenant. */
export function namespaceManifest(tenant: TenantPath): V1Namespace {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: namespaceFor(tenant), labels: managedLabels(tenant), annotations: { [ANNOTATIONS.tenantPath]: tenant } },
  };
}

/** The requests (= limits, for Guaranteed QoS) of one replica. */
export function containerResources(r: ReplicaResources, gpuResourceName: string): V1ResourceRequirements {
  const q: Record<string, string> = {};
  if (r.cpu > 0) q.cpu = formatCpu(r.cpu);
  if (r.memory > 0) q.memory = formatMemory(r.memory);
  if (r.gpu > 0) q[gpuResourceName] = String(r.gpu);
  return { requests: { ...q }, limits: { ...q } };
}

/** Where the quota's numbers come from: the orchestrator's tenant share, or the sum of the tenant's slices here. */
export type QuotaSource = 'share' | 'slices';

/** The ResourceQuota mirroring a tenant's share of this cloud (requests and limits alike). */
export function quotaManifest(tenant: TenantPath, share: Resources, source: QuotaSource, gpuResourceName: string): V1ResourceQuota {
  const hard: Record<string, string> = {
    'requests.cpu': formatCpu(share.cpu),
    'limits.cpu': formatCpu(share.cpu),
    'requests.memory': formatMemory(share.memory),
    'limits.memory': formatMemory(share.memory),
    [`requests.${gpuResourceName}`]: String(share.gpu),
  };
  return {
    apiVersion: 'v1',
    kind: 'ResourceQuota',
    metadata: {
      name: QUOTA_NAME,
      namespace: namespaceFor(tenant),
      labels: managedLabels(tenant),
      annotations: { [ANNOTATIONS.tenantPath]: tenant, [ANNOTATIONS.quotaSource]: source },
    },
    spec: { hard },
  };
}

/** The Deployment of a slice (container workloads only; the caller checks the kind). */
export function deploymentManifest(slice: Slice, image: string, gpuResourceName: string): V1Deployment {
  const podLabels = {
    ...managedLabels(slice.tenant),
    [LABELS.deployment]: labelValue(slice.deploymentId),
    [LABELS.slice]: slice.name,
  };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: deploymentNameFor(slice),
      namespace: namespaceFor(slice.tenant),
      labels: podLabels,
      annotations: {
        [ANNOTATIONS.deploymentId]: slice.deploymentId,
        [ANNOTATIONS.tenantPath]: slice.tenant,
        [ANNOTATIONS.name]: slice.name,
        [ANNOTATIONS.generation]: String(slice.generation),
      },
    },
    spec: {
      replicas: slice.replicas,
      // The selector is immutable, so it uses the name (stable for the object's life), not the id.
      selector: { matchLabels: { [LABELS.slice]: slice.name } },
      template: {
        metadata: { labels: podLabels },
        spec: {
          containers: [{ name: CONTAINER_NAME, image, resources: containerResources(slice.resources, gpuResourceName) }],
        },
      },
    },
  };
}

/** The slice a Deployment belongs to, from its annotations; undefined when it is not Tianshu's. */
export function refFromDeployment(d: V1Deployment): SliceRef | undefined {
  const a = d.metadata?.annotations ?? {};
  const deploymentId = a[ANNOTATIONS.deploymentId];
  const tenant = a[ANNOTATIONS.tenantPath];
  const name = a[ANNOTATIONS.name] ?? d.metadata?.name;
  if (deploymentId === undefined || tenant === undefined || name === undefined) return undefined;
  return { deploymentId, tenant, name };
}

/** True when the Deployment is the one that backs `ref` (not a namesake left over from another deployment). */
export function belongsTo(d: V1Deployment, ref: SliceRef): boolean {
  const found = refFromDeployment(d);
  return found !== undefined && found.deploymentId === ref.deploymentId && found.tenant === ref.tenant;
}

/** Requests of one pod-template / pod spec's containers, in our units (Kubernetes' effective request). */
export function requestsOf(spec: V1Pod['spec'], gpuResourceName: string): Resources {
  if (spec === undefined) return ZERO;
  const one = (r: V1ResourceRequirements | undefined): Resources => {
    const req = r?.requests ?? {};
    return resources({
      cpu: req.cpu === undefined ? 0 : cpuMillis(req.cpu, 'ceil'),
      memory: req.memory === undefined ? 0 : memoryMiB(req.memory, 'ceil'),
      gpu: req[gpuResourceName] === undefined ? 0 : count(req[gpuResourceName], 'ceil'),
    });
  };
  let sum = ZERO;
  for (const c of spec.containers ?? []) sum = add(sum, one(c.resources));
  // An init container runs alone before the others, so the pod needs the larger of the two.
  for (const c of spec.initContainers ?? []) {
    const i = one(c.resources);
    sum = { cpu: Math.max(sum.cpu, i.cpu), memory: Math.max(sum.memory, i.memory), gpu: Math.max(sum.gpu, i.gpu), instances: 0 };
  }
  const overhead = spec.overhead ?? {};
  return add(
    sum,
    resources({
      cpu: overhead.cpu === undefined ? 0 : cpuMillis(overhead.cpu, 'ceil'),
      memory: overhead.memory === undefined ? 0 : memoryMiB(overhead.memory, 'ceil'),
    }),
  );
}

/** What a Deployment asks for in total: replicas × per-pod requests. */
export function deploymentDemand(d: V1Deployment, gpuResourceName: string): Resources {
  return scale(requestsOf(d.spec?.template.spec, gpuResourceName), d.spec?.replicas ?? 1);
}

/** True for a node that can take pods: Ready and not cordoned. */
export function isSchedulable(node: V1Node): boolean {
  if (node.spec?.unschedulable === true) return false;
  return (node.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

/** Capacity and allocation computed from Nodes and Pods. */
export interface NodeInventory {
  readonly capacity: Resources;
  readonly allocated: Resources;
  readonly schedulableNodes: number;
  readonly totalNodes: number;
}

/**
 * Capacity = the schedulable nodes' allocatable; allocated = the requests of non-terminal pods
 * bound to those nodes. Pods on unschedulable nodes are left out on both sides.
 */
export function inventoryFromNodes(nodes: readonly V1Node[], pods: readonly V1Pod[], gpuResourceName: string): NodeInventory {
  const counted = new Set<string>();
  let capacity = ZERO;
  for (const node of nodes) {
    if (!isSchedulable(node)) continue;
    counted.add(node.metadata?.name ?? '');
    const a = node.status?.allocatable ?? {};
    capacity = add(
      capacity,
      resources({
        cpu: a.cpu === undefined ? 0 : cpuMillis(a.cpu, 'floor'),
        memory: a.memory === undefined ? 0 : memoryMiB(a.memory, 'floor'),
        gpu: a[gpuResourceName] === undefined ? 0 : count(a[gpuResourceName], 'floor'),
      }),
    );
  }
  let allocated = ZERO;
  for (const pod of pods) {
    const node = pod.spec?.nodeName;
    const phase = pod.status?.phase;
    if (node === undefined || !counted.has(node) || phase === 'Succeeded' || phase === 'Failed') continue;
    allocated = add(allocated, requestsOf(pod.spec, gpuResourceName));
  }
  return { capacity, allocated, schedulableNodes: counted.size, totalNodes: nodes.length };
}

/** A Deployment's status as ours. `ref` is the slice asked about (the Deployment may lack annotations). */
export function statusFromDeployment(d: V1Deployment, ref: SliceRef, cloudId: string): SliceStatus {
  const desired = d.spec?.replicas ?? 1;
  const ready = d.status?.readyReplicas ?? 0;
  const available = d.status?.availableReplicas ?? 0;
  const generation = Number(d.metadata?.annotations?.[ANNOTATIONS.generation] ?? '0');
  const observed = d.status?.observedGeneration !== undefined && d.status.observedGeneration >= (d.metadata?.generation ?? 0);
  const progressing = (d.status?.conditions ?? []).find((c) => c.type === 'Progressing');
  const failed = progressing?.status === 'False' && progressing.reason === 'ProgressDeadlineExceeded';
  const condition: SliceCondition = failed ? 'Failed' : conditionOf(desired, ready, observed);
  let message = `${ready}/${desired} ready, ${available} available`;
  if (failed) message += `: ${progressing?.message ?? 'progress deadline exceeded'}`;
  else if (!observed) message += '; not yet observed by the deployment controller';
  return {
    ref: { deploymentId: ref.deploymentId, tenant: ref.tenant, name: ref.name },
    cloudId,
    desiredReplicas: desired,
    readyReplicas: ready,
    availableReplicas: available,
    generation: Number.isFinite(generation) ? generation : 0,
    observed,
    condition,
    message,
  };
}
