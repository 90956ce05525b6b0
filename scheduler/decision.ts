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
 * weights (the strategy's), so they are written once, then one column per field in the order of
 * `clouds`: `totals`, `maxReplicas`, and per scorer its `scores` — or a single number when every
 * ranked cloud has that score (locality without a preference, no taints, nothing held: usually
 * most of the scorers). Totals and scores are rounded to hundredths, so × 100 they are integers,
 * which JSON writes several times faster than fractions; `m / 100` restores the very same number.
 */
export interface StoredRanking {
  readonly scorers: readonly string[];
  readonly weights: readonly number[];
  readonly clouds: readonly string[];
  /** Ranked totals × 100. */
  readonly totals: readonly number[];
  readonly maxReplicas: readonly number[];
  /** Per scorer: the clouds' scores × 100, or the one score × 100 that every cloud has. */
  readonly scores: readonly (number | readonly number[])[];
}

/**
 * The row form rankings were stored in before {@link StoredRanking}, still read: a row per cloud,
 * `[cloudId, total × 100, maxReplicas, ...scores × 100 in scorer order]`.
 */
export interface StoredRankingRows {
  readonly scorers: readonly string[];
  readonly weights: readonly number[];
  readonly rows: readonly (readonly (string | number)[])[];
}

/**
 * The form a decision is stored in with every placement: the bounded explanation of
 * `toJSON()`, with `ranked` replaced by `rankedColumns` when the ranking is non-empty and
 * uniform (an eighth of the bytes: an eight-cloud ranking is ~3 KB as objects). Rows written in
 * the object form or with {@link StoredRankingRows} are valid stored decisions too.
 * {@link decodeStoredDecision} restores the object form.
 */
export type StoredDecision = Omit<Decision, 'ranked'> & { readonly ranked?: Decision['ranked']; readonly rankedColumns?: StoredRanking | StoredRankingRows };

/** Score columns as stored ({@link StoredRanking.scores}): a column of equal scores becomes that score. */
export function foldScores(columns: readonly (readonly number[])[]): (number | readonly number[])[] {
  return columns.map((column) => {
    const first = column[0];
    if (first === undefined) return column;
    for (let i = 1; i < column.length; i++) if (column[i] !== first) return column;
    return first;
  });
}

/** A decision in the object form → its stored form; see {@link StoredDecision}. */
export function encodeStoredDecision(d: Decision): StoredDecision {
  const first = d.ranked[0];
  if (first === undefined) return d;
  const scorers = first.terms.map((t) => t.scorer);
  const weights = first.terms.map((t) => t.weight);
  const clouds: string[] = [];
  const totals: number[] = [];
  const maxReplicas: number[] = [];
  const columns: number[][] = scorers.map(() => []);
  for (const r of d.ranked) {
    if (r.terms.length !== scorers.length) return d;
    const total = centi(r.total);
    if (total === null) return d;
    clouds.push(r.cloudId);
    totals.push(total);
    maxReplicas.push(r.maxReplicas);
    for (let k = 0; k < r.terms.length; k++) {
      const t = r.terms[k];
      const score = t === undefined ? null : centi(t.score);
      if (t === undefined || score === null || t.scorer !== scorers[k] || !Object.is(t.weight, weights[k])) return d;
      columns[k]?.push(score);
    }
  }
  const { ok, assignments, ranked: _ranked, ...rest } = d;
  return { ok, assignments, ...rest, rankedColumns: { scorers, weights, clouds, totals, maxReplicas, scores: foldScores(columns) } };
}

/** The stored form → the object form (the inverse of {@link encodeStoredDecision}, after a JSON round trip). */
export function decodeStoredDecision(stored: StoredDecision): Decision {
  const cols = stored.rankedColumns;
  if (cols === undefined) return stored as Decision;
  const { ok, assignments, rankedColumns: _cols, ranked: _ranked, ...tail } = stored;
  const ranked = 'rows' in cols ? rankedFromRows(cols) : rankedFromColumns(cols);
  return { ok, assignments, ranked, ...tail };
}

function rankedFromColumns(cols: StoredRanking): RankedCloud[] {
  return cols.clouds.map((cloudId, i) => ({
    cloudId,
    total: (cols.totals[i] ?? 0) / 100,
    terms: cols.scorers.map((scorer, k) => {
      const s = cols.scores[k] ?? 0;
      return { scorer, score: (typeof s === 'number' ? s : (s[i] ?? 0)) / 100, weight: cols.weights[k] ?? 0 };
    }),
    maxReplicas: cols.maxReplicas[i] as number,
  }));
}

function rankedFromRows(cols: StoredRankingRows): RankedCloud[] {
  return cols.rows.map((row) => ({
    cloudId: String(row[0]),
    total: (row[1] as number) / 100,
    terms: cols.scorers.map((scorer, k) => ({ scorer, score: (row[3 + k] as number) / 100, weight: cols.weights[k] ?? 0 })),
    maxReplicas: row[2] as number,
  }));
}

/** `x × 100` as an integer when that is exact (`m / 100 === x`), else null. */
function centi(x: number): number | null {
  const m = Math.round(x * 100);
  return Number.isSafeInteger(m) && m / 100 === x ? m : null;
}
