/**
 * The one ordered registry of filters and scorers. Array order is evaluation order, and a cloud
 * failing several filters is counted under the first.
 */
import type { Filter, Scorer } from './framework.js';
import { attributesFilter } from './filters/attributes.js';
import { capacityFilter } from './filters/capacity.js';
import { conditionFilter } from './filters/condition.js';
import { quotaFilter } from './filters/quota.js';
import { residencyFilter } from './filters/residency.js';
import { taintsFilter } from './filters/taints.js';
import { tierFilter } from './filters/tier.js';
import { workloadKindFilter } from './filters/workload-kind.js';
import { binpackScorer } from './scorers/binpack.js';
import { costScorer } from './scorers/cost.js';
import { localityScorer } from './scorers/locality.js';
import { spreadScorer } from './scorers/spread.js';
import { stickyScorer } from './scorers/sticky.js';
import { taintsScorer } from './scorers/taints.js';
import { topologyScorer } from './scorers/topology.js';

/**
 * Filters, cheapest and most selective first, quota last:
 * - condition and workload kind are one comparison each and take out whole classes of clouds
 *   (down, cordoned, the wrong provider) that no other reason should be blamed on;
 * - tier and residency are the policy filters that reject most of a government fleet, served
 *   from the snapshot's tier and locality-prefix buckets;
 * - taints and attributes walk short lists per cloud;
 * - these six are static (they read no allocation), so the engine evaluates them once per
 *   request signature and snapshot lineage and caches the verdicts;
 * - capacity reads the allocation, which changes on every commit, so it runs per decision;
 * - quota is last: it is a property of the tenant rather than of the cloud, and reporting
 *   "over tenant quota" only for clouds that would otherwise take the work tells the user that
 *   more quota, not another cloud, is what would help.
 * Static filters must precede dynamic ones (the engine asserts it).
 */
export const FILTERS: readonly Filter[] = Object.freeze([
  conditionFilter,
  workloadKindFilter,
  tierFilter,
  residencyFilter,
  taintsFilter,
  attributesFilter,
  capacityFilter,
  quotaFilter,
]);

/** Scorers, in the order their terms appear in an explanation. */
export const SCORERS: readonly Scorer[] = Object.freeze([
  binpackScorer,
  spreadScorer,
  costScorer,
  localityScorer,
  topologyScorer,
  taintsScorer,
  stickyScorer,
]);
