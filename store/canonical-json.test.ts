import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical-json.js';

describe('canonicalJson', () => {
  it.each([
    [{ b: 1, a: [true, null, 'x'] }, '{"a":[true,null,"x"],"b":1}'],
    [{ z: { y: 2, x: 1 }, skip: undefined }, '{"z":{"x":1,"y":2}}'],
    [[undefined, 1.5], '[null,1.5]'],
    ['é"\n', '"é\\"\\n"'],
    [new Date('2025-01-01T00:00:00Z'), '"2025-01-01T00:00:00.000Z"'],
  ])('%o → %s', (value, expected) => {
    expect(canonicalJson(value)).toBe(expected);
  });

  it('does not depend on key order', () => {
    expect(canonicalJson({ a: 1, b: { c: 2, d: 3 } })).toBe(canonicalJson({ b: { d: 3, c: 2 }, a: 1 }));
  });

  it.each([[Number.NaN], [Number.POSITIVE_INFINITY], [() => 1]])('refuses %s', (v) => {
    expect(() => canonicalJson(v)).toThrow(TypeError);
  });
});
