/**
 * The placement engine: `place(request, snapshot) → Decision`. Pure and synchronous; no clock, no
 * I/O, randomness only from the request's seed.
 *
 * The pipeline (built top to bottom in {@link createScheduler}'s `decide`, in the style of
 * Nomad's `stack.go`): compile the request → static filters (cached per request signature) →
 * dynamic filters (capacity, quota) over the survivors → scorers → replica division → the
 * decision with its counted explanation. Rejection details and the full ranking are materialised
 * lazily on first read, so a decision over 10,000 clouds does not build 10,000 strings nobody reads.
 */
import type { Cloud } from '../domain/cloud.js';
import type { DeploymentSpec, PlacementSlice } from '../domain/deployment.js';
import { scale, ZERO } from '../domain/resources.js';
import type { Headroom } from '../domain/tenant.js';
import type { Tiers } from '../domain/tiers.js';
import { foldScores, STORED_EXPLANATION_BOUNDS } from './decision.js';
import type { Decision, ExplanationBounds, RankedCloud, Rejection, ScoreTerm, StoredDecision, StoredRanking } from './decision.js';
import { capacityFilter } from './filters/capacity.js';
import { describeQuota, quotaReplicas } from './filters/quota.js';
import type { Candidates, Filter, PlacementRequest, PreparedRequest, Scorer } from './framework.js';
import { bestOfAlike } from './alike.js';
import { CandidateIndex } from './candidate-index.js';
import { completeCandidates, depthOf, depthsFor, fusedKeys, recordRejection, selectTop, TopCandidates } from './fused-score.js';
import type { FusedKeysOut, FusedReasonIds, PassingSlots } from './fused-score.js';
import { prepareRequest, replicasThatFit } from './prepare.js';
import { tieBreak } from './random.js';
import { REASON_CODES, REASON_ID, REASONS } from './reasons.js';
import type { ReasonCode } from './reasons.js';
import { FILTERS, SCORERS } from './registry.js';
import { quotaFilter } from './filters/quota.js';
import { createSnapshot, R } from './snapshot.js';
import type { Snapshot } from './snapshot.js';
import { selectBySortedAccess, sortedAccessApplies, SortedAccessScratch } from './sorted-access.js';
import { selectionSize, SplitScratch, splitReplicas } from './split.js';
import type { Floor, SplitInput, SplitResult } from './split.js';
import { DEFAULT_WEIGHTS } from './weights.js';
import type { StrategyWeights, Weights } from './weights.js';

/** Options of {@link createScheduler}. */
export interface SchedulerOptions {
  /** The configured tier scale. */
  readonly tiers: Tiers;
  /** Weight overrides per strategy; missing scorers keep their default weight. */
  readonly weights?: Partial<Record<keyof StrategyWeights, Partial<Weights>>>;
  /** The filter registry; defaults to {@link FILTERS}. Static filters must come first. */
  readonly filters?: readonly Filter[];
  /** The scorers; defaults to {@link SCORERS}. */
  readonly scorers?: readonly Scorer[];
  /**
   * From how many statically passing candidates a decision ranks them by sorted access through
   * the signature's candidate index (`sorted-access.ts`) rather than scoring every one; default 64.
   */
  readonly sortedAccessFrom?: number;
}

/** The placement engine. */
export interface Scheduler {
  readonly tiers: Tiers;
  /** The weights in force, per strategy. */
  readonly weights: StrategyWeights;
  /** Decides a placement for `req` on `snap`. Pure: nothing is committed. */
  place(req: PlacementRequest, snap: Snapshot): Decision;
  /** "Where would this go, and why": the same computation as {@link Scheduler.place}. */
  preview(req: PlacementRequest, snap: Snapshot): Decision;
}

/** The static verdicts of one request signature over one snapshot lineage: the passing slots (ascending) and the rest. */
interface StaticVerdicts extends PassingSlots {
  /** The reason id per slot (0 for passing and tombstoned slots). */
  readonly reasonBySlot: Uint8Array;
  /** Rejections counted per reason id. */
  readonly counts: Uint32Array;
  /** `counts` as a decision's `reasonCounts` (frozen): every decision the dynamic filters reject nothing in shares it. */
  readonly reasonCounts: Readonly<Partial<Record<ReasonCode, number>>>;
}

/** Per-decision columns; reused across decisions by one scheduler for the hot path. */
interface Columns {
  slots: Int32Array;
  cap: Float64Array;
  base: Float64Array;
  key: Float64Array;
  tie: Float64Array;
  rank: Int32Array;
  domain: Int32Array;
  held: Float64Array;
  terms: Float64Array[];
  /** Σ weight × term over every scorer, division terms included: the unrounded ranked total (explanation evaluations only). */
  total: Float64Array;
  work: Float64Array;
  dynSlots: Int32Array;
  dynReason: Uint8Array;
  counts: Uint32Array;
}

/** What an evaluation's rejections are read from: the static verdicts and the dynamic rejections. */
interface RejectionSource {
  readonly statics: StaticVerdicts;
  readonly dynRejected: number;
  readonly counts: Uint32Array;
  readonly cols: Pick<Columns, 'dynSlots' | 'dynReason'>;
}

/** What the filtering and scoring stages produced. */
interface Evaluation {
  readonly statics: StaticVerdicts;
  readonly feasible: number;
  readonly dynRejected: number;
  readonly counts: Uint32Array;
  readonly cols: Columns;
}

const CAPACITY_REASON_ID = [REASON_ID.INSUFFICIENT_CPU, REASON_ID.INSUFFICIENT_MEMORY, REASON_ID.INSUFFICIENT_GPU, REASON_ID.INSUFFICIENT_INSTANCES];
const QUOTA_ID = REASON_ID.QUOTA_EXCEEDED;
let schedulerIds = 0;

