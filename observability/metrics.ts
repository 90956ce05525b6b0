/**
 * Tianshu's Prometheus metrics: one typed object owning one prom-client registry.
 *
 * Two kinds of metric live here:
 * - **events** (decisions, provider calls, GraphQL requests, failovers) are pushed by the code
 *   that sees them, through recording methods that keep callers to one line;
 * - **state** (fleet capacity, quotas, conditions, queues, leadership) is pulled at scrape time
 *   from sources the service registers ({@link Metrics.setFleetSource},
 *   {@link Metrics.setOrchestratorSource}), cached for about a second, so nothing has to remember
 *   to update a gauge and deleted clouds or tenants disappear from the output on their own.
 *
 * Names follow Prometheus conventions: prefix `tianshu_`, base units in the name (`_seconds`),
 * resource amounts in Tianshu's own units (`_cpu_millicores`, `_memory_mebibytes`, `_gpus`,
 * `_instances`, so a dashboard number matches the API's), counters end in `_total`. Labels are
 * bounded: clouds and tenants are operator-managed sets; deployment ids never appear.
 *
 * @packageDocumentation
 */
import { Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { CloudCondition } from '../domain/cloud.js';
import { CLOUD_CONDITIONS } from '../domain/cloud.js';
import type { Phase } from '../domain/deployment.js';
import { PHASES } from '../domain/deployment.js';
import type { ResourceName } from '../domain/resources.js';
import { RESOURCE_NAMES } from '../domain/resources.js';
import type { Decision } from '../scheduler/decision.js';
import type { ReasonCode } from '../scheduler/reasons.js';
import { REASONS } from '../scheduler/reasons.js';
import type { AuditVerification } from '../store/store.js';
import type { CloudSample, FleetView, OrchestratorView } from './views.js';
import { CIRCUIT_STATE_VALUES, provinceOf } from './views.js';
import { FastCounter, Generations, SourceCache, ViewGauge, labelSet } from './view-gauge.js';
import type { Emit, LabelSet, Source } from './view-gauge.js';

/** The prefix of every Tianshu metric (process defaults keep their standard names). */
export const METRIC_PREFIX = 'tianshu_';

/** How each accounted resource appears in metric names: its unit is part of the name. */
export const RESOURCE_METRIC_SUFFIX: Readonly<Record<ResourceName, string>> = {
  cpu: 'cpu_millicores',
  memory: 'memory_mebibytes',
  gpu: 'gpus',
  instances: 'instances',
};

/** The `tier` label value of a tenant's overall quota (as opposed to a per-tier quota). */
export const ALL_TIERS = 'all';

/** Outcome of re-placing a deployment away from a failed or draining cloud. */
export type ReplacementOutcome = 'replaced' | 'degraded' | 'failed';

/** Decision results as labelled. */
export type DecisionResult = 'scheduled' | 'unschedulable';

/** Options of {@link createMetrics}. */
export interface MetricsOptions {
  /** The registry to own; a fresh one by default. Never prom-client's global registry unless passed. */
  readonly registry?: Registry;
  /** Register prom-client's process metrics (event-loop lag, memory, GC, handles); default true. */
  readonly defaultMetrics?: boolean;
  /** How long a state source's answer is reused, in ms; default 1000. */
  readonly sourceTtlMs?: number;
  /** Milliseconds since the epoch; injected for tests. */
  readonly now?: () => number;
  /** Called when a state source throws (the last good view keeps being served); default: ignore. */
  readonly onSourceError?: (source: 'fleet' | 'orchestrator', err: unknown) => void;
  /** Most distinct GraphQL operation label values kept before folding the rest into `other`; default 200. */
  readonly maxOperations?: number;
}

/** The narrow face the scheduler needs: record one decision. */
export interface DecisionRecorder {
  /**
   * Records a placement decision: its duration, result, rejected clouds by reason and, when it
   * failed, the reason it failed. Previews are counted separately so "what if" questions do not
   * inflate the placement and rejection rates.
   *
   * @param tier the workload's minimum security tier (`spec.minTier`)
   */
  recordDecision(decision: Decision, durationSeconds: number, tier: string, options?: { readonly preview?: boolean }): void;
}

/** The narrow face the provider decorator needs: time one call. */
export interface ProviderCallRecorder {
  /**
   * Runs `fn`, recording its duration and, if it throws, an error with the thrown
   * `TianshuError` code (`UNAVAILABLE`, `PROVIDER_ERROR`, otherwise `INTERNAL`). Rethrows.
   */
  observeProviderCall<R>(kind: string, cloud: string, operation: string, fn: () => Promise<R>): Promise<R>;
  /** Records a call whose outcome was already known; `errorCode` null for success. */
  recordProviderCall(kind: string, cloud: string, operation: string, durationSeconds: number, errorCode: string | null): void;
}

/** The narrow face the orchestrator needs for events (its state comes from {@link Metrics.setOrchestratorSource}). */
export interface OrchestratorRecorder {
  /** A deployment was re-placed away from a `NotReady` cloud. */
  recordFailover(cloud: string, outcome: ReplacementOutcome): void;
  /** A deployment was moved off a draining cloud. */
  recordDrain(cloud: string, outcome: ReplacementOutcome): void;
}

/** The narrow face the HTTP layer needs. */
export interface ApiRecorder {
  /** One GraphQL request: root field(s) as `operation`, `type` query/mutation/subscription, `code` `OK` or the error code. */
  recordGraphqlRequest(type: string, operation: string, code: string, durationSeconds: number): void;
  /** A request answered 429 by the rate limiter. */
  recordRateLimited(route: string): void;
}

/** Every metric of the service, with its recording methods. */
export interface Metrics extends DecisionRecorder, ProviderCallRecorder, OrchestratorRecorder, ApiRecorder {
  /** The registry this object owns; everything below renders from it. */
  readonly registry: Registry;
  /** The content type of {@link Metrics.render}'s output. */
  readonly contentType: string;
  /** Fleet and quota gauges are computed from this source at scrape time (cached ~1 s). Null removes it. */
  setFleetSource(source: Source<FleetView> | null): void;
  /** Queue, lag, phase, breaker and leader gauges are computed from this source at scrape time. */
  setOrchestratorSource(source: Source<OrchestratorView> | null): void;
  /** Records the outcome of an audit-chain verification (see `startAuditProbe`). */
  recordAuditVerification(result: Pick<AuditVerification, 'ok' | 'checked'>): void;
  /** The text exposition of every metric. */
  render(): Promise<string>;
  /** Names of every registered metric family, sorted. */
  metricNames(): string[];
}

const SCHEDULING_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
const PROVIDER_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const GRAPHQL_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Error codes a provider call is labelled with; anything else is `INTERNAL`. */
const PROVIDER_ERROR_CODES = new Set(['UNAVAILABLE', 'PROVIDER_ERROR', 'VALIDATION', 'UNHEALTHY']);

/** The `code` label of a thrown value: a known `code` property, else `INTERNAL`. */
export function errorCodeOf(err: unknown, known: ReadonlySet<string> = PROVIDER_ERROR_CODES): string {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = (err).code;
    if (typeof code === 'string' && known.has(code)) return code;
  }
  return 'INTERNAL';
}

