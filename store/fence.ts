/**
 * Fencing: the check that keeps a deposed leader from writing. An actor carrying a
 * {@link Fence} has its mutations tagged by {@link fenced}; each engine reads the `leader_lease`
 * row inside the write's transaction (PostgreSQL: `FOR SHARE`, so a new leader's token increment
 * waits for the write to commit, or the write sees the new token) and calls {@link checkFence}.
 */
import { TianshuError } from '../domain/errors.js';
import type { Op } from './engine.js';
import type { Actor, Fence } from './store.js';

/** Tags the mutation `op` produces with the actor's fence, if any; reads pass untouched. */
export function fenced<T>(actor: Actor, op: Op<T>): Op<T> {
  const fence = actor.fence;
  if (fence === undefined) return op;
  return async (reader, ctx) => {
    const out = await op(reader, ctx);
    return out.kind === 'read' ? out : { kind: 'write', mutation: { ...out.mutation, fence } };
  };
}

/**
 * Refuses a write whose token is older than the lease's current one (`current` null: the lease
 * was never taken, nothing is newer). Not retryable: the writer is no longer the leader.
 */
export function checkFence(fence: Fence, current: number | null): void {
  if (current !== null && isFencedOut(fence, current)) throw fencedOut(fence, current);
}

/** Whether a lease held with token `current` has been taken over since `fence` was acquired. */
export function isFencedOut(fence: Fence, current: number): boolean {
  return current > fence.token;
}

/** The error of a write refused because the lease named by `fence` is now held with token `current`. */
export function fencedOut(fence: Fence, current: number): TianshuError {
  return new TianshuError(
    'CONFLICT',
    `fenced: lease "${fence.name}" is held with token ${current}, this write carries ${fence.token} (a newer leader took over)`,
    { lease: fence.name, token: fence.token, current },
    { retryable: false },
  );
}
