import { describe, expect, it } from 'vitest';
import { add, fits, resources, subtract, unitsThatFit } from './resources.js';

describe('resources', () => {
  it('counts whole units that fit, ignoring resources not needed', () => {
    expect(unitsThatFit(resources({ cpu: 500, memory: 1024 }), resources({ cpu: 2000, memory: 2500, gpu: 0 }))).toBe(2);
    expect(unitsThatFit(resources({ gpu: 1 }), resources({ cpu: 0, gpu: 3 }))).toBe(3);
    expect(unitsThatFit(resources({ cpu: 100 }), resources({ cpu: -50 }))).toBe(0);
  });

  it('fits only when every resource fits', () => {
    expect(fits(resources({ cpu: 1, memory: 2 }), resources({ cpu: 1, memory: 2 }))).toBe(true);
    expect(fits(resources({ cpu: 1, memory: 3 }), resources({ cpu: 1, memory: 2 }))).toBe(false);
  });

  it('adds and subtracts per resource', () => {
    const a = resources({ cpu: 5, memory: 7, gpu: 1, instances: 2 });
    expect(subtract(add(a, a), a)).toEqual(a);
  });
});
