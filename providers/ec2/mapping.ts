/**
 * The pure half of the EC2 adapter: choosing an instance type, the deterministic ClientToken and
 * tags of each launch, reading a slice back from tagged instances, planning a scale, and
 * classifying AWS SDK errors. No I/O here, so all of it is unit-tested without an endpoint.
 *
 * A slice is a set of instances, one per replica index `0 … replicas-1`, each tagged with its
 * index. Scaling down terminates the highest indexes; scaling up launches the missing ones, so
 * every instance keeps its index for life and a retry can tell exactly which replicas exist.
 *
 * @packageDocumentation
 */
import { createHash } from 'node:crypto';
import type { Instance, InstanceTypeInfo, Tag } from '@aws-sdk/client-ec2';
import { codeForHttpStatus, messageOf, networkCause } from '../errors.js';
import type { ProviderErrorCode } from '../errors.js';
import { conditionOf } from '../provider.js';
import type { ReplicaResources, Slice, SliceRef, SliceStatus } from '../provider.js';

/** Tag keys Tianshu puts on every instance it launches. */
export const TAGS = {
  deployment: 'tianshu:deployment',
  tenant: 'tianshu:tenant',
  name: 'tianshu:name',
  sliceIndex: 'tianshu:slice-index',
  generation: 'tianshu:generation',
  replicas: 'tianshu:replicas',
} as const;

/** Instance states that count as "this replica exists" (a stopped instance is not relaunched). */
export const LIVE_STATES: readonly string[] = ['pending', 'running', 'stopping', 'stopped'];

/** The size of an instance type, in Tianshu's units. */
export interface InstanceSize {
  readonly name: string;
  /** vCPUs × 1000, i.e. millicores. */
  readonly cpu: number;
  /** MiB. */
  readonly memory: number;
  readonly gpu: number;
}

/** Reads an SDK InstanceTypeInfo; undefined when it lacks a name or vCPU/memory figures. */
export function instanceSize(info: InstanceTypeInfo): InstanceSize | undefined {
  const name = info.InstanceType;
  const vcpus = info.VCpuInfo?.DefaultVCpus;
  const memory = info.MemoryInfo?.SizeInMiB;
  if (name === undefined || vcpus === undefined || memory === undefined) return undefined;
  const gpu = (info.GpuInfo?.Gpus ?? []).reduce((n, g) => n + (g.Count ?? 0), 0);
  return { name, cpu: vcpus * 1000, memory, gpu };
}

/** True when one instance of `size` holds one replica needing `need`. */
export function fitsReplica(size: InstanceSize, need: ReplicaResources): boolean {
  return size.cpu >= need.cpu && size.memory >= need.memory && size.gpu >= need.gpu;
}

function describeNeed(need: ReplicaResources): string {
  return `${need.cpu / 1000} vCPU, ${need.memory} MiB, ${need.gpu} GPU per replica`;
}

/** The outcome of {@link chooseInstanceType}: a type, or why none will do. */
export type InstanceTypeChoice = { readonly ok: true; readonly size: InstanceSize } | { readonly ok: false; readonly reason: string };

/**
 * The cheapest instance type that fits one replica. With a price table, priced types rank by
 * price first; unpriced ones (and ties) rank by fewest vCPUs, then least memory, then GPUs, then
 * name, so the choice is deterministic whatever order the endpoint lists types in.
 */
export function chooseInstanceType(sizes: readonly InstanceSize[], need: ReplicaResources, prices?: Readonly<Record<string, number>>): InstanceTypeChoice {
  if (sizes.length === 0) return { ok: false, reason: 'the endpoint offers no instance types (or none of the allowed ones)' };
  const fitting = sizes.filter((s) => fitsReplica(s, need));
  if (fitting.length === 0) {
    const largest = [...sizes].sort((a, b) => b.cpu - a.cpu || b.memory - a.memory)[0];
    const hint = largest === undefined ? '' : ` (largest offered: ${largest.name}, ${largest.cpu / 1000} vCPU, ${largest.memory} MiB, ${largest.gpu} GPU)`;
    return { ok: false, reason: `no instance type fits ${describeNeed(need)}${hint}` };
  }
  const price = (s: InstanceSize): number => prices?.[s.name] ?? Number.POSITIVE_INFINITY;
  const best = [...fitting].sort(
    (a, b) => price(a) - price(b) || a.cpu - b.cpu || a.memory - b.memory || a.gpu - b.gpu || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  )[0];
  return best === undefined ? { ok: false, reason: 'no instance type fits' } : { ok: true, size: best };
}

