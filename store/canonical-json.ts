/**
 * Canonical JSON: one byte sequence per value (object keys sorted, no whitespace, `undefined`
 * members dropped), so that hashes over audit events and specs do not depend on key order or on
 * which engine stored the value.
 */

/** Encodes `value` canonically; throws TypeError for values JSON cannot represent faithfully. */
export function canonicalJson(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return quote(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`canonical JSON cannot encode ${String(value)}`);
      // JSON writes a finite number exactly as String does (ECMA-262 SerializeJSONProperty).
      return String(value);
    case 'undefined':
      return 'null';
    case 'object':
      break;
    default:
      throw new TypeError(`canonical JSON cannot encode a ${typeof value}`);
  }
  if (value === null) return 'null';
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + canonicalJson(value[i]);
    return `${out}]`;
  }
  const withToJson = value as { toJSON?: () => unknown };
  if (typeof withToJson.toJSON === 'function') return canonicalJson(withToJson.toJSON());
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  // Objects built in code usually list their keys in order already; sorting is the slow part.
  if (!ascending(keys)) keys.sort();
  let out = '{';
  let first = true;
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i] as string;
    const v = record[k];
    if (v === undefined) continue;
    out += `${first ? '' : ','}${quote(k)}:${canonicalJson(v)}`;
    first = false;
  }
  return `${out}}`;
}

/** Printable ASCII except quote and backslash: the characters JSON writes as they are. */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/**
 * A string as JSON text. Printable ASCII without quote or backslash needs no escaping, and is by far the
 * common case (ids, names, codes, times, hashes); anything else goes through JSON.stringify.
 */
function quote(s: string): string {
  return PLAIN.test(s) ? `"${s}"` : JSON.stringify(s);
}

/** True when `keys` are in the order `Array.prototype.sort` would put them (UTF-16 code units). */
function ascending(keys: readonly string[]): boolean {
  for (let i = 1; i < keys.length; i++) if ((keys[i - 1] as string) >= (keys[i] as string)) return false;
  return true;
}