/** Creates the placement engine. */
export function createScheduler(options: SchedulerOptions): Scheduler {
  const tiers = options.tiers;
  const filters = options.filters ?? FILTERS;
  const scorers = options.scorers ?? SCORERS;
  const weights = mergeWeights(options.weights);
  const firstDynamic = filters.findIndex((f) => f.stage === 'dynamic');
  const staticFilters = firstDynamic < 0 ? filters : filters.slice(0, firstDynamic);
  const dynamicFilters = firstDynamic < 0 ? [] : filters.slice(firstDynamic);
  if (dynamicFilters.some((f) => f.stage === 'static')) throw new Error('scheduler: static filters must precede dynamic ones in the registry');
  // The common registry's dynamic stage (capacity, then quota) runs as one typed-array loop.
  const fastDynamic = dynamicFilters.length === 2 && dynamicFilters[0] === capacityFilter && dynamicFilters[1] === quotaFilter;
  const filterOfReason = new Map<ReasonCode, Filter>();
  for (const f of filters) for (const code of f.reasons) if (!filterOfReason.has(code)) filterOfReason.set(code, f);
  const memoPrefix = `static#${++schedulerIds}`;
  const depthPrefix = `${memoPrefix}:locality`;
  const indexPrefix = `${memoPrefix}:index`;
  const sortedAccessFrom = options.sortedAccessFrom ?? 64;
  const sortedScratch = new SortedAccessScratch();
  const fusedIds: FusedReasonIds = { capacity: CAPACITY_REASON_ID, quota: QUOTA_ID };
  const fusedOut: FusedKeysOut = { dynamic: 0, keyMin: 0, keyMax: 0 };
  const scratch = newColumns(0, scorers.length);
  const splitScratch = new SplitScratch();
  const top = new TopCandidates();
  // The default registry runs fused, with the division over the best few (see fused-score.ts).
  const fused = fastDynamic && scorers === SCORERS;
  const scorerNames = scorers.map((sc) => sc.name);
  // The scorers the division adds itself (left out of an evaluation's `base`).
  const divisionTermIndexes = scorerNames.flatMap((name, k) => (addedByDivision(name) ? [k] : []));
  const weightVectors = byStrategy((strategy) => scorers.map((sc) => weights[strategy][sc.name]));
  // The scorers of non-zero weight per strategy, in scorer order: what a ranked total sums.
  const weightedTerms = byStrategy((strategy) => weightVectors[strategy].flatMap((w, k) => (w === 0 ? [] : [k])));
  // How far a ranked total — rounded terms, summed, rounded — can lie from the unrounded one:
  // half a hundredth per weight, plus half a hundredth for the final rounding.
  const rankingSlack = byStrategy((strategy) => weightVectors[strategy].reduce((sum, w) => sum + 0.005 * Math.abs(w), 0.005));

  /** The slots of the clouds named in `ids` that the snapshot holds, ascending. */
  function slotsOf(snap: Snapshot, ids: Iterable<string>): number[] {
    const out: number[] = [];
    for (const id of ids) {
      const slot = snap.slotOf(id);
      if (slot !== undefined) out.push(slot);
    }
    return out.sort((a, b) => a - b);
  }

  /** The candidate index of the signature `key` over `slots` (its static verdicts), moved along to `snap`. */
  function candidateIndex(snap: Snapshot, key: string, slots: Int32Array): CandidateIndex {
    const table = snap.memo(indexPrefix, newIndexTable);
    let index = table.get(key);
    if (index === undefined || index.slots !== slots || !index.follow(snap)) {
      index = new CandidateIndex(snap, slots);
      // An index holds a few columns per candidate and one per slot: keep the 256 built last.
      if (table.size >= 256) {
        const oldest = table.keys().next();
        if (oldest.done !== true) table.delete(oldest.value);
      }
      table.set(key, index);
    }
    return index;
  }

  /** Step 2: the static filters, once per request signature and snapshot lineage. */
  function staticVerdicts(req: PreparedRequest, snap: Snapshot): StaticVerdicts {
    // One table per scheduler per snapshot lineage, keyed by the (cached) signature string.
    const table = snap.memo(memoPrefix, newVerdictTable);
    const hit = table.get(req.staticKey);
    if (hit !== undefined) return hit;
    if (table.size >= 1024) table.clear();
    const computed = ((): StaticVerdicts => {
      const n = snap.slotCount;
      const reasonBySlot = new Uint8Array(n);
      const counts = new Uint32Array(REASON_CODES.length + 1);
      // Filters with a bulk form answer from the snapshot's indexes in one pass each.
      const bulk = staticFilters.map((f) => {
        if (f.bulk === undefined) return null;
        const col = new Uint8Array(n);
        f.bulk(req, snap, col);
        return col;
      });
      const passing: number[] = [];
      for (let slot = 0; slot < n; slot++) {
        const view = snap.viewAt(slot);
        if (view === undefined) continue;
        let id = 0;
        for (let k = 0; k < staticFilters.length && id === 0; k++) {
          const col = bulk[k];
          if (col !== null && col !== undefined) id = col[slot] ?? 0;
          else {
            const code = staticFilters[k]?.reason(req, view, snap) ?? null;
            if (code !== null) id = REASON_ID[code];
          }
        }
        if (id === 0) passing.push(slot);
        else {
          reasonBySlot[slot] = id;
          counts[id] = (counts[id] ?? 0) + 1;
        }
      }
      const slots = Int32Array.from(passing);
      const preferTaints = snap.preferTaints;
      const anyPreferTaint = slots.some((slot) => preferTaints[slot] !== 0);
      return { reasonBySlot, slots, anyPreferTaint, counts, reasonCounts: Object.freeze(reasonCountsOf(counts)) };
    })();
    table.set(req.staticKey, computed);
    return computed;
  }

  /**
   * Steps 2–4: filter and score into `cols`, over every statically passing cloud or over `only`
   * (statically passing slots, ascending: the candidates keep their relative order).
   */
  function evaluate(req: PreparedRequest, snap: Snapshot, cols: Columns, only?: Int32Array): Evaluation {
    const statics = staticVerdicts(req, snap);
    const passing = only ?? statics.slots;
    ensureCapacity(cols, passing.length, scorers.length);
    const counts = cols.counts;
    counts.set(statics.counts);
    const { slots, cap } = cols;
    let c = 0;
    let d = 0;

    // Step 3: dynamic filters — capacity (with held replicas credited back), then quota.
    if (fastDynamic) {
      const free = snap.free;
      const tierRanks = snap.tierRanks;
      const need = req.need;
      const needed = req.needed;
      const heldBySlot = req.heldBySlot;
      const hasHeld = heldBySlot.size > 0;
      const admitsOne = req.quota.admitsOneByRank;
      const stride = R;
      for (let k = 0; k < passing.length; k++) {
        const slot = passing[k] ?? 0;
        const h = hasHeld ? (heldBySlot.get(slot) ?? 0) : 0;
        const capMax = replicasThatFit(free, slot * stride, h, needed, need);
        if (capMax < 0) {
          d = recordRejection(cols, d, slot, CAPACITY_REASON_ID[-1 - capMax] ?? 0);
          continue;
        }
        const rank = tierRanks[slot] ?? 0;
        if (admitsOne[rank + 1] === 0) {
          d = recordRejection(cols, d, slot, QUOTA_ID);
          continue;
        }
        slots[c] = slot;
        cap[c] = capMax;
        cols.rank[c] = rank;
        cols.held[c++] = h;
      }
    } else {
      for (let k = 0; k < passing.length; k++) {
        const slot = passing[k] ?? 0;
        const view = snap.viewAt(slot);
        if (view === undefined) continue;
        let id = 0;
        for (const f of dynamicFilters) {
          const code = f.reason(req, view, snap);
          if (code !== null) {
            id = REASON_ID[code];
            break;
          }
        }
        if (id !== 0) {
          d = recordRejection(cols, d, slot, id);
          continue;
        }
        slots[c] = slot;
        cap[c] = capacityReplicas(req, snap, slot);
        cols.rank[c] = view.tierRank;
        cols.held[c++] = req.heldBySlot.get(slot) ?? 0;
      }
    }
    // Seeded tie-break draws and topology domains of the survivors.
    const zone = req.spec.spread.topology === 'zone';
    const tieKeys = snap.tieKeys;
    const zoneIds = snap.zoneIds;
    const seedHash = req.seedHash;
    const { tie, domain } = cols;
    for (let i = 0; i < c; i++) {
      const slot = slots[i] ?? 0;
      tie[i] = tieBreak(seedHash, tieKeys[slot] ?? 0);
      domain[i] = zone ? (zoneIds[slot] ?? 0) : i;
    }

    // Step 4: score. Each scorer writes normalised 0–100 terms; the division adds the topology
    // and stickiness terms itself as replicas land, so `base` holds the rest, weighted.
    const candidates: Candidates = { count: c, slots };
    const w = weights[req.spec.strategy];
    const base = cols.base;
    base.fill(0, 0, c);
    for (let s = 0; s < scorers.length; s++) {
      const scorer = scorers[s];
      const term = cols.terms[s];
      if (scorer === undefined || term === undefined) continue;
      const weight = w[scorer.name];
      const divisionTerm = addedByDivision(scorer.name);
      // The hot path skips what does not reach `base`; the lazy ranking computes every term.
      if (cols === scratch && (weight === 0 || divisionTerm)) continue;
      scorer.score(req, candidates, snap, term);
      if (weight === 0 || divisionTerm) continue;
      for (let i = 0; i < c; i++) base[i] = (base[i] ?? 0) + weight * (term[i] ?? 0);
    }
    if (cols !== scratch) {
      // The explanation ranks by every term, the division's included.
      const total = cols.total;
      const wv = weightVectors[req.spec.strategy];
      total.set(base.subarray(0, c));
      for (const k of divisionTermIndexes) {
        const weight = wv[k] ?? 0;
        const term = cols.terms[k];
        if (weight === 0 || term === undefined) continue;
        for (let i = 0; i < c; i++) total[i] = (total[i] ?? 0) + weight * (term[i] ?? 0);
      }
    }
    return { statics, feasible: c, dynRejected: d, counts, cols };
  }

  /** The division's input over `count` candidates in columns. */
  function divisionInput(req: PreparedRequest, snap: Snapshot, c: Pick<Columns, 'base' | 'tie' | 'cap' | 'rank' | 'domain' | 'held'>, count: number, floor: Floor | null): SplitInput {
    const spec = req.spec;
    const zone = spec.spread.topology === 'zone';
    const w = weights[spec.strategy];
    return {
      replicas: req.replicas,
      count,
      base: c.base,
      tie: c.tie,
      cap: c.cap,
      rank: c.rank,
      domain: c.domain,
      domainCount: zone ? snap.zoneCount : count,
      held: c.held,
      quotaTotal: req.quota.total,
      quotaByRank: req.quota.byRank,
      minClouds: spec.spread.minClouds,
      maxPerDomain: spec.spread.maxReplicasPerCloud ?? Number.POSITIVE_INFINITY,
      topology: spec.spread.topology,
      topologyWeight: w.topology,
      stickyWeight: w.sticky,
      floor: floor ?? undefined,
    };
  }

  /**
   * Steps 2–5 on the hot path (the default registry): the fused evaluation selects the best few
   * candidates, and the division runs over them; only when it would reach past them (or fails,
   * which the others might have prevented) does it run again over every feasible candidate.
   * `index` maps the division's candidates to evaluation candidates when it ran over the selection.
   */
  function evaluateAndDivide(
    req: PreparedRequest,
    snap: Snapshot,
  ): { statics: StaticVerdicts; feasible: number; counts: Uint32Array; split: SplitResult; slots: Int32Array; index: Int32Array | null } {
    const statics = staticVerdicts(req, snap);
    ensureCapacity(scratch, statics.slots.length, scorers.length);
    scratch.counts.set(statics.counts);
    const spec = req.spec;
    const w = weights[spec.strategy];
    const depthMemo = snap.memo(depthPrefix, newDepthTable);
    const k = selectionSize(req.replicas, spec.spread.minClouds);
    if (statics.slots.length >= sortedAccessFrom && sortedAccessApplies(req, w, statics.anyPreferTaint)) {
      // Many candidates: select the same best few by sorted access; the division over them is
      // the same as below, and when it would reach past them the full pass runs after all.
      const preference = spec.localityPreference;
      const locality = {
        depth: w.locality !== 0 && preference !== undefined ? depthsFor(depthMemo, snap, preference) : null,
        full: preference === undefined ? 1 : depthOf(preference),
      };
      const feasible = selectBySortedAccess(req, snap, candidateIndex(snap, req.staticKey, statics.slots), w, locality, fusedIds, scratch.counts, sortedScratch, top, k);
      if (feasible === 0) return { statics, feasible, counts: scratch.counts, split: NO_DIVISION, slots: scratch.slots, index: null };
      const split = splitReplicas(divisionInput(req, snap, top, top.size, top.floor), splitScratch);
      if (split.incomplete !== true) return { statics, feasible, counts: scratch.counts, split, slots: top.index, index: null };
      scratch.counts.set(statics.counts);
    }
    const feasible = fusedKeys(req, snap, statics, w, scratch, fusedIds, depthMemo, fusedOut);
    selectTop(req, snap, scratch, feasible, fusedOut, top, k);
    if (feasible === 0) return { statics, feasible, counts: scratch.counts, split: NO_DIVISION, slots: scratch.slots, index: null };
    const first = splitReplicas(divisionInput(req, snap, top, top.size, top.floor), splitScratch);
    if (first.incomplete !== true) return { statics, feasible, counts: scratch.counts, split: first, slots: scratch.slots, index: top.index };
    completeCandidates(req, snap, scratch, feasible);
    return { statics, feasible, counts: scratch.counts, split: splitReplicas(divisionInput(req, snap, scratch, feasible, null), splitScratch), slots: scratch.slots, index: null };
  }

  function decide(request: PlacementRequest, snap: Snapshot): Decision {
    // Step 1: compile the request against the snapshot (demand, held slices credited, quota per tier).
    const req = prepareRequest(request, snap);
    const spec = req.spec;
    // Steps 2–5: static filters (cached), dynamic filters, scorers, then the division of the
    // replicas over the feasible clouds, all or nothing. `index` maps a division index to a
    // candidate index when the division ran over a selection.
    let statics: StaticVerdicts;
    let feasible: number;
    let counts: Uint32Array;
    let split: SplitResult;
    let candidateSlots: Int32Array;
    let index: Int32Array | null = null;
    if (fused) {
      ({ statics, feasible, counts, split, slots: candidateSlots, index } = evaluateAndDivide(req, snap));
    } else {
      const ev = evaluate(req, snap, scratch);
      statics = ev.statics;
      feasible = ev.feasible;
      counts = ev.counts;
      candidateSlots = ev.cols.slots;
      split = feasible === 0 ? NO_DIVISION : splitReplicas(divisionInput(req, snap, ev.cols, feasible, null), splitScratch);
    }

    // Step 6: the decision and its counted explanation.
    const assignments: PlacementSlice[] = [];
    if (split.failure === null) {
      for (const i of split.order) {
        const n = split.assigned[i] ?? 0;
        const view = snap.viewAt(candidateSlots[index === null ? i : (index[i] ?? 0)] ?? 0);
        if (n > 0 && view !== undefined) assignments.push({ cloudId: view.cloud.id, replicas: n });
      }
    }
    const placed = assignments.reduce((sum, a) => sum + a.replicas, 0);
    const ok = placed === req.replicas && (req.replicas === 0 || split.failure === null) && (feasible > 0 || req.replicas === 0);
    // Building the object per decision, its keys differing from one request to the next, cost
    // more than the rest of a decision's bookkeeping; when nothing was rejected dynamically the
    // counts are the static verdicts' own.
    const reasonCounts = feasible === statics.slots.length ? statics.reasonCounts : reasonCountsOf(counts);
    const considered = snap.size;
    const rejectedCount = considered - feasible;
    let failure: Decision['failure'] = null;
    let summary: string | null = null;
    if (ok) {
      // Built on first read: the counted list is a sort and a dozen strings nobody may read.
    } else if (feasible === 0) {
      const counted = countedList(reasonCounts, spec);
      summary = considered === 0 ? '0/0 clouds available: no clouds registered' : `0/${considered} clouds available: ${counted}`;
      failure = { reason: dominantReason(reasonCounts), detail: summary };
    } else {
      const f = split.failure ?? { reason: 'INSUFFICIENT_TOTAL_CAPACITY' as const, detail: 'the replicas could not be divided' };
      const detail = f.reason === 'QUOTA_EXCEEDED' && req.quota.total < req.replicas ? `${f.detail} (${describeQuota(req, null, -1)})` : f.detail;
      failure = { reason: f.reason, detail };
      const counted = countedList(reasonCounts, spec);
      summary = `${feasible}/${considered} clouds available, but ${plural(req.replicas, 'replica')} cannot be placed: ${REASONS[f.reason]}: ${detail}${
        rejectedCount > 0 ? ` (${rejectedCount} rejected: ${counted})` : ''
      }`;
    }

    // Rejection details and the full ranking are built on first read, from a fresh evaluation.
    return new EngineDecision(
      ok,
      ok ? assignments : [],
      reasonCounts,
      failure,
      summary,
      ok ? scale(req.demand, req.replicas) : ZERO,
      considered,
      explainer,
      req,
      snap,
      feasible,
    );
  }

  // The explanation is built from one fresh evaluation into columns reused across calls: each
  // call materialises plain objects before returning, so nothing keeps pointing into them.
  const explainCols = newColumns(0, scorers.length);
  const rankWindow = new RankWindow();
  // The fused keys need no per-scorer terms.
  const keyCols = newColumns(0, 0);
  const keysOut: FusedKeysOut = { dynamic: 0, keyMin: 0, keyMax: 0 };
  const explainer: Explainer = {
    ranked: (req, snap) => rankFrom(req, snap, evaluate(req, snap, explainCols)).items,
    rejected: (req, snap) => rejectionsFrom(req, snap, evaluate(req, snap, explainCols)).items,
    bounded(req, snap, bounds, keep) {
      const { ev, feasible, rejections } = boundedEvaluation(req, snap, bounds.ranked, keep);
      return { ranked: rankFrom(req, snap, ev, bounds.ranked, keep, feasible), rejected: rejectionsFrom(req, snap, rejections, bounds.rejectedPerReason) };
    },
    stored(req, snap, keep) {
      const b = STORED_EXPLANATION_BOUNDS;
      const { ev, feasible, rejections } = boundedEvaluation(req, snap, b.ranked, keep);
      return { ranked: rankColumnsFrom(req, snap, ev, b.ranked, keep, feasible), rejected: rejectionsFrom(req, snap, rejections, b.rejectedPerReason) };
    },
  };

  /**
   * What a bounded explanation (the best `limit` plus `keep`) is read from. Under the default
   * registry the fused pass gives every feasible candidate's key and the dynamic rejections
   * cheaply, and the per-scorer evaluation — which the breakdown needs — runs only over the
   * {@link shortlist} of candidates that can rank among the best; otherwise every candidate is
   * evaluated per scorer. `feasible` counts every feasible candidate either way.
   */
  function boundedEvaluation(req: PreparedRequest, snap: Snapshot, limit: number, keep: ReadonlySet<string>): { ev: Evaluation; feasible: number; rejections: RejectionSource } {
    const statics = staticVerdicts(req, snap);
    const passing = statics.slots;
    // A shortlist is used only when it is at most half the candidates, and holds at least `limit`.
    if (!fused || !(2 * limit < passing.length)) {
      const ev = evaluate(req, snap, explainCols);
      return { ev, feasible: ev.feasible, rejections: ev };
    }
    ensureCapacity(keyCols, passing.length, 0);
    keyCols.counts.set(statics.counts);
    const depthMemo = snap.memo(depthPrefix, newDepthTable);
    const feasible = fusedKeys(req, snap, statics, weights[req.spec.strategy], keyCols, fusedIds, depthMemo, keysOut);
    const rejections: RejectionSource = { statics, dynRejected: keysOut.dynamic, counts: keyCols.counts, cols: keyCols };
    const only = shortlist(req, snap, feasible, passing.length, limit, keep);
    return { ev: evaluate(req, snap, explainCols, only), feasible, rejections };
  }

  /**
   * The candidates of the last {@link fusedKeys} (into `keyCols`, `count` of them) that can rank
   * among the best `limit` by ranked total, as ascending slots; undefined when that is most of
   * them. A candidate's ranked total is within the ranking slack of its unrounded total, which is
   * its key (the same sum).
   * So at least `limit` candidates rank at or above the `limit`-th best key less the slack, and a
   * candidate whose key plus the slack is below that cannot be among them. Also kept: the clouds
   * in `keep`, and the cheapest and the dearest candidate, so that the cost scorer, which
   * normalises over the candidates it is given, normalises the shortlist exactly as it would
   * every candidate. The other scorers score each cloud on its own.
   */
  function shortlist(req: PreparedRequest, snap: Snapshot, count: number, costAt: number, limit: number, keep: ReadonlySet<string>): Int32Array | undefined {
    if (!(limit < count)) return undefined;
    const { key, slots, work } = keyCols;
    // The best `limit` keys, descending, in a small window most candidates leave on one comparison.
    const window = new Float64Array(limit).fill(Number.NEGATIVE_INFINITY);
    let last = Number.NEGATIVE_INFINITY;
    let cheapest = 0;
    let dearest = 0;
    let minCost = Number.POSITIVE_INFINITY;
    let maxCost = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < count; i++) {
      const x = work[costAt + i] ?? 0;
      if (x < minCost) {
        minCost = x;
        cheapest = i;
      }
      if (x > maxCost) {
        maxCost = x;
        dearest = i;
      }
      const k = key[i] ?? 0;
      if (!(k > last)) continue;
      let at = limit - 1;
      while (at > 0 && (window[at - 1] ?? 0) < k) {
        window[at] = window[at - 1] ?? 0;
        at--;
      }
      window[at] = k;
      last = window[limit - 1] ?? 0;
    }
    const slack = rankingSlack[req.spec.strategy];
    // A candidate is kept when key + slack + 1e-9 × (1 + |key|) reaches last − slack − 1e-9 × (1 + |last|);
    // `low` is below every key that does (a little lower than exact, which only keeps a few more).
    const low = last - 2 * slack - 1e-9 * (3 + 2 * Math.abs(last) + 2 * slack);
    // The kept clouds' slots ascending, met in step with the candidates (also ascending).
    const kept = slotsOf(snap, keep);
    let nextKept = 0;
    const keptIndexes = new Set<number>();
    // Shortlisted whatever their key: the chosen clouds, the cheapest and the dearest.
    const always = (i: number): boolean => i === cheapest || i === dearest || keptIndexes.has(i);
    let out: number[] = [];
    for (let i = 0; i < count; i++) {
      const slot = slots[i] ?? 0;
      while (nextKept < kept.length && (kept[nextKept] ?? 0) < slot) nextKept++;
      if (kept[nextKept] === slot) keptIndexes.add(i);
      if ((key[i] ?? 0) >= low || always(i)) out.push(i);
    }
    // Many within reach of the best: of each class of alike candidates only the best `limit` by
    // draw can rank among the best `limit` (see alike.ts).
    if (2 * out.length > count) {
      const preference = req.spec.localityPreference;
      const depth = preference === undefined ? null : depthsFor(snap.memo(depthPrefix, newDepthTable), snap, preference);
      out = bestOfAlike(req, snap, slots, out, limit, depth, always);
    }
    if (2 * out.length > count) return undefined;
    // A loop, not Int32Array.from with a mapping function, which costs a microsecond here.
    const only = new Int32Array(out.length);
    for (let j = 0; j < out.length; j++) only[j] = slots[out[j] ?? 0] ?? 0;
    return only;
  }

  /**
   * Feasible clouds of an evaluation best first with their score breakdown: all of them, or the
   * best `limit` plus any cloud in `keep` (the chosen ones). Totals come straight from the score columns; the
   * per-scorer objects are built only for the clouds returned.
   */
  function rankFrom(req: PreparedRequest, snap: Snapshot, ev: Evaluation, limit = Number.POSITIVE_INFINITY, keep?: ReadonlySet<string>, feasible = ev.feasible): RankedList {
    const cols = ev.cols;
    const wv = weightVectors[req.spec.strategy];
    const terms = cols.terms;
    const shown = rankShown(req, snap, ev, limit, keep);
    const out: RankedCloud[] = [];
    for (const o of shown) {
      const view = snap.viewAt(cols.slots[o.i] ?? 0);
      if (view === undefined) continue;
      const breakdown: ScoreTerm[] = [];
      for (let k = 0; k < scorerNames.length; k++) breakdown.push({ scorer: scorerNames[k] ?? '', score: round2(terms[k]?.[o.i] ?? 0), weight: wv[k] ?? 0 });
      out.push({ cloudId: view.cloud.id, total: o.total, terms: breakdown, maxReplicas: maxReplicasOf(req, cols, o.i, view.tierRank) });
    }
    return { items: out, omitted: feasible - out.length };
  }

  /** {@link rankFrom} in the stored column form (see {@link StoredRanking}): the same clouds, numbers and order, without an object per score term. */
  function rankColumnsFrom(req: PreparedRequest, snap: Snapshot, ev: Evaluation, limit: number, keep: ReadonlySet<string>, feasible: number): { ranking: StoredRanking | null; omitted: number } {
    const cols = ev.cols;
    const terms = cols.terms;
    const clouds: string[] = [];
    const totals: number[] = [];
    const maxReplicas: number[] = [];
    const columns: number[][] = scorerNames.map(() => []);
    for (const o of rankShown(req, snap, ev, limit, keep)) {
      const view = snap.viewAt(cols.slots[o.i] ?? 0);
      if (view === undefined) continue;
      // Hundredths as integers (see StoredRanking): the same numbers, m / 100 back. (For an
      // integer m, (m / 100) × 100 is within an ulp of m, so rounding x × 100 once gives the m of
      // round2(x).)
      clouds.push(view.cloud.id);
      totals.push(Math.round(o.total * 100));
      maxReplicas.push(maxReplicasOf(req, cols, o.i, view.tierRank));
      for (let k = 0; k < columns.length; k++) columns[k]?.push(Math.round((terms[k]?.[o.i] ?? 0) * 100));
    }
    const ranking = clouds.length === 0 ? null : { scorers: scorerNames, weights: weightVectors[req.spec.strategy], clouds, totals, maxReplicas, scores: foldScores(columns) };
    return { ranking, omitted: feasible - clouds.length };
  }

  /**
   * The ranked total of candidate `i`: Σ round2(term) × weight in scorer order, rounded. Terms
   * of weight 0 add exactly 0 (terms are finite), so only the weighted ones are read.
   */
  function rankedTotal(ev: Evaluation, strategy: keyof StrategyWeights, i: number): number {
    const terms = ev.cols.terms;
    const wv = weightVectors[strategy];
    const weighted = weightedTerms[strategy];
    let total = 0;
    for (let j = 0; j < weighted.length; j++) {
      const k = weighted[j] ?? 0;
      total += round2(terms[k]?.[i] ?? 0) * (wv[k] ?? 0);
    }
    return round2(total);
  }

  /** Every feasible candidate of an evaluation by ranked total, then tie-break draw, then candidate order. */
  function rankOrder(req: PreparedRequest, ev: Evaluation): RankEntry[] {
    const strategy = req.spec.strategy;
    const tie = ev.cols.tie;
    const order: RankEntry[] = [];
    for (let i = 0; i < ev.feasible; i++) order.push({ i, total: rankedTotal(ev, strategy, i), tie: tie[i] ?? 0 });
    // Array.prototype.sort is stable: equal totals and draws stay in candidate order.
    order.sort(byTotalThenTie);
    return order;
  }

  /**
   * The candidates a bounded ranking shows, in rank order: the best `limit`, then any candidate
   * of a cloud in `keep` ranked below them. The same as filtering {@link rankOrder}, without
   * sorting every feasible cloud to show eight: the best `limit` are kept in a small sorted
   * window (columns reused across calls, no object per candidate) as the candidates stream by.
   */
  function rankShown(req: PreparedRequest, snap: Snapshot, ev: Evaluation, limit: number, keep?: ReadonlySet<string>): RankEntry[] {
    const n = ev.feasible;
    if (!(limit < n)) return rankOrder(req, ev);
    const strategy = req.spec.strategy;
    const { tie, slots, total } = ev.cols;
    const keptSlots = slotsOf(snap, keep ?? []);
    // A cheap upper bound on a candidate's ranked total, so that most candidates are passed over
    // without rounding seven terms: the ranked total exceeds the unrounded one (`total`) by at
    // most the ranking slack.
    const slack = rankingSlack[strategy];
    const w = rankWindow.reserve(limit);
    let size = 0;
    const kept: RankEntry[] = [];
    for (let i = 0; i < n; i++) {
      const full = size === limit;
      const isKept = keptSlots.length > 0 && keptSlots.includes(slots[i] ?? -1);
      if (full && !isKept) {
        const sum = total[i] ?? 0;
        if (sum + slack + 1e-9 * (1 + Math.abs(sum)) < (w.total[limit - 1] ?? 0)) continue;
      }
      const t = rankedTotal(ev, strategy, i);
      const d = tie[i] ?? 0;
      if (isKept) kept.push({ i, total: t, tie: d });
      if (full && w.before(limit - 1, t, d, i)) continue;
      // Insert after every entry ranked before it (later candidates lose exact ties, as in a stable sort).
      let at = full ? limit - 1 : size++;
      while (at > 0 && !w.before(at - 1, t, d, i)) {
        w.move(at - 1, at);
        at--;
      }
      w.put(at, i, t, d);
    }
    const shown: RankEntry[] = [];
    for (let k = 0; k < size; k++) shown.push({ i: w.index[k] ?? 0, total: w.total[k] ?? 0, tie: w.tie[k] ?? 0 });
    if (kept.length === 0) return shown;
    // Kept candidates below the best, in rank order (`kept` is in candidate order, the sort stable).
    const below = kept.filter((e) => !w.holds(e.i, size)).sort(byTotalThenTie);
    return below.length === 0 ? shown : shown.concat(below);
  }

  /**
   * Rejected clouds with the first filter that rejected each and why: all, or at most `perReason`
   * of each reason. Stops reading the fleet once every reason has its examples (the counts say
   * how many there are in all).
   */
  function rejectionsFrom(req: PreparedRequest, snap: Snapshot, ev: RejectionSource, perReason = Number.POSITIVE_INFINITY): RejectionList {
    const { statics, dynRejected, cols, counts } = ev;
    // Dynamic rejections are recorded in ascending slot order: met in step with the scan.
    const { dynSlots, dynReason } = cols;
    let nextDyn = 0;
    let total = 0;
    let wanted = 0;
    for (let id = 1; id < counts.length; id++) {
      const c = counts[id] ?? 0;
      total += c;
      wanted += Math.min(c, perReason);
    }
    const out: Rejection[] = [];
    if (wanted === 0) return { items: out, omitted: total };
    // Examples kept so far per reason: a plain array, as allocating a small typed array costs
    // more than the rest of a call that finds nothing rejected.
    const kept: number[] = new Array<number>(counts.length).fill(0);
    const reasonBySlot = statics.reasonBySlot;
    for (let slot = 0; slot < snap.slotCount && out.length < wanted; slot++) {
      let id = reasonBySlot[slot] ?? 0;
      if (id === 0 && nextDyn < dynRejected) {
        while (nextDyn < dynRejected && (dynSlots[nextDyn] ?? 0) < slot) nextDyn++;
        if (nextDyn < dynRejected && dynSlots[nextDyn] === slot) id = dynReason[nextDyn] ?? 0;
      }
      if (id === 0) continue;
      const n = kept[id] ?? 0;
      if (n >= perReason) continue;
      const view = snap.viewAt(slot);
      const reason = REASON_CODES[id - 1];
      if (view === undefined || reason === undefined) continue;
      kept[id] = n + 1;
      const filter = filterOfReason.get(reason);
      const verdict = filter?.check(req, view, snap);
      out.push({
        cloudId: view.cloud.id,
        filter: filter?.name ?? 'unknown',
        reason,
        detail: verdict !== undefined && !verdict.ok ? verdict.detail : REASONS[reason],
      });
    }
    return { items: out, omitted: total - out.length };
  }

  return Object.freeze({ tiers, weights, place: decide, preview: decide });
}

