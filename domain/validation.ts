/**
 * Turning zod failures into the service's VALIDATION error, naming the offending field as a path
 * such as `clouds[2].tier` or `spread.minClouds`.
 */
import type { z } from 'zod';
import { TianshuError } from './errors.js';

/** Formats a zod issue path: `['clouds', 2, 'tier']` → `clouds[2].tier`. */
export function formatPath(path: readonly PropertyKey[], root = ''): string {
  let out = root;
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? '(root)' : out;
}

/** Builds a VALIDATION error from a zod error; the first issue names the field, all issues are listed in details. */
export function validationError(error: z.ZodError, root = ''): TianshuError {
  const issues = error.issues.map((i) => ({ field: formatPath(i.path, root), message: i.message }));
  const first = issues[0] ?? { field: root || '(root)', message: 'invalid' };
  const rest = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
  return new TianshuError('VALIDATION', `${first.field}: ${first.message}${rest}`, { field: first.field, issues });
}

/** Parses `input` with `schema`, throwing a VALIDATION {@link TianshuError} naming the field on failure. */
export function parseWith<S extends z.ZodType>(schema: S, input: unknown, root = ''): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw validationError(result.error, root);
  return result.data;
}
