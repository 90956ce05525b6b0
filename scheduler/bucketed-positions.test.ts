import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BucketedPositions, OCTAVE_QUARTERS, unitBuckets } from './bucketed-positions.js';

/** The positions in each bucket, ascending. */
function bucketsOf(b: BucketedPositions): number[][] {
  return Array.from(b.head, (first) => {
    const out: number[] = [];
    for (let p = first; p >= 0; p = b.next[p] ?? -1) out.push(p);
    return out.sort((x, y) => x - y);
  });
}

describe('BucketedPositions', () => {
  it('holds every position once, in the bucket of its value, through any sequence of changes', () => {
    const unit = unitBuckets(8);
    const valueArb = fc.double({ min: -0.5, max: 1.5, noNaN: true });
    fc.assert(
      fc.property(fc.array(valueArb, { minLength: 1, maxLength: 30 }), fc.array(fc.tuple(fc.nat(), valueArb), { maxLength: 60 }), (initial, changes) => {
        const values = Float64Array.from(initial);
        const b = new BucketedPositions(values, unit);
        for (const [i, v] of changes) {
          b.set(i % values.length, v);
          const listed = bucketsOf(b);
          expect(listed.flat().sort((x, y) => x - y)).toEqual(Array.from(values.keys()));
          listed.forEach((ps, k) => ps.forEach((p) => expect(unit.bucketOf(values[p] ?? 0)).toBe(k)));
        }
      }),
    );
  });

  it('finds the next non-empty bucket of a class either way, as a walk over the buckets would', () => {
    const unit = unitBuckets(100);
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.nat({ max: 2 })), { minLength: 1, maxLength: 40 }), fc.array(fc.tuple(fc.nat(), fc.double({ min: 0, max: 1, noNaN: true })), { maxLength: 20 }), fc.integer({ min: -2, max: 101 }), (initial, changes, from) => {
        const b = new BucketedPositions(Float64Array.from(initial, ([v]) => v), unit, Uint8Array.from(initial, ([, c]) => c), 3);
        for (const [i, v] of changes) b.set(i % initial.length, v);
        for (let c = 0; c < 3; c++) {
          const nonEmpty = (k: number): boolean => (b.head[c * 100 + k] ?? -1) >= 0;
          let down = -1;
          for (let k = Math.min(from, 99); k >= 0; k--) if (nonEmpty(k)) { down = k; break; }
          let up = -1;
          for (let k = Math.max(from, 0); k < 100; k++) if (nonEmpty(k)) { up = k; break; }
          expect(b.nextBucket(c, Math.min(from, 99), true)).toBe(down);
          expect(b.nextBucket(c, Math.max(from, 0), false)).toBe(up);
        }
      }),
    );
  });

  it('bounds each unit bucket by its edges, and orders buckets by value', () => {
    const unit = unitBuckets(256);
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), (v, w) => {
        const b = unit.bucketOf(v);
        expect(unit.lowerEdge(b)).toBeLessThanOrEqual(v);
        expect(unit.upperEdge(b)).toBeGreaterThanOrEqual(v);
        if (v <= w) expect(b).toBeLessThanOrEqual(unit.bucketOf(w));
      }),
    );
    expect(unit.bucketOf(1)).toBe(255);
    expect(unit.bucketOf(0)).toBe(0);
  });

  it('buckets free capacity by quarter octaves, non-decreasing, everything below 1 first', () => {
    expect(OCTAVE_QUARTERS.bucketOf(-5)).toBe(0);
    expect(OCTAVE_QUARTERS.bucketOf(0.5)).toBe(0);
    expect(OCTAVE_QUARTERS.bucketOf(1)).toBe(1);
    expect(OCTAVE_QUARTERS.bucketOf(2)).toBe(5);
    expect(OCTAVE_QUARTERS.bucketOf(1e300)).toBe(255);
    fc.assert(
      fc.property(fc.double({ min: -10, max: 1e12, noNaN: true }), fc.double({ min: -10, max: 1e12, noNaN: true }), (v, w) => {
        if (v <= w) expect(OCTAVE_QUARTERS.bucketOf(v)).toBeLessThanOrEqual(OCTAVE_QUARTERS.bucketOf(w));
      }),
    );
  });
});
