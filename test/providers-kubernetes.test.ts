/**
 * The Kubernetes adapter against a real kube-apiserver + etcd from the rig (no kubelet, scheduler
 * or controllers: Deployments are stored and validated but never get pods, and namespaces never
 * finish terminating).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { isTianshuError } from '../domain/errors.js';
import { aSlice, providerContract } from '../providers/contract.js';
import { KubernetesConnectionSchema } from '../providers/kubernetes/connection.js';
import type { KubernetesConnectionInput } from '../providers/kubernetes/connection.js';
import { KubernetesProvider } from '../providers/kubernetes/kubernetes-provider.js';
import { namespaceFor } from '../providers/kubernetes/mapping.js';
import { probe } from '../providers/registry.js';
import type { Slice, SliceRef } from '../providers/provider.js';
import { describeWithComponents, KUBE_COMPONENTS } from './rig/components.js';
import { kubeRequest, startKube } from './rig/kube.js';
import type { KubeInstance } from './rig/kube.js';
import { freePort } from './rig/ports.js';

const resources = { cpu: 250, memory: 256, gpu: 0 };
const container = () => ({ kind: 'container' as const, image: 'registry.example.gov/web:1' });

/** Captures a rejection (vitest's `rejects` cannot inspect custom fields in one step). */
async function failure(p: Promise<unknown>): Promise<Error & { code?: string; retryable?: boolean; details?: Record<string, unknown> }> {
  return p.then(
    () => {
      throw new Error('expected a failure');
    },
    (e: unknown) => e as Error,
  );
}

