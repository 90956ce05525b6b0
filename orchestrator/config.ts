/**
 * The orchestrator's settings: validated once (zod, strict, errors naming the field), defaults
 * applied, frozen.
 *
 * @packageDocumentation
 */
import { z } from 'zod';
import { parseWith } from '../domain/validation.js';

const ms = z.number().int('must be a whole number of milliseconds').positive('must be positive');
const rate = z.number().positive('must be positive').max(10_000);

/** The zod schema of the orchestrator's configuration. */
export const OrchestratorConfigSchema = z
  .object({
    /** The periodic pass: failover and drain checks, resync of deployments not yet settled. */
    reconcileIntervalMs: ms.default(5_000),
    /** How often each cloud's `health()` is probed. */
    probeIntervalMs: ms.default(5_000),
    /** Consecutive failed probes that mark a cloud NotReady. */
    probeFailuresToNotReady: z.number().int().min(1).max(100).default(3),
    /** How often each cloud's inventory is read (capacity written to the store when it changed). */
    inventoryIntervalMs: ms.default(60_000),
    /** How long a cloud stays NotReady before its slices are re-placed elsewhere. */
    failoverGraceMs: ms.default(60_000),
    /** Deployments moved off a draining cloud per second. */
    drainRatePerSecond: rate.default(5),
    /** Degraded/Pending deployments re-planned per second when capacity appears. */
    rebalanceRatePerSecond: rate.default(5),
    /** Retry schedule of a failed slice step: full jitter over `min(maxMs, baseMs · 2^attempt)`. */
    backoff: z.object({ baseMs: ms.default(500), maxMs: ms.default(60_000) }).strict().default({ baseMs: 500, maxMs: 60_000 }),
    /** Consecutive availability failures of one cloud that open its circuit breaker. */
    breakerThreshold: z.number().int().min(1).max(1_000).default(5),
    /** How long an open breaker holds calls back before one trial; default `backoff.maxMs / 2`. */
    breakerOpenMs: ms.optional(),
    /** Provider calls in flight per cloud. */
    concurrencyPerCloud: z.number().int().min(1).max(256).default(8),
    /** Deadline of one provider call (the adapters have their own; this guards against a hung one). */
    callTimeoutMs: ms.default(30_000),
    /** How often leadership is renewed, or acquisition retried by a follower. */
    leaseIntervalMs: ms.default(2_000),
    /** Every this many passes, every deployment is resynced and every cloud swept for leftovers. */
    fullResyncEvery: z.number().int().min(1).max(10_000).default(12),
  })
  .strict();

/** Configuration as written (defaults not applied). */
export type OrchestratorConfigInput = z.input<typeof OrchestratorConfigSchema>;

/** Validated configuration. */
export type OrchestratorConfig = Readonly<z.output<typeof OrchestratorConfigSchema>> & { readonly breakerOpenMs: number };

/** Validates `input` (VALIDATION errors name the field, e.g. `orchestrator.backoff.baseMs`) and freezes it. */
export function parseOrchestratorConfig(input: unknown, root = 'orchestrator'): OrchestratorConfig {
  const c = parseWith(OrchestratorConfigSchema, input ?? {}, root);
  return Object.freeze({ ...c, backoff: Object.freeze({ ...c.backoff }), breakerOpenMs: c.breakerOpenMs ?? Math.max(1, Math.floor(c.backoff.maxMs / 2)) });
}
