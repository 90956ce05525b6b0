/**
 * The scheduling framework's shapes: the request, its prepared (compiled) form, and the two
 * extension points — filters and scorers — in the style of the Kubernetes and Karmada
 * scheduler frameworks. Filters and scorers are pure and synchronous over a {@link Snapshot}.
 */
import type { DeploymentSpec, PlacementSlice } from '../domain/deployment.js';
import type { Resources } from '../domain/resources.js';
import type { Headroom } from '../domain/tenant.js';
import type { ReasonCode } from './reasons.js';
import type { CloudView, Snapshot } from './snapshot.js';

/** What the scheduler is asked: place `spec` within the tenant lineage's `headroom`. */
export interface PlacementRequest {
  /** A spec already validated by `parseDeploymentSpec`. */
  readonly spec: DeploymentSpec;
  /** Remaining headroom of every ancestor of the spec's tenant, root first. */
  readonly headroom: readonly Headroom[];
  /** Seeds tie-breaking: the same snapshot and seed give the same decision. */
  readonly seed: string;
  /** Slices the deployment already holds: their demand is credited back and they are preferred. */
  readonly current?: readonly PlacementSlice[];
}

/** How many replicas the tenant quota admits, precomputed per request. */
export interface QuotaPlan {
  /** Replicas the total limits admit across the lineage (Infinity when unlimited). */
  readonly total: number;
  /** Replicas the per-tier limits admit on clouds of each tier rank (Infinity when unlimited). */
  readonly byRank: readonly number[];
  /**
   * 1 where one more replica fits both the total and the tier's limits, per tier rank *plus one*
   * (entry 0 is a cloud of an unknown tier, rank -1): the dynamic quota filter's verdict, read
   * per cloud on the hot path instead of recomputed from {@link total} and {@link byRank}.
   */
  readonly admitsOneByRank: readonly number[];
}

/**
 * A request compiled against a snapshot: everything the filters and scorers need per cloud,
 * computed once per decision rather than once per cloud.
 */
export interface PreparedRequest extends PlacementRequest {
  readonly current: readonly PlacementSlice[];
  readonly replicas: number;
  /** The rank of the spec's minimum tier. */
  readonly minRank: number;
  /** What one replica consumes. */
  readonly demand: Resources;
  /** The same demand as a column, in `RESOURCE_NAMES` order. */
  readonly need: readonly number[];
  /** Indexes of the resources with a positive demand, in `RESOURCE_NAMES` order. */
  readonly needed: readonly number[];
  /** Replicas the deployment holds per slot (credited back to the cloud's free capacity). */
  readonly heldBySlot: ReadonlyMap<number, number>;
  /** Replicas the deployment holds on clouds of each tier rank (credited back to per-tier quota). */
  readonly heldByRank: readonly number[];
  /** Replicas the deployment holds in total (credited back to the quota). */
  readonly heldTotal: number;
  readonly quota: QuotaPlan;
  /** A key of every spec field a static filter reads: requests with equal keys share static verdicts. */
  readonly staticKey: string;
  readonly seedHash: number;
}

/** A filter's answer for one cloud: pass, or a stable reason with a message carrying the numbers. */
export type Verdict = { readonly ok: true } | { readonly ok: false; readonly reason: ReasonCode; readonly detail: string };

/** The passing verdict (shared, allocation-free). */
export const PASS: Verdict = Object.freeze({ ok: true });

/** The names of the registered filters. */
export type FilterName = 'condition' | 'workload-kind' | 'tier' | 'residency' | 'taints' | 'attributes' | 'capacity' | 'quota';

/**
 * A feasibility check of one cloud for one request. An expected rejection is a {@link Verdict};
 * a throw means a bug.
 *
 * `static` filters read only the request fields in {@link PreparedRequest.staticKey} and the
 * cloud's non-numeric fields, so the engine evaluates them once per request signature and
 * snapshot lineage; `dynamic` filters read allocation or quota and run on every decision.
 */
export interface Filter {
  readonly name: FilterName;
  readonly stage: 'static' | 'dynamic';
  /** Every reason code this filter can return. */
  readonly reasons: readonly ReasonCode[];
  /** The reason the cloud fails, or null when it passes: the cheap form, no strings built. */
  reason(req: PreparedRequest, cloud: CloudView, snap: Snapshot): ReasonCode | null;
  /** The full verdict with its message. Agrees with {@link Filter.reason}. */
  check(req: PreparedRequest, cloud: CloudView, snap: Snapshot): Verdict;
  /**
   * Optional bulk form over the snapshot's indexes: writes into `out[slot]` the reason id
   * (`REASON_ID`) of every live slot that fails, leaving passing slots untouched (0).
   */
  bulk?(req: PreparedRequest, snap: Snapshot, out: Uint8Array): void;
}

/** The names of the scorers; a strategy gives each a weight. */
export type ScorerName = 'binpack' | 'spread' | 'cost' | 'locality' | 'topology' | 'taints' | 'sticky';

/** The feasible clouds of one decision, as columns. */
export interface Candidates {
  readonly count: number;
  /** The slot of each candidate. */
  readonly slots: Int32Array;
}

/**
 * A ranking of feasible clouds: writes each candidate's score, already normalised to 0–100
 * (higher is better), into `out[0..count)`.
 */
export interface Scorer {
  readonly name: ScorerName;
  score(req: PreparedRequest, candidates: Candidates, snap: Snapshot, out: Float64Array): void;
}