/** Ranked clouds, possibly bounded, and how many were left out. */
interface RankedList {
  readonly items: readonly RankedCloud[];
  readonly omitted: number;
}

/** Rejections, possibly bounded per reason, and how many were left out. */
interface RejectionList {
  readonly items: readonly Rejection[];
  readonly omitted: number;
}

/** How an {@link EngineDecision} builds its explanation on demand, from a fresh evaluation of its request. */
interface Explainer {
  ranked(req: PreparedRequest, snap: Snapshot): readonly RankedCloud[];
  rejected(req: PreparedRequest, snap: Snapshot): readonly Rejection[];
  /** Both lists bounded by `bounds` (ranked keeps every cloud in `keep` too), from one evaluation. */
  bounded(req: PreparedRequest, snap: Snapshot, bounds: ExplanationBounds, keep: ReadonlySet<string>): { ranked: RankedList; rejected: RejectionList };
  /** The same under {@link STORED_EXPLANATION_BOUNDS}, with the ranking in the stored column form. */
  stored(req: PreparedRequest, snap: Snapshot, keep: ReadonlySet<string>): { ranked: { ranking: StoredRanking | null; omitted: number }; rejected: RejectionList };
}

/**
 * A {@link Decision} whose `ranked`, `rejected` and (on success) `summary` are computed on first
 * read. `toJSON` is the stored form: the explanation bounded by {@link STORED_EXPLANATION_BOUNDS}
 * (chosen clouds and the best runners-up; a few examples per rejection reason, with exact counts),
 * so a placement row stays small at any fleet size; the getters give the whole explanation, for a
 * live preview. (A class rather than an object literal with getters: V8 builds the latter on a
 * slow path that cost more than filtering 100 clouds; and it holds the request and snapshot
 * rather than closures over them, which tsx's keepNames would wrap on every decision.) Copy it
 * with `toJSON()`, not with spread.
 */
