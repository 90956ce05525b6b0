import { describe, expect, it } from 'vitest';
import { aCloud, TEST_TIERS } from '../test/builders.js';
import { createSnapshot } from './snapshot.js';

describe('snapshot', () => {
  const base = createSnapshot(
    [aCloud('a').in('cn/gd/sz').tier('L2').build(), aCloud('b').in('cn/gd/gz').tier('L3').build(), aCloud('c').in('cn/bj').tier('L3').condition('Cordoned').build()],
    TEST_TIERS,
  );

  it('indexes by tier rank, locality prefix (whole segments) and condition', () => {
    expect(base.slotsAtTierRank(2).map((s) => base.viewAt(s)?.cloud.id)).toEqual(['b', 'c']);
    expect(base.slotsWithin('cn/gd').map((s) => base.viewAt(s)?.cloud.id)).toEqual(['a', 'b']);
    expect(base.slotsWithin('cn/g')).toEqual([]);
    expect(base.slotsInCondition('Cordoned').map((s) => base.viewAt(s)?.cloud.id)).toEqual(['c']);
  });

  it('withAllocation shares indexes and leaves the original untouched', () => {
    const next = base.withAllocation('a', { cpu: 1000, memory: 0, gpu: 0, instances: 0 });
    expect(next.cloud('a')?.allocated.cpu).toBe(1000);
    expect(base.cloud('a')?.allocated.cpu).toBe(0);
    expect(next.free[0]).toBe(63_000);
    expect(base.free[0]).toBe(64_000);
    expect(next.slotsWithin('cn/gd')).toBe(base.slotsWithin('cn/gd'));
  });

  it('withCloud moves a cloud between buckets; withoutCloud removes it', () => {
    const moved = base.withCloud(aCloud('a').in('cn/bj').tier('L4').build());
    expect(moved.slotsWithin('cn/gd').map((s) => moved.viewAt(s)?.cloud.id)).toEqual(['b']);
    expect(moved.slotsWithin('cn/bj').map((s) => moved.viewAt(s)?.cloud.id)).toEqual(['a', 'c']);
    expect(moved.slotsAtTierRank(3).map((s) => moved.viewAt(s)?.cloud.id)).toEqual(['a']);
    const added = moved.withCloud(aCloud('d').build());
    expect(added.size).toBe(4);
    const removed = added.withoutCloud('b');
    expect(removed.size).toBe(3);
    expect(removed.cloud('b')).toBeUndefined();
    expect(removed.clouds.map((c) => c.id)).toEqual(['a', 'c', 'd']);
    expect(removed.slotsWithin('cn/gd/gz')).toEqual([]);
    expect(base.size).toBe(3);
  });

  it('withCloud of an allocation change shares the capacity and cost columns and leaves the original untouched', () => {
    const a = base.cloud('a');
    if (a === undefined) throw new Error('cloud a is in the base snapshot');
    const allocated = base.withCloud({ ...a, allocated: { ...a.allocated, cpu: 1_000 }, version: a.version + 1 });
    expect(allocated.free[0]).toBe(63_000);
    expect(base.free[0]).toBe(64_000);
    expect(allocated.capacity).toBe(base.capacity);
    expect(allocated.cost).toBe(base.cost);
    const resized = base.withCloud({ ...a, capacity: { ...a.capacity, cpu: 32_000 } });
    expect(resized.capacity).not.toBe(base.capacity);
    expect(resized.capacity[0]).toBe(32_000);
    expect(resized.free[0]).toBe(32_000);
    expect(base.capacity[0]).toBe(64_000);
    const repriced = base.withCloud({ ...a, costPerUnit: { ...a.costPerUnit, cpu: 1 } });
    expect(repriced.cost[0]).toBe(1);
    expect(base.cost[0]).toBe(a.costPerUnit.cpu);
  });

  it('refuses duplicate ids and unknown clouds', () => {
    expect(() => createSnapshot([aCloud('a').build(), aCloud('a').build()], TEST_TIERS)).toThrow(/duplicate/);
    expect(() => base.withAllocation('zz', { cpu: 0, memory: 0, gpu: 0, instances: 0 })).toThrow(/no cloud/);
  });
});
