import { describe, expect, it } from 'vitest';
import { isLocalityPath, isWithin, prefixesOf, sharedDepth } from './locality.js';

describe('locality', () => {
  it.each([
    ['cn/gd/sz/nanshan', 'cn/gd', true],
    ['cn/gd', 'cn/gd', true],
    ['cn/gdx', 'cn/gd', false],
    ['cn/gdx/sz', 'cn/gd', false],
    ['cn', 'cn/gd', false],
    ['us/gd', 'cn/gd', false],
  ])('%s within %s is %s (whole segments)', (path, prefix, expected) => {
    expect(isWithin(path, prefix)).toBe(expected);
  });

  it.each([
    ['cn/gd/sz/nanshan', 'cn/gd/sz/futian', 3],
    ['cn/gd/sz', 'cn/gd/gz', 2],
    ['cn/gd', 'cn/zj', 1],
    ['cn', 'us', 0],
    ['cn/gd/sz', 'cn/gd/sz', 3],
  ])('shared depth of %s and %s is %d', (a, b, depth) => {
    expect(sharedDepth(a, b)).toBe(depth);
  });

  it.each([
    ['cn/gd/sz', true],
    ['', false],
    ['cn//sz', false],
    ['CN/gd', false],
    ['cn/gd/', false],
    ['/cn', false],
    ['a/b/c/d/e/f', false],
  ])('%j is a locality path: %s', (path, ok) => {
    expect(isLocalityPath(path)).toBe(ok);
  });

  it('lists prefixes shortest first', () => {
    expect(prefixesOf('cn/gd/sz')).toEqual(['cn', 'cn/gd', 'cn/gd/sz']);
  });
});
