/**
 * Replica division: water-filling the requested replicas over the feasible clouds, best first,
 * within each cloud's free capacity, the tenant quota (the total and the per-tier limits, a budget
 * SHARED by every cloud of a tier) and the spread constraints. All or nothing: when the replicas
 * cannot all be placed, nothing is, and `failure` says why with the numbers.
 *
 * The fill is greedy on a max-heap keyed by each cloud's marginal value: its static total, plus
 * the topology term re-evaluated as replicas land in its domain (this is what spreads), plus the
 * stickiness term for as many replicas as the deployment already holds there. Values only fall as
 * replicas land, so stale heap entries are re-keyed lazily when popped. Under `minClouds` the
 * first pass places one replica in each of the best distinct domains (clouds, or zones under
 * `topology: zone`) before the fill. Capacity, per-tier quota and total quota nest (cloud ⊂ tier ⊂
 * total), so without spread constraints the greedy fill places everything the pre-checks admit.
 */
import type { ReasonCode } from './reasons.js';
import { topologyScore } from './scorers/topology.js';

/** The columns the division works on, one entry per feasible candidate. */
export interface SplitInput {
  readonly replicas: number;
  readonly count: number;
  /** The weighted total without the topology and stickiness terms. */
  readonly base: Float64Array;
  /** The seeded tie-break draw per candidate. */
  readonly tie: Float64Array;
  /** Replicas the candidate's free capacity admits. */
  readonly cap: Float64Array;
  /** The candidate's tier rank (keys the per-tier quota). */
  readonly rank: Int32Array;
  /** The candidate's topology domain id, in [0, domainCount). */
  readonly domain: Int32Array;
  readonly domainCount: number;
  /** Replicas the deployment already holds on the candidate. */
  readonly held: Float64Array;
  /** Replicas the quota totals admit. */
  readonly quotaTotal: number;
  /** Replicas the per-tier quota admits, per tier rank. */
  readonly quotaByRank: Float64Array;
  readonly minClouds: number;
  /** At most this many replicas per domain (Infinity for no limit). */
  readonly maxPerDomain: number;
  readonly topology: 'cloud' | 'zone';
  readonly topologyWeight: number;
  readonly stickyWeight: number;
}

/** The division: replicas per candidate (all zero on failure) and the order candidates were first chosen in. */
export interface SplitResult {
  readonly assigned: Int32Array;
  readonly order: readonly number[];
  readonly failure: { readonly reason: ReasonCode; readonly detail: string } | null;
}

