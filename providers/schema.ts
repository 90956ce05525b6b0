/**
 * Pieces of connection schemas shared by several provider kinds.
 *
 * @packageDocumentation
 */
import { z } from 'zod';

const amount = z.number().int('must be a whole number').nonnegative('must not be negative');

/** A capacity declared by the operator, per resource (`cpu` millicores, `memory` MiB, counts); absent resources are zero. */
export const DeclaredCapacitySchema = z.object({ cpu: amount, memory: amount, gpu: amount, instances: amount }).partial().strict();

/** A per-request deadline in milliseconds. */
export const RequestTimeoutSchema = z.number().int('must be a whole number').min(100, 'must be at least 100 ms').max(300_000, 'must be at most 300000 ms');