/** Checks an explicitly requested type (the spec's `workload.instanceType`) against the offer. */
export function checkRequestedType(sizes: readonly InstanceSize[], name: string, need: ReplicaResources): InstanceTypeChoice {
  const size = sizes.find((s) => s.name === name);
  if (size === undefined) return { ok: false, reason: `instance type ${name} is not offered here (or not allowed)` };
  if (!fitsReplica(size, need)) {
    return { ok: false, reason: `instance type ${name} (${size.cpu / 1000} vCPU, ${size.memory} MiB, ${size.gpu} GPU) cannot fit ${describeNeed(need)}` };
  }
  return { ok: true, size };
}

/**
 * The ClientToken of a launch: a hash of the deployment, generation and index range (plus a retry
 * `attempt`, bumped only when the endpoint hands back an already-terminated instance for a token).
 * The same request always carries the same token, so an endpoint that honours tokens never
 * launches twice; one that does not is covered by the describe-before-launch in the adapter.
 */
export function clientToken(deploymentId: string, generation: number, from: number, to: number, attempt = 0): string {
  // EC2 allows 64 ASCII characters.
  return createHash('sha256').update(`tianshu|${deploymentId}|${generation}|${from}-${to}|${attempt}`).digest('hex').slice(0, 64);
}

/** The tags of the instance at `index` of a slice. */
export function instanceTags(slice: Slice, index: number): Tag[] {
  return [
    { Key: 'Name', Value: `${slice.tenant.replace(/\//g, '-')}-${slice.name}-${index}` },
    { Key: TAGS.deployment, Value: slice.deploymentId },
    { Key: TAGS.tenant, Value: slice.tenant },
    { Key: TAGS.name, Value: slice.name },
    { Key: TAGS.sliceIndex, Value: String(index) },
    { Key: TAGS.generation, Value: String(slice.generation) },
    { Key: TAGS.replicas, Value: String(slice.replicas) },
  ];
}

/** One instance of a slice as the adapter sees it. */
export interface SliceInstance {
  readonly id: string;
  readonly ref: SliceRef;
  readonly index: number;
  readonly state: string;
  readonly type: string;
  readonly generation: number;
  readonly replicas: number;
  /** Milliseconds since the epoch; ties between duplicates go to the older instance. */
  readonly launchedAt: number;
}

