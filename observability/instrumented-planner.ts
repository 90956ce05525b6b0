/**
 * A decorator that records every placement decision a planner makes: duration, result,
 * rejections by reason and tier. The scheduler stays pure; the wiring wraps its planner once.
 *
 * @packageDocumentation
 */
import type { DeploymentSpec } from '../domain/deployment.js';
import type { Decision } from '../scheduler/decision.js';
import type { DecisionRecorder } from './metrics.js';

/**
 * Wraps a planner-shaped function `(spec, …rest) → Decision` so each call is recorded with the
 * spec's minimum tier. Pass `{ preview: true }` for the planner that answers `previewPlacement`,
 * so "what if" questions are counted apart from admissions.
 *
 * @example
 * const plan = instrumentPlanner(planner(scheduler, tiers), metrics);
 */
export function instrumentPlanner<A extends unknown[]>(
  plan: (spec: DeploymentSpec, ...rest: A) => Decision,
  metrics: DecisionRecorder,
  options: { readonly preview?: boolean } = {},
): (spec: DeploymentSpec, ...rest: A) => Decision {
  return (spec, ...rest) => {
    const start = performance.now();
    const decision = plan(spec, ...rest);
    metrics.recordDecision(decision, (performance.now() - start) / 1000, spec.minTier, options);
    return decision;
  };
}
