import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Cloud } from '../domain/cloud.js';
import { aCloud, aSpec, headroomOf, res, TEST_TIERS } from '../test/builders.js';
import { createScheduler, followSnapshot } from './scheduler.js';
import { createSnapshot } from './snapshot.js';

const scheduler = createScheduler({ tiers: TEST_TIERS });
const TIERS = ['L1', 'L2', 'L3', 'L4'] as const;
const PLACES = ['cn/gd/sz', 'cn/gd/gz', 'cn/zj/hz', 'cn/bj/cy'] as const;

function fleet(n: number): Cloud[] {
  return Array.from({ length: n }, (_, i) =>
    aCloud(`c${String(i).padStart(3, '0')}`)
      .in(PLACES[i % PLACES.length] ?? 'cn')
      .zone(`z${i % 3}`)
      .tier(TIERS[i % TIERS.length] ?? 'L1')
      .cpu(16_000)
      .memory(65_536)
      .build(),
  );
}

describe('followSnapshot', () => {
  it('decides exactly like a fresh snapshot after allocations, condition and capacity changes', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ i: fc.nat(39), cpu: fc.nat(16_000), cordon: fc.boolean(), capacity: fc.option(fc.nat(32_000), { nil: undefined }) }), { maxLength: 6 }),
        fc.nat(3),
        (changes, tierIx) => {
          const prev = fleet(40);
          const next = prev.slice();
          for (const ch of changes) {
            const old = next[ch.i];
            if (old === undefined) continue;
            next[ch.i] = {
              ...old,
              allocated: res({ cpu: ch.cpu }),
              condition: ch.cordon ? 'Cordoned' : old.condition,
              capacity: ch.capacity === undefined ? old.capacity : res({ ...old.capacity, cpu: ch.capacity }),
              version: old.version + 1,
            };
          }
          const spec = aSpec().tenant('gd').replicas(4).cpu(2_000).tier(TIERS[tierIx] ?? 'L1').build();
          const req = { spec, headroom: [headroomOf('gd')], seed: 'gd/x' };
          const base = createSnapshot(prev, TEST_TIERS);
          scheduler.place(req, base); // warm the memo the followed snapshot may share
          const followed = scheduler.place(req, followSnapshot(base, prev, next, TEST_TIERS));
          const fresh = scheduler.place(req, createSnapshot(next, TEST_TIERS));
          expect(JSON.stringify(followed)).toBe(JSON.stringify(fresh));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('rebuilds when the set of clouds changed', () => {
    const prev = fleet(10);
    const next = fleet(11);
    const spec = aSpec().tenant('gd').replicas(2).cpu(1_000).tier('L1').build();
    const req = { spec, headroom: [headroomOf('gd')], seed: 's' };
    const followed = followSnapshot(createSnapshot(prev, TEST_TIERS), prev, next, TEST_TIERS);
    expect(followed.size).toBe(11);
    expect(JSON.stringify(scheduler.place(req, followed))).toBe(JSON.stringify(scheduler.place(req, createSnapshot(next, TEST_TIERS))));
  });
});