/**
 * The reason an unschedulable decision is counted under: its `failure` reason if it has one,
 * otherwise the reason that rejected the most clouds (ties broken by catalogue order).
 */
export function primaryReason(decision: Decision): ReasonCode | 'UNKNOWN' {
  if (decision.failure !== null) return decision.failure.reason;
  let best: ReasonCode | 'UNKNOWN' = 'UNKNOWN';
  let bestCount = 0;
  for (const reason of Object.keys(REASONS) as ReasonCode[]) {
    const n = decision.reasonCounts[reason] ?? 0;
    if (n > bestCount) {
      best = reason;
      bestCount = n;
    }
  }
  return best;
}

/** Keeps a label's value set bounded: the first `max` distinct values pass, the rest become `other`. */
class BoundedLabel {
  private readonly seen = new Set<string>();
  constructor(private readonly max: number) {}
  of(value: string): string {
    if (this.seen.has(value)) return value;
    if (this.seen.size >= this.max) return 'other';
    this.seen.add(value);
    return value;
  }
}

type CloudLabels = 'cloud' | 'tier' | 'province';
type InfoLabels = 'cloud' | 'kind' | 'tier' | 'province' | 'locality' | 'zone';
type QuotaLabels = 'tenant' | 'tier';

/** The label sets of one cloud, shared by every fleet gauge. */
interface CloudSets {
  readonly sample: CloudSample;
  readonly base: LabelSet<CloudLabels>;
  readonly info: LabelSet<InfoLabels>;
  /** One per {@link CLOUD_CONDITIONS} entry, same order. */
  readonly conditions: readonly LabelSet<'cloud' | 'condition'>[];
}

