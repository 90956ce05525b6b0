import { describe, expect, it } from 'vitest';
import { aCloud, aSpec } from '../../test/builders.js';
import { scoresOf } from '../../test/scheduler-reference.js';
import { taintsScorer } from './taints.js';

describe('PreferNoSchedule scorer', () => {
  const clouds = [
    aCloud('clean').build(),
    aCloud('one').taint('spot', 'true', 'PreferNoSchedule').build(),
    aCloud('two').taint('spot', 'true', 'PreferNoSchedule').taint('old', 'true', 'PreferNoSchedule').build(),
    aCloud('hard').taint('spot', 'true', 'NoSchedule').build(),
  ];
  it.each<[string, number, number]>([
    ['clean', 100, 100],
    ['one', 50, 100],
    ['two', 0, 50],
    ['hard', 100, 100],
  ])('%s → %d untolerated, %d when spot is tolerated', (id, plain, tolerated) => {
    expect(scoresOf(taintsScorer, aSpec().build(), clouds)[id]).toBe(plain);
    expect(scoresOf(taintsScorer, aSpec().tolerate('spot').build(), clouds)[id]).toBe(tolerated);
  });
});