/** Reads a described instance; undefined when it is not a Tianshu slice instance. */
export function sliceInstance(instance: Instance): SliceInstance | undefined {
  const tags = new Map((instance.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
  const deploymentId = tags.get(TAGS.deployment);
  const tenant = tags.get(TAGS.tenant);
  const name = tags.get(TAGS.name);
  const index = Number(tags.get(TAGS.sliceIndex));
  if (instance.InstanceId === undefined || deploymentId === undefined || tenant === undefined || name === undefined || !Number.isInteger(index)) return undefined;
  return {
    id: instance.InstanceId,
    ref: { deploymentId, tenant, name },
    index,
    state: instance.State?.Name ?? 'unknown',
    type: instance.InstanceType ?? 'unknown',
    generation: Number(tags.get(TAGS.generation) ?? '0') || 0,
    replicas: Number(tags.get(TAGS.replicas) ?? '0') || 0,
    launchedAt: instance.LaunchTime?.getTime() ?? 0,
  };
}

/** What one apply must do to reach `replicas`. */
export interface ScalePlan {
  /** Indexes to launch, ascending. */
  readonly launch: readonly number[];
  /** Instances to terminate: above the desired count (highest index first), then duplicates. */
  readonly terminate: readonly SliceInstance[];
  /** Instances that stay. */
  readonly keep: readonly SliceInstance[];
}

/**
 * Plans a scale from the live instances of one slice: keep one instance per index below
 * `replicas` (the oldest, should an endpoint ever have launched twice), launch the missing
 * indexes, terminate everything else, highest index first.
 */
export function planScale(live: readonly SliceInstance[], replicas: number): ScalePlan {
  const byIndex = new Map<number, SliceInstance[]>();
  for (const i of live) byIndex.set(i.index, [...(byIndex.get(i.index) ?? []), i]);
  const keep: SliceInstance[] = [];
  const surplus: SliceInstance[] = [];
  const duplicates: SliceInstance[] = [];
  const launch: number[] = [];
  for (let index = 0; index < replicas; index++) {
    const group = [...(byIndex.get(index) ?? [])].sort((a, b) => a.launchedAt - b.launchedAt || (a.id < b.id ? -1 : 1));
    const [first, ...rest] = group;
    if (first === undefined) launch.push(index);
    else keep.push(first);
    duplicates.push(...rest);
  }
  for (const [index, group] of byIndex) if (index >= replicas || index < 0) surplus.push(...group);
  surplus.sort((a, b) => b.index - a.index || (a.id < b.id ? -1 : 1));
  return { launch, terminate: [...surplus, ...duplicates], keep };
}

/** The status of a slice from its live instances; null when none are left. */
export function statusFromInstances(ref: SliceRef, cloudId: string, live: readonly SliceInstance[]): SliceStatus | null {
  if (live.length === 0) return null;
  // The newest generation's tags carry the desired count; older instances may lag a re-tag.
  const newest = live.reduce((a, b) => (b.generation > a.generation ? b : a));
  const desired = newest.replicas;
  const running = live.filter((i) => i.index < desired && i.state === 'running');
  const ready = new Set(running.map((i) => i.index)).size;
  const pending = live.filter((i) => i.index < desired && i.state === 'pending').length;
  const stopped = live.filter((i) => i.index < desired && (i.state === 'stopped' || i.state === 'stopping')).length;
  let message = `${ready}/${desired} running`;
  if (pending > 0) message += `, ${pending} pending`;
  if (stopped > 0) message += `, ${stopped} stopped outside Tianshu`;
  return {
    ref: { deploymentId: ref.deploymentId, tenant: ref.tenant, name: ref.name },
    cloudId,
    desiredReplicas: desired,
    readyReplicas: ready,
    availableReplicas: ready,
    generation: newest.generation,
    observed: true,
    condition: conditionOf(desired, ready, true),
    message,
  };
}

/** AWS error codes that mean "try again later" whatever their HTTP status. */
const THROTTLING = new Set(['RequestLimitExceeded', 'Throttling', 'ThrottlingException', 'TooManyRequestsException', 'RequestThrottled', 'SlowDown', 'PriorRequestNotComplete']);
/** AWS error codes that mean the credentials are wrong. */
const AUTH = new Set(['AuthFailure', 'InvalidClientTokenId', 'SignatureDoesNotMatch', 'UnrecognizedClientException', 'InvalidAccessKeyId', 'ExpiredToken', 'MissingAuthenticationToken', 'IncompleteSignature']);
/** Server-side capacity shortages: the call was fine, the cloud is full for now. */
const CAPACITY = new Set(['InsufficientInstanceCapacity', 'InsufficientHostCapacity', 'InsufficientCapacity', 'ServiceUnavailable', 'Unavailable', 'InternalError']);

/** A classified SDK failure. */
export interface AwsFailure {
  readonly code: ProviderErrorCode;
  readonly reason: string;
  readonly httpStatus?: number;
  /** The AWS error code or network cause. */
  readonly cause?: string;
  /** Attempts the SDK made (its standard retry mode included). */
  readonly attempts?: number;
}

/** Classifies anything the AWS SDK throws. `endpoint` is only used to word network failures. */
export function classifyAwsError(e: unknown, endpoint: string): AwsFailure {
  const rec = (typeof e === 'object' && e !== null ? e : {}) as {
    name?: unknown;
    Code?: unknown;
    $fault?: unknown;
    $metadata?: { httpStatusCode?: number; attempts?: number };
  };
  const attempts = rec.$metadata?.attempts;
  const httpStatus = rec.$metadata?.httpStatusCode;
  const awsCode = typeof rec.Code === 'string' ? rec.Code : typeof rec.name === 'string' ? rec.name : undefined;
  const message = messageOf(e);
  const net = networkCause(e);
  if (net !== undefined && (httpStatus === undefined || httpStatus === 0)) {
    const what = net === 'timeout' ? `no answer from ${endpoint} in time` : `cannot reach ${endpoint} (${net})`;
    return { code: 'UNAVAILABLE', reason: what, cause: net, attempts };
  }
  if (awsCode !== undefined && AUTH.has(awsCode)) {
    return { code: 'PROVIDER_ERROR', reason: `credentials rejected (${awsCode}): ${message}`, httpStatus, cause: awsCode, attempts };
  }
  if (awsCode !== undefined && (THROTTLING.has(awsCode) || CAPACITY.has(awsCode))) {
    return { code: 'UNAVAILABLE', reason: `${awsCode}: ${message}`, httpStatus, cause: awsCode, attempts };
  }
  if (httpStatus !== undefined && httpStatus > 0) {
    return { code: codeForHttpStatus(httpStatus), reason: `HTTP ${httpStatus}${awsCode === undefined ? '' : ` ${awsCode}`}: ${message}`, httpStatus, cause: awsCode, attempts };
  }
  // No response and no recognisable network code: the SDK's own "server" faults are transient.
  const code: ProviderErrorCode = rec.$fault === 'server' ? 'UNAVAILABLE' : 'PROVIDER_ERROR';
  return { code, reason: awsCode === undefined ? message : `${awsCode}: ${message}`, cause: awsCode, attempts };
}