/** The label sets of one tenant: overall (`tier="all"`) and per tier, made on demand. */
interface TenantSets {
  readonly all: LabelSet<QuotaLabels>;
  readonly tiers: Map<string, LabelSet<QuotaLabels>>;
}

/** Label sets aligned with one fleet view's clouds and tenants. */
interface FleetLabels {
  readonly clouds: readonly CloudSets[];
  readonly tenants: readonly TenantSets[];
}

/**
 * Derives the label sets of a fleet view once per view, reusing the previous view's sets for
 * clouds and tenants whose labels did not change: escaping and joining labels is the dominant
 * cost of a large scrape otherwise.
 */
function fleetLabeller(): (view: FleetView) => FleetLabels {
  const province = provinceMemo();
  const clouds = new Generations<CloudSets>();
  const tenants = new Generations<TenantSets>();
  let lastView: FleetView | undefined;
  let last: FleetLabels = { clouds: [], tenants: [] };
  const sameLabels = (a: CloudSample, b: CloudSample): boolean => a.tier === b.tier && a.locality === b.locality && a.kind === b.kind && a.zone === b.zone;
  return (view) => {
    if (view === lastView) return last;
    clouds.rotate();
    tenants.rotate();
    const cs = view.clouds.map((c) =>
      clouds.get(
        c.id,
        (e) => sameLabels(e.sample, c),
        () => {
          const p = province(c.locality);
          return {
            sample: c,
            base: labelSet<CloudLabels>({ cloud: c.id, tier: c.tier, province: p }),
            info: labelSet<InfoLabels>({ cloud: c.id, kind: c.kind, tier: c.tier, province: p, locality: c.locality, zone: c.zone }),
            conditions: CLOUD_CONDITIONS.map((condition) => labelSet<'cloud' | 'condition'>({ cloud: c.id, condition })),
          };
        },
      ),
    );
    const ts = view.tenants.map((t) =>
      tenants.get(
        t.path,
        () => true,
        () => ({ all: labelSet<QuotaLabels>({ tenant: t.path, tier: ALL_TIERS }), tiers: new Map() }),
      ),
    );
    lastView = view;
    last = { clouds: cs, tenants: ts };
    return last;
  };
}

/** A memoised {@link provinceOf}, one per metrics object (localities are an operator-managed set). */
function provinceMemo(): (locality: string) => string {
  const memo = new Map<string, string>();
  return (locality) => {
    let p = memo.get(locality);
    if (p === undefined) {
      p = provinceOf(locality);
      if (memo.size < 100_000) memo.set(locality, p);
    }
    return p;
  };
}

function tierSet(sets: TenantSets, tenant: string, tier: string): LabelSet<QuotaLabels> {
  let set = sets.tiers.get(tier);
  if (set === undefined) {
    set = labelSet<QuotaLabels>({ tenant, tier });
    sets.tiers.set(tier, set);
  }
  return set;
}

/**
 * Emits per-tenant quota samples of one resource and one kind. Overall usage is exported when the
 * resource is limited or in use; per-tier samples only where a per-tier limit is set (usage by
 * tier without a limit is a fleet question, answered by the cloud gauges).
 */
function emitQuota(view: FleetView, labels: FleetLabels, r: ResourceName, kind: 'limit' | 'usage' | 'headroom', emit: Emit<QuotaLabels>): void {
  const tenants = view.tenants;
  for (let i = 0; i < tenants.length; i++) {
    const t = tenants[i];
    const sets = labels.tenants[i];
    if (t === undefined || sets === undefined) continue;
    const limit = t.quota.total[r];
    const used = t.usage[r];
    if (limit !== undefined) emit(sets.all, kind === 'usage' ? used : kind === 'limit' ? limit : limit - used);
    else if (kind === 'usage' && used !== 0) emit(sets.all, used);
    for (const tier in t.quota.byTier) {
      const tierLimit = t.quota.byTier[tier]?.[r];
      if (tierLimit === undefined) continue;
      const tierUsed = t.usageByTier[tier]?.[r] ?? 0;
      emit(tierSet(sets, t.path, tier), kind === 'usage' ? tierUsed : kind === 'limit' ? tierLimit : tierLimit - tierUsed);
    }
  }
}

