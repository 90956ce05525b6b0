import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SortedPositions } from './sorted-positions.js';

describe('SortedPositions', () => {
  it('orders positions by value, ties by position', () => {
    expect(Array.from(new SortedPositions(Float64Array.from([5, 1, 5, 3, -0.5])).order)).toEqual([4, 1, 3, 0, 2]);
  });

  it('is a permutation in ascending order of value for any values', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { maxLength: 50 }), (xs) => {
        const values = Float64Array.from(xs);
        const s = new SortedPositions(values);
        expect(Array.from(s.order).sort((a, b) => a - b)).toEqual(Array.from(values.keys()));
        for (let r = 1; r < s.size; r++) {
          const a = s.order[r - 1] ?? 0;
          const b = s.order[r] ?? 0;
          expect((values[a] ?? 0) < (values[b] ?? 0) || ((values[a] ?? 0) === (values[b] ?? 0) && a < b)).toBe(true);
        }
      }),
    );
  });
});