/** Divides `input.replicas` over the candidates; see the module comment. */
export function splitReplicas(input: SplitInput): SplitResult {
  const { replicas, count, cap, rank, domain, minClouds, maxPerDomain } = input;
  const unit = input.topology === 'zone' ? 'zone' : 'cloud';
  const none = (reason: ReasonCode, detail: string): SplitResult => ({ assigned: new Int32Array(count), order: [], failure: { reason, detail } });
  if (replicas <= 0) return { assigned: new Int32Array(count), order: [], failure: null };

  // Pre-checks, loosest first, so the reason names the constraint that actually binds.
  let capSum = 0;
  const capByRank = new Float64Array(input.quotaByRank.length);
  const capByDomain = new Float64Array(input.domainCount);
  for (let i = 0; i < count; i++) {
    const c = cap[i] ?? 0;
    capSum += c;
    const r = rank[i] ?? 0;
    capByRank[r] = (capByRank[r] ?? 0) + c;
    const d = domain[i] ?? 0;
    capByDomain[d] = (capByDomain[d] ?? 0) + c;
  }
  if (capSum < replicas) {
    return none('INSUFFICIENT_TOTAL_CAPACITY', `needs ${replicas} replicas, the ${count} available clouds have room for ${capSum}`);
  }
  let quotaRoom = 0;
  for (let r = 0; r < capByRank.length; r++) quotaRoom += Math.min(input.quotaByRank[r] ?? 0, capByRank[r] ?? 0);
  quotaRoom = Math.min(quotaRoom, input.quotaTotal);
  if (quotaRoom < replicas) {
    return none('QUOTA_EXCEEDED', `needs ${replicas} replicas, the tenant quota admits ${quotaRoom} on the available clouds`);
  }
  let domains = 0;
  let spreadRoom = 0;
  for (let d = 0; d < capByDomain.length; d++) {
    const c = capByDomain[d] ?? 0;
    if (c > 0) {
      domains++;
      spreadRoom += Math.min(c, maxPerDomain);
    }
  }
  if (domains < minClouds) return none('SPREAD_UNSATISFIABLE', `needs ${minClouds} distinct ${unit}s, ${domains} available`);
  if (spreadRoom < replicas) {
    return none('SPREAD_UNSATISFIABLE', `needs ${replicas} replicas at most ${maxPerDomain} per ${unit}, the ${domains} available ${unit}s hold ${spreadRoom}`);
  }

  // The fill.
  const { base, held, topologyWeight, stickyWeight } = input;
  const assigned = new Int32Array(count);
  const inDomain = new Int32Array(input.domainCount);
  const rankLeft = input.quotaByRank.slice();
  let totalLeft = input.quotaTotal;
  let remaining = replicas;
  let usedDomains = 0;
  const order: number[] = [];
  const value = (i: number): number =>
    (base[i] ?? 0) +
    (topologyWeight === 0 ? 0 : topologyWeight * topologyScore(inDomain[domain[i] ?? 0] ?? 0, replicas)) +
    (stickyWeight !== 0 && (assigned[i] ?? 0) < (held[i] ?? 0) ? stickyWeight * 100 : 0);
  const room = (i: number): number =>
    Math.min((cap[i] ?? 0) - (assigned[i] ?? 0), maxPerDomain - (inDomain[domain[i] ?? 0] ?? 0), totalLeft, rankLeft[rank[i] ?? 0] ?? 0);
  const take = (i: number, n: number): void => {
    if (assigned[i] === 0) order.push(i);
    assigned[i] = (assigned[i] ?? 0) + n;
    const d = domain[i] ?? 0;
    if (inDomain[d] === 0) usedDomains++;
    inDomain[d] = (inDomain[d] ?? 0) + n;
    totalLeft -= n;
    const r = rank[i] ?? 0;
    rankLeft[r] = (rankLeft[r] ?? 0) - n;
    remaining -= n;
  };

  const key = new Float64Array(count);
  for (let i = 0; i < count; i++) key[i] = value(i);
  const heap = new MaxHeap(count, key, input.tie);
  for (let i = 0; i < count; i++) heap.pushUnordered(i);
  heap.heapify();

  if (minClouds > 1) {
    // One replica in each of the best `minClouds` distinct domains first.
    const aside: number[] = [];
    while (usedDomains < minClouds && heap.size > 0) {
      const i = heap.pop();
      if ((inDomain[domain[i] ?? 0] ?? 0) > 0) {
        aside.push(i);
        continue;
      }
      if (room(i) < 1) continue;
      take(i, 1);
      if (room(i) > 0) aside.push(i);
    }
    if (usedDomains < minClouds) {
      return none('SPREAD_UNSATISFIABLE', `needs ${minClouds} distinct ${unit}s, only ${usedDomains} can take a replica within the tenant quota`);
    }
    for (const i of aside) {
      key[i] = value(i);
      heap.push(i);
    }
  }

  while (remaining > 0 && heap.size > 0) {
    const i = heap.pop();
    const v = value(i);
    if (v !== key[i]) {
      key[i] = v;
      heap.push(i);
      continue;
    }
    let n = Math.min(room(i), remaining);
    if (n < 1) continue;
    if (topologyWeight !== 0) n = 1;
    const h = held[i] ?? 0;
    const a = assigned[i] ?? 0;
    if (stickyWeight !== 0 && a < h) n = Math.min(n, h - a);
    take(i, n);
    if (room(i) > 0) {
      key[i] = value(i);
      heap.push(i);
    }
  }
  if (remaining > 0) {
    const constrained = minClouds > 1 || Number.isFinite(maxPerDomain);
    return none(
      constrained ? 'SPREAD_UNSATISFIABLE' : 'QUOTA_EXCEEDED',
      `could divide only ${replicas - remaining} of ${replicas} replicas within the per-tier quota${constrained ? ` and the spread over ${unit}s` : ''}`,
    );
  }
  return { assigned, order, failure: null };
}

/** A binary max-heap of candidate indexes ordered by (key, tie) descending, then index ascending. */
class MaxHeap {
  private readonly items: Int32Array;
  size = 0;

  constructor(
    capacity: number,
    private readonly key: Float64Array,
    private readonly tie: Float64Array,
  ) {
    this.items = new Int32Array(Math.max(1, capacity));
  }

  private above(a: number, b: number): boolean {
    const ka = this.key[a] ?? 0;
    const kb = this.key[b] ?? 0;
    if (ka !== kb) return ka > kb;
    const ta = this.tie[a] ?? 0;
    const tb = this.tie[b] ?? 0;
    return ta !== tb ? ta > tb : a < b;
  }

  pushUnordered(i: number): void {
    this.items[this.size++] = i;
  }

  heapify(): void {
    for (let p = (this.size >> 1) - 1; p >= 0; p--) this.down(p);
  }

  push(i: number): void {
    let at = this.size++;
    const items = this.items;
    items[at] = i;
    while (at > 0) {
      const parent = (at - 1) >> 1;
      const p = items[parent] ?? 0;
      if (!this.above(i, p)) break;
      items[at] = p;
      at = parent;
    }
    items[at] = i;
  }

  pop(): number {
    const items = this.items;
    const top = items[0] ?? 0;
    this.size--;
    if (this.size > 0) {
      items[0] = items[this.size] ?? 0;
      this.down(0);
    }
    return top;
  }

  private down(from: number): void {
    const items = this.items;
    const n = this.size;
    const x = items[from] ?? 0;
    let at = from;
    for (;;) {
      const l = 2 * at + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      if (r < n && this.above(items[r] ?? 0, items[l] ?? 0)) c = r;
      const child = items[c] ?? 0;
      if (!this.above(child, x)) break;
      items[at] = child;
      at = c;
    }
    items[at] = x;
  }
}
