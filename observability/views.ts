/**
 * The state views the metrics read at scrape time, and adapters that build them from the store.
 *
 * The views are structural subsets of the domain types, so a store's `Cloud[]` and `Tenant[]`
 * can be handed over as they are, without copying.
 *
 * @packageDocumentation
 */
import type { Cloud } from '../domain/cloud.js';
import type { Phase } from '../domain/deployment.js';
import type { Tenant } from '../domain/tenant.js';
import type { Store } from '../store/store.js';

/** What the fleet gauges need of a cloud. */
export type CloudSample = Pick<Cloud, 'id' | 'kind' | 'locality' | 'zone' | 'tier' | 'condition' | 'capacity' | 'allocated'>;

/** What the quota gauges need of a tenant. */
export type TenantSample = Pick<Tenant, 'path' | 'quota' | 'usage' | 'usageByTier'>;

/** The fleet as the metrics see it: every cloud and every tenant. */
export interface FleetView {
  readonly clouds: readonly CloudSample[];
  readonly tenants: readonly TenantSample[];
}

/** Circuit-breaker states, as the orchestrator's breakers name them. */
export type CircuitState = 'closed' | 'half_open' | 'open';

/** The exported value of each circuit-breaker state. */
export const CIRCUIT_STATE_VALUES: Readonly<Record<CircuitState, number>> = { closed: 0, half_open: 1, open: 2 };

/** One cloud's reconcile queue. */
export interface QueueSample {
  readonly cloud: string;
  /** Slices waiting. */
  readonly depth: number;
  /** Age in seconds of the oldest waiting slice; 0 when empty. */
  readonly lagSeconds: number;
}

/** The orchestrator's state as the metrics see it; every part is optional (absent parts export nothing). */
export interface OrchestratorView {
  /** Whether this replica holds the lease. */
  readonly leader?: boolean;
  readonly queues?: readonly QueueSample[];
  readonly deploymentsByPhase?: Readonly<Partial<Record<Phase, number>>>;
  readonly breakers?: readonly { readonly cloud: string; readonly state: CircuitState }[];
}

/**
 * The province part of a locality, as the `province` label: its first two segments
 * (`cn/gd/sz/nanshan` → `cn/gd`), so provinces of different countries never collide.
 */
export function provinceOf(locality: string): string {
  const first = locality.indexOf('/');
  const second = first < 0 ? -1 : locality.indexOf('/', first + 1);
  return second < 0 ? locality : locality.slice(0, second);
}

/**
 * A fleet source reading the store: `metrics.setFleetSource(fleetSourceFromStore(store))`.
 * Called at most once per scrape interval thanks to the metrics' source cache.
 */
export function fleetSourceFromStore(store: Pick<Store, 'listClouds' | 'listTenants'>): () => Promise<FleetView> {
  return async () => {
    const [clouds, tenants] = await Promise.all([store.listClouds(), store.listTenants()]);
    return { clouds, tenants };
  };
}

/** Options of {@link deploymentPhasesFromStore}. */
export interface DeploymentPhasesOptions {
  /** The counts are recounted at most this often (default 10 s); a scrape in between gets the last counts. */
  readonly refreshMs?: number;
  /** Deployments read per store call (default 1,000). */
  readonly pageSize?: number;
  readonly now?: () => number;
}

/**
 * Deployments by phase, counted from the store for `tianshu_deployments`. The store has no count
 * query, so this pages through every deployment; to keep scrapes cheap the count runs at most once
 * per `refreshMs`, one at a time, and only the first call waits for it: later calls return the last
 * counts at once and start a recount in the background when they are stale. A failed recount
 * keeps the last counts (the first one's error reaches the metrics' source-error counter).
 */
export function deploymentPhasesFromStore(store: Pick<Store, 'listDeployments'>, options: DeploymentPhasesOptions = {}): () => Promise<Partial<Record<Phase, number>>> {
  const refreshMs = options.refreshMs ?? 10_000;
  const pageSize = options.pageSize ?? 1_000;
  const now = options.now ?? Date.now;
  let last: Partial<Record<Phase, number>> | undefined;
  let at = 0;
  let running: Promise<Partial<Record<Phase, number>>> | undefined;
  const count = async (): Promise<Partial<Record<Phase, number>>> => {
    const out: Partial<Record<Phase, number>> = {};
    let after: string | undefined;
    for (;;) {
      const page = await store.listDeployments({ first: pageSize, ...(after === undefined ? {} : { after }) });
      for (const d of page.items) out[d.phase] = (out[d.phase] ?? 0) + 1;
      if (page.nextCursor === null || page.items.length === 0) return out;
      after = page.nextCursor;
    }
  };
  const refresh = (): Promise<Partial<Record<Phase, number>>> => {
    running ??= count()
      .then((counts) => {
        last = counts;
        at = now();
        return counts;
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  };
  return async () => {
    if (last === undefined) return refresh();
    if (now() - at >= refreshMs) refresh().catch(() => undefined);
    return last;
  };
}