export class EngineDecision implements Decision {
  private rankedCache: readonly RankedCloud[] | null = null;
  private rejectedCache: readonly Rejection[] | null = null;
  private storedCache: Decision | null = null;

  constructor(
    readonly ok: boolean,
    readonly assignments: readonly PlacementSlice[],
    readonly reasonCounts: Readonly<Partial<Record<ReasonCode, number>>>,
    readonly failure: Decision['failure'],
    private summaryCache: string | null,
    readonly demand: Decision['demand'],
    readonly considered: number,
    private readonly explainer: Explainer,
    private readonly req: PreparedRequest,
    private readonly snap: Snapshot,
    private readonly feasible: number,
  ) {}

  /** Every feasible cloud, best first, with its score breakdown. */
  get ranked(): readonly RankedCloud[] {
    this.rankedCache ??= this.explainer.ranked(this.req, this.snap);
    return this.rankedCache;
  }

  /** Every rejected cloud with the first filter that rejected it and why. */
  get rejected(): readonly Rejection[] {
    this.rejectedCache ??= this.explainer.rejected(this.req, this.snap);
    return this.rejectedCache;
  }

  /** The counted human summary. */
  get summary(): string {
    this.summaryCache ??= successSummary(this.req, this.reasonCounts, this.assignments.length, this.feasible, this.considered);
    return this.summaryCache;
  }

