import { describe, expect, it } from 'vitest';
import { aCloud, aSpec } from '../../test/builders.js';
import { verdictOf } from '../../test/scheduler-reference.js';
import { tierFilter } from './tier.js';

describe('tier filter', () => {
  it.each<[string, string, boolean, string | null]>([
    ['L1', 'L1', false, null],
    ['L3', 'L2', false, null],
    ['L4', 'L1', false, null],
    ['L2', 'L3', false, 'BELOW_TIER'],
    ['L1', 'L4', false, 'BELOW_TIER'],
    ['L3', 'L3', true, null],
    ['L4', 'L3', true, 'TIER_EXCLUSIVE'],
    ['L2', 'L3', true, 'BELOW_TIER'],
  ])('cloud %s (exclusive %s) for a %s workload → %s', (cloudTier, minTier, exclusive, reason) => {
    const v = verdictOf(tierFilter, aSpec().tier(minTier).build(), aCloud('c').tier(cloudTier).exclusive(exclusive).build(), {
      others: [aCloud('o1').tier('L1').build(), aCloud('o4').tier('L4').exclusive().build()],
    });
    expect(v.ok ? null : v.reason).toBe(reason);
    expect(v.bulk).toBe(reason);
  });

  it('says what it needs', () => {
    const v = verdictOf(tierFilter, aSpec().tier('L3').build(), aCloud('c').tier('L2').build());
    expect(v).toMatchObject({ ok: false, detail: 'certified L2, needs at least L3' });
  });
});
