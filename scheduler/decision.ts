/**
 * The scheduler's output: a placement decision and its explanation. This is a return value, not a
 * log: it feeds the GraphQL `explanation` field, the UNSCHEDULABLE error and the rejection metric.
 */
import type { PlacementSlice } from '../domain/deployment.js';
import type { Resources } from '../domain/resources.js';
import type { ReasonCode } from './reasons.js';

/** A cloud that a filter rejected, with the stable reason and a message carrying the numbers. */
export interface Rejection {
  readonly cloudId: string;
  readonly filter: string;
  readonly reason: ReasonCode;
  readonly detail: string;
}

/** One scorer's contribution to a cloud's total. */
export interface ScoreTerm {
  readonly scorer: string;
  /** Normalised 0–100. */
  readonly score: number;
  readonly weight: number;
}

/** A feasible cloud with its total score and per-scorer breakdown. */
export interface RankedCloud {
  readonly cloudId: string;
  readonly total: number;
  readonly terms: readonly ScoreTerm[];
  /** How many replicas its free capacity (and the quota) would admit. */
  readonly maxReplicas: number;
}

/** The decision for one request. `ok` ⇔ `assignments` sum to the requested replicas. */
export interface Decision {
  readonly ok: boolean;
  readonly assignments: readonly PlacementSlice[];
  readonly ranked: readonly RankedCloud[];
  readonly rejected: readonly Rejection[];
  /** Rejections counted by reason code. */
  readonly reasonCounts: Readonly<Partial<Record<ReasonCode, number>>>;
  /** When ok is false and every cloud was not rejected individually: why the replicas could not be divided. */
  readonly failure: { readonly reason: ReasonCode; readonly detail: string } | null;
  /** Human summary, e.g. `0/12 clouds available: 5 below tier L3, 4 outside residency cn/gd, 3 insufficient memory`. */
  readonly summary: string;
  /** Total resources the assignments consume (zero when not ok). */
  readonly demand: Resources;
  /** How many clouds were considered. */
  readonly considered: number;
  /**
   * Present on a stored (bounded) explanation: how many ranked clouds and rejections were left
   * out of `ranked` and `rejected`. `reasonCounts` and `summary` always count every cloud.
   */
  readonly omitted?: { readonly ranked: number; readonly rejected: number };
}

/** How much of an explanation is kept when a decision is stored with every placement. */
export interface ExplanationBounds {
  /** Ranked clouds kept, best first; chosen clouds are always kept in addition. */
  readonly ranked: number;
  /** Example rejections kept per reason code (the count per reason stays exact). */
  readonly rejectedPerReason: number;
}

/**
 * The bounds used for stored explanations: enough for a person to see why the chosen clouds won
 * and, for each reason, which clouds it excluded and with what numbers, while a placement row
 * stays small whatever the size of the fleet. (The ranking kept sixteen until the stored
 * explanation was measured as the costliest step of an admission through the API, most of it
 * building and writing the rows' numbers: eight runners-up still show what the chosen clouds
 * beat, and the live `previewPlacement` ranks every cloud.)
 */
export const STORED_EXPLANATION_BOUNDS: ExplanationBounds = Object.freeze({ ranked: 8, rejectedPerReason: 8 });

/**
 * A ranking in columns: every ranked cloud of one decision carries the same scorer names and
 * weights (the strategy's), so they are written once and each cloud is a row
 * `[cloudId, total × 100, maxReplicas, ...scores × 100 in scorer order]`. Totals and scores are
 * rounded to hundredths, so × 100 they are integers, which JSON writes several times faster
 * than fractions; `m / 100` restores the very same number.
 */
export interface StoredRanking {
  readonly scorers: readonly string[];
  readonly weights: readonly number[];
  readonly rows: readonly (readonly (string | number)[])[];
}

/**
 * The form a decision is stored in with every placement: the bounded explanation of
 * `toJSON()`, with `ranked` replaced by `rankedColumns` when the ranking is non-empty and
 * uniform (a sixth of the bytes: a 16-cloud ranking is ~6 KB as objects). Rows written in the
 * object form are valid stored decisions too. {@link decodeStoredDecision} restores the object form.
 */
export type StoredDecision = Omit<Decision, 'ranked'> & { readonly ranked?: Decision['ranked']; readonly rankedColumns?: StoredRanking };

/** A decision in the object form → its stored form; see {@link StoredDecision}. */
export function encodeStoredDecision(d: Decision): StoredDecision {
  const first = d.ranked[0];
  if (first === undefined) return d;
  const scorers = first.terms.map((t) => t.scorer);
  const weights = first.terms.map((t) => t.weight);
  const rows: (string | number)[][] = [];
  for (const r of d.ranked) {
    if (r.terms.length !== scorers.length) return d;
    const total = centi(r.total);
    if (total === null) return d;
    const row: (string | number)[] = [r.cloudId, total, r.maxReplicas];
    for (let k = 0; k < r.terms.length; k++) {
      const t = r.terms[k];
      const score = t === undefined ? null : centi(t.score);
      if (t === undefined || score === null || t.scorer !== scorers[k] || !Object.is(t.weight, weights[k])) return d;
      row.push(score);
    }
    rows.push(row);
  }
  const { ok, assignments, ranked: _ranked, ...rest } = d;
  return { ok, assignments, ...rest, rankedColumns: { scorers, weights, rows } };
}

/** The stored form → the object form (the inverse of {@link encodeStoredDecision}, after a JSON round trip). */
export function decodeStoredDecision(stored: StoredDecision): Decision {
  const cols = stored.rankedColumns;
  if (cols === undefined) return stored as Decision;
  const { ok, assignments, rankedColumns: _cols, ranked: _ranked, ...tail } = stored;
  const ranked = cols.rows.map((row) => ({
    cloudId: String(row[0]),
    total: (row[1] as number) / 100,
    terms: cols.scorers.map((scorer, k) => ({ scorer, score: (row[3 + k] as number) / 100, weight: cols.weights[k] ?? 0 })),
    maxReplicas: row[2] as number,
  }));
  return { ok, assignments, ranked, ...tail };
}

/** `x × 100` as an integer when that is exact (`m / 100 === x`), else null. */
function centi(x: number): number | null {
  const m = Math.round(x * 100);
  return Number.isSafeInteger(m) && m / 100 === x ? m : null;
}