  /**
   * The stored form: a plain object with the explanation bounded by `bounds`. `JSON.stringify`
   * passes the property key as the argument, which selects the stored bounds. The stored-bounds
   * form is built once per decision (the decision is immutable).
   */
  toJSON(bounds: ExplanationBounds | string = STORED_EXPLANATION_BOUNDS): Decision {
    const stored = typeof bounds === 'string' || bounds === STORED_EXPLANATION_BOUNDS;
    if (stored && this.storedCache !== null) return this.storedCache;
    const b = typeof bounds === 'string' ? STORED_EXPLANATION_BOUNDS : bounds;
    const { ranked, rejected } = this.explainer.bounded(this.req, this.snap, b, this.chosenIds());
    const out = this.withExplanation(ranked.items, undefined, ranked.omitted, rejected);
    if (stored) this.storedCache = out;
    return out;
  }

  /**
   * The stored form with the ranking in columns ({@link StoredDecision}): what `toJSON()` gives,
   * encoded as {@link encodeStoredDecision} would encode it, built straight from the columns
   * rather than through an object per score term. The store writes this with every placement.
   */
  toStored(): StoredDecision {
    const { ranked, rejected } = this.explainer.stored(this.req, this.snap, this.chosenIds());
    return this.withExplanation(ranked.ranking === null ? [] : undefined, ranked.ranking ?? undefined, ranked.omitted, rejected);
  }

