import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
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

/** The encoding spelled out plainly: every key list sorted, every string through JSON.stringify. */
function reference(value: unknown): string {
  if (value === undefined || value === null) return 'null';
  if (typeof value === 'string' || typeof value === 'boolean' || typeof value === 'number') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(reference).join(',')}]`;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort().filter((k) => record[k] !== undefined);
  return `{${keys.map((k) => `${JSON.stringify(k)}:${reference(record[k])}`).join(',')}}`;
}

describe('canonicalJson fast paths', () => {
  it('equal the plain encoding for any JSON value, any key order and any string', () => {
    const text = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constantFrom('', '"', '\\', '\u007f', '\ud800', 'a\u0000b', '10', '9', '__proto__'));
    const value = fc.letrec((tie) => ({
      v: fc.oneof(
        { depthSize: 'small' },
        text,
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.integer(),
        fc.boolean(),
        fc.constant(null),
        fc.constant(undefined),
        fc.array(tie('v'), { maxLength: 4 }),
        fc.dictionary(text, tie('v'), { maxKeys: 6 }),
      ),
    })).v;
    fc.assert(fc.property(value, (v) => canonicalJson(v) === reference(v)), { numRuns: 2_000 });
  });
});
