/**
 * Taints filter, as in Kubernetes: a `NoSchedule` taint rejects a workload that does not tolerate
 * it; a `PreferNoSchedule` taint never rejects (the `taints` scorer lowers the score instead).
 */
import type { Taint } from '../../domain/cloud.js';
import type { Toleration } from '../../domain/deployment.js';
import { defineFilter } from './define.js';

/** True when `toleration` tolerates `taint`: same key, Exists or equal value, and no effect or the same one. */
export function tolerates(toleration: Toleration, taint: Taint): boolean {
  if (toleration.key !== taint.key) return false;
  if (toleration.effect !== undefined && toleration.effect !== taint.effect) return false;
  return toleration.operator === 'Exists' || toleration.value === taint.value;
}

/** The first taint with `effect` that none of `tolerations` tolerates, or undefined. */
export function untolerated(taints: readonly Taint[], tolerations: readonly Toleration[], effect: Taint['effect']): Taint | undefined {
  for (const taint of taints) {
    if (taint.effect !== effect) continue;
    if (!tolerations.some((t) => tolerates(t, taint))) return taint;
  }
  return undefined;
}

/** The taints filter. */
export const taintsFilter = defineFilter({
  name: 'taints',
  stage: 'static',
  reasons: ['UNTOLERATED_TAINT'],
  reason: (req, { cloud }) =>
    cloud.taints.length === 0 || untolerated(cloud.taints, req.spec.tolerations, 'NoSchedule') === undefined ? null : 'UNTOLERATED_TAINT',
  detail: (req, { cloud }) => {
    const t = untolerated(cloud.taints, req.spec.tolerations, 'NoSchedule');
    return t === undefined ? 'no untolerated taint' : `taint ${t.key}=${t.value}:${t.effect} is not tolerated`;
  },
});
