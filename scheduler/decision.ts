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
 * stays small whatever the size of the fleet.
 */
export const STORED_EXPLANATION_BOUNDS: ExplanationBounds = Object.freeze({ ranked: 16, rejectedPerReason: 8 });