  /** The ids of the chosen clouds, which a bounded ranking always keeps. */
  private chosenIds(): Set<string> {
    const keep = new Set<string>();
    for (const a of this.assignments) keep.add(a.cloudId);
    return keep;
  }

  /**
   * The decision with a bounded explanation, as one object literal: no spreads (JSON.stringify of
   * a spread-built object took longer than building it), `omitted` only when something was.
   */
  private withExplanation<Ranked extends Decision['ranked'] | undefined>(
    ranked: Ranked,
    rankedColumns: StoredRanking | undefined,
    rankedOmitted: number,
    rejected: RejectionList,
  ): Omit<StoredDecision, 'ranked'> & { readonly ranked: Ranked } {
    return {
      ok: this.ok,
      assignments: this.assignments,
      ranked,
      rejected: rejected.items,
      reasonCounts: this.reasonCounts,
      failure: this.failure,
      summary: this.summary,
      demand: this.demand,
      considered: this.considered,
      rankedColumns,
      omitted: rankedOmitted === 0 && rejected.omitted === 0 ? undefined : { ranked: rankedOmitted, rejected: rejected.omitted },
    };
  }
}

/** The counted summary of a successful decision. */
function successSummary(req: PreparedRequest, reasonCounts: Partial<Record<ReasonCode, number>>, chosen: number, feasible: number, considered: number): string {
  const rejectedCount = considered - feasible;
  const counted = countedList(reasonCounts, req.spec);
  return req.replicas === 0
    ? `0 replicas requested, nothing placed (${feasible}/${considered} clouds available${rejectedCount > 0 ? `; ${rejectedCount} rejected: ${counted}` : ''})`
    : `${plural(req.replicas, 'replica')} placed on ${chosen}/${considered} clouds${rejectedCount > 0 ? ` (${rejectedCount} rejected: ${counted})` : ''}`;
}

