import { describe, expect, it } from 'vitest';
import { TianshuError } from './errors.js';
import { FEDRAMP, MLPS, Tiers } from './tiers.js';

describe('Tiers', () => {
  const mlps = new Tiers(MLPS);

  it.each([
    ['L3', 'L2', false, true],
    ['L3', 'L3', false, true],
    ['L2', 'L3', false, false],
    ['L4', 'L3', true, false],
    ['L4', 'L4', true, true],
  ])('a %s cloud (exclusive=%s) hosting a workload needing %s', (cloud, min, exclusive, expected) => {
    expect(mlps.hosts(cloud, min, exclusive)).toBe(expected);
  });

  it('orders the FedRAMP preset Low < Moderate < High', () => {
    const fed = new Tiers(FEDRAMP);
    expect(fed.rank('Low')).toBeLessThan(fed.rank('Moderate'));
    expect(fed.rank('Moderate')).toBeLessThan(fed.rank('High'));
  });

  it('refuses an unknown tier with a VALIDATION error naming the known levels', () => {
    expect(() => mlps.rank('L9')).toThrow(TianshuError);
    expect(() => mlps.rank('L9')).toThrow(/known: L1, L2, L3, L4/);
  });

  it('refuses a scale with duplicate levels', () => {
    expect(() => new Tiers({ name: 'x', levels: ['a', 'a'] })).toThrow(/distinct/);
  });
});
