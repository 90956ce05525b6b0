import { describe, expect, it } from 'vitest';
import type { V1Deployment, V1Node, V1Pod } from '@kubernetes/client-node';
import { resources } from '../../domain/resources.js';
import type { Slice } from '../provider.js';
import {
  belongsTo,
  containerResources,
  deploymentDemand,
  deploymentManifest,
  inventoryFromNodes,
  labelValue,
  namespaceFor,
  quotaManifest,
  refFromDeployment,
  requestsOf,
  statusFromDeployment,
} from './mapping.js';
import { cpuMillis, formatCpu, formatMemory, memoryMiB, parseQuantity } from './quantity.js';

const GPU = 'nvidia.com/gpu';

const slice: Slice = {
  deploymentId: 'd-123',
  tenant: 'gd/sz/health',
  name: 'clinic-api',
  cloudId: 'k8s-sz-1',
  replicas: 3,
  generation: 4,
  workload: { kind: 'container', image: 'registry.gov/clinic:2' },
  resources: { cpu: 500, memory: 1024, gpu: 0 },
};

describe('quantities', () => {
  it.each([
    ['500m', 0.5],
    ['2', 2],
    ['1.5', 1.5],
    ['2Gi', 2 * 2 ** 30],
    ['512Mi', 512 * 2 ** 20],
    ['1G', 1e9],
    ['100k', 1e5],
    ['1e3', 1000],
    ['250u', 250e-6],
    ['.5', 0.5],
  ])('parses %s', (q, v) => {
    expect(parseQuantity(q)).toBeCloseTo(v, 9);
  });

  it.each([['abc'], ['5 Gi'], ['1Zi'], ['']])('rejects %j', (q) => {
    expect(() => parseQuantity(q)).toThrow(/malformed/);
  });

  it.each([
    ['500m', 500],
    ['2', 2000],
    ['0.1', 100],
    ['1500000n', 2],
  ])('cpu %s → %d millicores', (q, m) => {
    expect(cpuMillis(q)).toBe(m);
  });

  it('rounds memory down for capacity and up for requests', () => {
    expect(memoryMiB('2Gi')).toBe(2048);
    expect(memoryMiB('1G', 'floor')).toBe(953);
    expect(memoryMiB('1G', 'ceil')).toBe(954);
    expect(memoryMiB('16393308Ki', 'floor')).toBe(16009);
  });

  it('formats canonical quantities', () => {
    expect([formatCpu(500), formatCpu(2000), formatCpu(1500)]).toEqual(['500m', '2', '1500m']);
    expect([formatMemory(512), formatMemory(2048), formatMemory(0)]).toEqual(['512Mi', '2Gi', '0Mi']);
  });
});

describe('names', () => {
  it.each([
    ['gd/sz/health', 'tianshu-gd-sz-health'],
    ['gd', 'tianshu-gd'],
  ])('namespace of %s is %s', (tenant, ns) => {
    expect(namespaceFor(tenant)).toBe(ns);
  });

  it('hashes ambiguous and long paths, staying a DNS label', () => {
    const a = namespaceFor('gd/sz-health');
    const b = namespaceFor('gd-sz/health');
    expect(a).not.toBe(b);
    expect(a).toMatch(/^tianshu-gd-sz-health-[0-9a-f]{8}$/);
    const long = namespaceFor('province/city-with-a-long-name/district/bureau/office/unit');
    expect(long.length).toBeLessThanOrEqual(63);
    expect(long).toMatch(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/);
  });

  it('makes label values safe and unambiguous', () => {
    expect(labelValue('gd/sz/health')).toBe('gd.sz.health');
    expect(labelValue('6f1c2a3e-1111-4444-8888-000000000000')).toBe('6f1c2a3e-1111-4444-8888-000000000000');
    const odd = labelValue('_weird id:with/colons_');
    expect(odd).toMatch(/^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/);
    const long = labelValue('x'.repeat(100));
    expect(long.length).toBeLessThanOrEqual(63);
    expect(long).not.toBe(labelValue(`${'x'.repeat(99)}y`));
  });
});

