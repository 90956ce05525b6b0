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
import { above, CandidateHeap } from './candidate-heap.js';
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
  /**
   * When the input is only the top of a larger ranking: the best candidate left out. The fill
   * over every candidate brings the rest in the moment its best is not ranked above that one;
   * this division stops there instead and answers `incomplete`, so whatever it does answer is
   * exactly what the division over every candidate would.
   */
  readonly floor?: Floor;
}

/** The best candidate left out of a {@link SplitInput}: its key, tie-break draw and index in the larger ranking. */
export interface Floor {
  readonly key: number;
  readonly tie: number;
  readonly index: number;
  /** The index in the larger ranking of each input candidate (ascending, as the input is ordered). */
  readonly indexOf: Int32Array;
}

/** Sums over the candidates that the division's pre-checks need. */
class DivisionSums {
  /** Σ cap. */
  capSum = 0;
  /** Σ cap per tier rank, for ranks in [0, quotaByRank.length). */
  capByRank: number[] = [];
  /** Σ min(cap, maxPerDomain); meaningful under `topology: cloud` only. */
  spreadRoom = 0;
  /** Whether any candidate holds replicas of the deployment. */
  anyHeld = false;

  /** Clears the sums for `tiers` tier ranks. */
  reset(tiers: number): void {
    this.capSum = 0;
    this.spreadRoom = 0;
    this.anyHeld = false;
    const byRank = this.capByRank;
    byRank.length = tiers;
    byRank.fill(0);
  }
}

/** The division: replicas per candidate (all zero on failure) and the order candidates were first chosen in. */
export interface SplitResult {
  readonly assigned: Int32Array;
  readonly order: readonly number[];
  readonly failure: { readonly reason: ReasonCode; readonly detail: string } | null;
  /**
   * Only with {@link SplitInput.floor}: the division would have needed the candidates left out
   * (or failed, which they might have prevented); nothing is assigned and the caller must divide
   * over every candidate.
   */
  readonly incomplete?: true;
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
  const out = divide(input, scratch);
  if (input.floor === undefined || out.failure === null) return out;
  scratch.assigned.fill(0, 0, input.count);
  return { assigned: scratch.assigned, order: [], failure: out.failure, incomplete: true };
}

