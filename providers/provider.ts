/**
 * The provider contract: what the orchestrator may ask of one cloud, whatever its kind.
 *
 * A provider is told "make slice S exist at exactly N replicas" ({@link Provider.apply}) and
 * "remove slice S" ({@link Provider.remove}); it reports what it has ({@link Provider.inventory}),
 * how a slice is doing ({@link Provider.status}) and which Tianshu slices exist there at all
 * ({@link Provider.listSlices}). Both mutations are idempotent and convergent: they describe the
 * end state, never a delta, so the orchestrator may repeat any call after a timeout without
 * duplicating anything.
 *
 * Errors. Every failure leaves an adapter as a {@link TianshuError} naming the cloud and the
 * cause, with one of two codes:
 * - `UNAVAILABLE` (`retryable: true`): the cloud could not be reached or was temporarily unable
 *   to answer (connection refused, timeout, 5xx, throttling). The operation may or may not have
 *   taken effect; since every call is idempotent, repeating it later is safe.
 * - `PROVIDER_ERROR` (`retryable: false`): the cloud understood and refused (4xx, bad
 *   credentials, validation, nothing fits). Repeating the same call will fail the same way.
 * A `VALIDATION` error may also come out of construction (a malformed connection).
 *
 * Retries happen at one layer only. An adapter makes at most the attempts it is configured for
 * (EC2: the AWS SDK's standard retry mode, `maxAttempts`; Kubernetes and simulated: one attempt)
 * and reports how many in `details.attempts`. The orchestrator must not wrap a retry loop around
 * a call; a retryable error means "requeue this slice's reconcile on the backoff schedule".
 *
 * @packageDocumentation
 */
import type { CloudCondition, ProviderKind } from '../domain/cloud.js';
import type { DeploymentSpec } from '../domain/deployment.js';
import type { Resources } from '../domain/resources.js';
import type { TenantPath } from '../domain/tenant.js';

/** What a slice runs: a container image (Kubernetes) or a VM image and optional size (EC2). */
export type Workload = DeploymentSpec['workload'];

/** Per-replica resources of a slice: `cpu` millicores, `memory` MiB, `gpu` count. */
export type ReplicaResources = DeploymentSpec['resources'];

/** Identifies a slice on one cloud: one deployment has at most one slice per cloud. */
export interface SliceRef {
  /** The deployment's stable id (not its name: names may be reused after deletion). */
  readonly deploymentId: string;
  /** The owning tenant's path, e.g. `gd/sz/health`. */
  readonly tenant: TenantPath;
  /** The deployment's name (a DNS label), used to name objects on the cloud. */
  readonly name: string;
}

/** What must exist on one cloud: `replicas` copies of the deployment's workload. */
export interface Slice extends SliceRef {
  /** The cloud this slice is placed on; must equal the provider's `cloudId`. */
  readonly cloudId: string;
  /** Exactly how many replicas must exist; 0 keeps the slice's objects with nothing running. */
  readonly replicas: number;
  /** The deployment's generation this slice was computed from; recorded on the cloud. */
  readonly generation: number;
  readonly workload: Workload;
  /** Resources of one replica. */
  readonly resources: ReplicaResources;
  /**
   * The tenant's whole share of this cloud, when the orchestrator knows it; the Kubernetes adapter
   * mirrors it into the tenant namespace's ResourceQuota. When absent, the adapter mirrors the sum
   * of the tenant's Tianshu slices it finds there (this one included).
   */
  readonly tenantShare?: Partial<Resources>;
}

/** How a slice is doing, in one word. */
export const SLICE_CONDITIONS = ['Ready', 'Progressing', 'Failed'] as const;
/** One slice condition: `Ready` when every desired replica is ready and the spec has been observed. */
export type SliceCondition = (typeof SLICE_CONDITIONS)[number];