describe('manifests', () => {
  it('builds the Deployment with labels, annotations, replicas and Guaranteed resources', () => {
    const d = deploymentManifest(slice, 'registry.gov/clinic:2', GPU);
    expect(d.metadata).toMatchObject({
      name: 'clinic-api',
      namespace: 'tianshu-gd-sz-health',
      labels: { 'tianshu.io/deployment': 'd-123', 'tianshu.io/tenant': 'gd.sz.health', 'app.kubernetes.io/managed-by': 'tianshu' },
      annotations: { 'tianshu.io/deployment-id': 'd-123', 'tianshu.io/tenant-path': 'gd/sz/health', 'tianshu.io/generation': '4' },
    });
    expect(d.spec?.replicas).toBe(3);
    expect(d.spec?.selector.matchLabels).toEqual({ 'tianshu.io/slice': 'clinic-api' });
    expect(d.spec?.template.metadata?.labels).toMatchObject(d.spec?.selector.matchLabels ?? {});
    expect(d.spec?.template.spec?.containers[0]).toMatchObject({
      image: 'registry.gov/clinic:2',
      resources: { requests: { cpu: '500m', memory: '1Gi' }, limits: { cpu: '500m', memory: '1Gi' } },
    });
    expect(refFromDeployment(d)).toEqual({ deploymentId: 'd-123', tenant: 'gd/sz/health', name: 'clinic-api' });
    expect(belongsTo(d, slice)).toBe(true);
    expect(belongsTo(d, { ...slice, deploymentId: 'd-999' })).toBe(false);
    expect(deploymentDemand(d, GPU)).toEqual(resources({ cpu: 1500, memory: 3072 }));
  });

  it('requests GPUs by the configured extended resource name', () => {
    expect(containerResources({ cpu: 0, memory: 0, gpu: 2 }, 'huawei.com/Ascend910')).toEqual({
      requests: { 'huawei.com/Ascend910': '2' },
      limits: { 'huawei.com/Ascend910': '2' },
    });
  });

  it('mirrors a share into the quota', () => {
    const q = quotaManifest('gd/sz/health', resources({ cpu: 8000, memory: 16384, gpu: 1 }), 'share', GPU);
    expect(q.metadata?.namespace).toBe('tianshu-gd-sz-health');
    expect(q.spec?.hard).toEqual({
      'requests.cpu': '8',
      'limits.cpu': '8',
      'requests.memory': '16Gi',
      'limits.memory': '16Gi',
      'requests.nvidia.com/gpu': '1',
    });
  });
});

function node(name: string, allocatable: Record<string, string>, ready = true, unschedulable = false): V1Node {
  return {
    metadata: { name },
    spec: { unschedulable },
    status: { allocatable, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  };
}

function pod(nodeName: string | undefined, requests: Record<string, string>, phase = 'Running'): V1Pod {
  return {
    metadata: { name: `p-${Math.random()}` },
    spec: { ...(nodeName === undefined ? {} : { nodeName }), containers: [{ name: 'c', resources: { requests } }] },
    status: { phase },
  };
}

describe('inventory from nodes and pods', () => {
  it('sums schedulable allocatable and the requests of pods bound to them', () => {
    const inv = inventoryFromNodes(
      [
        node('a', { cpu: '4', memory: '8Gi', [GPU]: '1', pods: '110' }),
        node('b', { cpu: '3900m', memory: '16393308Ki' }),
        node('down', { cpu: '64', memory: '256Gi' }, false),
        node('cordoned', { cpu: '64', memory: '256Gi' }, true, true),
      ],
      [
        pod('a', { cpu: '500m', memory: '1Gi' }),
        pod('b', { cpu: '1', memory: '512Mi', [GPU]: '0' }),
        pod('a', { cpu: '2' }, 'Succeeded'),
        pod(undefined, { cpu: '8' }, 'Pending'),
        pod('down', { cpu: '8' }),
      ],
      GPU,
    );
    expect(inv.capacity).toEqual(resources({ cpu: 7900, memory: 8192 + 16009, gpu: 1 }));
    expect(inv.allocated).toEqual(resources({ cpu: 1500, memory: 1536 }));
    expect(inv.schedulableNodes).toBe(2);
    expect(inv.totalNodes).toBe(4);
  });

  it('counts init containers as the max, plus overhead', () => {
    const spec: V1Pod['spec'] = {
      containers: [
        { name: 'a', resources: { requests: { cpu: '100m' } } },
        { name: 'b', resources: { requests: { cpu: '100m' } } },
      ],
      initContainers: [{ name: 'i', resources: { requests: { cpu: '500m', memory: '64Mi' } } }],
      overhead: { cpu: '10m' },
    };
    expect(requestsOf(spec, GPU)).toEqual(resources({ cpu: 510, memory: 64 }));
  });
});

describe('status from a Deployment', () => {
  const base = deploymentManifest(slice, 'img', GPU);
  const withStatus = (status: V1Deployment['status'], generation = 2): V1Deployment => ({ ...base, metadata: { ...base.metadata, generation }, status });

  it('is Progressing before the controller observes it (as on an apiserver without controllers)', () => {
    expect(statusFromDeployment(withStatus(undefined), slice, 'k')).toMatchObject({
      desiredReplicas: 3,
      readyReplicas: 0,
      generation: 4,
      observed: false,
      condition: 'Progressing',
      message: expect.stringContaining('not yet observed'),
    });
  });

  it('is Ready when observed and all replicas are ready', () => {
    expect(statusFromDeployment(withStatus({ observedGeneration: 2, readyReplicas: 3, availableReplicas: 3 }), slice, 'k')).toMatchObject({
      observed: true,
      condition: 'Ready',
      availableReplicas: 3,
    });
  });

  it('is Failed when the progress deadline was exceeded', () => {
    const s = statusFromDeployment(
      withStatus({ observedGeneration: 2, readyReplicas: 1, conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'ReplicaSet "x" has timed out progressing.' }] }),
      slice,
      'k',
    );
    expect(s.condition).toBe('Failed');
    expect(s.message).toContain('timed out');
  });
});
