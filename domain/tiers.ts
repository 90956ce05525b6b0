/**
 * Security tiers: an ordered, configurable scale. A cloud is certified at one level and hosts
 * workloads at or below it; an exclusive cloud hosts only its own level.
 */
import { TianshuError } from './errors.js';

/** An ordered scale of tier names, lowest first. */
export interface TierScale {
  readonly name: string;
  readonly levels: readonly string[];
}

/** MLPS 2.0 (China's Multi-Level Protection Scheme), the default scale. */
export const MLPS: TierScale = Object.freeze({ name: 'mlps', levels: Object.freeze(['L1', 'L2', 'L3', 'L4']) });

/** FedRAMP impact levels, a shipped preset. */
export const FEDRAMP: TierScale = Object.freeze({ name: 'fedramp', levels: Object.freeze(['Low', 'Moderate', 'High']) });

/** The presets by name, for configuration. */
export const TIER_PRESETS: Readonly<Record<string, TierScale>> = Object.freeze({ mlps: MLPS, fedramp: FEDRAMP });

/** A scale with O(1) rank look-ups; built once from configuration. */
export class Tiers {
  private readonly rankOf: ReadonlyMap<string, number>;

  constructor(readonly scale: TierScale = MLPS) {
    if (scale.levels.length === 0) throw new TianshuError('VALIDATION', 'a tier scale needs at least one level', { field: 'tiers.levels' });
    if (new Set(scale.levels).size !== scale.levels.length) {
      throw new TianshuError('VALIDATION', 'tier levels must be distinct', { field: 'tiers.levels' });
    }
    this.rankOf = new Map(scale.levels.map((level, i) => [level, i]));
  }

  /** True when `tier` is a level of this scale. */
  has(tier: string): boolean {
    return this.rankOf.has(tier);
  }

  /** The 0-based rank of `tier`, or -1 for a tier the scale does not know (one look-up, no throw). */
  rankOrMinus1(tier: string): number {
    return this.rankOf.get(tier) ?? -1;
  }

  /** The 0-based rank of `tier`; throws a VALIDATION error for an unknown tier. */
  rank(tier: string): number {
    const r = this.rankOf.get(tier);
    if (r === undefined) {
      throw new TianshuError('VALIDATION', `unknown tier "${tier}" (known: ${this.scale.levels.join(', ')})`, { field: 'tier' });
    }
    return r;
  }

  /** True when a cloud certified at `cloudTier` (exclusive or not) may host a workload needing `minTier`. */
  hosts(cloudTier: string, minTier: string, exclusive: boolean): boolean {
    const c = this.rank(cloudTier);
    const w = this.rank(minTier);
    return exclusive ? c === w : c >= w;
  }
}
