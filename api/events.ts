/**
 * The in-process deployment event bus. The API publishes after each committed mutation; the
 * orchestrator publishes phase changes, failovers and deletions into the same bus; the
 * `deploymentEvents` subscription reads from it, each subscriber filtered to its tenant subtree.
 *
 * The event shapes live in `domain/events.ts` (so the orchestrator need not import `api/`); pass
 * `bus.publish` to the orchestrator as its `PublishEvent`. Create one bus per process in `bin/`:
 *
 * ```ts
 * const events = createEventBus();
 * const app = await buildServer({ ..., events });
 * events.publish({ type: 'PHASE_CHANGED', deploymentId, tenant, name, phase: 'Running', generation, message: '', slices, time: new Date().toISOString() });
 * ```
 *
 * Delivery is synchronous and best-effort: a listener that throws is isolated from the others, and a
 * slow subscription drops its oldest undelivered events past a bound rather than growing memory.
 */
import type { DeploymentEvent } from '../domain/events.js';
import { isWithinTenant } from '../domain/tenant.js';
import type { TenantPath } from '../domain/tenant.js';

export { DEPLOYMENT_EVENT_TYPES } from '../domain/events.js';
export type { DeploymentEvent, DeploymentEventType, PublishEvent } from '../domain/events.js';

/** A listener; its return value is ignored. */
export type DeploymentEventListener = (event: DeploymentEvent) => void;

/** Which events a subscriber wants. */
export interface EventFilter {
  /** Only events of deployments inside this tenant subtree (null: all). */
  readonly under: TenantPath | null;
  /** Only this deployment. */
  readonly deploymentId?: string;
}

/** The bus. */
export interface EventBus {
  /** Delivers `event` to every matching subscriber. */
  publish(event: DeploymentEvent): void;
  /** Registers a listener; returns the function that unregisters it. */
  subscribe(filter: EventFilter, listener: DeploymentEventListener): () => void;
  /** An async iterator over matching events, for GraphQL subscriptions; `return()` unsubscribes. */
  iterate(filter: EventFilter, options?: { readonly highWaterMark?: number }): AsyncIterableIterator<DeploymentEvent>;
  /** Current subscriber count (tests, metrics). */
  readonly size: number;
}

/** True when `event` passes `filter`. */
export function matches(filter: EventFilter, event: DeploymentEvent): boolean {
  if (filter.under !== null && !isWithinTenant(event.tenant, filter.under)) return false;
  return filter.deploymentId === undefined || filter.deploymentId === event.deploymentId;
}

/** Creates a bus. `onListenerError` sees a listener's exception (default: ignored). */
export function createEventBus(options: { readonly onListenerError?: (e: unknown) => void } = {}): EventBus {
  const listeners = new Map<number, { filter: EventFilter; listener: DeploymentEventListener }>();
  let next = 0;
  const bus: EventBus = {
    publish(event) {
      for (const { filter, listener } of listeners.values()) {
        if (!matches(filter, event)) continue;
        try {
          listener(event);
        } catch (e) {
          options.onListenerError?.(e);
        }
      }
    },
    subscribe(filter, listener) {
      const id = next++;
      listeners.set(id, { filter, listener });
      return () => {
        listeners.delete(id);
      };
    },
    iterate(filter, iterOptions = {}) {
      const highWaterMark = iterOptions.highWaterMark ?? 1000;
      const queue: DeploymentEvent[] = [];
      let waiting: ((r: IteratorResult<DeploymentEvent>) => void) | null = null;
      let done = false;
      const unsubscribe = bus.subscribe(filter, (event) => {
        if (waiting !== null) {
          const w = waiting;
          waiting = null;
          w({ value: event, done: false });
          return;
        }
        queue.push(event);
        if (queue.length > highWaterMark) queue.shift();
      });
      const finish = (): Promise<IteratorResult<DeploymentEvent>> => {
        done = true;
        unsubscribe();
        queue.length = 0;
        if (waiting !== null) {
          const w = waiting;
          waiting = null;
          w({ value: undefined, done: true });
        }
        return Promise.resolve({ value: undefined, done: true });
      };
      const iterator: AsyncIterableIterator<DeploymentEvent> = {
        next() {
          const head = queue.shift();
          if (head !== undefined) return Promise.resolve({ value: head, done: false });
          if (done) return Promise.resolve({ value: undefined, done: true });
          return new Promise((resolve) => {
            waiting = resolve;
          });
        },
        return: finish,
        throw(e?: unknown) {
          void finish();
          return Promise.reject(e instanceof Error ? e : new Error(String(e)));
        },
        [Symbol.asyncIterator]() {
          return iterator;
        },
      };
      return iterator;
    },
    get size() {
      return listeners.size;
    },
  };
  return bus;
}
