/**
 * The orchestrator against a real kube-apiserver (the rig's etcd + kube-apiserver, no kubelet):
 * a deployment requested through GraphQL appears as a Deployment in the tenant's namespace;
 * stopping the apiserver marks the cloud NotReady and fails the deployment over to a simulated
 * cloud; restarting it removes the stale Deployment.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createEventBus } from '../api/events.js';
import { buildServer } from '../api/server.js';
import type { Cloud } from '../domain/cloud.js';
import { resources } from '../domain/resources.js';
import { createOrchestrator } from '../orchestrator/orchestrator.js';
import type { Orchestrator } from '../orchestrator/orchestrator.js';
import { createProvider } from '../providers/registry.js';
import type { SimulatedProvider } from '../providers/simulated/simulated-provider.js';
import { openStore } from '../store/open.js';
import type { Planner, Store } from '../store/store.js';
import { describeWithComponents, KUBE_COMPONENTS } from './rig/components.js';
import { kubeRequest, startKube } from './rig/kube.js';
import type { KubeInstance } from './rig/kube.js';
import { eventually, FAST, OPERATOR, realPlanner, seedTenants, shared, SimFleet, simCloud, TIERS } from './orchestrator-fixtures.js';

describeWithComponents(KUBE_COMPONENTS, 'orchestrator against a real kube-apiserver', () => {
  let kube: KubeInstance;
  let store: Store;
  let planner: Planner;
  let fleet: SimFleet;
  let sim: SimulatedProvider;
  let orch: Orchestrator;
  let app: FastifyInstance;

  beforeAll(async () => {
    kube = await startKube();
    store = await openStore(':memory:');
    await seedTenants(store);
    planner = realPlanner();
    fleet = new SimFleet();
    await store.registerCloud(OPERATOR, {
      ...simCloud('k8s-1'),
      kind: 'kubernetes',
      connection: { kubeconfigPath: kube.kubeconfigPath, context: 'tianshu-test', requestTimeoutMs: 2_000 },
      capacity: resources({ cpu: 16_000, memory: 65_536, gpu: 0, instances: 100 }),
    });
    // The fallback starts cordoned so the first placement surely lands on Kubernetes.
    sim = await fleet.add(store, simCloud('sim-1', { condition: 'Cordoned' }));
    const events = createEventBus();
    orch = createOrchestrator({
      store,
      planner,
      publish: (e) => events.publish(e),
      providerFor: (cloud: Cloud) => (cloud.kind === 'simulated' ? shared(fleet.sim(cloud.id)) : createProvider(cloud)),
      // The rig has no nodes, so observed capacity is 0: keep the registered capacity for this test.
      config: { ...FAST, probeIntervalMs: 100, failoverGraceMs: 500, reconcileIntervalMs: 100, inventoryIntervalMs: 3_600_000, callTimeoutMs: 3_000 },
    });
    await orch.start();
    app = await buildServer({
      store,
      planner,
      tiers: TIERS,
      authenticator: { verify: () => Promise.resolve({ subject: 'op', role: 'operator', tenant: null, expiresAt: Math.floor(Date.now() / 1000) + 3600 }) },
      events,
      mode: 'development',
      limits: { depth: 12, aliases: 30, cost: 10_000, maxPageSize: 100, defaultPageSize: 20, bodyLimitBytes: 1_000_000, ratePerMinute: 10_000 },
    });
  }, 180_000);

  afterAll(async () => {
    await app?.close();
    await orch?.stop();
    await store?.close();
    await kube?.stop();
  });

  async function deploymentsInNamespace(): Promise<string[]> {
    const res = await kubeRequest(kube.server, kube.token, 'GET', '/apis/apps/v1/namespaces/tianshu-gd-sz/deployments');
    if (res.status === 404) return [];
    const body = res.body as { items?: { metadata: { name: string } }[] };
    return (body.items ?? []).map((i) => i.metadata.name);
  }

  it('applies through the real apiserver, fails over when it stops, and cleans up when it returns', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/graphql',
      headers: { authorization: 'Bearer test', 'content-type': 'application/json' },
      payload: {
        query: `mutation { requestDeployment(spec: { tenant: "gd/sz", name: "web", workload: { kind: "container", image: "registry.gov.cn/web:1" }, replicas: 2, resources: { cpu: 500, memory: 256 }, minTier: "L2" }) { deployment { id phase slices { cloudId replicas } } } }`,
      },
    });
    const body = res.json<{ data?: { requestDeployment: { deployment: { id: string; slices: { cloudId: string }[] } } }; errors?: unknown }>();
    expect(body.errors).toBeUndefined();
    const id = body.data?.requestDeployment.deployment.id ?? '';
    expect(body.data?.requestDeployment.deployment.slices.map((s) => s.cloudId)).toEqual(['k8s-1']);
    // The API does not call kick (yet): the periodic pass picks the Scheduled deployment up.
    orch.kick(id);

    await eventually('a Deployment in tianshu-gd-sz', async () => (await deploymentsInNamespace()).length === 1, 20_000);
    // No kubelet: the Deployment never gets ready pods, so the deployment stays Deploying.
    await eventually('Deploying', async () => (await store.getDeployment(id))?.phase === 'Deploying', 10_000);

    await store.setCloudCondition(OPERATOR, 'sim-1', 'Ready', 'open for failover');
    await kube.stopApiserver();
    await eventually('k8s-1 NotReady', async () => (await store.getCloud('k8s-1'))?.condition === 'NotReady', 20_000);
    await eventually('failed over to sim-1', async () => (await store.getDeployment(id))?.slices.map((s) => s.cloudId).join() === 'sim-1', 20_000);
    await eventually('Running on sim-1', async () => (await store.getDeployment(id))?.phase === 'Running', 10_000);
    expect((await store.getPlacement(id))?.cause).toBe('failover');
    expect(await sim.listSlices()).toHaveLength(1);

    await kube.startApiserver();
    await eventually('k8s-1 Ready', async () => (await store.getCloud('k8s-1'))?.condition === 'Ready', 30_000);
    await eventually('stale Deployment removed', async () => (await deploymentsInNamespace()).length === 0, 30_000);
    expect((await store.getDeployment(id))?.slices.map((s) => s.cloudId)).toEqual(['sim-1']);
    expect(await store.checkLedger()).toEqual([]);
  }, 120_000);
});
