import { describe, expect, it } from 'vitest';
import type { CloudCondition } from '../../domain/cloud.js';
import { aCloud, aSpec } from '../../test/builders.js';
import { verdictOf } from '../../test/scheduler-reference.js';
import { conditionFilter } from './condition.js';

describe('condition filter', () => {
  it.each<[CloudCondition, string | null]>([
    ['Ready', null],
    ['NotReady', 'NOT_READY'],
    ['Cordoned', 'CORDONED'],
    ['Draining', 'DRAINING'],
  ])('%s → %s', (condition, reason) => {
    const v = verdictOf(conditionFilter, aSpec().build(), aCloud('c').condition(condition).build());
    expect(v.ok ? null : v.reason).toBe(reason);
    if (!v.ok) expect(v.detail).toContain(condition);
  });
});
