/**
 * Snapshot: the immutable view of the fleet one scheduling cycle runs against, with the indexes
 * that keep a decision cheap at 10,000 clouds.
 *
 * Layout. Every cloud lives in a *slot* (a small integer). Per-slot columns are typed arrays:
 * free capacity (the only column that changes on every commit), capacity, cost per unit, tier
 * rank and zone id. Buckets index the slots by tier rank, by every locality prefix (`cn`,
 * `cn/gd`, `cn/gd/sz`) and by condition. A memo table caches per-request-signature work (the
 * static filter verdicts, locality depths) for as long as the static fields of the fleet do not
 * change.
 *
 * Updates share structure: {@link Snapshot.withAllocation} copies only the free-capacity column
 * and the slot table (two flat copies) and shares every index and the memo table;
 * {@link Snapshot.withCloud} and {@link Snapshot.withoutCloud} copy-on-write only the buckets the
 * cloud moves between. A removed cloud leaves a tombstone slot, compacted away once tombstones
 * outnumber live clouds. Each snapshot also records the slot whose free capacity it changed from
 * its parent's ({@link Snapshot.freeVersion}, {@link Snapshot.freeChangedSince}), so that what is
 * derived from free capacity — the scheduler's candidate indexes — catches up instead of being
 * built again.
 */
import type { Cloud, CloudCondition } from '../domain/cloud.js';
import { TianshuError } from '../domain/errors.js';
import { prefixesOf } from '../domain/locality.js';
import type { Resources } from '../domain/resources.js';
import { RESOURCE_NAMES } from '../domain/resources.js';
import type { Tiers } from '../domain/tiers.js';
import { hashString } from '../domain/random.js';
import { tieKeyOf } from './random.js';

/** The number of accounted resources: columns hold `slot * R + resourceIndex`. */
export const R = RESOURCE_NAMES.length;

/** One cloud as the filters and scorers see it: the cloud plus its slot and precomputed keys. */
export interface CloudView {
  /** The cloud's slot in the snapshot's columns. */
  readonly slot: number;
  readonly cloud: Cloud;
  /** The rank of the cloud's tier on the configured scale, or -1 for a tier the scale does not know. */
  readonly tierRank: number;
  /** A stable hash of the cloud id, the key of seeded tie-breaking. */
  readonly idHash: number;
}

/** Static columns and indexes: shared between snapshots until a cloud's static fields change. */
interface Statics {
  readonly tierRank: Int32Array;
  readonly capacity: Float64Array;
  readonly cost: Float64Array;
  readonly zoneId: Int32Array;
  /** The per-cloud half of the seeded tie-break draw. */
  readonly tieKey: Uint32Array;
  /** 1 where the cloud has a PreferNoSchedule taint. */
  readonly preferTaint: Uint8Array;
  readonly zones: readonly string[];
  readonly byTierRank: ReadonlyMap<number, readonly number[]>;
  readonly byPrefix: ReadonlyMap<string, readonly number[]>;
  readonly byCondition: ReadonlyMap<CloudCondition, readonly number[]>;
  /** Memoised per-signature results; valid while the fields the filters read are unchanged. */
  readonly memo: Map<string, unknown>;
}

/** The largest number of memoised signatures kept per snapshot lineage before the oldest is dropped. */
const MEMO_LIMIT = 1024;

/**
 * How a snapshot's free-capacity column came from its parent's: the one slot that changed. The
 * chain back is cut every {@link FREE_STEPS_KEPT} steps, so a snapshot keeps only a few small
 * records of its ancestry (and none of their columns); what is derived from free capacity
 * catches up along it ({@link Snapshot.freeChangedSince}) instead of being rebuilt.
 */
interface FreeStep {
  /** Unique per free-capacity column: the column's {@link Snapshot.freeVersion}. */
  readonly id: number;
  /** The slot whose free capacity differs from the parent's (-1 for a root). */
  readonly slot: number;
  readonly parent: FreeStep | null;
  readonly depth: number;
}

/** How many steps a free-capacity lineage keeps before the chain is cut. */
const FREE_STEPS_KEPT = 65_536;
let freeStepIds = 0;

function rootStep(): FreeStep {
  return { id: ++freeStepIds, slot: -1, parent: null, depth: 0 };
}

function stepFrom(parent: FreeStep, slot: number): FreeStep {
  return parent.depth >= FREE_STEPS_KEPT ? { id: ++freeStepIds, slot, parent: null, depth: 0 } : { id: ++freeStepIds, slot, parent, depth: parent.depth + 1 };
}

