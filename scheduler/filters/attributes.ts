/**
 * Attributes filter: the required architecture, xinchuang (domestic) stack and GPU model, then
 * the label expressions (In, NotIn, Exists, DoesNotExist, with Kubernetes' semantics: NotIn
 * matches an absent label).
 */
import type { LabelExpression } from '../../domain/deployment.js';
import type { ReasonCode } from '../reasons.js';
import { defineFilter } from './define.js';

/** True when `labels` satisfy `expr`. */
export function matchesExpression(labels: Readonly<Record<string, string>>, expr: LabelExpression): boolean {
  const value = Object.hasOwn(labels, expr.key) ? labels[expr.key] : undefined;
  switch (expr.operator) {
    case 'In':
      return value !== undefined && expr.values.includes(value);
    case 'NotIn':
      return value === undefined || !expr.values.includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
  }
}

/** The attributes filter. */
export const attributesFilter = defineFilter({
  name: 'attributes',
  stage: 'static',
  reasons: ['ARCH_MISMATCH', 'NOT_XINCHUANG', 'XINCHUANG_EXCLUDED', 'GPU_MODEL_MISMATCH', 'LABEL_MISMATCH'],
  reason: (req, { cloud }): ReasonCode | null => {
    const want = req.spec.requiredAttributes;
    const have = cloud.attributes;
    if (want.arch !== undefined && want.arch !== have.arch) return 'ARCH_MISMATCH';
    if (want.xinchuang === true && !have.xinchuang) return 'NOT_XINCHUANG';
    if (want.xinchuang === false && have.xinchuang) return 'XINCHUANG_EXCLUDED';
    if (want.gpuModel !== undefined && want.gpuModel !== have.gpuModel) return 'GPU_MODEL_MISMATCH';
    for (const expr of req.spec.labelSelector) if (!matchesExpression(have.labels, expr)) return 'LABEL_MISMATCH';
    return null;
  },
  detail: (req, { cloud }, _snap, reason) => {
    const want = req.spec.requiredAttributes;
    const have = cloud.attributes;
    switch (reason) {
      case 'ARCH_MISMATCH':
        return `architecture ${have.arch}, needs ${want.arch ?? ''}`;
      case 'NOT_XINCHUANG':
        return 'not a xinchuang (domestic) stack, the workload requires one';
      case 'XINCHUANG_EXCLUDED':
        return 'a xinchuang (domestic) stack, the workload requires a non-xinchuang one';
      case 'GPU_MODEL_MISMATCH':
        return `gpu model ${have.gpuModel ?? 'none'}, needs ${want.gpuModel ?? ''}`;
      default: {
        const expr = req.spec.labelSelector.find((e) => !matchesExpression(have.labels, e));
        if (expr === undefined) return 'labels do not match';
        const value = have.labels[expr.key];
        const values = expr.values.length > 0 ? ` [${expr.values.join(', ')}]` : '';
        return `label ${expr.key}${value === undefined ? ' is absent' : `=${value}`}, needs ${expr.key} ${expr.operator}${values}`;
      }
    }
  },
});
