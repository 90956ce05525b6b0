import { describe, expect, it } from 'vitest';
import { aCloud, aSpec } from '../../test/builders.js';
import { scoresOf } from '../../test/scheduler-reference.js';
import { costScorer } from './cost.js';

describe('cost scorer', () => {
  const clouds = [
    aCloud('cheap').cost({ cpu: 1, memory: 0 }).build(),
    aCloud('mid').cost({ cpu: 2, memory: 0 }).build(),
    aCloud('dear').cost({ cpu: 3, memory: 0 }).build(),
  ];
  it.each<[string, number]>([
    ['cheap', 100],
    ['mid', 50],
    ['dear', 0],
  ])('%s → %d', (id, score) => {
    expect(scoresOf(costScorer, aSpec().cpu(500).build(), clouds)[id]).toBe(score);
  });

  it('scores every cloud 100 when all cost the same', () => {
    expect(scoresOf(costScorer, aSpec().build(), [aCloud('a').build(), aCloud('b').build()])).toEqual({ a: 100, b: 100 });
  });
});
