import { describe, expect, it } from 'vitest';
import { aCloud, aSpec } from '../../test/builders.js';
import { scoresOf } from '../../test/scheduler-reference.js';
import { topologyScore, topologyScorer } from './topology.js';

describe('topology scorer', () => {
  it.each<[number, number, number]>([
    [0, 4, 100],
    [1, 4, 75],
    [2, 4, 50],
    [4, 4, 0],
    [5, 4, 0],
    [0, 0, 100],
  ])('%d of %d replicas in the domain → %d', (inDomain, replicas, score) => {
    expect(topologyScore(inDomain, replicas)).toBe(score);
  });

  it('ranks every candidate 100 before division', () => {
    expect(scoresOf(topologyScorer, aSpec().replicas(3).build(), [aCloud('a').build(), aCloud('b').build()])).toEqual({ a: 100, b: 100 });
  });
});