const NO_LABELS = labelSet({});
const phaseSets = Object.fromEntries(PHASES.map((phase) => [phase, labelSet({ phase })])) as Record<Phase, LabelSet<'phase'>>;

/** Yields to the event loop. */
function yieldTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Creates the metrics of one Tianshu process around its own registry (a fresh one unless given).
 * No module-level state: two calls give two independent sets, which is what tests want.
 */
export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = options.registry ?? new Registry();
  const now = options.now ?? Date.now;
  const registers = [registry];
  if (options.defaultMetrics ?? true) {
    collectDefaultMetrics({ register: registry });
    // prom-client exports these sums as gauges named `_total`, which Prometheus reserves for
    // counters (promtool check metrics rejects them); the per-type gauges without the suffix
    // (`nodejs_active_handles{type}`, …) carry the same information.
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) registry.removeSingleMetric(name);
  }

  const sourceErrors = new FastCounter({
    name: 'tianshu_metrics_source_errors_total',
    help: 'State-source fetches that threw while rendering metrics; the last good view was served instead.',
    labelNames: ['source'] as const,
    registry,
  });
  const ttlMs = options.sourceTtlMs ?? 1000;
  const fleet = new SourceCache<FleetView>({
    ttlMs,
    now,
    onError: (err) => {
      sourceErrors.inc({ source: 'fleet' });
      options.onSourceError?.('fleet', err);
    },
  });
  const orchestrator = new SourceCache<OrchestratorView>({
    ttlMs,
    now,
    onError: (err) => {
      sourceErrors.inc({ source: 'orchestrator' });
      options.onSourceError?.('orchestrator', err);
    },
  });
  const labelsOf = fleetLabeller();
  const fleetGauge = <T extends string>(
    name: string,
    help: string,
    labelNames: readonly T[],
    compute: (v: FleetView, labels: FleetLabels, emit: Emit<T>) => void,
  ): void => {
    new ViewGauge<FleetView, T>({ name, help, labelNames, registry, cache: fleet, compute: (v, emit) => compute(v, labelsOf(v), emit) });
  };
  // Orchestrator gauges are labelled by cloud alone; their sets are shared the same way.
  const cloudOnlySets = new Generations<LabelSet<'cloud'>>();
  let cloudOnlyView: OrchestratorView | undefined;
  const cloudOnly = (v: OrchestratorView, cloud: string): LabelSet<'cloud'> => {
    if (v !== cloudOnlyView) {
      cloudOnlySets.rotate();
      cloudOnlyView = v;
    }
    return cloudOnlySets.get(cloud, () => true, () => labelSet({ cloud }));
  };
  const orchestratorGauge = <T extends string>(name: string, help: string, labelNames: readonly T[], compute: (v: OrchestratorView, emit: Emit<T>) => void): void => {
    new ViewGauge<OrchestratorView, T>({ name, help, labelNames, registry, cache: orchestrator, compute });
  };
  const eachCloud = (v: FleetView, labels: FleetLabels, fn: (c: CloudSample, sets: CloudSets) => void): void => {
    for (let i = 0; i < v.clouds.length; i++) {
      const c = v.clouds[i];
      const sets = labels.clouds[i];
      if (c !== undefined && sets !== undefined) fn(c, sets);
    }
  };

  // --- scheduling -------------------------------------------------------------------------
  const schedulingDuration = new Histogram({
    name: 'tianshu_scheduling_duration_seconds',
    help: 'Time to compute one placement decision (filters, scorers, replica split), by operation (place or preview).',
    labelNames: ['operation'] as const,
    buckets: SCHEDULING_BUCKETS,
    registers,
  });
  const decisions = new FastCounter({
    name: 'tianshu_scheduling_decisions_total',
    help: "Placement decisions by result (scheduled or unschedulable) and the workload's minimum tier; previews excluded.",
    labelNames: ['result', 'tier'] as const,
    registry,
  });
  const previews = new FastCounter({
    name: 'tianshu_scheduling_previews_total',
    help: 'previewPlacement calls by result (scheduled or unschedulable).',
    labelNames: ['result'] as const,
    registry,
  });
  const rejections = new FastCounter({
    name: 'tianshu_scheduling_rejections_total',
    help: "Clouds rejected by a filter during placement, by reason code and the workload's minimum tier.",
    labelNames: ['reason', 'tier'] as const,
    registry,
  });
  const unschedulable = new FastCounter({
    name: 'tianshu_scheduling_unschedulable_total',
    help: 'Requests that could not be placed, by primary reason (the failure reason, else the most frequent rejection) and tier.',
    labelNames: ['reason', 'tier'] as const,
    registry,
  });

  // --- fleet ------------------------------------------------------------------------------
  for (const r of RESOURCE_NAMES) {
    const suffix = RESOURCE_METRIC_SUFFIX[r];
    fleetGauge(`tianshu_cloud_capacity_${suffix}`, `Capacity of each cloud in ${suffix.replace('_', ' ')}.`, ['cloud', 'tier', 'province'] as const, (v, l, emit) =>
      eachCloud(v, l, (c, sets) => emit(sets.base, c.capacity[r])),
    );
    fleetGauge(
      `tianshu_cloud_allocated_${suffix}`,
      `Amount allocated to placements on each cloud in ${suffix.replace('_', ' ')}.`,
      ['cloud', 'tier', 'province'] as const,
      (v, l, emit) => eachCloud(v, l, (c, sets) => emit(sets.base, c.allocated[r])),
    );
  }
  fleetGauge('tianshu_cloud_condition', 'Condition of each cloud, one-hot: 1 for its current condition, 0 for the others.', ['cloud', 'condition'] as const, (v, l, emit) =>
    eachCloud(v, l, (c, sets) => {
      for (let k = 0; k < CLOUD_CONDITIONS.length; k++) {
        const set = sets.conditions[k];
        if (set !== undefined) emit(set, c.condition === CLOUD_CONDITIONS[k] ? 1 : 0);
      }
    }),
  );
  fleetGauge(
    'tianshu_cloud_info',
    'Always 1; carries each cloud\'s descriptive labels for joins (`* on(cloud) group_left(...) tianshu_cloud_info`).',
    ['cloud', 'kind', 'tier', 'province', 'locality', 'zone'] as const,
    (v, l, emit) => eachCloud(v, l, (_c, sets) => emit(sets.info, 1)),
  );
  fleetGauge('tianshu_clouds', 'Number of registered clouds by tier, province and condition.', ['tier', 'province', 'condition'] as const, (v, l, emit) => {
    const counts = new Map<string, { tier: string; province: string; condition: CloudCondition; n: number }>();
    eachCloud(v, l, (c, sets) => {
      const p = sets.base.record.province;
      const key = `${c.tier}\u0000${p}\u0000${c.condition}`;
      const entry = counts.get(key);
      if (entry === undefined) counts.set(key, { tier: c.tier, province: p, condition: c.condition, n: 1 });
      else entry.n++;
    });
    for (const e of counts.values()) emit(labelSet({ tier: e.tier, province: e.province, condition: e.condition }), e.n);
  });

  // --- quota ------------------------------------------------------------------------------
  for (const r of RESOURCE_NAMES) {
    const suffix = RESOURCE_METRIC_SUFFIX[r];
    fleetGauge(
      `tianshu_tenant_quota_limit_${suffix}`,
      `Quota limit of each tenant in ${suffix.replace('_', ' ')}; tier="all" is the overall limit, otherwise the limit on clouds of that tier. Absent when unlimited.`,
      ['tenant', 'tier'] as const,
      (v, l, emit) => emitQuota(v, l, r, 'limit', emit),
    );
    fleetGauge(
      `tianshu_tenant_usage_${suffix}`,
      `Usage of each tenant (its own plus its descendants') in ${suffix.replace('_', ' ')}; tier="all" is the total, otherwise usage on clouds of that tier.`,
      ['tenant', 'tier'] as const,
      (v, l, emit) => emitQuota(v, l, r, 'usage', emit),
    );
    fleetGauge(
      `tianshu_tenant_quota_headroom_${suffix}`,
      `Quota limit minus usage of each tenant in ${suffix.replace('_', ' ')} (negative when a quota was lowered below usage). Absent when unlimited.`,
      ['tenant', 'tier'] as const,
      (v, l, emit) => emitQuota(v, l, r, 'headroom', emit),
    );
  }

  // --- providers --------------------------------------------------------------------------
  const providerDuration = new Histogram({
    name: 'tianshu_provider_request_duration_seconds',
    help: 'Duration of provider calls by provider kind and operation (per-cloud latency: tianshu_provider_request_seconds_total / tianshu_provider_requests_total).',
    labelNames: ['kind', 'operation'] as const,
    buckets: PROVIDER_BUCKETS,
    registers,
  });
  const providerRequests = new FastCounter({
    name: 'tianshu_provider_requests_total',
    help: 'Provider calls by provider kind, cloud and operation.',
    labelNames: ['kind', 'cloud', 'operation'] as const,
    registry,
  });
  const providerSeconds = new FastCounter({
    name: 'tianshu_provider_request_seconds_total',
    help: 'Total time spent in provider calls by provider kind, cloud and operation.',
    labelNames: ['kind', 'cloud', 'operation'] as const,
    registry,
  });
  const providerErrors = new FastCounter({
    name: 'tianshu_provider_errors_total',
    help: 'Failed provider calls by provider kind, cloud, operation and error code (UNAVAILABLE, PROVIDER_ERROR, UNHEALTHY for a failed health probe, INTERNAL).',
    labelNames: ['kind', 'cloud', 'operation', 'code'] as const,
    registry,
  });
  orchestratorGauge(
    'tianshu_provider_circuit_state',
    'Circuit-breaker state per cloud: 0 closed, 1 half-open, 2 open.',
    ['cloud'] as const,
    (v, emit) => {
      for (const b of v.breakers ?? []) emit(cloudOnly(v, b.cloud), CIRCUIT_STATE_VALUES[b.state]);
    },
  );

  // --- orchestration ----------------------------------------------------------------------
  orchestratorGauge('tianshu_reconcile_queue_depth', 'Slices waiting to be reconciled, per cloud.', ['cloud'] as const, (v, emit) => {
    for (const q of v.queues ?? []) emit(cloudOnly(v, q.cloud), q.depth);
  });
  orchestratorGauge('tianshu_reconcile_lag_seconds', 'Age of the oldest slice waiting to be reconciled, per cloud (0 when the queue is empty).', ['cloud'] as const, (v, emit) => {
    for (const q of v.queues ?? []) emit(cloudOnly(v, q.cloud), q.lagSeconds);
  });
  orchestratorGauge('tianshu_deployments', 'Deployments by phase (reported by the leader).', ['phase'] as const, (v, emit) => {
    const byPhase = v.deploymentsByPhase;
    if (byPhase !== undefined) for (const phase of PHASES) emit(phaseSets[phase], byPhase[phase] ?? 0);
  });
  orchestratorGauge('tianshu_orchestrator_leader', '1 when this replica holds the orchestration lease and runs the loops, else 0.', [] as const, (v, emit) => {
    if (v.leader !== undefined) emit(NO_LABELS, v.leader ? 1 : 0);
  });
  const failovers = new FastCounter({
    name: 'tianshu_failovers_total',
    help: 'Deployments re-placed away from a NotReady cloud, by the cloud they left and outcome (replaced, degraded, failed).',
    labelNames: ['cloud', 'outcome'] as const,
    registry,
  });
  const drains = new FastCounter({
    name: 'tianshu_drains_total',
    help: 'Deployments moved off a draining cloud, by the cloud drained and outcome (replaced, degraded, failed).',
    labelNames: ['cloud', 'outcome'] as const,
    registry,
  });

  // --- API --------------------------------------------------------------------------------
  const graphqlDuration = new Histogram({
    name: 'tianshu_graphql_request_duration_seconds',
    help: 'GraphQL request duration by operation type, operation (root fields) and result code (OK or the error code).',
    labelNames: ['type', 'operation', 'code'] as const,
    buckets: GRAPHQL_BUCKETS,
    registers,
  });
  const rateLimited = new FastCounter({
    name: 'tianshu_http_rate_limited_requests_total',
    help: 'HTTP requests refused with 429 by the rate limiter, by route.',
    labelNames: ['route'] as const,
    registry,
  });
  const operations = new BoundedLabel(options.maxOperations ?? 200);

  // --- audit ------------------------------------------------------------------------------
  const auditValid = new Gauge({
    name: 'tianshu_audit_chain_valid',
    help: '1 when the last verification of the audit hash chain succeeded, 0 when it found a break. Absent until the first run.',
    registers,
  });
  const auditChecked = new Gauge({
    name: 'tianshu_audit_chain_verified_events',
    help: 'Audit events checked by the last verification of the hash chain.',
    registers,
  });
  const auditLast = new Gauge({
    name: 'tianshu_audit_chain_last_verification_timestamp_seconds',
    help: 'Unix time of the last completed audit-chain verification.',
    registers,
  });

  const recordProviderCall = (kind: string, cloud: string, operation: string, durationSeconds: number, errorCode: string | null): void => {
    providerDuration.observe({ kind, operation }, durationSeconds);
    providerRequests.inc({ kind, cloud, operation });
    providerSeconds.inc({ kind, cloud, operation }, durationSeconds);
    if (errorCode !== null) providerErrors.inc({ kind, cloud, operation, code: errorCode });
  };

  return {
    registry,
    contentType: registry.contentType,
    recordDecision(decision, durationSeconds, tier, opts) {
      const result: DecisionResult = decision.ok ? 'scheduled' : 'unschedulable';
      if (opts?.preview === true) {
        schedulingDuration.observe({ operation: 'preview' }, durationSeconds);
        previews.inc({ result });
        return;
      }
      schedulingDuration.observe({ operation: 'place' }, durationSeconds);
      decisions.inc({ result, tier });
      for (const [reason, n] of Object.entries(decision.reasonCounts)) if (n !== undefined && n > 0) rejections.inc({ reason, tier }, n);
      if (!decision.ok) unschedulable.inc({ reason: primaryReason(decision), tier });
    },
    async observeProviderCall<R>(kind: string, cloud: string, operation: string, fn: () => Promise<R>): Promise<R> {
      const start = performance.now();
      try {
        const out = await fn();
        recordProviderCall(kind, cloud, operation, (performance.now() - start) / 1000, null);
        return out;
      } catch (err) {
        recordProviderCall(kind, cloud, operation, (performance.now() - start) / 1000, errorCodeOf(err));
        throw err;
      }
    },
    recordProviderCall,
    recordFailover(cloud, outcome) {
      failovers.inc({ cloud, outcome });
    },
    recordDrain(cloud, outcome) {
      drains.inc({ cloud, outcome });
    },
    recordGraphqlRequest(type, operation, code, durationSeconds) {
      graphqlDuration.observe({ type, operation: operations.of(operation), code }, durationSeconds);
    },
    recordRateLimited(route) {
      rateLimited.inc({ route });
    },
    setFleetSource(source) {
      fleet.set(source);
    },
    setOrchestratorSource(source) {
      orchestrator.set(source);
    },
    recordAuditVerification(result) {
      auditValid.set(result.ok ? 1 : 0);
      auditChecked.set(result.checked);
      auditLast.set(now() / 1000);
    },
    async render() {
      // Family by family, yielding to the event loop whenever a few milliseconds of work have
      // piled up, so a large scrape delays other requests by at most that much.
      // Fetch the state first, so a failing source is already counted in this very scrape.
      await Promise.all([fleet.current(), orchestrator.current()]);
      const parts: string[] = [];
      let since = performance.now();
      for (const metric of registry.getMetricsAsArray()) {
        if (metric instanceof ViewGauge) parts.push(await metric.text());
        else if (metric instanceof FastCounter) parts.push(metric.text());
        else parts.push(await registry.getSingleMetricAsString((metric as unknown as { name: string }).name));
        if (performance.now() - since > 2) {
          await yieldTurn();
          since = performance.now();
        }
      }
      return `${parts.join('\n\n')}\n`;
    },
    metricNames() {
      return registry
        .getMetricsAsArray()
        .map((m) => (m as unknown as { name: string }).name)
        .sort();
    },
  };
}
