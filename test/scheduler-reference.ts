/**
 * The scheduler's naive reference: every registered filter, in registry order, over every cloud,
 * one `check` call at a time — no indexes, no caches, no fused loops. Property tests hold the
 * optimised engine to it. Also small harness helpers for filter and scorer table tests.
 */
import type { Cloud } from '../domain/cloud.js';
import type { DeploymentSpec, PlacementSlice } from '../domain/deployment.js';
import type { Headroom } from '../domain/tenant.js';
import type { Candidates, Filter, PreparedRequest, Scorer, Verdict } from '../scheduler/framework.js';
import { prepareRequest } from '../scheduler/prepare.js';
import { REASON_CODES } from '../scheduler/reasons.js';
import type { ReasonCode } from '../scheduler/reasons.js';
import { FILTERS } from '../scheduler/registry.js';
import { createSnapshot } from '../scheduler/snapshot.js';
import type { Snapshot } from '../scheduler/snapshot.js';
import { TEST_TIERS } from './builders.js';

/** What the reference computes: the feasible cloud ids, the first failing reason per rejected cloud, and the counts. */
export interface ReferenceResult {
  readonly feasible: readonly string[];
  readonly rejected: ReadonlyMap<string, ReasonCode>;
  readonly reasonCounts: Partial<Record<ReasonCode, number>>;
}

/** Runs every filter in registry order over every cloud of `snap`, the slow obvious way. */
export function referenceFilter(spec: DeploymentSpec, headroom: readonly Headroom[], snap: Snapshot, current: readonly PlacementSlice[] = []): ReferenceResult {
  const req = prepareRequest({ spec, headroom, seed: 'reference', current }, snap);
  const feasible: string[] = [];
  const rejected = new Map<string, ReasonCode>();
  const reasonCounts: Partial<Record<ReasonCode, number>> = {};
  for (const cloud of snap.clouds) {
    const view = snap.view(cloud.id);
    if (view === undefined) throw new Error('view missing');
    let failed: ReasonCode | null = null;
    for (const filter of FILTERS) {
      const verdict = filter.check(req, view, snap);
      if (!verdict.ok) {
        failed = verdict.reason;
        break;
      }
    }
    if (failed === null) feasible.push(cloud.id);
    else {
      rejected.set(cloud.id, failed);
      reasonCounts[failed] = (reasonCounts[failed] ?? 0) + 1;
    }
  }
  return { feasible, rejected, reasonCounts };
}

/** Options of the table-test harness. */
export interface HarnessOptions {
  readonly headroom?: readonly Headroom[];
  readonly current?: readonly PlacementSlice[];
  /** Other clouds in the snapshot (e.g. for min–max normalisation). */
  readonly others?: readonly Cloud[];
}

/** Prepares `spec` against a snapshot of `clouds`. */
export function prepared(spec: DeploymentSpec, clouds: readonly Cloud[], options: HarnessOptions = {}): { req: PreparedRequest; snap: Snapshot } {
  const snap = createSnapshot(clouds, TEST_TIERS);
  const req = prepareRequest({ spec, headroom: options.headroom ?? [], seed: 'test', current: options.current ?? [] }, snap);
  return { req, snap };
}

/** One filter's verdict for `cloud` under `spec`, and the bulk form's answer when the filter has one. */
export function verdictOf(filter: Filter, spec: DeploymentSpec, cloud: Cloud, options: HarnessOptions = {}): Verdict & { bulk?: ReasonCode | null } {
  const { req, snap } = prepared(spec, [cloud, ...(options.others ?? [])], options);
  const view = snap.view(cloud.id);
  if (view === undefined) throw new Error('view missing');
  const verdict = filter.check(req, view, snap);
  if (filter.reason(req, view, snap) !== (verdict.ok ? null : verdict.reason)) throw new Error(`${filter.name}: reason() and check() disagree`);
  if (filter.bulk === undefined) return verdict;
  const out = new Uint8Array(snap.slotCount);
  filter.bulk(req, snap, out);
  const id = out[view.slot] ?? 0;
  return { ...verdict, bulk: id === 0 ? null : (REASON_CODES[id - 1] ?? null) };
}

/** Every candidate's score from one scorer, by cloud id. */
export function scoresOf(scorer: Scorer, spec: DeploymentSpec, clouds: readonly Cloud[], options: HarnessOptions = {}): Record<string, number> {
  const { req, snap } = prepared(spec, clouds, options);
  const slots = Int32Array.from(clouds.map((c) => snap.slotOf(c.id) ?? -1));
  const candidates: Candidates = { count: slots.length, slots };
  const out = new Float64Array(slots.length);
  scorer.score(req, candidates, snap, out);
  return Object.fromEntries(clouds.map((c, i) => [c.id, Math.round((out[i] ?? 0) * 100) / 100]));
}
