/**
 * The orchestrator: keeps the store's placements true on the clouds.
 *
 * Place in the flow: the API commits a decision through the store and calls {@link Orchestrator.kick};
 * the orchestrator reads the deployment and queues one key per (deployment, cloud) on that cloud's
 * own {@link WorkQueue}; a worker reads the desired slice from the store when the key runs and
 * applies, scales or removes it through the cloud's {@link Provider}, then moves the deployment's
 * phase (`Scheduled → Deploying → Running`, `Failed`, `Deleting` → gone) with `setPhase` guarded by
 * the version it read, publishing each change.
 *
 * Around that core, on the injected clock and only while this replica holds the {@link Lease}:
 * - a health probe per cloud marks it `NotReady` after repeated failures and `Ready` on recovery
 *   (never touching an operator's `Cordoned`/`Draining`);
 * - a circuit breaker per cloud holds calls back while the cloud keeps failing;
 * - inventory per cloud writes capacity to the store when it changed;
 * - failover re-places the slices of a cloud `NotReady` past the grace period (cause `failover`);
 * - drain moves every slice off a `Draining` cloud at a bounded rate (cause `drain`);
 * - rebalance re-plans `Degraded` and `Pending` deployments when capacity appears (cause `rebalance`);
 * - sweeps remove slices a cloud holds that the store does not place there (no double placement).
 *
 * Provider calls are never retried in a loop here: the adapters retry internally, and a retryable
 * error requeues the key on the backoff schedule.
 *
 * @packageDocumentation
 */
import type { Cloud } from '../domain/cloud.js';
import type { Deployment, Phase } from '../domain/deployment.js';
import { isTianshuError, toTianshuError, TianshuError } from '../domain/errors.js';
import type { DeploymentEvent, DeploymentEventType, PublishEvent } from '../domain/events.js';
import type { Resources } from '../domain/resources.js';
import type { Tenant } from '../domain/tenant.js';
import { tenantLineage } from '../domain/tenant.js';
import { RESOURCE_NAMES } from '../domain/resources.js';
import { createProvider } from '../providers/registry.js';
import type { Provider, Slice, SliceRef, SliceStatus } from '../providers/provider.js';
import { sliceKey } from '../providers/provider.js';
import type { Actor, Admission, Planner, Store } from '../store/store.js';
import { CircuitBreaker } from './breaker.js';
import type { BreakerState } from './breaker.js';
import { systemClock } from './clock.js';
import type { Clock, TimerHandle } from './clock.js';
import { parseOrchestratorConfig } from './config.js';
import type { OrchestratorConfig, OrchestratorConfigInput } from './config.js';
import { createLocalLease } from './lease.js';
import { choosePreemption, evictionPlanner, mayPreempt, quotaAncestor } from './preemption.js';
import type { Lease } from './lease.js';
import { RateLimiter } from './rate-limiter.js';
import { WorkQueue } from './work-queue.js';
import type { QueueResult } from './work-queue.js';

/** How a re-placement ended, as the metrics label it. */
export type MoveOutcome = 'replaced' | 'degraded' | 'failed';

/**
 * Optional observers; `createMetrics()`'s object satisfies the failover/drain part as it is, so
 * `hooks: metrics` wires them.
 */
export interface OrchestratorHooks {
  /** A deployment was re-placed away from a cloud NotReady past its grace period. */
  recordFailover?(cloud: string, outcome: MoveOutcome): void;
  /** A deployment was moved off a draining cloud. */
  recordDrain?(cloud: string, outcome: MoveOutcome): void;
  /** A Degraded/Pending deployment was re-planned because capacity appeared. */
  recordRebalance?(outcome: MoveOutcome): void;
  /** A higher-priority deployment evicted `victims` lower-priority ones to fit. */
  recordPreemption?(preemptor: string, victims: number): void;
  /** A provider apply call is about to be made (the benchmark times dispatch with it). */
  onApply?(slice: Slice): void;
  /** This replica gained (true) or lost (false) leadership. */
  onLeadership?(leader: boolean): void;
}

/** A log sink; the default discards. */
export type OrchestratorLog = (level: 'debug' | 'info' | 'warn' | 'error', message: string, fields?: Readonly<Record<string, unknown>>) => void;

/** Everything the orchestrator needs; nothing is read from the environment or module state. */
export interface OrchestratorDeps {
  readonly store: Store;
  /** The scheduler's planner (`planner(createScheduler(...), tiers)`), used for every re-placement. */
  readonly planner: Planner;
  readonly config?: OrchestratorConfigInput;
  /** Builds the provider of a cloud; default `createProvider` from the registry. Called once per cloud. */
  readonly providerFor?: (cloud: Cloud) => Provider;
  /** Default: the system clock. */
  readonly clock?: Clock;
  /** Uniform in [0, 1); backoff jitter. Default `Math.random`. */
  readonly random?: () => number;
  /** Where deployment events go (the API's event bus `publish`). */
  readonly publish?: PublishEvent;
  /** Leadership; default the in-process lease (single replica, SQLite). */
  readonly lease?: Lease;
  readonly hooks?: OrchestratorHooks;
  readonly log?: OrchestratorLog;
  /** The identity its store writes are audited as; default `orchestrator` / `system`. */
  readonly actor?: Actor;
}

