/**
 * Resources: the four quantities Tianshu accounts for on clouds and in quotas.
 * `cpu` is in millicores, `memory` in MiB, `gpu` and `instances` are counts.
 */

/** The names of the accounted resources, in a fixed order used for iteration and display. */
export const RESOURCE_NAMES = ['cpu', 'memory', 'gpu', 'instances'] as const;

/** One accounted resource. */
export type ResourceName = (typeof RESOURCE_NAMES)[number];

/** An amount of every resource; absent resources are zero. */
export type Resources = Readonly<Record<ResourceName, number>>;

/** Units used in messages, so "insufficient memory: 512 MiB free" reads right. */
export const RESOURCE_UNITS: Readonly<Record<ResourceName, string>> = {
  cpu: 'm',
  memory: 'MiB',
  gpu: '',
  instances: '',
};

/** The zero amount. */
export const ZERO: Resources = Object.freeze({ cpu: 0, memory: 0, gpu: 0, instances: 0 });

/** Builds a full {@link Resources} from a partial one; missing names are zero. */
export function resources(partial: Partial<Record<ResourceName, number>> = {}): Resources {
  return {
    cpu: partial.cpu ?? 0,
    memory: partial.memory ?? 0,
    gpu: partial.gpu ?? 0,
    instances: partial.instances ?? 0,
  };
}

/** `a + b`, per resource. */
export function add(a: Resources, b: Resources): Resources {
  return { cpu: a.cpu + b.cpu, memory: a.memory + b.memory, gpu: a.gpu + b.gpu, instances: a.instances + b.instances };
}

/** `a - b`, per resource (may go negative; callers decide what that means). */
export function subtract(a: Resources, b: Resources): Resources {
  return { cpu: a.cpu - b.cpu, memory: a.memory - b.memory, gpu: a.gpu - b.gpu, instances: a.instances - b.instances };
}

/** `a × k`, per resource. */
export function scale(a: Resources, k: number): Resources {
  return { cpu: a.cpu * k, memory: a.memory * k, gpu: a.gpu * k, instances: a.instances * k };
}

/** True when every resource of `need` is at most the same resource of `available`. */
export function fits(need: Resources, available: Resources): boolean {
  return (
    need.cpu <= available.cpu &&
    need.memory <= available.memory &&
    need.gpu <= available.gpu &&
    need.instances <= available.instances
  );
}

/** True when every resource is zero. */
export function isZero(a: Resources): boolean {
  return a.cpu === 0 && a.memory === 0 && a.gpu === 0 && a.instances === 0;
}

/**
 * How many whole units of `perUnit` fit in `available`; resources `perUnit` does not need are
 * ignored. Infinity when `perUnit` is zero everywhere.
 */
export function unitsThatFit(perUnit: Resources, available: Resources): number {
  let n = Number.POSITIVE_INFINITY;
  for (const r of RESOURCE_NAMES) {
    const need = perUnit[r];
    if (need > 0) n = Math.min(n, Math.floor(Math.max(0, available[r]) / need));
  }
  return n;
}

/** Formats an amount of one resource with its unit, e.g. `512 MiB`, `2000m`. */
export function formatAmount(name: ResourceName, amount: number): string {
  const unit = RESOURCE_UNITS[name];
  if (unit === '') return String(amount);
  return unit === 'm' ? `${amount}m` : `${amount} ${unit}`;
}
