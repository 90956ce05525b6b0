/**
 * Deployment events: what happened to a deployment, as published by the API (after committed
 * mutations) and the orchestrator (phase changes, failovers, deletions), and as the
 * `deploymentEvents` subscription delivers them. Only the shapes live here, so both publishers can
 * name them without depending on each other; the bus itself is in `api/events.ts`.
 */
import type { Phase, PlacementSlice } from './deployment.js';
import type { TenantPath } from './tenant.js';

/** What happened to a deployment. */
export const DEPLOYMENT_EVENT_TYPES = ['ADMITTED', 'SCALED', 'PLACEMENT_CHANGED', 'PHASE_CHANGED', 'DELETING', 'DELETED'] as const;
/** One event type. */
export type DeploymentEventType = (typeof DEPLOYMENT_EVENT_TYPES)[number];

/** One deployment event, as subscribers receive it. */
export interface DeploymentEvent {
  readonly type: DeploymentEventType;
  readonly deploymentId: string;
  readonly tenant: TenantPath;
  readonly name: string;
  readonly phase: Phase;
  readonly generation: number;
  readonly slices: readonly PlacementSlice[];
  readonly message: string;
  /** ISO-8601. */
  readonly time: string;
}

/** Where a publisher sends events; `EventBus.publish` from `api/events.ts` is one. */
export type PublishEvent = (event: DeploymentEvent) => void;