/** One cloud's queue, as the metrics see it. */
export interface QueueStats {
  readonly cloud: string;
  /** Slices waiting. */
  readonly depth: number;
  readonly inFlight: number;
  /** Age in seconds of the oldest waiting slice; 0 when empty. */
  readonly lagSeconds: number;
}

/** A snapshot of the orchestrator's state; structurally an `OrchestratorView` for the metrics. */
export interface OrchestratorStats {
  readonly leader: boolean;
  readonly token: number | null;
  readonly queues: readonly QueueStats[];
  readonly breakers: readonly { readonly cloud: string; readonly state: BreakerState }[];
  /** The longest queue lag across clouds, in seconds. */
  readonly reconcileLagSeconds: number;
  readonly counters: Readonly<{
    applies: number;
    removes: number;
    providerErrors: number;
    phaseChanges: number;
    failovers: number;
    drains: number;
    rebalances: number;
    deletions: number;
    leftoversRemoved: number;
    preemptions: number;
  }>;
}

/** The orchestrator. */
export interface Orchestrator {
  /** Starts competing for leadership; the loops run while this replica leads. Resolves after the first attempt. */
  start(): Promise<void>;
  /** Stops the loops, releases the lease and closes the providers it built. */
  stop(): Promise<void>;
  /** Reconciles one deployment now (the API calls this after each commit), or everything when no id is given. */
  kick(deploymentId?: string): void;
  /** Starts moving every slice off a cloud the store marks `Draining` (the API calls this after `drainCloud`). */
  drain(cloudId: string): void;
  stats(): OrchestratorStats;
}

/** The default audit identity of the orchestrator. */
export const ORCHESTRATOR_ACTOR: Actor = Object.freeze({ subject: 'orchestrator', role: 'system', tenant: null });

/** What the orchestrator last saw of one slice. */
interface Observation {
  readonly generation: number;
  readonly replicas: number;
  readonly ready: boolean;
  readonly message: string;
  /** A refusal (PROVIDER_ERROR) for this generation: the deployment is Failed until a later attempt succeeds. */
  readonly refused: string | null;
}

/** Per-deployment memory; rebuilt from the clouds after a restart or leader change. */
interface Track {
  ref: SliceRef;
  /** What we know exists on each cloud (applied by us or observed). */
  readonly applied: Map<string, { generation: number; replicas: number }>;
  readonly obs: Map<string, Observation>;
  /** Clouds from which the slice was confirmed removed (for deletion). */
  readonly removed: Set<string>;
}

interface CloudState {
  cloud: Cloud;
  readonly provider: Provider;
  readonly queue: WorkQueue<SliceRef>;
  readonly breaker: CircuitBreaker;
  probeFailures: number;
  /** When we first saw the cloud NotReady (this tenure). */
  notReadySince: number | null;
  busy: { probe: boolean; inventory: boolean; failover: boolean; drain: boolean; sweep: boolean };
  /** Free capacity at the last pass, to notice capacity appearing. */
  lastFree: Resources | null;
}

const PAGE = 1_000;
const noop = (): void => undefined;

function freeOf(c: Cloud): Resources {
  return { cpu: c.capacity.cpu - c.allocated.cpu, memory: c.capacity.memory - c.allocated.memory, gpu: c.capacity.gpu - c.allocated.gpu, instances: c.capacity.instances - c.allocated.instances };
}

function refOf(d: Deployment): SliceRef {
  return { deploymentId: d.id, tenant: d.tenant, name: d.name };
}

