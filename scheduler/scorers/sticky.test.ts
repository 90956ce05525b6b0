import { describe, expect, it } from 'vitest';
import { aCloud, aSpec } from '../../test/builders.js';
import { scoresOf } from '../../test/scheduler-reference.js';
import { stickyScorer } from './sticky.js';

describe('stickiness scorer', () => {
  it.each<[string, number]>([
    ['held', 100],
    ['other', 0],
  ])('%s → %d', (id, score) => {
    const clouds = [aCloud('held').build(), aCloud('other').build()];
    expect(scoresOf(stickyScorer, aSpec().build(), clouds, { current: [{ cloudId: 'held', replicas: 2 }] })[id]).toBe(score);
  });
});
