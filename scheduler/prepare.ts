/**
 * Compiling a {@link PlacementRequest} against a snapshot: demand as a column, the held slices
 * credited back, the quota turned into "replicas admitted" per tier, and the static signature.
 */
import { demandPerReplica } from '../domain/deployment.js';
import type { DeploymentSpec } from '../domain/deployment.js';
import { RESOURCE_NAMES } from '../domain/resources.js';
import type { ResourceName } from '../domain/resources.js';
import type { Headroom, Limits } from '../domain/tenant.js';
import type { PlacementRequest, PreparedRequest, QuotaPlan } from './framework.js';
import { hashString } from '../domain/random.js';
import type { Snapshot } from './snapshot.js';
import { R } from './snapshot.js';

const NOTHING_HELD: ReadonlyMap<number, number> = new Map();

/** Compiles `req` against `snap`; O(levels × tiers + current slices), independent of the fleet size. */
export function prepareRequest(req: PlacementRequest, snap: Snapshot): PreparedRequest {
  const spec = req.spec;
  const current = req.current ?? [];
  const demand = demandPerReplica(spec);
  // Small per-request vectors are plain arrays: a typed array per decision costs an ArrayBuffer
  // the garbage collector must track, which showed up as a quarter of the time at 100 clouds.
  const need: number[] = [];
  const needed: number[] = [];
  for (let r = 0; r < R; r++) {
    const v = demand[RESOURCE_NAMES[r] ?? 'cpu'];
    need.push(v);
    if (v > 0) needed.push(r);
  }

  const heldBySlot = current.length === 0 ? NOTHING_HELD : new Map<number, number>();
  const tierCount = snap.tiers.scale.levels.length;
  const heldByRank: number[] = filled(tierCount, 0);
  let heldTotal = 0;
  for (const slice of current) {
    if (slice.replicas <= 0) continue;
    heldTotal += slice.replicas;
    const view = snap.view(slice.cloudId);
    // A slice on a cloud no longer in the snapshot is credited to the totals only: its tier is unknown.
    if (view === undefined) continue;
    (heldBySlot as Map<number, number>).set(view.slot, (heldBySlot.get(view.slot) ?? 0) + slice.replicas);
    if (view.tierRank >= 0) heldByRank[view.tierRank] = (heldByRank[view.tierRank] ?? 0) + slice.replicas;
  }

  // An explicit literal (not `...req`): spreading then adding a dozen fields sends V8 down its
  // slow property-addition path, which cost more than the whole filter loop at 1,000 clouds.
  return {
    spec,
    headroom: req.headroom,
    seed: req.seed,
    current,
    replicas: spec.replicas,
    minRank: minRankOf(snap.tiers.rankOrMinus1(spec.minTier)),
    demand,
    need,
    needed,
    heldBySlot,
    heldByRank,
    heldTotal,
    quota: quotaPlan(req.headroom, snap, demand, needed, heldTotal, heldByRank),
    staticKey: staticKeyOf(spec),
    seedHash: hashString(req.seed),
  };
}

function minRankOf(rank: number): number {
  return rank < 0 ? Number.MAX_SAFE_INTEGER : rank;
}

/** Replicas that `limits` admit for one replica's `demand`, with `held` replicas credited back. */
export function replicasAdmitted(limits: Limits, demand: Readonly<Record<ResourceName, number>>, needed: readonly number[], held: number): number {
  let n = Number.POSITIVE_INFINITY;
  for (const r of needed) {
    const name = RESOURCE_NAMES[r] ?? 'cpu';
    const limit = limits[name];
    if (limit === undefined) continue;
    const per = demand[name];
    n = Math.min(n, Math.floor(Math.max(0, limit + per * held) / per));
  }
  return n;
}

function quotaPlan(
  headroom: readonly Headroom[],
  snap: Snapshot,
  demand: Readonly<Record<ResourceName, number>>,
  needed: readonly number[],
  heldTotal: number,
  heldByRank: readonly number[],
): QuotaPlan {
  let total = Number.POSITIVE_INFINITY;
  const tiers = snap.tiers;
  const byRank: number[] = filled(tiers.scale.levels.length, Number.POSITIVE_INFINITY);
  for (const level of headroom) {
    total = Math.min(total, replicasAdmitted(level.total, demand, needed, heldTotal));
    const byTier = level.byTier;
    // for…in rather than Object.entries: no array per level and tier on every decision.
    for (const tier in byTier) {
      const limits = byTier[tier];
      const rank = limits === undefined ? -1 : tiers.rankOrMinus1(tier);
      if (limits === undefined || rank < 0) continue;
      byRank[rank] = Math.min(byRank[rank] ?? 0, replicasAdmitted(limits, demand, needed, heldByRank[rank] ?? 0));
    }
  }
  // A plain array: a typed array per request costs an ArrayBuffer (see `need` above).
  const admitsOneByRank: number[] = [];
  for (let rank = -1; rank < byRank.length; rank++) admitsOneByRank.push(replicasOnRank(total, byRank, rank) < 1 ? 0 : 1);
  return { total, byRank, admitsOneByRank };
}

/** Replicas a quota plan's `total` and per-rank limits `byRank` admit on a cloud of tier rank `rank` (-1: unknown tier). */
export function replicasOnRank(total: number, byRank: readonly number[], rank: number): number {
  return Math.min(total, byRank[rank] ?? Number.POSITIVE_INFINITY);
}

/** An array of `n` copies of `value` (without a callback per element). */
function filled(n: number, value: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(value);
  return out;
}

/**
 * The key of every spec field a static filter reads, computed on every call: a few fields and
 * (usually empty) lists. A cache keyed by spec object paid nothing measurable (each admission
 * brings a new spec) and kept an entry for every admitted spec for its deployment's life: 82 of
 * the 1,268 bytes the SQLite image held per deployment.
 */
export function staticKeyOf(spec: DeploymentSpec): string {
  const a = spec.requiredAttributes;
  let key = `${spec.workload.kind}\u0000${spec.minTier}\u0000${JSON.stringify(spec.residency)}\u0000${a.arch ?? ''}\u0000${String(a.xinchuang)}\u0000${a.gpuModel ?? ''}`;
  if (spec.tolerations.length > 0) key += `\u0000t${JSON.stringify(spec.tolerations)}`;
  if (spec.labelSelector.length > 0) key += `\u0000l${JSON.stringify(spec.labelSelector)}`;
  return key;
}

/**
 * How many whole replicas fit in one cloud's free capacity, with `held` replicas of this
 * deployment credited back: `free` is the snapshot's free column and `at` the cloud's offset in
 * it. Returns `-1 - r` when resource `r` cannot take even one replica, so the caller can name it.
 * Shared by the fused and the general dynamic-filter passes; small enough for V8 to inline.
 */
export function replicasThatFit(free: Float64Array, at: number, held: number, needed: readonly number[], need: readonly number[]): number {
  let fit = Number.POSITIVE_INFINITY;
  for (let j = 0; j < needed.length; j++) {
    const r = needed[j] ?? 0;
    const nr = need[r] ?? 1;
    const f = (free[at + r] ?? 0) + held * nr;
    if (f < nr) return -1 - r;
    const m = Math.floor(f / nr);
    if (m < fit) fit = m;
  }
  return fit;
}
