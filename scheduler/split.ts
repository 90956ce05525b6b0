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
  readonly quotaByRank: readonly number[];
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

/**
 * Reusable work arrays of {@link splitReplicas}; one per scheduler, so the hot path allocates
 * nothing proportional to the fleet. The `assigned` array of a result lives here and is valid
 * until the next division with the same scratch.
 */
export class SplitScratch {
  key = new Float64Array(0);
  assigned = new Int32Array(0);
  inDomain = new Int32Array(0);
  capByDomain = new Float64Array(0);
  items = new Int32Array(0);
  inTop = new Uint8Array(0);

  /** Grows the arrays to hold `count` candidates and `domains` domains. */
  ensure(count: number, domains: number): void {
    if (this.key.length < count) {
      const n = Math.max(count, this.key.length * 2, 16);
      this.key = new Float64Array(n);
      this.assigned = new Int32Array(n);
      this.items = new Int32Array(n);
      this.inTop = new Uint8Array(n);
    }
    if (this.inDomain.length < domains) {
      const n = Math.max(domains, this.inDomain.length * 2, 16);
      this.inDomain = new Int32Array(n);
      this.capByDomain = new Float64Array(n);
    }
  }
}

/** Divides `input.replicas` over the candidates; see the module comment. */
export function splitReplicas(input: SplitInput, scratch: SplitScratch = new SplitScratch()): SplitResult {
  const { replicas, count, cap, rank, domain, minClouds, maxPerDomain } = input;
  const zone = input.topology === 'zone';
  const unit = zone ? 'zone' : 'cloud';
  scratch.ensure(count, input.domainCount);
  const assigned = scratch.assigned;
  assigned.fill(0, 0, count);
  const none = (reason: ReasonCode, detail: string): SplitResult => {
    assigned.fill(0, 0, count);
    return { assigned, order: [], failure: { reason, detail } };
  };
  if (replicas <= 0) return { assigned, order: [], failure: null };

  // Pre-checks, loosest first, so the reason names the constraint that actually binds.
  let capSum = 0;
  const capByRank: number[] = Array.from({ length: input.quotaByRank.length }, () => 0);
  for (let i = 0; i < count; i++) {
    const c = cap[i] ?? 0;
    capSum += c;
    const r = rank[i] ?? 0;
    capByRank[r] = (capByRank[r] ?? 0) + c;
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
  let domains = count;
  let spreadRoom = 0;
  if (zone) {
    const capByDomain = scratch.capByDomain;
    capByDomain.fill(0, 0, input.domainCount);
    for (let i = 0; i < count; i++) {
      const d = domain[i] ?? 0;
      capByDomain[d] = (capByDomain[d] ?? 0) + (cap[i] ?? 0);
    }
    domains = 0;
    for (let d = 0; d < input.domainCount; d++) {
      const c = capByDomain[d] ?? 0;
      if (c > 0) {
        domains++;
        spreadRoom += Math.min(c, maxPerDomain);
      }
    }
  } else {
    for (let i = 0; i < count; i++) spreadRoom += Math.min(cap[i] ?? 0, maxPerDomain);
  }
  if (domains < minClouds) return none('SPREAD_UNSATISFIABLE', `needs ${minClouds} distinct ${unit}s, ${domains} available`);
  if (spreadRoom < replicas) {
    return none('SPREAD_UNSATISFIABLE', `needs ${replicas} replicas at most ${maxPerDomain} per ${unit}, the ${domains} available ${unit}s hold ${spreadRoom}`);
  }

  // The fill.
  const { base, held, topologyWeight, stickyWeight, tie } = input;
  const inDomain = scratch.inDomain;
  inDomain.fill(0, 0, input.domainCount);
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

  // Only the best few candidates enter the heap (a top-k pass, cheaper than heapifying the
  // fleet); the rest join the moment the heap's best falls below the best of them, so the pops
  // are exactly those of a heap over every candidate.
  const key = scratch.key;
  let anyHeld = false;
  if (stickyWeight !== 0) for (let i = 0; i < count && !anyHeld; i++) anyHeld = (held[i] ?? 0) > 0;
  if (topologyWeight === 0 && !anyHeld) key.set(base.subarray(0, count));
  else for (let i = 0; i < count; i++) key[i] = value(i);
  const heap = new MaxHeap(scratch.items, key, tie);
  const k = Math.min(count, 8 + minClouds + Math.min(replicas, 64));
  const inTop = scratch.inTop;
  inTop.fill(0, 0, count);
  let restBest = -1;
  if (k === count) {
    for (let i = 0; i < count; i++) heap.pushUnordered(i);
  } else {
    // A min-heap of the k best, kept in the heap's storage while selecting.
    const sel = new MinHeap(scratch.items, key, tie);
    for (let i = 0; i < count; i++) {
      if (sel.size < k) sel.push(i);
      else if (above(key, tie, i, sel.peek())) {
        const out = sel.replaceTop(i);
        if (restBest < 0 || above(key, tie, out, restBest)) restBest = out;
      } else if (restBest < 0 || above(key, tie, i, restBest)) restBest = i;
    }
    heap.size = sel.size;
    for (let j = 0; j < heap.size; j++) inTop[scratch.items[j] ?? 0] = 1;
  }
  heap.heapify();
  const pop = (): number => {
    for (;;) {
      if (restBest >= 0 && (heap.size === 0 || !above(key, tie, heap.peek(), restBest))) {
        for (let i = 0; i < count; i++) {
          if (inTop[i] === 0) {
            key[i] = value(i);
            heap.push(i);
          }
        }
        restBest = -1;
        continue;
      }
      return heap.size === 0 ? -1 : heap.pop();
    }
  };

  if (minClouds > 1) {
    // One replica in each of the best `minClouds` distinct domains first.
    const aside: number[] = [];
    while (usedDomains < minClouds) {
      const i = pop();
      if (i < 0) break;
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

  while (remaining > 0) {
    const i = pop();
    if (i < 0) break;
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

/** The candidate order: by key, then tie-break draw, descending, then index ascending. */
function above(key: Float64Array, tie: Float64Array, a: number, b: number): boolean {
  const ka = key[a] ?? 0;
  const kb = key[b] ?? 0;
  if (ka !== kb) return ka > kb;
  const ta = tie[a] ?? 0;
  const tb = tie[b] ?? 0;
  return ta !== tb ? ta > tb : a < b;
}

/** A binary max-heap of candidate indexes in {@link above} order, over caller-owned storage. */
class MaxHeap {
  size = 0;

  constructor(
    private readonly items: Int32Array,
    private readonly key: Float64Array,
    private readonly tie: Float64Array,
  ) {}

  pushUnordered(i: number): void {
    this.items[this.size++] = i;
  }

  heapify(): void {
    for (let p = (this.size >> 1) - 1; p >= 0; p--) this.down(p);
  }

  peek(): number {
    return this.items[0] ?? 0;
  }

  push(i: number): void {
    let at = this.size++;
    const items = this.items;
    while (at > 0) {
      const parent = (at - 1) >> 1;
      const p = items[parent] ?? 0;
      if (!above(this.key, this.tie, i, p)) break;
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
      if (r < n && above(this.key, this.tie, items[r] ?? 0, items[l] ?? 0)) c = r;
      const child = items[c] ?? 0;
      if (!above(this.key, this.tie, child, x)) break;
      items[at] = child;
      at = c;
    }
    items[at] = x;
  }
}

/** A binary min-heap in {@link above} order (worst on top), for the top-k pass. */
class MinHeap {
  size = 0;

  constructor(
    private readonly items: Int32Array,
    private readonly key: Float64Array,
    private readonly tie: Float64Array,
  ) {}

  peek(): number {
    return this.items[0] ?? 0;
  }

  push(i: number): void {
    let at = this.size++;
    const items = this.items;
    while (at > 0) {
      const parent = (at - 1) >> 1;
      const p = items[parent] ?? 0;
      if (!above(this.key, this.tie, p, i)) break;
      items[at] = p;
      at = parent;
    }
    items[at] = i;
  }

  /** Replaces the worst with `i`; returns the one replaced. */
  replaceTop(i: number): number {
    const items = this.items;
    const out = items[0] ?? 0;
    const n = this.size;
    let at = 0;
    for (;;) {
      const l = 2 * at + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      if (r < n && above(this.key, this.tie, items[l] ?? 0, items[r] ?? 0)) c = r;
      const child = items[c] ?? 0;
      if (!above(this.key, this.tie, i, child)) break;
      items[at] = child;
      at = c;
    }
    items[at] = i;
    return out;
  }
}