/** The state a {@link planner} plans against (structurally the store's `PlanningState`). */
export interface PlanningStateLike {
  readonly clouds: readonly Cloud[];
  readonly headroom: readonly Headroom[];
}

/**
 * An adapter from the scheduler to the store's `Planner`: `(spec, state, current) → Decision`.
 * The snapshot follows the store's state incrementally: clouds whose object identity changed since
 * the last call (typically the one or two an admission just allocated on) are replaced with
 * {@link Snapshot.withCloud}, which keeps the indexes and the static-filter memo, so the cost of an
 * admission does not grow with the fleet. A changed set of cloud ids, or a change touching a large
 * share of the fleet, rebuilds. The seed is the deployment's tenant and name, so a re-plan of the
 * same deployment on the same state replays.
 */
export function planner(
  scheduler: Scheduler,
  tiers: Tiers,
): (spec: DeploymentSpec, state: PlanningStateLike, current: readonly PlacementSlice[]) => Decision {
  let cached: { clouds: readonly Cloud[]; snap: Snapshot } | null = null;
  return (spec, state, current) => {
    if (cached === null) cached = { clouds: state.clouds, snap: createSnapshot(state.clouds, tiers) };
    else if (cached.clouds !== state.clouds) cached = { clouds: state.clouds, snap: followSnapshot(cached.snap, cached.clouds, state.clouds, tiers) };
    return scheduler.place({ spec, headroom: state.headroom, seed: `${spec.tenant}/${spec.name}`, current }, cached.snap);
  };
}

/**
 * Brings `snap` (built from `prev`) up to `next`: replaces each cloud whose object changed, or
 * rebuilds when the ids differ or so many clouds changed that copying columns per change would
 * cost more than one rebuild.
 */
export function followSnapshot(snap: Snapshot, prev: readonly Cloud[], next: readonly Cloud[], tiers: Tiers): Snapshot {
  if (prev.length !== next.length) return createSnapshot(next, tiers);
  const changed: Cloud[] = [];
  const budget = Math.max(8, next.length >> 4);
  for (let i = 0; i < next.length; i++) {
    const a = prev[i];
    const b = next[i];
    if (a === b || b === undefined) continue;
    if (a === undefined || a.id !== b.id || changed.length >= budget) return createSnapshot(next, tiers);
    changed.push(b);
  }
  let out = snap;
  for (const c of changed) out = out.withCloud(c);
  return out;
}

