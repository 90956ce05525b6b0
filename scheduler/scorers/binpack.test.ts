import { describe, expect, it } from 'vitest';
import { aCloud, aSpec } from '../../test/builders.js';
import { scoresOf } from '../../test/scheduler-reference.js';
import { binpackScorer } from './binpack.js';
import { spreadScorer } from './spread.js';

const clouds = [
  aCloud('empty').cpu(10_000).memory(10_000).build(),
  aCloud('half').cpu(10_000).memory(10_000).allocated({ cpu: 5000, memory: 5000 }).build(),
  aCloud('full').cpu(10_000).memory(10_000).allocated({ cpu: 9000, memory: 9000 }).build(),
];
const spec = aSpec().cpu(1000).memory(1000).build();

describe('binpack and spread scorers', () => {
  it.each<[string, number, number]>([
    ['empty', 10, 90],
    ['half', 60, 40],
    ['full', 100, 0],
  ])('%s → binpack %d, spread %d', (id, binpack, spread) => {
    expect(scoresOf(binpackScorer, spec, clouds)[id]).toBe(binpack);
    expect(scoresOf(spreadScorer, spec, clouds)[id]).toBe(spread);
  });

  it('credits held replicas back before scoring', () => {
    const scores = scoresOf(binpackScorer, spec, clouds, { current: [{ cloudId: 'half', replicas: 2 }] });
    expect(scores.half).toBe(40);
  });
});
