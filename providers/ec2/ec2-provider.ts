/**
 * The EC2 adapter: the I/O half, over `@aws-sdk/client-ec2`. Works with AWS (GovCloud included)
 * and with EC2-compatible private clouds through `connection.endpoint`.
 *
 * Retries, at one layer: reads, tagging and termination (all idempotent) go through a client in
 * the SDK's standard retry mode with `maxAttempts`; RunInstances goes through a client with a
 * single attempt, because a launch retried inside the SDK after a lost response would rely on
 * the endpoint honouring ClientToken. Instead a failed launch surfaces as UNAVAILABLE and the
 * next apply first describes the slice's tagged instances and launches only what is missing —
 * safe whatever the endpoint does with tokens (moto, for one, ignores them).
 *
 * @packageDocumentation
 */
import {
  CreateTagsCommand,
  DescribeInstancesCommand,
  EC2Client,
  paginateDescribeInstances,
  paginateDescribeInstanceTypes,
  RunInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import type { _InstanceType, EC2ClientConfig, Filter, Instance } from '@aws-sdk/client-ec2';
import type { ProviderKind } from '../../domain/cloud.js';
import type { TianshuError } from '../../domain/errors.js';
import { isTianshuError } from '../../domain/errors.js';
import { add, resources, ZERO } from '../../domain/resources.js';
import { providerError } from '../errors.js';
import type { ProviderErrorCode } from '../errors.js';
import type { HealthReport, Inventory, Provider, ProviderOptions, Slice, SliceRef, SliceStatus } from '../provider.js';
import type { Ec2Connection } from './connection.js';
import {
  checkRequestedType,
  chooseInstanceType,
  classifyAwsError,
  clientToken,
  instanceSize,
  instanceTags,
  LIVE_STATES,
  planScale,
  sliceInstance,
  statusFromInstances,
  TAGS,
} from './mapping.js';
import type { InstanceSize, SliceInstance } from './mapping.js';

const KIND: ProviderKind = 'ec2';

/** How many RunInstances calls one apply makes at once. */
const LAUNCH_CONCURRENCY = 4;

/** EC2-specific construction options (tests use them to wrap the SDK clients). */
export interface Ec2ProviderOptions extends ProviderOptions {
  /** Called with each SDK client the provider creates, e.g. to add middleware. */
  readonly configureClient?: (client: EC2Client, role: 'main' | 'launch') => void;
}

/** The adapter for one EC2 (or EC2-compatible) endpoint. */
export class Ec2Provider implements Provider {
  readonly kind = KIND;
  private readonly client: EC2Client;
  private readonly launchClient: EC2Client;
  private readonly endpointName: string;
  private sizes: Promise<InstanceSize[]> | undefined;

  constructor(
    readonly cloudId: string,
    private readonly conn: Ec2Connection,
    options: Ec2ProviderOptions = {},
  ) {
    const base: EC2ClientConfig = {
      region: conn.region,
      ...(conn.endpoint === undefined ? {} : { endpoint: conn.endpoint }),
      ...(conn.credentials === undefined ? {} : { credentials: conn.credentials }),
      retryMode: 'standard',
      // Without throwOnRequestTimeout the handler only logs a warning and keeps waiting.
      requestHandler: { connectionTimeout: Math.min(conn.requestTimeoutMs, 5_000), requestTimeout: conn.requestTimeoutMs, throwOnRequestTimeout: true },
    };
    this.client = new EC2Client({ ...base, maxAttempts: conn.maxAttempts });
    this.launchClient = new EC2Client({ ...base, maxAttempts: 1 });
    options.configureClient?.(this.client, 'main');
    options.configureClient?.(this.launchClient, 'launch');
    this.endpointName = conn.endpoint ?? `ec2.${conn.region}.amazonaws.com`;
  }

  /** Declared capacity; allocation from the instance types of Tianshu's live instances. */
  async inventory(): Promise<Inventory> {
    const live = await this.describe('describe instances', [{ Name: 'tag-key', Values: [TAGS.deployment] }]);
    let allocated = ZERO;
    if (live.length > 0) {
      const sizes = new Map((await this.instanceSizes()).map((s) => [s.name, s]));
      for (const i of live) {
        const s = sizes.get(i.type);
        allocated = add(allocated, resources({ cpu: s?.cpu ?? 0, memory: s?.memory ?? 0, gpu: s?.gpu ?? 0, instances: 1 }));
      }
    }
    return {
      cloudId: this.cloudId,
      capacity: resources(this.conn.declaredCapacity),
      allocated,
      condition: 'Ready',
      capacitySource: 'declared',
      detail: `declared capacity; ${live.length} Tianshu instance(s)`,
    };
  }

  /** Describes the slice's instances, terminates the surplus, launches the missing indexes, re-tags the rest. */
  async apply(slice: Slice): Promise<SliceStatus> {
    if (slice.cloudId !== this.cloudId) throw this.error('PROVIDER_ERROR', 'apply', `slice is placed on "${slice.cloudId}", not here`);
    if (slice.workload.kind !== 'vm') {
      throw this.error('PROVIDER_ERROR', 'apply', `EC2 clouds run vm workloads; "${slice.tenant}/${slice.name}" is a ${slice.workload.kind}`);
    }
    const { image, instanceType } = slice.workload;
    const type = await this.typeFor(slice, instanceType);
    const live = await this.describeSlice(slice);
    const plan = planScale(live, slice.replicas);

    if (plan.terminate.length > 0) await this.terminate(plan.terminate.map((i) => i.id), 'terminate surplus instances');

    const launched = await mapLimit(plan.launch, LAUNCH_CONCURRENCY, (index) => this.launch(slice, image, type, index));

    // Survivors learn the new generation and desired count, so status() can be answered from tags alone.
    const stale = plan.keep.filter((i) => i.generation !== slice.generation || i.replicas !== slice.replicas);
    if (stale.length > 0) {
      await this.send('tag instances', () =>
        this.client.send(
          new CreateTagsCommand({
            Resources: stale.map((i) => i.id),
            Tags: [
              { Key: TAGS.generation, Value: String(slice.generation) },
              { Key: TAGS.replicas, Value: String(slice.replicas) },
            ],
          }),
        ),
      );
    }
    const now: SliceInstance[] = [...plan.keep.map((i) => ({ ...i, generation: slice.generation, replicas: slice.replicas })), ...launched];
    return (
      statusFromInstances(slice, this.cloudId, now) ?? {
        ref: { deploymentId: slice.deploymentId, tenant: slice.tenant, name: slice.name },
        cloudId: this.cloudId,
        desiredReplicas: 0,
        readyReplicas: 0,
        availableReplicas: 0,
        generation: slice.generation,
        observed: true,
        condition: 'Ready',
        message: 'scaled to zero: no instances',
      }
    );
  }

  /** Terminates every live instance of the slice; nothing to do is fine. */
  async remove(ref: SliceRef): Promise<void> {
    const live = await this.describeSlice(ref);
    if (live.length > 0) await this.terminate(live.map((i) => i.id), 'terminate instances');
  }

  /** From the slice's live instances' tags; null when it has none (EC2 cannot tell "absent" from "scaled to zero"). */
  async status(ref: SliceRef): Promise<SliceStatus | null> {
    return statusFromInstances(ref, this.cloudId, await this.describeSlice(ref));
  }

  /** Distinct slices among the live instances carrying Tianshu's tags. */
  async listSlices(): Promise<SliceRef[]> {
    const live = await this.describe('describe instances', [{ Name: 'tag-key', Values: [TAGS.deployment] }]);
    const seen = new Map<string, SliceRef>();
    for (const i of live) seen.set(`${i.ref.tenant}/${i.ref.name}#${i.ref.deploymentId}`, i.ref);
    return [...seen.values()];
  }

  /** One cheap authenticated call (DescribeInstances, 5 results); never throws. */
  async health(): Promise<HealthReport> {
    try {
      await this.client.send(new DescribeInstancesCommand({ MaxResults: 5 }));
      return { ok: true, detail: `${this.endpointName}: ok` };
    } catch (e) {
      return { ok: false, detail: `${this.endpointName}: ${classifyAwsError(e, this.endpointName).reason}` };
    }
  }

  /** Checks at registration that the allowed instance types exist and that DescribeInstanceTypes works. */
  async verify(): Promise<void> {
    const sizes = await this.instanceSizes();
    if (sizes.length === 0) throw this.error('PROVIDER_ERROR', 'describe instance types', 'the endpoint offers none of the allowed instance types');
  }

  /** Releases the SDK clients' sockets. */
  close(): Promise<void> {
    this.client.destroy();
    this.launchClient.destroy();
    return Promise.resolve();
  }

  // ---- internals ----------------------------------------------------------------------------

  private async typeFor(slice: Slice, requested: string | undefined): Promise<InstanceSize> {
    const sizes = await this.instanceSizes();
    const choice = requested === undefined ? chooseInstanceType(sizes, slice.resources, this.conn.priceTable) : checkRequestedType(sizes, requested, slice.resources);
    if (!choice.ok) throw this.error('PROVIDER_ERROR', 'choose instance type', choice.reason, undefined, 'NoFittingInstanceType');
    return choice.size;
  }

  /** Every offered (and allowed) instance type's size, fetched once per provider. */
  private instanceSizes(): Promise<InstanceSize[]> {
    if (this.sizes === undefined) {
      const load = async (): Promise<InstanceSize[]> => {
        const out: InstanceSize[] = [];
        const allowed = this.conn.allowedInstanceTypes;
        try {
          const pages = paginateDescribeInstanceTypes({ client: this.client }, allowed === undefined ? {} : { InstanceTypes: allowed as _InstanceType[] });
          for await (const page of pages) {
            for (const info of page.InstanceTypes ?? []) {
              const size = instanceSize(info);
              if (size !== undefined) out.push(size);
            }
          }
        } catch (e) {
          throw this.translate(e, 'describe instance types');
        }
        return out;
      };
      // A failed load is not cached: the next call tries again.
      this.sizes = load().catch((e: unknown) => {
        this.sizes = undefined;
        throw e;
      });
    }
    return this.sizes;
  }

  private describeSlice(ref: SliceRef): Promise<SliceInstance[]> {
    return this.describe('describe slice instances', [
      { Name: `tag:${TAGS.deployment}`, Values: [ref.deploymentId] },
      { Name: `tag:${TAGS.tenant}`, Values: [ref.tenant] },
    ]);
  }

  /** Live (not shutting down / terminated) Tianshu instances matching `filters`. */
  private async describe(operation: string, filters: Filter[]): Promise<SliceInstance[]> {
    const out: SliceInstance[] = [];
    try {
      const pages = paginateDescribeInstances({ client: this.client }, { Filters: [...filters, { Name: 'instance-state-name', Values: [...LIVE_STATES] }] });
      for await (const page of pages) {
        for (const r of page.Reservations ?? []) {
          for (const i of r.Instances ?? []) {
            const s = sliceInstance(i);
            if (s !== undefined && LIVE_STATES.includes(s.state)) out.push(s);
          }
        }
      }
    } catch (e) {
      throw this.translate(e, operation);
    }
    return out;
  }

  /** Launches the instance at `index` with its deterministic token (a fresh token only if the old one names a dead instance). */
  private async launch(slice: Slice, image: string, type: InstanceSize, index: number): Promise<SliceInstance> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const out = await this.send('run instances', () =>
        this.launchClient.send(
          new RunInstancesCommand({
            ImageId: image,
            InstanceType: type.name as _InstanceType,
            MinCount: 1,
            MaxCount: 1,
            ClientToken: clientToken(slice.deploymentId, slice.generation, index, index, attempt),
            TagSpecifications: [{ ResourceType: 'instance', Tags: instanceTags(slice, index) }],
            ...(this.conn.subnetId === undefined ? {} : { SubnetId: this.conn.subnetId }),
            ...(this.conn.securityGroupIds === undefined ? {} : { SecurityGroupIds: this.conn.securityGroupIds }),
            ...(this.conn.keyName === undefined ? {} : { KeyName: this.conn.keyName }),
          }),
        ),
      );
      const instance: Instance | undefined = out.Instances?.[0];
      const state = instance?.State?.Name ?? 'pending';
      if (instance?.InstanceId !== undefined && state !== 'terminated' && state !== 'shutting-down') {
        return (
          sliceInstance(instance) ?? {
            id: instance.InstanceId,
            ref: { deploymentId: slice.deploymentId, tenant: slice.tenant, name: slice.name },
            index,
            state,
            type: type.name,
            generation: slice.generation,
            replicas: slice.replicas,
            launchedAt: instance.LaunchTime?.getTime() ?? 0,
          }
        );
      }
    }
    throw this.error('UNAVAILABLE', 'run instances', `the endpoint keeps returning terminated instances for replica ${index}`);
  }

  private async terminate(ids: string[], operation: string): Promise<void> {
    // TerminateInstances takes up to 1000 ids per call.
    for (let i = 0; i < ids.length; i += 1000) {
      const batch = ids.slice(i, i + 1000);
      await this.send(operation, () => this.client.send(new TerminateInstancesCommand({ InstanceIds: batch })));
    }
  }

  private async send<T>(operation: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (e) {
      throw this.translate(e, operation);
    }
  }

  private translate(e: unknown, operation: string): TianshuError {
    if (isTianshuError(e)) return e;
    const f = classifyAwsError(e, this.endpointName);
    return providerError(f.code, { cloudId: this.cloudId, kind: KIND, operation, httpStatus: f.httpStatus, cause: f.cause, attempts: f.attempts }, f.reason, e);
  }

  private error(code: ProviderErrorCode, operation: string, reason: string, httpStatus?: number, cause?: string): TianshuError {
    return providerError(code, { cloudId: this.cloudId, kind: KIND, operation, httpStatus, cause }, reason);
  }
}

/**
 * Maps with at most `limit` calls in flight. After a failure no further call starts, but the
 * calls already in flight are awaited before the first failure is thrown: a launch still in flight
 * when apply returned could land after the next apply described the slice, and be launched twice.
 */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  let failure: { error: unknown } | null = null;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (failure === null && next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i] as T);
      } catch (error) {
        failure ??= { error };
      }
    }
  });
  await Promise.all(workers);
  if (failure !== null) throw (failure as { error: unknown }).error;
  return results;
}