/** How many replicas the free capacity of `slot` admits, with held replicas credited back. */
function capacityReplicas(req: PreparedRequest, snap: Snapshot, slot: number): number {
  const h = req.heldBySlot.get(slot) ?? 0;
  let n = Number.POSITIVE_INFINITY;
  for (const r of req.needed) {
    const nr = req.need[r] ?? 1;
    n = Math.min(n, Math.floor(Math.max(0, (snap.free[slot * R + r] ?? 0) + h * nr) / nr));
  }
  return n;
}

/** A table with one entry per strategy, each computed by `f`. */
function byStrategy<T>(f: (strategy: keyof StrategyWeights) => T): Record<keyof StrategyWeights, T> {
  return { binpack: f('binpack'), spread: f('spread'), cost: f('cost'), locality: f('locality') };
}

function mergeWeights(overrides: SchedulerOptions['weights']): StrategyWeights {
  if (overrides === undefined) return DEFAULT_WEIGHTS;
  const out = {} as Record<keyof StrategyWeights, Weights>;
  for (const [strategy, w] of Object.entries(DEFAULT_WEIGHTS) as [keyof StrategyWeights, Weights][]) {
    const o = overrides[strategy] ?? {};
    for (const [k, v] of Object.entries(o)) {
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new Error(`scheduler: weight ${strategy}.${k} must be a finite non-negative number`);
    }
    out[strategy] = Object.freeze({ ...w, ...o });
  }
  return Object.freeze(out);
}

/** The division of no candidates. */
const NO_DIVISION: SplitResult = Object.freeze({ assigned: new Int32Array(0), order: [], failure: null });

function newVerdictTable(): Map<string, StaticVerdicts> {
  return new Map();
}

function newDepthTable(): Map<string, Uint8Array> {
  return new Map();
}

function newIndexTable(): Map<string, CandidateIndex> {
  return new Map();
}

/** Rejections counted per reason id → per reason code, the reasons with none left out. */
function reasonCountsOf(counts: Uint32Array): Partial<Record<ReasonCode, number>> {
  const out: Partial<Record<ReasonCode, number>> = {};
  for (let id = 1; id < counts.length; id++) {
    const n = counts[id] ?? 0;
    const code = REASON_CODES[id - 1];
    if (n > 0 && code !== undefined) out[code] = n;
  }
  return out;
}

function newColumns(n: number, scorerCount: number): Columns {
  const size = Math.max(16, n);
  return {
    slots: new Int32Array(size),
    cap: new Float64Array(size),
    base: new Float64Array(size),
    key: new Float64Array(size),
    tie: new Float64Array(size),
    rank: new Int32Array(size),
    domain: new Int32Array(size),
    held: new Float64Array(size),
    terms: Array.from({ length: scorerCount }, () => new Float64Array(size)),
    total: new Float64Array(size),
    work: new Float64Array(2 * size),
    dynSlots: new Int32Array(size),
    dynReason: new Uint8Array(size),
    counts: new Uint32Array(REASON_CODES.length + 1),
  };
}

function ensureCapacity(cols: Columns, n: number, scorerCount: number): void {
  if (cols.slots.length >= n) return;
  Object.assign(cols, newColumns(Math.max(n, cols.slots.length * 2), scorerCount));
}

/** "5 below tier L3, 4 outside residency cn/gd, 3 insufficient memory": largest first, ties in catalogue order. */
function countedList(counts: Partial<Record<ReasonCode, number>>, spec: DeploymentSpec): string {
  const entries = (Object.entries(counts) as [ReasonCode, number][]).sort((a, b) => b[1] - a[1] || REASON_ID[a[0]] - REASON_ID[b[0]]);
  return entries.map(([code, n]) => `${n} ${phrase(code, spec)}`).join(', ');
}

function phrase(code: ReasonCode, spec: DeploymentSpec): string {
  switch (code) {
    case 'BELOW_TIER':
      return `below tier ${spec.minTier}`;
    case 'OUTSIDE_RESIDENCY':
      return `outside residency ${spec.residency.join(', ')}`;
    case 'TIER_EXCLUSIVE':
      return `reserved for another tier than ${spec.minTier}`;
    default:
      return REASONS[code];
  }
}

/** The reason reported when no cloud is feasible: quota when it blocked any cloud that otherwise fits, else the commonest. */
function dominantReason(counts: Partial<Record<ReasonCode, number>>): ReasonCode {
  if ((counts.QUOTA_EXCEEDED ?? 0) > 0) return 'QUOTA_EXCEEDED';
  let best: ReasonCode = 'INSUFFICIENT_TOTAL_CAPACITY';
  let max = 0;
  for (const [code, n] of Object.entries(counts) as [ReasonCode, number][]) {
    if (n > max) {
      best = code;
      max = n;
    }
  }
  return best;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** Replicas a ranked candidate admits: its capacity, the quota of its tier, the per-cloud spread limit. */
function maxReplicasOf(req: PreparedRequest, cols: Columns, i: number, tierRank: number): number {
  return Math.min(cols.cap[i] ?? 0, quotaReplicas(req, tierRank), req.spec.spread.maxReplicasPerCloud ?? Number.POSITIVE_INFINITY);
}

/** A feasible candidate in a ranking: its index, ranked total and tie-break draw. */
interface RankEntry {
  readonly i: number;
  readonly total: number;
  readonly tie: number;
}

function byTotalThenTie(a: RankEntry, b: RankEntry): number {
  return b.total - a.total || b.tie - a.tie;
}

/**
 * The best candidates of a bounded ranking in rank order — higher total, then higher draw, then
 * earlier candidate — as columns reused across calls.
 */
class RankWindow {
  index = new Int32Array(16);
  total = new Float64Array(16);
  tie = new Float64Array(16);

  /** Room for `n` entries. */
  reserve(n: number): this {
    if (this.index.length < n) {
      this.index = new Int32Array(n);
      this.total = new Float64Array(n);
      this.tie = new Float64Array(n);
    }
    return this;
  }

  /** True when entry `k` ranks before candidate `i` of ranked total `t` and draw `d`. */
  before(k: number, t: number, d: number, i: number): boolean {
    const kt = this.total[k] ?? 0;
    const kd = this.tie[k] ?? 0;
    return kt !== t ? kt > t : kd !== d ? kd > d : (this.index[k] ?? 0) < i;
  }

  /** True when candidate `i` is among the first `size` entries. */
  holds(i: number, size: number): boolean {
    for (let k = 0; k < size; k++) if (this.index[k] === i) return true;
    return false;
  }

  move(from: number, to: number): void {
    this.index[to] = this.index[from] ?? 0;
    this.total[to] = this.total[from] ?? 0;
    this.tie[to] = this.tie[from] ?? 0;
  }

  put(k: number, i: number, t: number, d: number): void {
    this.index[k] = i;
    this.total[k] = t;
    this.tie[k] = d;
  }
}

/** True for the scorers whose terms the replica division adds itself as replicas land (not part of `base`). */
function addedByDivision(name: string): boolean {
  return name === 'topology' || name === 'sticky';
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}
