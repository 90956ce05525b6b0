/**
 * Time for the orchestrator: what "now" is and how to wait. Injected so tests can drive the loops
 * with a manual clock, or simply with short intervals on the real one.
 *
 * @packageDocumentation
 */

/** An opaque timer handle. */
export type TimerHandle = object | number;

/** A source of time and timers. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Calls `fn` once after `ms` milliseconds; returns a handle for {@link Clock.clearTimeout}. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** The process clock. Timers are `unref`'d so an idle orchestrator never keeps Node alive. */
export const systemClock: Clock = Object.freeze({
  now: () => Date.now(),
  setTimeout: (fn: () => void, ms: number): TimerHandle => {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout: (handle: TimerHandle): void => clearTimeout(handle as ReturnType<typeof setTimeout>),
});
