/**
 * A decorator that times every call a provider makes to its cloud: duration, count and errors by
 * provider kind, cloud and operation, without the adapters or the orchestrator knowing.
 *
 * @packageDocumentation
 */
import type { Provider } from '../providers/provider.js';
import { errorCodeOf } from './metrics.js';
import type { ProviderCallRecorder } from './metrics.js';

/** The provider operations that talk to a cloud and are therefore measured (`close` is not). */
export const PROVIDER_OPERATIONS = ['apply', 'remove', 'status', 'inventory', 'health', 'listSlices'] as const;

/** One measured provider operation. */
export type ProviderOperation = (typeof PROVIDER_OPERATIONS)[number];

/** What the decorator needs of a provider: who it is. Any object with async methods qualifies. */
export interface Identified {
  readonly kind: string;
  readonly cloudId: string;
}

/** True for a `HealthReport`-shaped value reporting failure. */
function unhealthy(value: unknown): boolean {
  return typeof value === 'object' && value !== null && 'ok' in value && (value).ok === false;
}

/**
 * Wraps `provider` so each of `operations` (default {@link PROVIDER_OPERATIONS}) is recorded in
 * `metrics`; other members pass through untouched. A `health` probe that returns `ok: false` (it
 * never throws) counts as an error with code `UNHEALTHY`, so provider error ratios see sick clouds.
 * Generic over the provider type: the result has exactly the type passed in.
 *
 * @example
 * const provider = instrumentProvider(createSimulatedProvider(id, conn, opts), metrics);
 */
export function instrumentProvider<P extends Identified = Provider>(
  provider: P,
  metrics: ProviderCallRecorder,
  operations: readonly string[] = PROVIDER_OPERATIONS,
): P {
  const measured = new Set(operations);
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(provider, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof prop !== 'string' || !measured.has(prop) || typeof value !== 'function') return value;
      let fn = wrapped.get(prop);
      if (fn === undefined) {
        const method = value as (...args: unknown[]) => Promise<unknown>;
        fn = async (...args: unknown[]): Promise<unknown> => {
          const start = performance.now();
          let result: unknown;
          try {
            result = await method.apply(target, args);
          } catch (err) {
            metrics.recordProviderCall(target.kind, target.cloudId, prop, (performance.now() - start) / 1000, errorCodeOf(err));
            throw err;
          }
          metrics.recordProviderCall(target.kind, target.cloudId, prop, (performance.now() - start) / 1000, prop === 'health' && unhealthy(result) ? 'UNHEALTHY' : null);
          return result;
        };
        wrapped.set(prop, fn);
      }
      return fn;
    },
  });
}
