import { describe, expect, it } from 'vitest';
import { aCloud, aSpec } from '../../test/builders.js';
import { verdictOf } from '../../test/scheduler-reference.js';
import { residencyFilter } from './residency.js';

describe('residency filter', () => {
  it.each<[string[], string, boolean]>([
    [[], 'cn/bj', true],
    [['cn/gd'], 'cn/gd', true],
    [['cn/gd'], 'cn/gd/sz/nanshan', true],
    [['cn/gd'], 'cn/gdx', false],
    [['cn/gd'], 'cn/gdx/sz', false],
    [['cn/gd'], 'cn', false],
    [['cn/gd/sz'], 'cn/gd/gz', false],
    [['cn/bj', 'cn/gd/sz'], 'cn/gd/sz/futian', true],
    [['cn/bj', 'cn/gd/sz'], 'cn/sh', false],
  ])('residency %j, cloud in %s → %s', (residency, locality, ok) => {
    const v = verdictOf(residencyFilter, aSpec().residency(...residency).build(), aCloud('c').in(locality).build(), {
      others: [aCloud('o').in('cn/gd/sz').build()],
    });
    expect(v.ok).toBe(ok);
    expect(v.bulk).toBe(ok ? null : 'OUTSIDE_RESIDENCY');
    if (!v.ok) expect(v.detail).toBe(`located in ${locality}, outside residency ${residency.join(', ')}`);
  });
});
