/**
 * Scorer weights per strategy: a cloud's total is Σ weight × normalised score (0–100).
 */
import type { Strategy } from '../domain/deployment.js';
import type { ScorerName } from './framework.js';

/** The weight of every scorer. */
export type Weights = Readonly<Record<ScorerName, number>>;

/** The weights of every strategy. */
export type StrategyWeights = Readonly<Record<Strategy, Weights>>;

/**
 * The default weights. Each strategy leads with its own scorer; locality and cost are light
 * tie-breakers; `topology` is what spreads replicas during division (zero for the packing
 * strategies); `sticky` at 2 outweighs any other difference so held replicas stay put.
 */
export const DEFAULT_WEIGHTS: StrategyWeights = Object.freeze({
  binpack: Object.freeze({ binpack: 1, spread: 0, cost: 0.1, locality: 0.2, topology: 0, taints: 0.5, sticky: 2 }),
  spread: Object.freeze({ binpack: 0, spread: 1, cost: 0.1, locality: 0.2, topology: 1, taints: 0.5, sticky: 2 }),
  cost: Object.freeze({ binpack: 0.2, spread: 0, cost: 1, locality: 0.2, topology: 0, taints: 0.5, sticky: 2 }),
  locality: Object.freeze({ binpack: 0.2, spread: 0, cost: 0.1, locality: 1, topology: 0, taints: 0.5, sticky: 2 }),
});
