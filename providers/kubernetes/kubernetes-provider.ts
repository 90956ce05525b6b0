/**
 * The Kubernetes adapter: the I/O half, over `@kubernetes/client-node` 1.x. Works with any
 * conformant cluster (ACK, CCE, TKE, OpenShift, self-built); the manifests and the reading of
 * objects live in `./mapping.ts`.
 *
 * One apply = at most: read the tenant Namespace (create it if missing), list the tenant's
 * Deployments (only when the quota mirrors them), server-side apply the ResourceQuota, server-side
 * apply the Deployment. Server-side apply with field manager `tianshu` and `force` makes each
 * write declarative: re-applying identical manifests changes nothing (no new resourceVersion).
 *
 * @packageDocumentation
 */
import { existsSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import type { RequestOptions } from 'node:https';
import { request as httpsRequest } from 'node:https';
import {
  ApiException,
  AppsV1Api,
  CoreV1Api,
  createConfiguration,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  ServerConfiguration,
} from '@kubernetes/client-node';
import type { Configuration, KubernetesObject, RequestContext, ResponseContext, V1Deployment, V1Namespace, V1Node, V1Pod } from '@kubernetes/client-node';
import type { ProviderKind } from '../../domain/cloud.js';
import { TianshuError } from '../../domain/errors.js';
import { add, resources, ZERO } from '../../domain/resources.js';
import type { Resources } from '../../domain/resources.js';
import { codeForHttpStatus, messageOf, networkCause, providerError } from '../errors.js';
import type { ProviderErrorCode } from '../errors.js';
import { toRef } from '../provider.js';
import type { HealthReport, Inventory, Provider, ProviderOptions, Slice, SliceRef, SliceStatus } from '../provider.js';
import type { KubernetesConnection } from './connection.js';
import {
  ANNOTATIONS,
  belongsTo,
  deploymentDemand,
  deploymentManifest,
  deploymentNameFor,
  FIELD_MANAGER,
  inventoryFromNodes,
  MANAGED_SELECTOR,
  namespaceFor,
  namespaceManifest,
  QUOTA_NAME,
  quotaManifest,
  refFromDeployment,
  statusFromDeployment,
} from './mapping.js';

const KIND: ProviderKind = 'kubernetes';

/**
 * Loads the kubeconfig a connection names and selects its context. Throws a VALIDATION
 * {@link TianshuError} naming the cloud, the field and the cause (missing file, unknown context).
 */
export function loadKubeConfig(cloudId: string, conn: KubernetesConnection): KubeConfig {
  const kc = new KubeConfig();
  const fail = (field: string, reason: string, cause?: unknown): TianshuError =>
    new TianshuError('VALIDATION', `kubernetes cloud "${cloudId}": connection.${field}: ${reason}`, { field: `connection.${field}`, cloudId }, { cause });
  try {
    if (conn.inCluster) kc.loadFromCluster();
    else if (conn.kubeconfigPath !== undefined) {
      if (!existsSync(conn.kubeconfigPath)) throw fail('kubeconfigPath', `no kubeconfig file at ${conn.kubeconfigPath}`);
      kc.loadFromFile(conn.kubeconfigPath);
    } else kc.loadFromString(conn.kubeconfig ?? '');
  } catch (e) {
    if (e instanceof TianshuError) throw e;
    throw fail(conn.inCluster ? 'inCluster' : conn.kubeconfigPath !== undefined ? 'kubeconfigPath' : 'kubeconfig', `cannot load kubeconfig: ${messageOf(e)}`, e);
  }
  if (conn.context !== undefined) {
    const names = kc.getContexts().map((c) => c.name);
    if (!names.includes(conn.context)) {
      throw fail('context', `the kubeconfig has no context "${conn.context}" (it has: ${names.length === 0 ? 'none' : names.join(', ')})`);
    }
    kc.setCurrentContext(conn.context);
  }
  const context = kc.getContextObject(kc.getCurrentContext());
  if (context === null) throw fail('context', `the kubeconfig's current context "${kc.getCurrentContext()}" does not exist`);
  if (kc.getCurrentCluster() === null) throw fail('context', `context "${context.name}" names cluster "${context.cluster}", which the kubeconfig lacks`);
  if (kc.getCurrentUser() === null) throw fail('context', `context "${context.name}" names user "${context.user}", which the kubeconfig lacks`);
  return kc;
}

/** The adapter for one Kubernetes cluster. */
export class KubernetesProvider implements Provider {
  readonly kind = KIND;
  private readonly kc: KubeConfig;
  private readonly server: string;
  private readonly core: CoreV1Api;
  private readonly apps: AppsV1Api;
  private readonly objects: KubernetesObjectApi;
  private readonly gpu: string;

  constructor(
    readonly cloudId: string,
    private readonly conn: KubernetesConnection,
    _options: ProviderOptions = {},
  ) {
    this.kc = loadKubeConfig(cloudId, conn);
    this.server = this.kc.getCurrentCluster()?.server ?? '';
    this.gpu = conn.gpuResourceName;
    const timeoutMs = conn.requestTimeoutMs;
    // Every request gets a deadline; client-node has none by default and a black-holed
    // apiserver would otherwise hang a reconcile forever.
    const config: Configuration = createConfiguration({
      baseServer: new ServerConfiguration(this.server, {}),
      authMethods: { default: this.kc },
      promiseMiddleware: [
        {
          pre: (ctx: RequestContext) => {
            ctx.setSignal(AbortSignal.timeout(timeoutMs));
            return Promise.resolve(ctx);
          },
          post: (ctx: ResponseContext) => Promise.resolve(ctx),
        },
      ],
    });
    this.core = new CoreV1Api(config);
    this.apps = new AppsV1Api(config);
    this.objects = new KubernetesObjectApi(config);
  }

  /**
   * Nodes' allocatable minus scheduled pods' requests. When the credentials may not list nodes
   * (403), falls back to `declaredCapacity`, with the requests of Tianshu's own Deployments as
   * the allocation; without a declared capacity that is a PROVIDER_ERROR.
   */
  async inventory(): Promise<Inventory> {
    let nodes: V1Node[];
    try {
      nodes = (await this.core.listNode()).items;
    } catch (e) {
      if (e instanceof ApiException && e.code === 403) return this.declaredInventory(e);
      throw this.translate(e, 'list nodes');
    }
    let pods: V1Pod[];
    try {
      pods = (await this.core.listPodForAllNamespaces({ fieldSelector: 'status.phase!=Succeeded,status.phase!=Failed' })).items;
    } catch (e) {
      throw this.translate(e, 'list pods');
    }
    const inv = inventoryFromNodes(nodes, pods, this.gpu);
    return {
      cloudId: this.cloudId,
      capacity: inv.capacity,
      allocated: inv.allocated,
      condition: inv.schedulableNodes > 0 ? 'Ready' : 'NotReady',
      capacitySource: 'observed',
      detail: `${inv.schedulableNodes}/${inv.totalNodes} nodes schedulable, ${pods.length} pods`,
    };
  }

  private async declaredInventory(denied: ApiException<unknown>): Promise<Inventory> {
    const declared = this.conn.declaredCapacity;
    if (declared === undefined) {
      throw this.error('PROVIDER_ERROR', 'list nodes', `forbidden to list nodes (${statusMessage(denied)}) and no connection.declaredCapacity to fall back on`, 403, 'Forbidden', denied);
    }
    let allocated = ZERO;
    for (const d of await this.managedDeployments()) allocated = add(allocated, deploymentDemand(d, this.gpu));
    return {
      cloudId: this.cloudId,
      capacity: resources(declared),
      allocated,
      condition: 'Ready',
      capacitySource: 'declared',
      detail: 'listing nodes is forbidden; declared capacity, allocation from Tianshu deployments',
    };
  }

  /** Namespace, ResourceQuota and Deployment, in that order, each declaratively. */
  async apply(slice: Slice): Promise<SliceStatus> {
    if (slice.cloudId !== this.cloudId) throw this.error('PROVIDER_ERROR', 'apply', `slice is placed on "${slice.cloudId}", not here`);
    if (slice.workload.kind !== 'container') {
      throw this.error('PROVIDER_ERROR', 'apply', `Kubernetes clouds run container workloads; "${slice.tenant}/${slice.name}" is a ${slice.workload.kind}`);
    }
    const namespace = namespaceFor(slice.tenant);
    await this.ensureNamespace(slice, namespace);

    const deployment = deploymentManifest(slice, slice.workload.image, this.gpu);
    let share: Resources;
    if (slice.tenantShare !== undefined) share = resources(slice.tenantShare);
    else {
      share = deploymentDemand(deployment, this.gpu);
      for (const d of await this.managedDeployments(namespace)) {
        if (d.metadata?.name !== deployment.metadata?.name) share = add(share, deploymentDemand(d, this.gpu));
      }
    }
    await this.serverSideApply(quotaManifest(slice.tenant, share, slice.tenantShare === undefined ? 'slices' : 'share', this.gpu), 'apply resource quota');
    const applied = await this.serverSideApply(deployment, 'apply deployment');
    return statusFromDeployment(applied, slice, this.cloudId);
  }

  private async ensureNamespace(slice: Slice, namespace: string): Promise<void> {
    let existing: V1Namespace | undefined;
    try {
      existing = await this.core.readNamespace({ name: namespace });
    } catch (e) {
      if (!(e instanceof ApiException && e.code === 404)) throw this.translate(e, `read namespace ${namespace}`);
    }
    if (existing === undefined) {
      await this.serverSideApply(namespaceManifest(slice.tenant), `create namespace ${namespace}`);
      return;
    }
    const owner = existing.metadata?.annotations?.[ANNOTATIONS.tenantPath];
    if (owner !== slice.tenant) {
      throw this.error('PROVIDER_ERROR', 'apply', `namespace ${namespace} exists but belongs to ${owner === undefined ? 'no Tianshu tenant' : `tenant "${owner}"`}, not "${slice.tenant}"`);
    }
    if (existing.metadata?.deletionTimestamp !== undefined && existing.metadata.deletionTimestamp !== null) {
      // Its last slice was just removed; the namespace controller will finish shortly.
      throw this.error('UNAVAILABLE', 'apply', `namespace ${namespace} is terminating; apply again once it is gone`, 409, 'NamespaceTerminating');
    }
  }

  /** Deletes the slice's Deployment (only if it is this slice's), then the namespace if it is now empty. */
  async remove(ref: SliceRef): Promise<void> {
    const namespace = namespaceFor(ref.tenant);
    const name = deploymentNameFor(ref);
    const existing = await this.readDeployment(ref);
    if (existing !== undefined) {
      try {
        await this.apps.deleteNamespacedDeployment({
          name,
          namespace,
          propagationPolicy: 'Background',
          // Never delete a namesake that replaced ours between the read and the delete.
          body: { preconditions: { uid: existing.metadata?.uid ?? '' } },
        });
      } catch (e) {
        if (!(e instanceof ApiException && (e.code === 404 || e.code === 409))) throw this.translate(e, `delete deployment ${namespace}/${name}`);
      }
    }
    const remaining = await this.managedDeployments(namespace);
    if (remaining.length === 0) {
      if (this.conn.deleteEmptyNamespaces) {
        try {
          await this.core.deleteNamespace({ name: namespace });
        } catch (e) {
          if (!(e instanceof ApiException && (e.code === 404 || e.code === 409))) throw this.translate(e, `delete namespace ${namespace}`);
        }
      }
      return;
    }
    await this.shrinkQuota(ref, namespace, remaining);
  }

  /** Re-mirrors a slices-derived quota after a removal; an orchestrator-given share is left for the next apply. */
  private async shrinkQuota(ref: SliceRef, namespace: string, remaining: V1Deployment[]): Promise<void> {
    let source: string | undefined;
    try {
      const quota = await this.core.readNamespacedResourceQuota({ name: QUOTA_NAME, namespace });
      source = quota.metadata?.annotations?.[ANNOTATIONS.quotaSource];
    } catch (e) {
      if (!(e instanceof ApiException && e.code === 404)) throw this.translate(e, `read resource quota ${namespace}`);
    }
    if (source !== 'slices') return;
    const share = remaining.reduce((sum, d) => add(sum, deploymentDemand(d, this.gpu)), ZERO);
    await this.serverSideApply(quotaManifest(ref.tenant, share, 'slices', this.gpu), 'apply resource quota');
  }

  /** The Deployment's status, or null when there is no Deployment of this slice. */
  async status(ref: SliceRef): Promise<SliceStatus | null> {
    const d = await this.readDeployment(ref);
    return d === undefined ? null : statusFromDeployment(d, ref, this.cloudId);
  }

  /** Every Deployment labelled as Tianshu's, in any namespace. */
  async listSlices(): Promise<SliceRef[]> {
    const refs: SliceRef[] = [];
    for (const d of await this.managedDeployments()) {
      const ref = refFromDeployment(d);
      if (ref !== undefined) refs.push(toRef(ref));
    }
    return refs;
  }

  /** `GET /readyz` with the kubeconfig's credentials; never throws. */
  async health(): Promise<HealthReport> {
    try {
      const { status, body } = await this.get('/readyz');
      return status === 200 ? { ok: true, detail: `${this.server}/readyz: ok` } : { ok: false, detail: `${this.server}/readyz: HTTP ${status} ${body.slice(0, 200)}` };
    } catch (e) {
      return { ok: false, detail: `${this.server}/readyz: ${networkCause(e) ?? messageOf(e)}` };
    }
  }

  /** Nothing to release: client-node opens a connection per request. */
  close(): Promise<void> {
    return Promise.resolve();
  }

  // ---- internals ----------------------------------------------------------------------------

  private async readDeployment(ref: SliceRef): Promise<V1Deployment | undefined> {
    const namespace = namespaceFor(ref.tenant);
    const name = deploymentNameFor(ref);
    try {
      const d = await this.apps.readNamespacedDeployment({ name, namespace });
      return belongsTo(d, ref) ? d : undefined;
    } catch (e) {
      if (e instanceof ApiException && e.code === 404) return undefined;
      throw this.translate(e, `read deployment ${namespace}/${name}`);
    }
  }

  private async managedDeployments(namespace?: string): Promise<V1Deployment[]> {
    try {
      const list =
        namespace === undefined
          ? await this.apps.listDeploymentForAllNamespaces({ labelSelector: MANAGED_SELECTOR })
          : await this.apps.listNamespacedDeployment({ namespace, labelSelector: MANAGED_SELECTOR });
      return list.items;
    } catch (e) {
      throw this.translate(e, namespace === undefined ? 'list deployments' : `list deployments in ${namespace}`);
    }
  }

  private async serverSideApply<T extends KubernetesObject>(manifest: T, operation: string): Promise<T> {
    try {
      return await this.objects.patch(manifest, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
    } catch (e) {
      throw this.translate(e, operation);
    }
  }

  /** A GET outside the typed API (health), with the kubeconfig's TLS and credentials. */
  private async get(path: string): Promise<{ status: number; body: string }> {
    const opts: RequestOptions = {};
    await this.kc.applyToHTTPSOptions(opts);
    const url = new URL(path, this.server);
    const send = url.protocol === 'http:' ? httpRequest : httpsRequest;
    return new Promise((resolve, reject) => {
      const req = send(url, { ...opts, method: 'GET', signal: AbortSignal.timeout(this.conn.requestTimeoutMs) }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      });
      req.on('error', reject);
      req.end();
    });
  }

  /** Any error from client-node → UNAVAILABLE or PROVIDER_ERROR naming the cloud, the operation and the cause. */
  private translate(e: unknown, operation: string): TianshuError {
    if (e instanceof TianshuError) return e;
    if (e instanceof ApiException) {
      const status = e.code;
      const reason = statusReason(e);
      const what =
        status === 401
          ? `credentials rejected by ${this.server} (HTTP 401 Unauthorized): check the token or certificate`
          : status === 403
            ? `forbidden (HTTP 403): ${statusMessage(e)}`
            : `HTTP ${status}${reason === undefined ? '' : ` ${reason}`}: ${statusMessage(e)}`;
      return this.error(codeForHttpStatus(status), operation, what, status, reason, e);
    }
    const net = networkCause(e);
    if (net !== undefined) {
      const what = net === 'timeout' ? `no answer from ${this.server} within ${this.conn.requestTimeoutMs} ms` : `cannot reach ${this.server} (${net})`;
      return this.error('UNAVAILABLE', operation, what, undefined, net, e);
    }
    return this.error('PROVIDER_ERROR', operation, messageOf(e), undefined, undefined, e);
  }

  private error(code: ProviderErrorCode, operation: string, reason: string, httpStatus?: number, cause?: string, original?: unknown): TianshuError {
    return providerError(code, { cloudId: this.cloudId, kind: KIND, operation, httpStatus, cause, attempts: 1 }, reason, original);
  }
}

/** The `message` of a Kubernetes Status body, or a fallback. */
function statusMessage(e: ApiException<unknown>): string {
  const body: unknown = e.body;
  if (typeof body === 'object' && body !== null && typeof (body as { message?: unknown }).message === 'string') return (body as { message: string }).message;
  if (typeof body === 'string' && body.length > 0) {
    try {
      const parsed = JSON.parse(body) as { message?: unknown };
      if (typeof parsed.message === 'string') return parsed.message;
    } catch {
      // not JSON; fall through to the raw text
    }
    return body.slice(0, 300);
  }
  return e.message;
}

/** The `reason` of a Kubernetes Status body (`NotFound`, `Forbidden`, `Invalid`…). */
function statusReason(e: ApiException<unknown>): string | undefined {
  const body: unknown = e.body;
  let parsed: unknown = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body) as unknown;
    } catch {
      return undefined;
    }
  }
  const reason = (parsed as { reason?: unknown } | null)?.reason;
  return typeof reason === 'string' ? reason : undefined;
}
