import { describe, expect, it } from 'vitest';
import { aCloud, aSpec } from '../../test/builders.js';
import { scoresOf } from '../../test/scheduler-reference.js';
import { localityScorer } from './locality.js';

describe('locality scorer', () => {
  const clouds = [
    aCloud('district').in('cn/gd/sz/nanshan').build(),
    aCloud('city').in('cn/gd/sz/futian').build(),
    aCloud('province').in('cn/gd/gz').build(),
    aCloud('country').in('cn/bj').build(),
    aCloud('lookalike').in('cn/gdx/sz').build(),
    aCloud('abroad').in('hk/central').build(),
  ];
  it.each<[string, number]>([
    ['district', 100],
    ['city', 75],
    ['province', 50],
    ['country', 25],
    ['lookalike', 25],
    ['abroad', 0],
  ])('preference cn/gd/sz/nanshan: %s → %d', (id, score) => {
    expect(scoresOf(localityScorer, aSpec().prefer('cn/gd/sz/nanshan').build(), clouds)[id]).toBe(score);
  });

  it('scores 0 everywhere without a preference', () => {
    expect(Object.values(scoresOf(localityScorer, aSpec().build(), clouds))).toEqual([0, 0, 0, 0, 0, 0]);
  });
});
