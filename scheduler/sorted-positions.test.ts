import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SortedPositions } from './sorted-positions.js';

/** The positions of `values` sorted by value, then position: what the order must always be. */
function sortedOf(values: Float64Array): number[] {
  return Array.from(values.keys()).sort((a, b) => (values[a] ?? 0) - (values[b] ?? 0) || a - b);
}

describe('SortedPositions', () => {
  it('orders positions by value, ties by position, and counts the values below a bound', () => {
    const s = new SortedPositions(Float64Array.from([5, 1, 5, 3, 0]));
    expect(Array.from(s.order)).toEqual([4, 1, 3, 0, 2]);
    expect(s.countBelow(0)).toBe(0);
    expect(s.countBelow(3)).toBe(2);
    expect(s.countBelow(5)).toBe(3);
    expect(s.countBelow(6)).toBe(5);
  });

  it('moves a position to its new rank when its value changes, either way', () => {
    const s = new SortedPositions(Float64Array.from([1, 2, 3, 4]));
    s.set(0, 3.5);
    expect(Array.from(s.order)).toEqual([1, 2, 0, 3]);
    s.set(3, 0);
    expect(Array.from(s.order)).toEqual([3, 1, 2, 0]);
    s.set(2, 3.5);
    expect(Array.from(s.order)).toEqual([3, 1, 0, 2]);
  });

  it('stays the sorted order through any sequence of changes', () => {
    const valueArb = fc.integer({ min: -5, max: 5 }).map((n) => n / 2);
    fc.assert(
      fc.property(fc.array(valueArb, { minLength: 1, maxLength: 40 }), fc.array(fc.tuple(fc.nat(), valueArb), { maxLength: 60 }), fc.integer({ min: -6, max: 6 }), (initial, changes, bound) => {
        const values = Float64Array.from(initial);
        const s = new SortedPositions(values);
        for (const [i, v] of changes) {
          s.set(i % values.length, v);
          expect(Array.from(s.order)).toEqual(sortedOf(values));
        }
        expect(s.countBelow(bound / 2)).toBe(values.filter((v) => v < bound / 2).length);
      }),
    );
  });
});
