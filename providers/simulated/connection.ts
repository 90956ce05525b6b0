/**
 * Connection settings of a simulated cloud: its capacity and the faults it injects.
 *
 * @packageDocumentation
 */
import { z } from 'zod';

const amount = z.number().int('must be a whole number').nonnegative('must not be negative');
const rate = z.number().min(0, 'must be between 0 and 1').max(1, 'must be between 0 and 1');

/** The zod schema of `cloud.connection` for `kind: simulated`. */
export const SimulatedConnectionSchema = z
  .object({
    /** Capacity per resource; absent → the cloud's registered capacity. */
    capacity: z.object({ cpu: amount, memory: amount, gpu: amount, instances: amount }).partial().strict().optional(),
    /** Latency added to every call, in milliseconds. */
    latencyMs: z.number().nonnegative('must not be negative').max(60_000).default(0),
    /** Probability that a call fails before taking effect (an injected 503). */
    errorRate: rate.default(0),
    /** Probability that a call times out after taking effect (the worst case for idempotency). */
    timeoutRate: rate.default(0),
    /** PRNG seed; absent → a hash of the cloud id, so every cloud differs but replays. */
    seed: z.number().int('must be a whole number').optional(),
    /** How long new replicas take to become ready, in milliseconds of the injected clock. */
    readyAfterMs: z.number().nonnegative('must not be negative').default(0),
    /** Start in an outage (every call fails with UNAVAILABLE). */
    outage: z.boolean().default(false),
  })
  .strict();

/** Validated simulated connection settings. */
export type SimulatedConnection = z.output<typeof SimulatedConnectionSchema>;
/** Simulated connection settings as written in config (defaults not applied). */
export type SimulatedConnectionInput = z.input<typeof SimulatedConnectionSchema>;