function divide(input: SplitInput, scratch: SplitScratch): SplitResult {
  const { replicas, count, cap, domain, minClouds, maxPerDomain } = input;
  const zone = input.topology === 'zone';
  const unit = zone ? 'zone' : 'cloud';
  scratch.ensure(count, input.domainCount);
  const assigned = scratch.assigned;
  assigned.fill(0, 0, count);
  if (replicas <= 0) return { assigned, order: [], failure: null };

  // Pre-checks, loosest first, so the reason names the constraint that actually binds.
  const sums = sumsOf(input);
  const capSum = sums.capSum;
  const capByRank = sums.capByRank;
  if (capSum < replicas) {
    return none(assigned, count, 'INSUFFICIENT_TOTAL_CAPACITY', `needs ${replicas} replicas, the ${count} available clouds have room for ${capSum}`);
  }
  let quotaRoom = 0;
  for (let r = 0; r < capByRank.length; r++) quotaRoom += Math.min(input.quotaByRank[r] ?? 0, capByRank[r] ?? 0);
  quotaRoom = Math.min(quotaRoom, input.quotaTotal);
  if (quotaRoom < replicas) {
    return none(assigned, count, 'QUOTA_EXCEEDED', `needs ${replicas} replicas, the tenant quota admits ${quotaRoom} on the available clouds`);
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
    spreadRoom = sums.spreadRoom;
  }
  if (domains < minClouds) return none(assigned, count, 'SPREAD_UNSATISFIABLE', `needs ${minClouds} distinct ${unit}s, ${domains} available`);
  if (spreadRoom < replicas) {
    return none(assigned, count, 'SPREAD_UNSATISFIABLE', `needs ${replicas} replicas at most ${maxPerDomain} per ${unit}, the ${domains} available ${unit}s hold ${spreadRoom}`);
  }

  // The fill.
  const fill = new Fill(input, scratch);
  const { key, tie } = fill;
  const { base, held, topologyWeight, stickyWeight } = input;
  if (topologyWeight === 0 && !sums.anyHeld) key.set(base.subarray(0, count));
  else for (let i = 0; i < count; i++) key[i] = fill.value(i);

  // Only the best few candidates enter the heap (a top-k pass, cheaper than heapifying the
  // fleet); the rest join the moment the heap's best falls below the best of them, so the pops
  // are exactly those of a heap over every candidate.
  const heap = fill.heap;
  const k = Math.min(count, selectionSize(replicas, minClouds));
  const inTop = scratch.inTop;
  inTop.fill(0, 0, count);
  if (k === count) {
    for (let i = 0; i < count; i++) heap.pushUnordered(i);
  } else {
    // A min-heap of the k best, kept in the heap's storage while selecting.
    const sel = new CandidateHeap(scratch.items, key, tie, true);
    let restBest = -1;
    for (let i = 0; i < count; i++) {
      if (sel.size < k) sel.push(i);
      else if (above(key, tie, i, sel.peek())) {
        const out = sel.replaceTop(i);
        if (restBest < 0 || above(key, tie, out, restBest)) restBest = out;
      } else if (restBest < 0 || above(key, tie, i, restBest)) restBest = i;
    }
    heap.size = sel.size;
    for (let j = 0; j < heap.size; j++) inTop[scratch.items[j] ?? 0] = 1;
    fill.restBest = restBest;
  }
  heap.heapify();

  if (minClouds > 1) {
    // One replica in each of the best `minClouds` distinct domains first.
    const aside: number[] = [];
    const inDomain = fill.inDomain;
    while (fill.usedDomains < minClouds) {
      const i = fill.pop();
      if (i < 0) break;
      if ((inDomain[domain[i] ?? 0] ?? 0) > 0) {
        aside.push(i);
        continue;
      }
      if (fill.room(i) < 1) continue;
      fill.take(i, 1);
      if (fill.room(i) > 0) aside.push(i);
    }
    if (fill.usedDomains < minClouds) {
      return none(assigned, count, 'SPREAD_UNSATISFIABLE', `needs ${minClouds} distinct ${unit}s, only ${fill.usedDomains} can take a replica within the tenant quota`);
    }
    for (const i of aside) {
      key[i] = fill.value(i);
      heap.push(i);
    }
  }

  while (fill.remaining > 0) {
    const i = fill.pop();
    if (i < 0) break;
    const v = fill.value(i);
    if (v !== key[i]) {
      key[i] = v;
      heap.push(i);
      continue;
    }
    let n = Math.min(fill.room(i), fill.remaining);
    if (n < 1) continue;
    if (topologyWeight !== 0) n = 1;
    const h = held[i] ?? 0;
    const a = assigned[i] ?? 0;
    if (stickyWeight !== 0 && a < h) n = Math.min(n, h - a);
    fill.take(i, n);
    if (fill.room(i) > 0) {
      key[i] = fill.value(i);
      heap.push(i);
    }
  }
  if (fill.remaining > 0) {
    const constrained = minClouds > 1 || Number.isFinite(maxPerDomain);
    return none(
      assigned,
      count,
      constrained ? 'SPREAD_UNSATISFIABLE' : 'QUOTA_EXCEEDED',
      `could divide only ${replicas - fill.remaining} of ${replicas} replicas within the per-tier quota${constrained ? ` and the spread over ${unit}s` : ''}`,
    );
  }
  return { assigned, order: fill.order, failure: null };
}

/** True when candidate `i` of the input ranks above the candidate left out at `floor`. */
function aboveFloor(key: Float64Array, tie: Float64Array, i: number, floor: Floor): boolean {
  const k = key[i] ?? 0;
  if (k !== floor.key) return k > floor.key;
  const t = tie[i] ?? 0;
  if (t !== floor.tie) return t > floor.tie;
  return (floor.indexOf[i] ?? 0) < floor.index;
}

/**
 * How many of the best candidates a division starts its heap with: enough for the first domains
 * under `minClouds` and a replica each, plus a margin; the rest join only if the fill reaches them.
 */
export function selectionSize(replicas: number, minClouds: number): number {
  return 8 + minClouds + Math.min(replicas, 64);
}

/** The failed division: nothing assigned. */
function none(assigned: Int32Array, count: number, reason: ReasonCode, detail: string): SplitResult {
  assigned.fill(0, 0, count);
  return { assigned, order: [], failure: { reason, detail } };
}

