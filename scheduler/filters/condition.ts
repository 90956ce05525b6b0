/**
 * Condition filter: only `Ready` clouds take new work; `NotReady`, `Cordoned` and `Draining` each
 * reject with their own code so the summary says which.
 */
import type { CloudCondition } from '../../domain/cloud.js';
import type { ReasonCode } from '../reasons.js';
import { defineFilter } from './define.js';

const REASON_OF: Readonly<Record<CloudCondition, ReasonCode | null>> = {
  Ready: null,
  NotReady: 'NOT_READY',
  Cordoned: 'CORDONED',
  Draining: 'DRAINING',
};

/** The condition filter. */
export const conditionFilter = defineFilter({
  name: 'condition',
  stage: 'static',
  reasons: ['NOT_READY', 'CORDONED', 'DRAINING'],
  reason: (_req, { cloud }) => REASON_OF[cloud.condition],
  detail: (_req, { cloud }) => `cloud is ${cloud.condition}, only Ready clouds take new placements`,
});
