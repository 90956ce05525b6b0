import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Cloud } from '../domain/cloud.js';
import { aCloud, TEST_TIERS } from '../test/builders.js';
import type { BucketedPositions } from './bucketed-positions.js';
import { ascendingOrder, CandidateIndex } from './candidate-index.js';
import { createSnapshot, R } from './snapshot.js';
import type { Snapshot } from './snapshot.js';

const CPU = 0;
const MEMORY = 1;

function fleet(n: number): Cloud[] {
  return Array.from({ length: n }, (_, i) =>
    aCloud(`c${i}`)
      .capacity({ cpu: 1_000 * (1 + (i % 4)), memory: 2_048 * (1 + (i % 3)) })
      .allocated({ cpu: 100 * i, memory: 50 * i })
      .cost({ cpu: 1 + ((i * 7) % 5) })
      .build(),
  );
}

/** The positions in each bucket, ascending. */
function bucketsOf(b: BucketedPositions): number[][] {
  return Array.from(b.head, (first) => {
    const out: number[] = [];
    for (let p = first; p >= 0; p = b.next[p] ?? -1) out.push(p);
    return out.sort((x, y) => x - y);
  });
}

/** What the index orders the candidates by, for `snap`. */
function ordersOf(index: CandidateIndex, snap: Snapshot): unknown[] {
  return [bucketsOf(index.byFree(snap, CPU)), bucketsOf(index.byFree(snap, MEMORY)), bucketsOf(index.byUtilisation(snap, [CPU, MEMORY], null)), Array.from(index.byCost(CPU).positions)];
}

describe('ascendingOrder', () => {
  it('orders positions by value, ties by position, as one class', () => {
    const order = ascendingOrder(Float64Array.from([5, 1, 5, 3, -0.5]));
    expect(Array.from(order.positions)).toEqual([4, 1, 3, 0, 2]);
    expect(Array.from(order.starts)).toEqual([0, 5]);
  });

  it('is a permutation in ascending order of value for any values', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { maxLength: 50 }), (xs) => {
        const values = Float64Array.from(xs);
        const { positions } = ascendingOrder(values);
        expect(Array.from(positions).sort((a, b) => a - b)).toEqual(Array.from(values.keys()));
        for (let r = 1; r < positions.length; r++) {
          const a = positions[r - 1] ?? 0;
          const b = positions[r] ?? 0;
          expect((values[a] ?? 0) < (values[b] ?? 0) || ((values[a] ?? 0) === (values[b] ?? 0) && a < b)).toBe(true);
        }
      }),
    );
  });
});

describe('CandidateIndex', () => {
  const clouds = fleet(12);
  const base = createSnapshot(clouds, TEST_TIERS);
  const slots = Int32Array.from([0, 2, 3, 5, 7, 8, 11]);

  it('orders the candidates by free capacity, utilisation and price, and counts them per tier rank', () => {
    const index = new CandidateIndex(base, slots);
    const free = index.byFree(base, CPU);
    const freeCpu = (p: number): number => base.free[(slots[p] ?? 0) * R + CPU] ?? 0;
    // Every candidate once, in the bucket of its free CPU; buckets ascend.
    const listed = bucketsOf(free);
    expect(listed.flat().sort((a, b) => a - b)).toEqual(Array.from(slots.keys()));
    listed.forEach((ps, b) => ps.forEach((p) => expect(free.bucketing.bucketOf(freeCpu(p))).toBe(b)));
    const cost = index.byCost(CPU);
    for (let r = 1; r < cost.positions.length; r++) expect(cost.values[cost.positions[r - 1] ?? 0]).toBeLessThanOrEqual(cost.values[cost.positions[r] ?? 0] ?? 0);
    expect(index.positionOf(5)).toBe(3);
    expect(index.positionOf(4)).toBe(-1);
    expect(index.minCapacity[CPU]).toBe(1_000);
    expect(Array.from(index.perRank).reduce((a, b) => a + b, 0)).toBe(slots.length);
  });

  it('follows allocations along the lineage to the orders a fresh index has', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat({ max: 11 }), fc.integer({ min: 0, max: 4_000 }), fc.boolean()), { maxLength: 30 }), (allocations) => {
        const index = new CandidateIndex(base, slots);
        ordersOf(index, base);
        let snap = base;
        for (const [i, cpu, viaCloud] of allocations) {
          const cloud = snap.cloud(`c${i}`) as Cloud;
          const allocated = { ...cloud.allocated, cpu: Math.min(cpu, cloud.capacity.cpu) };
          snap = viaCloud ? snap.withCloud({ ...cloud, allocated }) : snap.withAllocation(cloud.id, allocated);
          expect(index.follow(snap)).toBe(true);
          expect(ordersOf(index, snap)).toEqual(ordersOf(new CandidateIndex(snap, slots), snap));
        }
        // Asked about an older snapshot, it goes back to that one's orders.
        expect(index.follow(base)).toBe(true);
        expect(ordersOf(index, base)).toEqual(ordersOf(new CandidateIndex(base, slots), base));
      }),
    );
  });

  it('declines to follow a snapshot whose capacity or prices changed', () => {
    const index = new CandidateIndex(base, slots);
    const c0 = clouds[0] as Cloud;
    expect(index.follow(base.withCloud({ ...c0, capacity: { ...c0.capacity, cpu: 9_000 } }))).toBe(false);
    expect(index.follow(base.withCloud({ ...c0, costPerUnit: { ...c0.costPerUnit, cpu: 7 } }))).toBe(false);
    expect(index.follow(base.withAllocation('c0', { cpu: 1, memory: 1, gpu: 0, instances: 0 }))).toBe(true);
  });
});