/** The pre-check sums computed from the columns, for a caller that did not accumulate them. */
function sumsOf(input: SplitInput): DivisionSums {
  const sums = new DivisionSums();
  sums.reset(input.quotaByRank.length);
  const { cap, rank, held, count, maxPerDomain } = input;
  const capByRank = sums.capByRank;
  for (let i = 0; i < count; i++) {
    const c = cap[i] ?? 0;
    sums.capSum += c;
    const r = rank[i] ?? 0;
    capByRank[r] = (capByRank[r] ?? 0) + c;
    sums.spreadRoom += Math.min(c, maxPerDomain);
    if ((held[i] ?? 0) > 0) sums.anyHeld = true;
  }
  return sums;
}

/**
 * The state of one fill: what each candidate holds, the quota left, and the heap. A class with
 * methods rather than closures, so a division allocates one object instead of a closure per step.
 */
class Fill {
  readonly key: Float64Array;
  readonly tie: Float64Array;
  readonly inDomain: Int32Array;
  readonly heap: CandidateHeap;
  readonly rankLeft: number[];
  readonly order: number[] = [];
  totalLeft: number;
  remaining: number;
  usedDomains = 0;
  /** The best candidate outside the heap's initial top-k, or -1 once they all joined. */
  restBest = -1;

  constructor(
    private readonly input: SplitInput,
    private readonly scratch: SplitScratch,
  ) {
    this.key = scratch.key;
    this.tie = input.tie;
    this.inDomain = scratch.inDomain;
    this.inDomain.fill(0, 0, input.domainCount);
    this.heap = new CandidateHeap(scratch.items, scratch.key, input.tie);
    this.rankLeft = input.quotaByRank.slice();
    this.totalLeft = input.quotaTotal;
    this.remaining = input.replicas;
  }

  /** The candidate's marginal value: its static total plus the topology and stickiness terms now. */
  value(i: number): number {
    const { base, domain, held, topologyWeight, stickyWeight, replicas } = this.input;
    return (
      (base[i] ?? 0) +
      (topologyWeight === 0 ? 0 : topologyWeight * topologyScore(this.inDomain[domain[i] ?? 0] ?? 0, replicas)) +
      (stickyWeight !== 0 && (this.scratch.assigned[i] ?? 0) < (held[i] ?? 0) ? stickyWeight * 100 : 0)
    );
  }

  /** Replicas the candidate can still take. */
  room(i: number): number {
    const { cap, domain, rank, maxPerDomain } = this.input;
    return Math.min((cap[i] ?? 0) - (this.scratch.assigned[i] ?? 0), maxPerDomain - (this.inDomain[domain[i] ?? 0] ?? 0), this.totalLeft, this.rankLeft[rank[i] ?? 0] ?? 0);
  }

  /** Lands `n` replicas on the candidate. */
  take(i: number, n: number): void {
    const assigned = this.scratch.assigned;
    if (assigned[i] === 0) this.order.push(i);
    assigned[i] = (assigned[i] ?? 0) + n;
    const d = this.input.domain[i] ?? 0;
    const inDomain = this.inDomain;
    if (inDomain[d] === 0) this.usedDomains++;
    inDomain[d] = (inDomain[d] ?? 0) + n;
    this.totalLeft -= n;
    const r = this.input.rank[i] ?? 0;
    this.rankLeft[r] = (this.rankLeft[r] ?? 0) - n;
    this.remaining -= n;
  }

  /**
   * The best candidate, letting the rest join first when the best of them beats the heap's top;
   * -1 when none is left or, under a floor, when a candidate left out of the input would be next.
   */
  pop(): number {
    const heap = this.heap;
    const key = this.key;
    const tie = this.tie;
    const floor = this.input.floor;
    for (;;) {
      if (floor !== undefined && this.restBest < 0 && (heap.size === 0 || !aboveFloor(key, tie, heap.peek(), floor))) return -1;
      const restBest = this.restBest;
      if (restBest >= 0 && (heap.size === 0 || !above(key, tie, heap.peek(), restBest))) {
        const inTop = this.scratch.inTop;
        for (let i = 0; i < this.input.count; i++) {
          if (inTop[i] === 0) {
            key[i] = this.value(i);
            heap.push(i);
          }
        }
        this.restBest = -1;
        continue;
      }
      return heap.size === 0 ? -1 : heap.pop();
    }
  }
}