/** An immutable view of the fleet with indexes; see the module comment. */
export class Snapshot {
  private liveClouds: readonly Cloud[] | null = null;

  private constructor(
    /** The configured tier scale. */
    readonly tiers: Tiers,
    private readonly views: readonly (CloudView | undefined)[],
    private readonly slotById: ReadonlyMap<string, number>,
    private readonly freeCol: Float64Array,
    private readonly statics: Statics,
    private readonly freeStep: FreeStep = rootStep(),
  ) {}

  /** Builds a snapshot of `clouds` from scratch (O(n)); prefer the `with*` methods for updates. */
  static create(clouds: readonly Cloud[], tiers: Tiers): Snapshot {
    const n = clouds.length;
    const slotById = new Map<string, number>();
    const views: CloudView[] = [];
    const free = new Float64Array(n * R);
    const tierRank = new Int32Array(n);
    const capacity = new Float64Array(n * R);
    const cost = new Float64Array(n * R);
    const zoneId = new Int32Array(n);
    const tieKey = new Uint32Array(n);
    const preferTaint = new Uint8Array(n);
    const zones: string[] = [];
    const zoneIndex = new Map<string, number>();
    const byTierRank = new Map<number, number[]>();
    const byPrefix = new Map<string, number[]>();
    const byCondition = new Map<CloudCondition, number[]>();
    for (const cloud of clouds) {
      if (slotById.has(cloud.id)) throw new TianshuError('VALIDATION', `duplicate cloud id "${cloud.id}"`, { field: 'clouds' });
      const slot = views.length;
      slotById.set(cloud.id, slot);
      const view = makeView(slot, cloud, tiers);
      views.push(view);
      writeNumbers(slot, cloud, free, capacity, cost);
      tierRank[slot] = view.tierRank;
      tieKey[slot] = tieKeyOf(view.idHash);
      preferTaint[slot] = hasPreferTaint(cloud);
      let z = zoneIndex.get(cloud.zone);
      if (z === undefined) {
        z = zones.length;
        zones.push(cloud.zone);
        zoneIndex.set(cloud.zone, z);
      }
      zoneId[slot] = z;
      push(byTierRank, view.tierRank, slot);
      push(byCondition, cloud.condition, slot);
      for (const p of prefixesOf(cloud.locality)) push(byPrefix, p, slot);
    }
    return new Snapshot(tiers, views, slotById, free, {
      tierRank,
      capacity,
      cost,
      zoneId,
      tieKey,
      preferTaint,
      zones,
      byTierRank,
      byPrefix,
      byCondition,
      memo: new Map(),
    });
  }

  // --- reading ----------------------------------------------------------------------------

  /** How many live clouds the snapshot holds. */
  get size(): number {
    return this.slotById.size;
  }

  /** The number of slots, live or tombstoned: the bound of every per-slot loop. */
  get slotCount(): number {
    return this.views.length;
  }

  /** Every live cloud, in slot order. */
  get clouds(): readonly Cloud[] {
    if (this.liveClouds === null) {
      const out: Cloud[] = [];
      for (const v of this.views) if (v !== undefined) out.push(v.cloud);
      this.liveClouds = out;
    }
    return this.liveClouds;
  }

  /** The cloud with `id`, or undefined. */
  cloud(id: string): Cloud | undefined {
    return this.view(id)?.cloud;
  }

  /** The view of the cloud with `id`, or undefined. */
  view(id: string): CloudView | undefined {
    const slot = this.slotById.get(id);
    return slot === undefined ? undefined : this.views[slot];
  }

  /** The view in `slot`, or undefined for a tombstone or out-of-range slot. */
  viewAt(slot: number): CloudView | undefined {
    return this.views[slot];
  }

  /** The slot of the cloud with `id`, or undefined. */
  slotOf(id: string): number | undefined {
    return this.slotById.get(id);
  }

  /** Free capacity (capacity − allocated) per slot, `R` entries per slot in `RESOURCE_NAMES` order. Read-only by contract. */
  get free(): Float64Array {
    return this.freeCol;
  }

  /** Capacity per slot, `R` entries per slot. Read-only by contract. */
  get capacity(): Float64Array {
    return this.statics.capacity;
  }

  /** Cost per unit per slot, `R` entries per slot. Read-only by contract. */
  get cost(): Float64Array {
    return this.statics.cost;
  }

