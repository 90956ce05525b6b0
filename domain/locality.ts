/**
 * Locality: a slash-separated path from large to small, `cn/gd/sz/nanshan`
 * (country/province/city/district). Residency and preference compare whole segments.
 */

/** A validated locality path such as `cn/gd/sz`. */
export type LocalityPath = string;

/** One segment: lower-case letters, digits and dashes, starting with a letter or digit. */
const SEGMENT = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** The deepest path Tianshu models: country, province, city, district, plus one spare level. */
export const MAX_LOCALITY_DEPTH = 5;

/** True when `path` is a well-formed locality path. */
export function isLocalityPath(path: string): boolean {
  if (path.length === 0) return false;
  const segments = path.split('/');
  return segments.length <= MAX_LOCALITY_DEPTH && segments.every((s) => SEGMENT.test(s));
}

/** The segments of a path. */
export function segmentsOf(path: LocalityPath): string[] {
  return path.split('/');
}

/**
 * True when `path` lies inside the subtree rooted at `prefix`, by whole segments:
 * `cn/gd/sz` is within `cn/gd`; `cn/gdx` is not.
 */
export function isWithin(path: LocalityPath, prefix: LocalityPath): boolean {
  return path === prefix || (path.length > prefix.length && path.startsWith(prefix) && path.charCodeAt(prefix.length) === 47 /* '/' */);
}

/** The number of leading segments two paths share: `cn/gd/sz` and `cn/gd/gz` share 2. */
export function sharedDepth(a: LocalityPath, b: LocalityPath): number {
  const sa = a.split('/');
  const sb = b.split('/');
  const n = Math.min(sa.length, sb.length);
  let i = 0;
  while (i < n && sa[i] === sb[i]) i++;
  return i;
}

/** Every ancestor prefix of a path, shortest first, including the path itself: `cn`, `cn/gd`, `cn/gd/sz`. */
export function prefixesOf(path: LocalityPath): string[] {
  const segments = path.split('/');
  const out: string[] = [];
  for (let i = 1; i <= segments.length; i++) out.push(segments.slice(0, i).join('/'));
  return out;
}