/** Creates an orchestrator; see the module comment. Call `start()` to run it. */
export function createOrchestrator(deps: OrchestratorDeps): Orchestrator {
  const config: OrchestratorConfig = parseOrchestratorConfig(deps.config ?? {});
  const store = deps.store;
  const clock = deps.clock ?? systemClock;
  const random = deps.random ?? Math.random;
  const publishTo = deps.publish ?? noop;
  const lease = deps.lease ?? createLocalLease();
  const hooks = deps.hooks ?? {};
  const log: OrchestratorLog = deps.log ?? noop;
  const providerFor = deps.providerFor ?? ((cloud: Cloud) => createProvider(cloud, { now: () => clock.now() }));
  const baseActor = deps.actor ?? ORCHESTRATOR_ACTOR;

  const clouds = new Map<string, CloudState>();
  const tracks = new Map<string, Track>();
  /** Per-deployment serialisation of phase and deletion writes. */
  const locks = new Map<string, Promise<void>>();
  const drainRetryAt = new Map<string, number>();
  const drainLimiter = new RateLimiter(config.drainRatePerSecond, clock);
  const rebalanceLimiter = new RateLimiter(config.rebalanceRatePerSecond, clock);
  const counters = { applies: 0, removes: 0, providerErrors: 0, phaseChanges: 0, failovers: 0, drains: 0, rebalances: 0, deletions: 0, leftoversRemoved: 0, preemptions: 0 };
  const preempting = new Set<string>();
  const preemptRetryAt = new Map<string, number>();

  let running = false;
  let leading = false;
  /** Bumped at every promotion/demotion so work from an earlier tenure stops quietly. */
  let epoch = 0;
  let timers: TimerHandle[] = [];
  let leaseTimer: TimerHandle | null = null;
  let passes = 0;
  let rebalanceWanted = false;
  let rebalancing = false;
  let firstRefresh = true;

  // --- helpers ---------------------------------------------------------------------------

  /** Every store write carries the lease's fencing token, so a deposed leader's writes are refused. */
  function actor(): Actor {
    const fence = lease.fence;
    return fence === null ? baseActor : { ...baseActor, fence };
  }

  function isLeader(e: number): boolean {
    return leading && e === epoch && lease.isLeader();
  }

  function publish(type: DeploymentEventType, d: Deployment): void {
    const event: DeploymentEvent = {
      type,
      deploymentId: d.id,
      tenant: d.tenant,
      name: d.name,
      phase: d.phase,
      generation: d.generation,
      slices: d.slices,
      message: d.message,
      time: new Date(clock.now()).toISOString(),
    };
    try {
      publishTo(event);
    } catch (e) {
      log('warn', 'event listener failed', { error: String(e) });
    }
  }

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => clock.setTimeout(resolve, ms));
  }

  /** A provider call with a deadline; a hung call becomes UNAVAILABLE (never retried here). */
  function call<T>(cs: CloudState, op: string, fn: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const t = clock.setTimeout(
        () => reject(new TianshuError('UNAVAILABLE', `cloud ${cs.cloud.id}: ${op} did not answer within ${config.callTimeoutMs} ms`, { cloudId: cs.cloud.id, operation: op })),
        config.callTimeoutMs,
      );
      fn().then(
        (v) => {
          clock.clearTimeout(t);
          resolve(v);
        },
        (e: unknown) => {
          clock.clearTimeout(t);
          reject(e instanceof Error ? e : new Error(String(e)));
        },
      );
    });
  }

  function trackOf(d: Deployment): Track {
    let t = tracks.get(d.id);
    if (t === undefined) {
      t = { ref: refOf(d), applied: new Map(), obs: new Map(), removed: new Set() };
      tracks.set(d.id, t);
    }
    return t;
  }

  /** Runs `fn` after every earlier `fn` of the same deployment. */
  function serial(id: string, fn: () => Promise<void>): Promise<void> {
    const prev = locks.get(id) ?? Promise.resolve();
    const next = prev.then(fn, fn).catch((e: unknown) => log('warn', 'deployment step failed', { deploymentId: id, error: String(e) }));
    locks.set(id, next);
    void next.then(() => {
      if (locks.get(id) === next) locks.delete(id);
    });
    return next;
  }

  /** True when a cloud has been NotReady past the grace period: its slices are re-placed, its removals cannot be confirmed. */
  function isLost(cloudId: string): boolean {
    const cs = clouds.get(cloudId);
    return cs !== undefined && cs.cloud.condition === 'NotReady' && cs.notReadySince !== null && clock.now() - cs.notReadySince >= config.failoverGraceMs;
  }

  // --- clouds ----------------------------------------------------------------------------

  function newCloudState(cloud: Cloud): CloudState | null {
    let provider: Provider;
    try {
      provider = providerFor(cloud);
    } catch (e) {
      log('error', 'cannot build the provider of a cloud', { cloudId: cloud.id, error: toTianshuError(e).message });
      return null;
    }
    const cs: CloudState = {
      cloud,
      provider,
      breaker: new CircuitBreaker({ threshold: config.breakerThreshold, openMs: config.breakerOpenMs }),
      queue: new WorkQueue<SliceRef>({
        clock,
        random,
        backoff: config.backoff,
        concurrency: config.concurrencyPerCloud,
        process: (_key, ref) => processSlice(cs, ref, epoch),
        onError: (key, e) => log('warn', 'slice step failed', { cloudId: cloud.id, key, error: toTianshuError(e).message }),
      }),
      probeFailures: 0,
      notReadySince: cloud.condition === 'NotReady' ? clock.now() : null,
      busy: { probe: false, inventory: false, failover: false, drain: false, sweep: false },
      lastFree: null,
    };
    return cs;
  }

  async function closeCloud(cs: CloudState): Promise<void> {
    cs.queue.stop();
    await cs.provider.close().catch(() => undefined);
  }

  /** Reads every cloud; builds providers for new ones, notices capacity appearing, tracks NotReady time. */
  async function refreshClouds(): Promise<void> {
    const list = await store.listClouds();
    const seen = new Set<string>();
    for (const cloud of list) {
      seen.add(cloud.id);
      let cs = clouds.get(cloud.id);
      if (cs === undefined) {
        const created = newCloudState(cloud);
        if (created === null) continue;
        cs = created;
        clouds.set(cloud.id, cs);
        if (!firstRefresh && cloud.condition === 'Ready') rebalanceWanted = true;
      }
      const before = cs.cloud;
      cs.cloud = cloud;
      if (cloud.condition === 'NotReady') cs.notReadySince ??= clock.now();
      else cs.notReadySince = null;
      if (cloud.condition === 'Ready') {
        if (before.condition !== 'Ready') rebalanceWanted = true;
        const free = freeOf(cloud);
        if (cs.lastFree !== null && RESOURCE_NAMES.some((r) => free[r] > (cs?.lastFree?.[r] ?? 0))) rebalanceWanted = true;
        cs.lastFree = free;
      } else {
        cs.lastFree = null;
      }
    }
    for (const [id, cs] of clouds) {
      if (!seen.has(id)) {
        clouds.delete(id);
        await closeCloud(cs);
      }
    }
    firstRefresh = false;
  }

  async function cloudState(cloudId: string): Promise<CloudState | undefined> {
    const known = clouds.get(cloudId);
    if (known !== undefined) return known;
    const cloud = await store.getCloud(cloudId);
    if (cloud === null || clouds.has(cloudId)) return clouds.get(cloudId);
    const cs = newCloudState(cloud);
    if (cs !== null) clouds.set(cloudId, cs);
    return cs ?? undefined;
  }

  // --- reconcile one slice -----------------------------------------------------------------

  function enqueue(cs: CloudState, ref: SliceRef, mode: 'now' | 'ifAbsent'): void {
    const key = sliceKey(ref);
    if (mode === 'ifAbsent' && cs.queue.has(key)) return;
    cs.queue.add(key, ref);
  }

  /** Queues every cloud the deployment is placed on, or was last seen on. */
  async function syncDeployment(d: Deployment, mode: 'now' | 'ifAbsent', e: number): Promise<void> {
    if (!isLeader(e)) return;
    const t = trackOf(d);
    if ((d.phase === 'Pending' || d.phase === 'Degraded') && d.spec.allowPreemption) void preempt(d, e);
    const targets = new Set<string>([...d.slices.map((s) => s.cloudId), ...t.applied.keys()]);
    if (targets.size === 0) {
      // Nothing to touch on any cloud: a zero-replica deployment, or a deletion with no slices.
      if (d.phase === 'Deleting') await serial(d.id, () => settleDeletion(d.id, e));
      else await serial(d.id, () => evaluate(d.id, e));
      return;
    }
    for (const cloudId of targets) {
      const cs = await cloudState(cloudId);
      if (cs !== undefined) enqueue(cs, t.ref, mode);
    }
  }

  function matches(status: SliceStatus | null, generation: number, replicas: number): status is SliceStatus {
    return status !== null && status.generation === generation && status.desiredReplicas === replicas;
  }

  async function processSlice(cs: CloudState, ref: SliceRef, e: number): Promise<QueueResult> {
    if (!isLeader(e)) return { kind: 'done' };
    const cloudId = cs.cloud.id;
    const d = await store.getDeployment(ref.deploymentId);
    const want = d !== null && d.phase !== 'Deleting' ? d.slices.find((s) => s.cloudId === cloudId) : undefined;
    const now = clock.now();
    if (!cs.breaker.allow(now)) return { kind: 'after', ms: Math.max(1, cs.breaker.waitMs(now)) };
    const t = d === null ? tracks.get(ref.deploymentId) : trackOf(d);
    try {
      if (d === null || want === undefined) {
        await call(cs, 'remove', () => cs.provider.remove(ref));
        cs.breaker.success();
        counters.removes++;
        if (t !== undefined) {
          t.applied.delete(cloudId);
          t.obs.delete(cloudId);
          t.removed.add(cloudId);
        }
        if (d === null) {
          if (t !== undefined && t.applied.size === 0) tracks.delete(ref.deploymentId);
        } else if (d.phase === 'Deleting') {
          await serial(d.id, () => settleDeletion(d.id, e));
        }
        return { kind: 'done' };
      }
      const track = trackOf(d);
      const slice: Slice = { ...ref, cloudId, replicas: want.replicas, generation: d.generation, workload: d.spec.workload, resources: d.spec.resources };
      // Ask before acting when we have no record of this slice: a previous leader may have applied
      // it already, and an apply is a step that must not be repeated needlessly.
      let status = await call(cs, 'status', () => cs.provider.status(ref));
      if (!matches(status, d.generation, want.replicas)) {
        hooks.onApply?.(slice);
        counters.applies++;
        status = await call(cs, 'apply', () => cs.provider.apply(slice));
      }
      cs.breaker.success();
      track.applied.set(cloudId, { generation: d.generation, replicas: want.replicas });
      track.removed.delete(cloudId);
      const ready = status.condition === 'Ready';
      track.obs.set(cloudId, { generation: d.generation, replicas: want.replicas, ready, message: status.message, refused: status.condition === 'Failed' ? status.message : null });
      await serial(d.id, () => evaluate(d.id, e));
      return ready ? { kind: 'done' } : { kind: 'after', ms: config.reconcileIntervalMs };
    } catch (err) {
      const te = toTianshuError(err);
      counters.providerErrors++;
      if (te.retryable) {
        cs.breaker.failure(clock.now());
        log('debug', 'slice step failed, will retry', { cloudId, deploymentId: ref.deploymentId, error: te.message });
        return { kind: 'retry' };
      }
      // The cloud answered and refused: reachable, so the breaker stays closed.
      cs.breaker.success();
      if (d !== null && want !== undefined && t !== undefined) {
        t.obs.set(cloudId, { generation: d.generation, replicas: want.replicas, ready: false, message: te.message, refused: te.message });
        await serial(d.id, () => evaluate(d.id, e));
      }
      log('warn', 'cloud refused a slice step', { cloudId, deploymentId: ref.deploymentId, error: te.message });
      // A refusal repeats until something changes (capacity, credentials): look again slowly.
      return { kind: 'after', ms: config.backoff.maxMs };
    }
  }

  /** The phase the clouds' reports justify, or null to leave the phase as it is. */
  function phaseFor(d: Deployment, t: Track | undefined): { phase: Phase; message: string } | null {
    if (d.slices.length === 0) return { phase: 'Running', message: '0 replicas requested' };
    let ready = 0;
    let seen = 0;
    let readyReplicas = 0;
    for (const s of d.slices) {
      const o = t?.obs.get(s.cloudId);
      if (o === undefined || o.generation !== d.generation || o.replicas !== s.replicas) continue;
      if (o.refused !== null) return { phase: 'Failed', message: `cloud ${s.cloudId}: ${o.refused}` };
      seen++;
      if (o.ready) {
        ready++;
        readyReplicas += s.replicas;
      }
    }
    if (ready === d.slices.length) return { phase: 'Running', message: `${readyReplicas}/${d.spec.replicas} replicas ready on ${ready} cloud(s)` };
    if (seen > 0) return { phase: 'Deploying', message: `${ready}/${d.slices.length} slice(s) ready` };
    return null;
  }

  /** Moves the deployment's phase from what the clouds reported (serialised per deployment). */
  async function evaluate(id: string, e: number): Promise<void> {
    if (!isLeader(e)) return;
    const d = await store.getDeployment(id);
    // Pending/Degraded are the store's verdicts on placement, Deleting is the API's: not ours to change.
    if (d === null || d.phase === 'Pending' || d.phase === 'Degraded' || d.phase === 'Deleting') return;
    const target = phaseFor(d, tracks.get(id));
    if (target === null || (target.phase === d.phase && target.phase !== 'Failed')) return;
    if (target.phase === d.phase && target.message === d.message) return;
    try {
      const next = await store.setPhase(actor(), id, target.phase, target.message, d.version);
      counters.phaseChanges++;
      publish('PHASE_CHANGED', next);
    } catch (err) {
      if (isTianshuError(err, 'CONFLICT') || isTianshuError(err, 'NOT_FOUND')) {
        // Someone else moved it (a scale, a delete, a failover): look again from the new state.
        if (isLeader(e)) kickOne(id, 'now', e);
        return;
      }
      throw err;
    }
  }

  /** Finishes a deletion once every slice is confirmed removed (or its cloud is lost and will be swept). */
  async function settleDeletion(id: string, e: number): Promise<void> {
    if (!isLeader(e)) return;
    const d = await store.getDeployment(id);
    if (d === null || d.phase !== 'Deleting') return;
    const t = tracks.get(id);
    if (!d.slices.every((s) => (t?.removed.has(s.cloudId) ?? false) || isLost(s.cloudId))) return;
    try {
      await store.finishDeletion(actor(), id);
    } catch (err) {
      if (isTianshuError(err, 'NOT_FOUND')) return;
      throw err;
    }
    counters.deletions++;
    if (t !== undefined && t.applied.size === 0) tracks.delete(id);
    rebalanceWanted = true;
    publish('DELETED', { ...d, slices: [], message: 'deleted' });
  }

  function kickOne(id: string, mode: 'now' | 'ifAbsent', e: number): void {
    void (async () => {
      const d = await store.getDeployment(id);
      if (d === null) {
        // Gone: remove whatever we know is left of it.
        const t = tracks.get(id);
        if (t === undefined) return;
        for (const cloudId of t.applied.keys()) {
          const cs = clouds.get(cloudId);
          if (cs !== undefined) enqueue(cs, t.ref, mode);
        }
        return;
      }
      await syncDeployment(d, mode, e);
    })().catch((err: unknown) => log('warn', 'kick failed', { deploymentId: id, error: toTianshuError(err).message }));
  }

  // --- periodic work -----------------------------------------------------------------------

  async function forEachDeployment(query: { cloudId?: string; phase?: Phase; under?: string }, fn: (d: Deployment) => Promise<void> | void, e: number): Promise<void> {
    let after: string | undefined;
    for (;;) {
      if (!isLeader(e)) return;
      const page = await store.listDeployments({ ...query, first: PAGE, ...(after === undefined ? {} : { after }) });
      for (const d of page.items) await fn(d);
      if (page.nextCursor === null || page.items.length === 0) return;
      after = page.nextCursor;
    }
  }

  async function idsOn(cloudId: string, e: number): Promise<Deployment[]> {
    const out: Deployment[] = [];
    await forEachDeployment({ cloudId }, (d) => void out.push(d), e);
    return out;
  }

  /** One pass: clouds, failover, drain, resync of unsettled deployments (all of them every few passes), rebalance. */
  async function pass(e: number): Promise<void> {
    if (!isLeader(e)) return;
    await refreshClouds();
    for (const cs of clouds.values()) {
      if (isLost(cs.cloud.id)) void failover(cs, e);
      if (cs.cloud.condition === 'Draining') void drainCloud(cs, e);
    }
    const full = passes % config.fullResyncEvery === 0;
    passes++;
    if (full) {
      await forEachDeployment({}, (d) => syncDeployment(d, 'ifAbsent', e), e);
      for (const cs of clouds.values()) if (cs.cloud.condition !== 'NotReady') void sweep(cs, e);
    } else {
      for (const phase of ['Scheduled', 'Deploying', 'Failed', 'Degraded', 'Deleting', 'Pending'] as const) {
        await forEachDeployment({ phase }, (d) => syncDeployment(d, 'ifAbsent', e), e);
      }
    }
    if (rebalanceWanted) void rebalance(e);
  }

  async function probe(cs: CloudState, e: number): Promise<void> {
    if (cs.busy.probe || !isLeader(e)) return;
    cs.busy.probe = true;
    try {
      const report = await call(cs, 'health', () => cs.provider.health()).catch((err: unknown) => ({ ok: false, detail: toTianshuError(err).message }));
      if (!isLeader(e)) return;
      if (report.ok) {
        cs.probeFailures = 0;
        if (cs.cloud.condition === 'NotReady') {
          cs.cloud = await store.setCloudCondition(actor(), cs.cloud.id, 'Ready', `health probe recovered: ${report.detail}`);
          cs.notReadySince = null;
          log('info', 'cloud recovered', { cloudId: cs.cloud.id });
          // Capacity is back; leftovers from before the failover must go before anything lands twice.
          rebalanceWanted = true;
          void sweep(cs, e);
          for (const d of await idsOn(cs.cloud.id, e)) await syncDeployment(d, 'now', e);
        }
        return;
      }
      cs.probeFailures++;
      if (cs.probeFailures >= config.probeFailuresToNotReady && cs.cloud.condition === 'Ready') {
        // Only Ready ↔ NotReady is ours: an operator's Cordoned/Draining is never overridden.
        cs.cloud = await store.setCloudCondition(actor(), cs.cloud.id, 'NotReady', `health probe failed ${cs.probeFailures} times: ${report.detail}`);
        cs.notReadySince = clock.now();
        log('warn', 'cloud not ready', { cloudId: cs.cloud.id, detail: report.detail });
      }
    } catch (err) {
      log('warn', 'health probe step failed', { cloudId: cs.cloud.id, error: toTianshuError(err).message });
    } finally {
      cs.busy.probe = false;
    }
  }

  async function inventory(cs: CloudState, e: number): Promise<void> {
    if (cs.busy.inventory || !isLeader(e) || cs.cloud.condition === 'NotReady' || cs.breaker.state(clock.now()) !== 'closed') return;
    cs.busy.inventory = true;
    try {
      const inv = await call(cs, 'inventory', () => cs.provider.inventory());
      if (!isLeader(e)) return;
      const cur = cs.cloud.capacity;
      if (RESOURCE_NAMES.every((r) => inv.capacity[r] === cur[r])) return;
      const grew = RESOURCE_NAMES.some((r) => inv.capacity[r] > cur[r]);
      cs.cloud = await store.updateCloud(actor(), cs.cloud.id, { capacity: inv.capacity }, cs.cloud.version);
      if (grew) rebalanceWanted = true;
    } catch (err) {
      log('warn', 'inventory refresh failed', { cloudId: cs.cloud.id, error: toTianshuError(err).message });
    } finally {
      cs.busy.inventory = false;
    }
  }

  /** Removes slices the cloud holds but the store does not place there (after failover, crashes, deletions). */
  async function sweep(cs: CloudState, e: number): Promise<void> {
    if (cs.busy.sweep || !isLeader(e)) return;
    cs.busy.sweep = true;
    try {
      // Cloud first, store second: anything the cloud held before the store read and the store does
      // not place there is surely stale. The worker re-reads the store before removing anything.
      const present = await call(cs, 'listSlices', () => cs.provider.listSlices());
      const placed = new Set((await idsOn(cs.cloud.id, e)).map((d) => d.id));
      for (const ref of present) {
        if (placed.has(ref.deploymentId)) continue;
        counters.leftoversRemoved++;
        log('info', 'removing a leftover slice', { cloudId: cs.cloud.id, deploymentId: ref.deploymentId });
        enqueue(cs, ref, 'now');
      }
    } catch (err) {
      log('debug', 'sweep failed', { cloudId: cs.cloud.id, error: toTianshuError(err).message });
    } finally {
      cs.busy.sweep = false;
    }
  }

  function movedEvent(res: Admission): void {
    publish('PLACEMENT_CHANGED', res.deployment);
  }

  /** Re-places every deployment with a slice on a cloud NotReady past the grace period. */
  async function failover(cs: CloudState, e: number): Promise<void> {
    if (cs.busy.failover || !isLeader(e)) return;
    cs.busy.failover = true;
    try {
      for (const d of await idsOn(cs.cloud.id, e)) {
        if (!isLeader(e) || !isLost(cs.cloud.id)) return;
        if (d.phase === 'Deleting') {
          await serial(d.id, () => settleDeletion(d.id, e));
          continue;
        }
        let outcome: MoveOutcome = 'failed';
        try {
          // Slices on lost clouds are dropped when nothing else qualifies: they are not running.
          const res = await store.replacePlacement(actor(), d.id, deps.planner, 'failover', (s) => !isLost(s.cloudId));
          outcome = res.placement?.decision.ok === true ? 'replaced' : 'degraded';
          counters.failovers++;
          movedEvent(res);
          await syncDeployment(res.deployment, 'now', e);
        } catch (err) {
          log('warn', 'failover of a deployment failed', { cloudId: cs.cloud.id, deploymentId: d.id, error: toTianshuError(err).message });
        }
        hooks.recordFailover?.(cs.cloud.id, outcome);
      }
    } catch (err) {
      log('warn', 'failover pass failed', { cloudId: cs.cloud.id, error: toTianshuError(err).message });
    } finally {
      cs.busy.failover = false;
    }
  }

  /** Moves every deployment off a Draining cloud, at most `drainRatePerSecond`. */
  async function drainCloud(cs: CloudState, e: number): Promise<void> {
    if (cs.busy.drain || !isLeader(e)) return;
    cs.busy.drain = true;
    try {
      for (const d of await idsOn(cs.cloud.id, e)) {
        if (d.phase === 'Deleting' || (drainRetryAt.get(d.id) ?? 0) > clock.now()) continue;
        while (!drainLimiter.tryTake()) await sleep(drainLimiter.waitMs());
        if (!isLeader(e) || cs.cloud.condition !== 'Draining') return;
        let outcome: MoveOutcome = 'failed';
        try {
          // Nowhere to go: the slice stays (a drain never takes a workload down), the deployment reads Degraded with why.
          const res = await store.replacePlacement(actor(), d.id, deps.planner, 'drain');
          const ok = res.placement?.decision.ok === true;
          outcome = ok ? 'replaced' : 'degraded';
          if (ok) drainRetryAt.delete(d.id);
          else drainRetryAt.set(d.id, clock.now() + config.backoff.maxMs);
          counters.drains++;
          movedEvent(res);
          await syncDeployment(res.deployment, 'now', e);
        } catch (err) {
          drainRetryAt.set(d.id, clock.now() + config.backoff.maxMs);
          log('warn', 'drain of a deployment failed', { cloudId: cs.cloud.id, deploymentId: d.id, error: toTianshuError(err).message });
        }
        hooks.recordDrain?.(cs.cloud.id, outcome);
      }
    } catch (err) {
      log('warn', 'drain pass failed', { cloudId: cs.cloud.id, error: toTianshuError(err).message });
    } finally {
      cs.busy.drain = false;
    }
  }

  /** Re-plans Degraded and Pending deployments after capacity appeared, at most `rebalanceRatePerSecond`. */
  async function rebalance(e: number): Promise<void> {
    if (rebalancing || !isLeader(e)) return;
    rebalancing = true;
    try {
      while (rebalanceWanted && isLeader(e)) {
        rebalanceWanted = false;
        const todo: Deployment[] = [];
        for (const phase of ['Degraded', 'Pending'] as const) await forEachDeployment({ phase }, (d) => void todo.push(d), e);
        for (const d of todo) {
          while (!rebalanceLimiter.tryTake()) await sleep(rebalanceLimiter.waitMs());
          if (!isLeader(e)) return;
          let outcome: MoveOutcome = 'failed';
          try {
            const res = await store.replacePlacement(actor(), d.id, deps.planner, 'rebalance');
            outcome = res.placement?.decision.ok === true ? 'replaced' : 'degraded';
            counters.rebalances++;
            if (outcome === 'replaced') {
              movedEvent(res);
              await syncDeployment(res.deployment, 'now', e);
            }
          } catch (err) {
            log('debug', 'rebalance of a deployment failed', { deploymentId: d.id, error: toTianshuError(err).message });
          }
          hooks.recordRebalance?.(outcome);
        }
      }
    } finally {
      rebalancing = false;
    }
  }

  /**
   * Lets a Pending/Degraded deployment that asked for it (`allowPreemption`) evict lower-priority
   * slices under the same quota ancestor, fewest first; each eviction is a `replacePlacement` with
   * cause `preempt` and the preemptor named in the explanation, plus one `deployment.preempt` audit
   * event listing the victims.
   */
  async function preempt(d: Deployment, e: number): Promise<void> {
    if (preempting.has(d.id) || (preemptRetryAt.get(d.id) ?? 0) > clock.now() || !isLeader(e)) return;
    preempting.add(d.id);
    try {
      const lineage: Tenant[] = [];
      for (const path of tenantLineage(d.tenant)) {
        const t = await store.getTenant(path);
        if (t !== null) lineage.push(t);
      }
      const ancestor = quotaAncestor(d.tenant, lineage);
      const candidates: Deployment[] = [];
      await forEachDeployment({ under: ancestor }, (v) => void (mayPreempt(d, v, ancestor) && candidates.push(v)), e);
      const state = { clouds: await store.listClouds(), headroom: await store.headroom(d.tenant) };
      if (deps.planner(d.spec, state, d.slices).ok) {
        // It fits as things are: a plain re-plan, no eviction.
        const res = await store.replacePlacement(actor(), d.id, deps.planner, 'rebalance');
        movedEvent(res);
        await syncDeployment(res.deployment, 'now', e);
        return;
      }
      const choice = candidates.length === 0 ? null : choosePreemption(d, candidates, state, deps.planner);
      if (choice === null) {
        preemptRetryAt.set(d.id, clock.now() + config.backoff.maxMs);
        return;
      }
      await store.recordAudit(actor(), 'deployment.preempt', `deployment/${d.tenant}/${d.name}`, 'ok', {
        preemptor: d.id,
        priority: d.spec.priority,
        quotaAncestor: ancestor,
        victims: choice.victims.map((v) => ({ id: v.id, tenant: v.tenant, name: v.name, priority: v.spec.priority, slices: v.slices })),
      });
      for (const v of choice.victims) {
        if (!isLeader(e)) return;
        const res = await store.replacePlacement(actor(), v.id, evictionPlanner(d), 'preempt', () => false);
        counters.preemptions++;
        movedEvent(res);
        await syncDeployment(res.deployment, 'now', e);
      }
      hooks.recordPreemption?.(d.id, choice.victims.length);
      const res = await store.replacePlacement(actor(), d.id, deps.planner, 'preempt');
      movedEvent(res);
      if (res.placement?.decision.ok !== true) preemptRetryAt.set(d.id, clock.now() + config.backoff.maxMs);
      await syncDeployment(res.deployment, 'now', e);
    } catch (err) {
      preemptRetryAt.set(d.id, clock.now() + config.backoff.maxMs);
      log('warn', 'preemption failed', { deploymentId: d.id, error: toTianshuError(err).message });
    } finally {
      preempting.delete(d.id);
    }
  }

  // --- loops and leadership ----------------------------------------------------------------

  /** Runs `fn` every `ms` (never overlapping itself) while the tenure `e` lasts. */
  function every(ms: number, e: number, fn: () => Promise<void>, immediately: boolean): void {
    const run = (): void => {
      if (!isLeader(e)) return;
      fn()
        .catch((err: unknown) => log('warn', 'periodic step failed', { error: toTianshuError(err).message }))
        .finally(() => {
          if (isLeader(e)) timers.push(clock.setTimeout(run, ms));
        });
    };
    if (immediately) run();
    else timers.push(clock.setTimeout(run, ms));
  }

  function promote(): void {
    leading = true;
    const e = ++epoch;
    passes = 0;
    firstRefresh = true;
    log('info', 'leading', { token: lease.token });
    hooks.onLeadership?.(true);
    every(config.reconcileIntervalMs, e, () => pass(e), true);
    every(config.probeIntervalMs, e, async () => void (await Promise.all([...clouds.values()].map((cs) => probe(cs, e)))), false);
    every(config.inventoryIntervalMs, e, async () => void (await Promise.all([...clouds.values()].map((cs) => inventory(cs, e)))), false);
  }

  async function demote(reason: string): Promise<void> {
    if (!leading) return;
    leading = false;
    epoch++;
    log('warn', 'no longer leading', { reason });
    hooks.onLeadership?.(false);
    for (const t of timers) clock.clearTimeout(t);
    timers = [];
    const all = [...clouds.values()];
    clouds.clear();
    tracks.clear();
    drainRetryAt.clear();
    preemptRetryAt.clear();
    await Promise.all(all.map(closeCloud));
  }

  async function leaseStep(): Promise<void> {
    if (!running) return;
    try {
      if (leading) {
        if (!(await lease.renew()) || !lease.isLeader()) await demote('lease lost');
      } else if (await lease.acquire()) {
        if (running) promote();
      }
    } catch (err) {
      log('warn', 'lease step failed', { error: toTianshuError(err).message });
    }
    if (running) leaseTimer = clock.setTimeout(() => void leaseStep(), config.leaseIntervalMs);
  }

  return {
    async start() {
      if (running) return;
      running = true;
      await leaseStep();
    },
    async stop() {
      running = false;
      if (leaseTimer !== null) clock.clearTimeout(leaseTimer);
      leaseTimer = null;
      await demote('stopped');
      await lease.release();
    },
    kick(deploymentId) {
      if (!leading) return;
      const e = epoch;
      if (deploymentId !== undefined) {
        kickOne(deploymentId, 'now', e);
        return;
      }
      void forEachDeployment({}, (d) => syncDeployment(d, 'now', e), e).catch((err: unknown) => log('warn', 'kick failed', { error: toTianshuError(err).message }));
    },
    drain(cloudId) {
      if (!leading) return;
      const e = epoch;
      void (async () => {
        const cloud = await store.getCloud(cloudId);
        const cs = await cloudState(cloudId);
        if (cloud === null || cs === undefined) return;
        cs.cloud = cloud;
        if (cloud.condition === 'Draining') await drainCloud(cs, e);
      })().catch((err: unknown) => log('warn', 'drain failed', { cloudId, error: toTianshuError(err).message }));
    },
    stats() {
      const now = clock.now();
      const queues: QueueStats[] = [];
      const breakers: { cloud: string; state: BreakerState }[] = [];
      let lag = 0;
      for (const [id, cs] of clouds) {
        const l = cs.queue.lagMs() / 1000;
        lag = Math.max(lag, l);
        queues.push({ cloud: id, depth: cs.queue.depth, inFlight: cs.queue.inFlight, lagSeconds: l });
        breakers.push({ cloud: id, state: cs.breaker.state(now) });
      }
      return { leader: leading && lease.isLeader(), token: lease.token, queues, breakers, reconcileLagSeconds: lag, counters: { ...counters } };
    },
  };
}