  /** The tier rank per slot (-1 for an unknown tier). Read-only by contract. */
  get tierRanks(): Int32Array {
    return this.statics.tierRank;
  }

  /** The zone id per slot; {@link Snapshot.zoneName} names it. Read-only by contract. */
  get zoneIds(): Int32Array {
    return this.statics.zoneId;
  }

  /** The per-cloud half of the seeded tie-break draw, per slot. Read-only by contract. */
  get tieKeys(): Uint32Array {
    return this.statics.tieKey;
  }

  /** Identifies the free-capacity column: equal versions, equal columns; every allocation makes a new one. */
  get freeVersion(): number {
    return this.freeStep.id;
  }

  /**
   * Appends to `out` the slots whose free capacity changed since the snapshot of free version
   * `version`, and returns true, when this snapshot descends from it by recent allocation changes;
   * returns false (and `out` is to be ignored) when it does not, or not recently enough.
   */
  freeChangedSince(version: number, out: number[]): boolean {
    let step: FreeStep | null = this.freeStep;
    while (step !== null && step.id !== version) {
      out.push(step.slot);
      step = step.parent;
    }
    return step !== null;
  }

  /** 1 where the cloud in the slot has a PreferNoSchedule taint. Read-only by contract. */
  get preferTaints(): Uint8Array {
    return this.statics.preferTaint;
  }

  /** The number of distinct zone ids ever seen by this snapshot lineage (an upper bound for per-zone arrays). */
  get zoneCount(): number {
    return this.statics.zones.length;
  }

  /** The zone name of a zone id. */
  zoneName(zoneId: number): string {
    return this.statics.zones[zoneId] ?? '';
  }

  /** Live slots of clouds certified at tier `rank`, ascending. */
  slotsAtTierRank(rank: number): readonly number[] {
    return this.statics.byTierRank.get(rank) ?? EMPTY;
  }

  /** Live slots of clouds inside the locality subtree `prefix` (whole segments), ascending. */
  slotsWithin(prefix: string): readonly number[] {
    return this.statics.byPrefix.get(prefix) ?? EMPTY;
  }

  /** Live slots of clouds in `condition`, ascending. */
  slotsInCondition(condition: CloudCondition): readonly number[] {
    return this.statics.byCondition.get(condition) ?? EMPTY;
  }

  /**
   * Memoises `compute()` under `key` for as long as the static fields of the fleet (everything but
   * allocation, capacity and cost) are unchanged. Used for the per-request-signature static filter
   * verdicts; `compute` must be a pure function of the snapshot's static fields and the key.
   */
  memo<T>(key: string, compute: () => T): T {
    const memo = this.statics.memo;
    const hit = memo.get(key);
    if (hit !== undefined) return hit as T;
    const value = compute();
    if (memo.size >= MEMO_LIMIT) {
      const oldest = memo.keys().next();
      if (oldest.done !== true) memo.delete(oldest.value);
    }
    memo.set(key, value);
    return value;
  }

  // --- updating -----------------------------------------------------------------------------

  /** A snapshot in which cloud `cloudId` has `allocated`; shares every index and the memo table. */
  withAllocation(cloudId: string, allocated: Resources): Snapshot {
    const slot = this.slotById.get(cloudId);
    const old = slot === undefined ? undefined : this.views[slot];
    if (slot === undefined || old === undefined) throw new TianshuError('NOT_FOUND', `no cloud "${cloudId}" in the snapshot`);
    const views = this.views.slice();
    views[slot] = { ...old, cloud: { ...old.cloud, allocated } };
    const free = this.freeCol.slice();
    const cap = this.statics.capacity;
    for (let r = 0; r < R; r++) free[slot * R + r] = (cap[slot * R + r] ?? 0) - allocated[RESOURCE_NAMES[r] ?? 'cpu'];
    return new Snapshot(this.tiers, views, this.slotById, free, this.statics, stepFrom(this.freeStep, slot));
  }

