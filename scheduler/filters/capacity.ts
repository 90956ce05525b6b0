/**
 * Capacity filter: at least one replica must fit in the cloud's free capacity, per resource, with
 * the replicas the deployment already holds there credited back. The first short resource (in
 * `RESOURCE_NAMES` order) names the reason.
 */
import { formatAmount, RESOURCE_NAMES } from '../../domain/resources.js';
import type { PreparedRequest } from '../framework.js';
import type { ReasonCode } from '../reasons.js';
import type { Snapshot } from '../snapshot.js';
import { R } from '../snapshot.js';
import { defineFilter } from './define.js';

const REASON_OF: readonly ReasonCode[] = ['INSUFFICIENT_CPU', 'INSUFFICIENT_MEMORY', 'INSUFFICIENT_GPU', 'INSUFFICIENT_INSTANCES'];

/** Free amount of resource `r` on `slot` for this request: free capacity plus what the deployment holds there. */
export function freeFor(req: PreparedRequest, snap: Snapshot, slot: number, r: number): number {
  const held = req.heldBySlot.get(slot) ?? 0;
  return (snap.free[slot * R + r] ?? 0) + held * (req.need[r] ?? 0);
}

/** The index of the first resource that cannot hold one replica, or -1. */
function shortResource(req: PreparedRequest, snap: Snapshot, slot: number): number {
  for (const r of req.needed) if (freeFor(req, snap, slot, r) < (req.need[r] ?? 0)) return r;
  return -1;
}

/** The capacity filter. */
export const capacityFilter = defineFilter({
  name: 'capacity',
  stage: 'dynamic',
  reasons: REASON_OF,
  reason: (req, { slot }, snap) => {
    const r = shortResource(req, snap, slot);
    return r < 0 ? null : (REASON_OF[r] ?? null);
  },
  detail: (req, { slot }, snap) => {
    const r = shortResource(req, snap, slot);
    const name = RESOURCE_NAMES[r] ?? 'cpu';
    const free = Math.max(0, freeFor(req, snap, slot, r));
    return `insufficient ${name}: needs ${formatAmount(name, req.need[r] ?? 0)} per replica, ${formatAmount(name, free)} free`;
  },
});