describeWithComponents(KUBE_COMPONENTS, 'kubernetes provider on a real kube-apiserver', () => {
  let kube: KubeInstance;
  let scratch: string;

  beforeAll(async () => {
    kube = await startKube();
    scratch = mkdtempSync(join(tmpdir(), 'tianshu-k8s-test-'));
  });
  afterAll(async () => {
    await kube?.stop();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  const connect = (extra: Partial<KubernetesConnectionInput> = {}): KubernetesProvider =>
    new KubernetesProvider('k8s-sz-1', KubernetesConnectionSchema.parse({ kubeconfigPath: kube.kubeconfigPath, requestTimeoutMs: 5_000, ...extra }));

  // Raw JSON read back from the apiserver: the assertions on it are the type check.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const api = async (method: string, path: string, body?: unknown): Promise<any> => {
    const res = await kubeRequest(kube.server, kube.token, method, path, body);
    if (res.status >= 300 && !(method === 'GET' && res.status === 404)) throw new Error(`${method} ${path}: HTTP ${res.status} ${JSON.stringify(res.body)}`);
    return res.status === 404 ? undefined : res.body;
  };
  const deploymentOf = (ref: SliceRef) => api('GET', `/apis/apps/v1/namespaces/${namespaceFor(ref.tenant)}/deployments/${ref.name}`);
  const quotaOf = (ref: SliceRef) => api('GET', `/api/v1/namespaces/${namespaceFor(ref.tenant)}/resourcequotas/tianshu-tenant-share`);
  const namespaceOf = (ref: SliceRef) => api('GET', `/api/v1/namespaces/${namespaceFor(ref.tenant)}`);

  providerContract('kubernetes', {
    create: () => Promise.resolve(connect()),
    workload: container,
    resources,
    fingerprint: async (ref) => {
      const [d, q, n] = await Promise.all([deploymentOf(ref), quotaOf(ref), namespaceOf(ref)]);
      return JSON.stringify([d?.metadata.resourceVersion, q?.metadata.resourceVersion, n?.metadata.resourceVersion]);
    },
    identities: async (ref) => {
      const d = await deploymentOf(ref);
      return d === undefined ? [] : [d.metadata.uid as string];
    },
  });

  describe('objects on the cluster', () => {
    it('apply creates the namespace, the ResourceQuota and the Deployment with the expected spec', async () => {
      const p = connect();
      const slice = aSlice(p, { workload: container, resources }, { tenant: 'gd/sz/health', replicas: 3 });
      const status = await p.apply(slice);
      expect(status).toMatchObject({ desiredReplicas: 3, readyReplicas: 0, observed: false, condition: 'Progressing', generation: 1 });

      const ns = await namespaceOf(slice);
      expect(ns.metadata.name).toBe('tianshu-gd-sz-health');
      expect(ns.metadata.labels).toMatchObject({ 'app.kubernetes.io/managed-by': 'tianshu', 'tianshu.io/tenant': 'gd.sz.health' });

      const d = await deploymentOf(slice);
      expect(d.metadata.labels).toMatchObject({ 'tianshu.io/deployment': slice.deploymentId, 'tianshu.io/tenant': 'gd.sz.health' });
      expect(d.metadata.annotations).toMatchObject({ 'tianshu.io/deployment-id': slice.deploymentId, 'tianshu.io/generation': '1' });
      expect(d.spec.replicas).toBe(3);
      expect(d.spec.template.spec.containers[0]).toMatchObject({
        name: 'workload',
        image: 'registry.example.gov/web:1',
        resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: '250m', memory: '256Mi' } },
      });
      // Written by server-side apply under our field manager.
      expect(d.metadata.managedFields).toEqual(expect.arrayContaining([expect.objectContaining({ manager: 'tianshu', operation: 'Apply' })]));

      // The quota mirrors the tenant's slices here: 3 × (250m, 256Mi).
      const q = await quotaOf(slice);
      expect(q.spec.hard).toMatchObject({ 'requests.cpu': '750m', 'requests.memory': '768Mi', 'limits.cpu': '750m' });

      // A second slice of the same tenant shares the namespace and raises the quota.
      const second = aSlice(p, { workload: container, resources }, { tenant: 'gd/sz/health', replicas: 1 });
      await p.apply(second);
      expect((await quotaOf(slice)).spec.hard['requests.cpu']).toBe('1');

      // An orchestrator-given share wins over the sum.
      await p.apply({ ...second, tenantShare: { cpu: 8000, memory: 16384 } });
      expect((await quotaOf(slice)).spec.hard).toMatchObject({ 'requests.cpu': '8', 'requests.memory': '16Gi' });
      await p.apply(second);

      // Removing one slice keeps the namespace and shrinks the quota back.
      await p.remove(second);
      expect(await deploymentOf(second)).toBeUndefined();
      expect((await namespaceOf(slice)).metadata.deletionTimestamp).toBeUndefined();
      expect((await quotaOf(slice)).spec.hard['requests.cpu']).toBe('750m');

      // Removing the last one deletes the namespace (it stays Terminating: no namespace controller here).
      await p.remove(slice);
      expect(await deploymentOf(slice)).toBeUndefined();
      const gone = await namespaceOf(slice);
      expect(gone === undefined || gone.metadata.deletionTimestamp !== undefined).toBe(true);
      await p.remove(slice);
      // Applying into a namespace that is still terminating is a retryable error, not a half-apply.
      const err = await failure(p.apply(slice));
      expect(err.code).toBe('UNAVAILABLE');
      expect(err.message).toMatch(/k8s-sz-1.*terminating/);
    });

    it('re-apply changes no resourceVersion; scaling updates the same Deployment in place', async () => {
      const p = connect();
      const slice = aSlice(p, { workload: container, resources }, { replicas: 2 });
      await p.apply(slice);
      const first = await deploymentOf(slice);
      await p.apply(slice);
      const again = await deploymentOf(slice);
      expect(again.metadata.resourceVersion).toBe(first.metadata.resourceVersion);

      const scaled = await p.apply({ ...slice, replicas: 5, generation: 2 });
      expect(scaled).toMatchObject({ desiredReplicas: 5, generation: 2 });
      const after = await deploymentOf(slice);
      expect(after.metadata.uid).toBe(first.metadata.uid);
      expect(after.spec.replicas).toBe(5);
      expect(after.metadata.generation).toBe(first.metadata.generation + 1);
      expect(after.metadata.annotations['tianshu.io/generation']).toBe('2');
      await p.remove(slice);
    });

    it('does not remove a namesake Deployment that belongs to another deployment id', async () => {
      const p = connect();
      const slice = aSlice(p, { workload: container, resources });
      await p.apply(slice);
      await p.remove({ ...slice, deploymentId: 'someone-else' });
      expect(await deploymentOf(slice)).toBeDefined();
      expect(await p.status({ ...slice, deploymentId: 'someone-else' })).toBeNull();
      await p.remove(slice);
    });

    it('rejects a vm workload with a non-retryable error', async () => {
      const p = connect();
      const err = await failure(p.apply(aSlice(p, { workload: () => ({ kind: 'vm', image: 'ami-1' }), resources })));
      expect(err.code).toBe('PROVIDER_ERROR');
      expect(err.message).toContain('container workloads');
    });
  });

  describe('inventory', () => {
    it('sums Ready nodes allocatable minus the requests of pods bound to them', async () => {
      const mkNode = async (name: string, allocatable: Record<string, string>, ready: boolean): Promise<void> => {
        await api('POST', '/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name } });
        const node = await api('GET', `/api/v1/nodes/${name}`);
        node.status = {
          capacity: allocatable,
          allocatable,
          conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', reason: 'Test', lastHeartbeatTime: new Date().toISOString(), lastTransitionTime: new Date().toISOString() }],
        };
        await api('PUT', `/api/v1/nodes/${name}/status`, node);
      };
      await mkNode('node-a', { cpu: '4', memory: '8Gi', pods: '110' }, true);
      await mkNode('node-b', { cpu: '2', memory: '4Gi', pods: '110' }, true);
      await mkNode('node-down', { cpu: '64', memory: '256Gi', pods: '110' }, false);

      await api('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'workloads' } });
      // No controller-manager creates the default ServiceAccount that pod admission looks up.
      await api('POST', '/api/v1/namespaces/workloads/serviceaccounts', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default' } });
      const mkPod = (name: string, nodeName: string, cpu: string, memory: string) =>
        api('POST', '/api/v1/namespaces/workloads/pods', {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name },
          spec: { nodeName, automountServiceAccountToken: false, containers: [{ name: 'c', image: 'x', resources: { requests: { cpu, memory } } }] },
        });
      await mkPod('p1', 'node-a', '500m', '1Gi');
      await mkPod('p2', 'node-b', '1', '512Mi');
      await mkPod('p3', 'node-down', '8', '8Gi');

      const inv = await connect().inventory();
      expect(inv).toMatchObject({
        capacitySource: 'observed',
        condition: 'Ready',
        capacity: { cpu: 6000, memory: 12288, gpu: 0, instances: 0 },
        allocated: { cpu: 1500, memory: 1536, gpu: 0, instances: 0 },
      });
      expect(inv.detail).toContain('2/3 nodes schedulable');
    });

    it('falls back to declared capacity when RBAC forbids listing nodes', async () => {
      // A user that may manage Tianshu's objects but not read nodes, reached by impersonation.
      await api('POST', '/apis/rbac.authorization.k8s.io/v1/clusterroles', {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: { name: 'tianshu-no-nodes' },
        rules: [
          { apiGroups: [''], resources: ['namespaces', 'resourcequotas', 'pods'], verbs: ['*'] },
          { apiGroups: ['apps'], resources: ['deployments'], verbs: ['*'] },
        ],
      });
      await api('POST', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name: 'tianshu-no-nodes' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'tianshu-no-nodes' },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'tianshu-limited' }],
      });
      const kubeconfig = stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'c', cluster: { server: kube.server, 'insecure-skip-tls-verify': true } }],
        users: [{ name: 'limited', user: { token: kube.token, as: 'tianshu-limited' } }],
        contexts: [{ name: 'limited', context: { cluster: 'c', user: 'limited' } }],
        'current-context': 'limited',
      });
      const asAdmin = await kubeRequest(kube.server, kube.token, 'GET', '/api/v1/nodes');
      expect(asAdmin.status).toBe(200); // the admin may list nodes…
      const limited = new KubernetesProvider('k8s-rbac', KubernetesConnectionSchema.parse({ kubeconfig, declaredCapacity: { cpu: 32_000, memory: 65_536 } }));
      const slice: Slice = { ...aSlice(limited, { workload: container, resources }), replicas: 4 };
      await limited.apply(slice);
      const inv = await limited.inventory();
      expect(inv.capacitySource).toBe('declared');
      expect(inv.capacity).toEqual({ cpu: 32_000, memory: 65_536, gpu: 0, instances: 0 });
      // Allocation from Tianshu's own Deployments (every Tianshu deployment on the cluster).
      expect(inv.allocated.cpu).toBeGreaterThanOrEqual(1000);
      expect(inv.detail).toContain('forbidden');

      // …the impersonated user may not, and without a declared capacity that is a clear error.
      const bare = new KubernetesProvider('k8s-rbac', KubernetesConnectionSchema.parse({ kubeconfig }));
      const err = await failure(bare.inventory());
      expect(err.code).toBe('PROVIDER_ERROR');
      expect(err.message).toMatch(/kubernetes cloud "k8s-rbac": list nodes: forbidden to list nodes .*declaredCapacity/);
      await limited.remove(slice);
    });
  });

  describe('apiserver outage', () => {
    it('fails with a typed retryable UNAVAILABLE, reports nothing as applied, and converges after restart', async () => {
      const p = connect();
      const before = aSlice(p, { workload: container, resources });
      await p.apply(before);
      await kube.stopApiserver();
      try {
        const slice = aSlice(p, { workload: container, resources });
        const err = await failure(p.apply(slice));
        expect(isTianshuError(err, 'UNAVAILABLE')).toBe(true);
        expect(err.retryable).toBe(true);
        expect(err.message).toMatch(/kubernetes cloud "k8s-sz-1": .*cannot reach https:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
        // Status of an existing slice must not turn into "gone" (null) or a stale success.
        expect((await failure(p.status(before))).code).toBe('UNAVAILABLE');
        expect((await failure(p.listSlices())).code).toBe('UNAVAILABLE');
        expect((await failure(p.inventory())).code).toBe('UNAVAILABLE');
        expect((await failure(p.remove(before))).code).toBe('UNAVAILABLE');
        const health = await p.health();
        expect(health.ok).toBe(false);
        expect(health.detail).toContain('ECONNREFUSED');

        await kube.startApiserver();
        // The failed apply left nothing behind that reads as applied; applying again converges.
        expect(await p.status(slice)).toBeNull();
        expect((await p.status(before))?.desiredReplicas).toBe(2);
        expect((await p.apply(slice)).desiredReplicas).toBe(2);
        await p.remove(slice);
        await p.remove(before);
      } finally {
        if ((await connect().health()).ok === false) await kube.startApiserver().catch(() => undefined);
      }
    }, 240_000);
  });

  describe('bad input, at registration', () => {
    const cloud = (connection: Record<string, unknown>) => ({ id: 'k8s-bad', kind: 'kubernetes' as const, connection, capacity: { cpu: 0, memory: 0, gpu: 0, instances: 0 } });

    it('a wrong token: credentials rejected, not retryable', async () => {
      const path = join(scratch, 'wrong-token.yaml');
      writeFileSync(
        path,
        stringify({
          apiVersion: 'v1',
          kind: 'Config',
          clusters: [{ name: 'c', cluster: { server: kube.server, 'insecure-skip-tls-verify': true } }],
          users: [{ name: 'u', user: { token: 'not-the-token' } }],
          contexts: [{ name: 'ctx', context: { cluster: 'c', user: 'u' } }],
          'current-context': 'ctx',
        }),
      );
      const err = await failure(probe(cloud({ kubeconfigPath: path })));
      expect(err.code).toBe('PROVIDER_ERROR');
      expect(err.retryable).toBe(false);
      expect(err.message).toMatch(/kubernetes cloud "k8s-bad": list nodes: credentials rejected by https:\/\/127\.0\.0\.1:\d+ \(HTTP 401/);
    });

    it('a kubeconfig without the named context', async () => {
      const err = await failure(probe(cloud({ kubeconfigPath: kube.kubeconfigPath, context: 'prod-sz' })));
      expect(err.code).toBe('VALIDATION');
      expect(err.message).toBe('kubernetes cloud "k8s-bad": connection.context: the kubeconfig has no context "prod-sz" (it has: tianshu-test)');
      expect(err.details).toMatchObject({ field: 'connection.context' });
    });

    it('an unreachable endpoint', async () => {
      const port = await freePort();
      const kubeconfig = stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'c', cluster: { server: `https://127.0.0.1:${port}`, 'insecure-skip-tls-verify': true } }],
        users: [{ name: 'u', user: { token: kube.token } }],
        contexts: [{ name: 'ctx', context: { cluster: 'c', user: 'u' } }],
        'current-context': 'ctx',
      });
      const err = await failure(probe(cloud({ kubeconfig })));
      expect(err.code).toBe('UNAVAILABLE');
      expect(err.message).toContain(`cannot reach https://127.0.0.1:${port} (ECONNREFUSED)`);
    });

    it('a missing kubeconfig file and a malformed connection name the field', async () => {
      const missing = await failure(probe(cloud({ kubeconfigPath: join(scratch, 'nope.yaml') })));
      expect(missing.code).toBe('VALIDATION');
      expect(missing.message).toContain('connection.kubeconfigPath: no kubeconfig file at');
      const malformed = await failure(probe(cloud({ kubeconfigPath: kube.kubeconfigPath, inCluster: true })));
      expect(malformed.message).toBe('kubernetes cloud "k8s-bad": connection.inCluster: give exactly one of kubeconfigPath, kubeconfig (inline) or inCluster: true');
    });

    it('a good cloud probes ok', async () => {
      const result = await probe(cloud({ kubeconfigPath: kube.kubeconfigPath, context: 'tianshu-test' }));
      expect(result.health.ok).toBe(true);
      expect(result.inventory.capacitySource).toBe('observed');
    });
  });
});