  /**
   * A snapshot with `cloud` added, or replacing the cloud with the same id. Only the buckets the
   * cloud leaves or joins are copied; the memo table is kept when no field a filter reads changed.
   */
  withCloud(cloud: Cloud): Snapshot {
    const existing = this.slotById.get(cloud.id);
    const old = existing === undefined ? undefined : this.views[existing];
    const slot = existing ?? this.views.length;
    const view = makeView(slot, cloud, this.tiers);
    const views = this.views.slice();
    views[slot] = view;
    const grow = existing === undefined;
    const free = grow ? growCopy(this.freeCol, (slot + 1) * R) : this.freeCol.slice();
    const s = this.statics;
    let { capacity, cost } = s;
    if (old !== undefined && sameCapacityAndCost(old.cloud, cloud)) {
      // An allocation change, the common case: the capacity and cost columns are shared as they are.
      writeFree(slot, cloud, free);
    } else {
      capacity = grow ? growCopy(capacity, (slot + 1) * R) : capacity.slice();
      cost = grow ? growCopy(cost, (slot + 1) * R) : cost.slice();
      writeNumbers(slot, cloud, free, capacity, cost);
    }

    let zones = s.zones;
    let zoneId = s.zoneId;
    let z = zones.indexOf(cloud.zone);
    if (z < 0) {
      z = zones.length;
      zones = [...zones, cloud.zone];
    }
    if (grow || zoneId[slot] !== z) {
      zoneId = grow ? growInt(zoneId, slot + 1) : zoneId.slice();
      zoneId[slot] = z;
    }

    let tieKey = s.tieKey;
    if (grow) {
      tieKey = new Uint32Array(slot + 1);
      tieKey.set(s.tieKey);
      tieKey[slot] = tieKeyOf(view.idHash);
    }
    const filtersSame = old !== undefined && sameFilterFields(old.cloud, cloud);
    let { byTierRank, byPrefix, byCondition, tierRank, memo, preferTaint } = s;
    if (!filtersSame) {
      memo = new Map();
      preferTaint = new Uint8Array(slot + 1 > preferTaint.length ? slot + 1 : preferTaint.length);
      preferTaint.set(s.preferTaint);
      preferTaint[slot] = hasPreferTaint(cloud);
      tierRank = grow ? growInt(tierRank, slot + 1) : tierRank.slice();
      tierRank[slot] = view.tierRank;
      if (old !== undefined) {
        byTierRank = moved(byTierRank, old.tierRank, view.tierRank, slot);
        byCondition = moved(byCondition, old.cloud.condition, cloud.condition, slot);
        byPrefix = movedMany(byPrefix, prefixesOf(old.cloud.locality), prefixesOf(cloud.locality), slot);
      } else {
        byTierRank = moved(byTierRank, undefined, view.tierRank, slot);
        byCondition = moved(byCondition, undefined, cloud.condition, slot);
        byPrefix = movedMany(byPrefix, [], prefixesOf(cloud.locality), slot);
      }
    }
    const slotById = grow ? new Map(this.slotById).set(cloud.id, slot) : this.slotById;
    return new Snapshot(this.tiers, views, slotById, free, {
      tierRank,
      capacity,
      cost,
      zoneId,
      tieKey,
      preferTaint,
      zones,
      byTierRank,
      byPrefix,
      byCondition,
      memo,
    }, stepFrom(this.freeStep, slot));
  }

  /** A snapshot without cloud `id` (unchanged if absent). Leaves a tombstone; compacts when tombstones dominate. */
  withoutCloud(id: string): Snapshot {
    const slot = this.slotById.get(id);
    const old = slot === undefined ? undefined : this.views[slot];
    if (slot === undefined || old === undefined) return this;
    const slotById = new Map(this.slotById);
    slotById.delete(id);
    const tombstones = this.views.length - slotById.size;
    if (tombstones > 64 && tombstones > slotById.size) {
      return Snapshot.create(
        this.views.filter((v): v is CloudView => v !== undefined && v.slot !== slot).map((v) => v.cloud),
        this.tiers,
      );
    }
    const views = this.views.slice();
    views[slot] = undefined;
    const s = this.statics;
    const free = this.freeCol.slice();
    for (let r = 0; r < R; r++) free[slot * R + r] = 0;
    const tierRank = s.tierRank.slice();
    tierRank[slot] = -1;
    return new Snapshot(this.tiers, views, slotById, free, {
      ...s,
      tierRank,
      byTierRank: moved(s.byTierRank, old.tierRank, undefined, slot),
      byCondition: moved(s.byCondition, old.cloud.condition, undefined, slot),
      byPrefix: movedMany(s.byPrefix, prefixesOf(old.cloud.locality), [], slot),
      memo: new Map(),
    });
  }
}

/** Builds a {@link Snapshot} of `clouds` under the tier scale `tiers`. */
export function createSnapshot(clouds: readonly Cloud[], tiers: Tiers): Snapshot {
  return Snapshot.create(clouds, tiers);
}