/** The observed state of one slice on one cloud. */
export interface SliceStatus {
  readonly ref: SliceRef;
  readonly cloudId: string;
  /** Replicas the cloud has been asked for (what {@link Provider.apply} last set). */
  readonly desiredReplicas: number;
  /** Replicas that are up (Kubernetes: ready pods; EC2: running instances). */
  readonly readyReplicas: number;
  /** Replicas that have been up long enough to serve (Kubernetes: available; EC2: running). */
  readonly availableReplicas: number;
  /** The Tianshu generation recorded on the cloud by the last apply. */
  readonly generation: number;
  /** True when the cloud's own controller has acted on the latest apply (Kubernetes' observedGeneration). */
  readonly observed: boolean;
  readonly condition: SliceCondition;
  /** A human-readable reason for the condition, e.g. `0/3 ready (no pods scheduled)`. */
  readonly message: string;
}

/** Where an inventory's capacity came from. */
export type CapacitySource = 'observed' | 'declared';

/** Capacity and allocation of one cloud, per resource, as the cloud itself reports them. */
export interface Inventory {
  readonly cloudId: string;
  /** What the cloud can hold (Kubernetes: schedulable nodes' allocatable; EC2: declared). */
  readonly capacity: Resources;
  /** What is already taken (Kubernetes: scheduled pods' requests; EC2: Tianshu's instances). */
  readonly allocated: Resources;
  /** `Ready` when the cloud takes work; never `Cordoned`/`Draining` (those are operator states). */
  readonly condition: CloudCondition;
  readonly capacitySource: CapacitySource;
  /** Why the numbers are what they are, e.g. `3 ready nodes` or `nodes forbidden; declared capacity`. */
  readonly detail: string;
}

/** Result of {@link Provider.health}. */
export interface HealthReport {
  readonly ok: boolean;
  readonly detail: string;
}

/** One adapter instance, bound to one registered cloud. */
export interface Provider {
  readonly kind: ProviderKind;
  readonly cloudId: string;
  /** Capacity and allocation now. Throws UNAVAILABLE / PROVIDER_ERROR. */
  inventory(): Promise<Inventory>;
  /**
   * Makes the slice exist with exactly `slice.replicas` replicas (creating, scaling up or down in
   * place) and returns its status right after. Idempotent: applying the same slice again changes
   * nothing on the cloud. Throws UNAVAILABLE / PROVIDER_ERROR; on a throw the orchestrator must
   * treat the slice as not applied (any partial effect is converged by the next apply).
   */
  apply(slice: Slice): Promise<SliceStatus>;
  /** Removes the slice and everything it runs. Idempotent: removing what is gone succeeds. */
  remove(ref: SliceRef): Promise<void>;
  /** The slice's status, or null when it does not exist on this cloud. Throws on transport errors (never null for "unreachable"). */
  status(ref: SliceRef): Promise<SliceStatus | null>;
  /** Every Tianshu-managed slice present on this cloud (to clean up leftovers after failover). */
  listSlices(): Promise<SliceRef[]>;
  /** A cheap liveness probe; never throws. */
  health(): Promise<HealthReport>;
  /**
   * Optional registration-time checks beyond {@link Provider.inventory} (e.g. that the allowed
   * EC2 instance types exist). Throws like any other call.
   */
  verify?(): Promise<void>;
  /** Releases clients and timers. The provider must not be used afterwards. */
  close(): Promise<void>;
}

/** Dependencies a factory may take; everything has a sensible default. */
export interface ProviderOptions {
  /** Milliseconds since the epoch; injected so the simulated cloud replays deterministically. */
  readonly now?: () => number;
  /** Waits `ms` milliseconds; the simulated cloud's latency goes through it. */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** Builds a provider for one cloud from its validated connection settings. */
export type ProviderFactory<C> = (cloudId: string, connection: C, options: ProviderOptions) => Provider;

/** The key a slice is stored under: `tenant/name#deploymentId`. Stable, unique per cloud. */
export function sliceKey(ref: SliceRef): string {
  return `${ref.tenant}/${ref.name}#${ref.deploymentId}`;
}

/** Copies only the identifying fields of a slice or ref. */
export function toRef(ref: SliceRef): SliceRef {
  return { deploymentId: ref.deploymentId, tenant: ref.tenant, name: ref.name };
}

/** A status's condition from its counts; shared so every adapter says `Ready` the same way. */
export function conditionOf(desired: number, ready: number, observed: boolean): SliceCondition {
  return observed && ready >= desired ? 'Ready' : 'Progressing';
}
