/**
 * The catalogue of reason codes: why a cloud was rejected or why replicas could not be divided.
 * Stable codes (metrics labels and API values); the phrase is what the counted summary says.
 */

/** Every reason code with the phrase used in the counted summary ("5 below tier L3"). */
export const REASONS = {
  NOT_READY: 'not ready',
  CORDONED: 'cordoned',
  DRAINING: 'draining',
  WORKLOAD_KIND_MISMATCH: 'wrong provider kind for the workload',
  UNTOLERATED_TAINT: 'untolerated taint',
  BELOW_TIER: 'below tier',
  TIER_EXCLUSIVE: 'reserved for another tier',
  OUTSIDE_RESIDENCY: 'outside residency',
  ARCH_MISMATCH: 'wrong architecture',
  NOT_XINCHUANG: 'not xinchuang',
  XINCHUANG_EXCLUDED: 'xinchuang stack not wanted',
  GPU_MODEL_MISMATCH: 'wrong gpu model',
  LABEL_MISMATCH: 'labels do not match',
  INSUFFICIENT_CPU: 'insufficient cpu',
  INSUFFICIENT_MEMORY: 'insufficient memory',
  INSUFFICIENT_GPU: 'insufficient gpu',
  INSUFFICIENT_INSTANCES: 'insufficient instances',
  QUOTA_EXCEEDED: 'over tenant quota',
  SPREAD_UNSATISFIABLE: 'spread cannot be satisfied',
  INSUFFICIENT_TOTAL_CAPACITY: 'not enough capacity in total',
} as const;

/** One stable reason code. */
export type ReasonCode = keyof typeof REASONS;

/** Every reason code in catalogue order; a code's index + 1 is its compact id in typed arrays (0 = pass). */
export const REASON_CODES = Object.freeze(Object.keys(REASONS)) as readonly ReasonCode[];

/** The compact id (1-based) of each reason code, for `Uint8Array` verdict columns. */
export const REASON_ID: Readonly<Record<ReasonCode, number>> = Object.freeze(
  Object.fromEntries(REASON_CODES.map((code, i) => [code, i + 1])) as Record<ReasonCode, number>,
);
