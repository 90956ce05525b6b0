/**
 * Kubernetes resource quantities (`500m`, `2`, `2Gi`, `1.5G`, `1e3`) to and from Tianshu's units
 * (cpu millicores, memory MiB). Pure; unit-tested without a cluster.
 *
 * @packageDocumentation
 */

const BINARY: Readonly<Record<string, number>> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Readonly<Record<string, number>> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

const QUANTITY = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)|[eE]([+-]?\d+))?$/;

/** Parses a quantity to its value in base units (cores, bytes, counts). Throws on malformed input. */
export function parseQuantity(quantity: string | number): number {
  if (typeof quantity === 'number') return quantity;
  const m = QUANTITY.exec(quantity.trim());
  if (m === null) throw new Error(`malformed Kubernetes quantity "${quantity}"`);
  const value = Number(m[1]);
  if (m[3] !== undefined) return value * 10 ** Number(m[3]);
  const suffix = m[2] ?? '';
  return value * (BINARY[suffix] ?? DECIMAL[suffix] ?? 1);
}

/** How to round a converted amount: capacity rounds down, requests round up (never overstate room). */
export type Rounding = 'floor' | 'ceil';

function round(value: number, how: Rounding): number {
  // Quantities like `0.1` cores are not exact in binary floating point; snap near-integers first.
  const snapped = Math.abs(value - Math.round(value)) < 1e-6 ? Math.round(value) : value;
  return how === 'floor' ? Math.floor(snapped) : Math.ceil(snapped);
}

/** A cpu quantity in millicores: `500m` → 500, `2` → 2000. */
export function cpuMillis(quantity: string | number, how: Rounding = 'ceil'): number {
  return round(parseQuantity(quantity) * 1000, how);
}

/** A memory quantity in MiB: `2Gi` → 2048, `1G` → 953 (floor) / 954 (ceil). */
export function memoryMiB(quantity: string | number, how: Rounding = 'ceil'): number {
  return round(parseQuantity(quantity) / 2 ** 20, how);
}

/** A count quantity (gpus, pods) as a whole number. */
export function count(quantity: string | number, how: Rounding = 'floor'): number {
  return round(parseQuantity(quantity), how);
}

/** Millicores as a quantity: 500 → `500m`, 2000 → `2`. */
export function formatCpu(millis: number): string {
  return millis % 1000 === 0 ? String(millis / 1000) : `${millis}m`;
}

/** MiB as a quantity: 512 → `512Mi`, 2048 → `2Gi`. */
export function formatMemory(mib: number): string {
  return mib % 1024 === 0 && mib > 0 ? `${mib / 1024}Gi` : `${mib}Mi`;
}