const EMPTY: readonly number[] = Object.freeze([]);

function makeView(slot: number, cloud: Cloud, tiers: Tiers): CloudView {
  return { slot, cloud, tierRank: tiers.has(cloud.tier) ? tiers.rank(cloud.tier) : -1, idHash: hashString(cloud.id) };
}

function hasPreferTaint(cloud: Cloud): number {
  return cloud.taints.some((t) => t.effect === 'PreferNoSchedule') ? 1 : 0;
}

function writeNumbers(slot: number, cloud: Cloud, free: Float64Array, capacity: Float64Array, cost: Float64Array): void {
  writeFree(slot, cloud, free);
  for (let r = 0; r < R; r++) {
    const name = RESOURCE_NAMES[r] ?? 'cpu';
    capacity[slot * R + r] = cloud.capacity[name];
    cost[slot * R + r] = cloud.costPerUnit[name];
  }
}

function writeFree(slot: number, cloud: Cloud, free: Float64Array): void {
  for (let r = 0; r < R; r++) {
    const name = RESOURCE_NAMES[r] ?? 'cpu';
    free[slot * R + r] = cloud.capacity[name] - cloud.allocated[name];
  }
}

function sameCapacityAndCost(a: Cloud, b: Cloud): boolean {
  for (const name of RESOURCE_NAMES) if (a.capacity[name] !== b.capacity[name] || a.costPerUnit[name] !== b.costPerUnit[name]) return false;
  return true;
}

function push<K>(map: Map<K, number[]>, key: K, slot: number): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [slot]);
  else list.push(slot);
}

function growCopy(a: Float64Array, length: number): Float64Array {
  const out = new Float64Array(length);
  out.set(a);
  return out;
}

function growInt(a: Int32Array, length: number): Int32Array {
  const out = new Int32Array(length);
  out.set(a);
  return out;
}

/** Inserts `slot` into an ascending list, copying it. */
function inserted(list: readonly number[], slot: number): number[] {
  const out = list.slice();
  let i = out.length;
  while (i > 0 && (out[i - 1] ?? 0) > slot) i--;
  out.splice(i, 0, slot);
  return out;
}

/** Copy-on-write move of `slot` from bucket `from` to bucket `to` (either may be undefined). */
function moved<K>(map: ReadonlyMap<K, readonly number[]>, from: K | undefined, to: K | undefined, slot: number): ReadonlyMap<K, readonly number[]> {
  if (from === to) return map;
  const out = new Map(map);
  if (from !== undefined) {
    const rest = (map.get(from) ?? EMPTY).filter((s) => s !== slot);
    if (rest.length === 0) out.delete(from);
    else out.set(from, rest);
  }
  if (to !== undefined) out.set(to, inserted(map.get(to) ?? EMPTY, slot));
  return out;
}

function movedMany(map: ReadonlyMap<string, readonly number[]>, from: readonly string[], to: readonly string[], slot: number): ReadonlyMap<string, readonly number[]> {
  const leaving = from.filter((p) => !to.includes(p));
  const joining = to.filter((p) => !from.includes(p));
  if (leaving.length === 0 && joining.length === 0) return map;
  const out = new Map(map);
  for (const p of leaving) {
    const rest = (map.get(p) ?? EMPTY).filter((s) => s !== slot);
    if (rest.length === 0) out.delete(p);
    else out.set(p, rest);
  }
  for (const p of joining) out.set(p, inserted(map.get(p) ?? EMPTY, slot));
  return out;
}

/** True when every field a filter or static scorer reads is the same in both clouds. */
function sameFilterFields(a: Cloud, b: Cloud): boolean {
  if (a.kind !== b.kind || a.locality !== b.locality || a.tier !== b.tier || a.tierExclusive !== b.tierExclusive || a.condition !== b.condition) return false;
  const x = a.attributes;
  const y = b.attributes;
  if (x.arch !== y.arch || x.xinchuang !== y.xinchuang || x.gpuModel !== y.gpuModel) return false;
  const kx = Object.keys(x.labels);
  if (kx.length !== Object.keys(y.labels).length || kx.some((k) => x.labels[k] !== y.labels[k])) return false;
  if (a.taints.length !== b.taints.length) return false;
  return a.taints.every((t, i) => {
    const u = b.taints[i];
    return u !== undefined && t.key === u.key && t.value === u.value && t.effect === u.effect;
  });
}
