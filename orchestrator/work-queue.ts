/**
 * A keyed work queue with delays, bounded concurrency and per-key serialisation — one per cloud,
 * so a slow or broken cloud only ever delays its own slices.
 *
 * A key (one slice: deployment × cloud) is at most once in the queue and at most once in flight:
 * adding a waiting key keeps the earlier due time (deduplication); adding a key that is being
 * processed schedules exactly one more run after the current one ends, because the desired state
 * may have changed underneath it. The processor decides what to do from the state it reads when
 * it runs, never from the state when the key was added, so a stale add is harmless.
 *
 * @packageDocumentation
 */
import { backoffDelay } from './backoff.js';
import type { BackoffConfig } from './backoff.js';
import type { Clock, TimerHandle } from './clock.js';

/** What a processor asks of the queue once it has handled a key. */
export type QueueResult =
  /** Converged: forget the key (and its retry count). */
  | { readonly kind: 'done' }
  /** Failed in a way a later attempt may fix: requeue on the backoff schedule (attempt count + 1). */
  | { readonly kind: 'retry' }
  /** Look again after `ms` without counting an attempt (a progressing rollout, an open breaker). */
  | { readonly kind: 'after'; readonly ms: number };

/** Handles one key; a throw is treated as `retry`. */
export type Processor<V> = (key: string, value: V, attempt: number) => Promise<QueueResult>;

/** Options of a {@link WorkQueue}. */
export interface WorkQueueOptions<V> {
  readonly clock: Clock;
  readonly random: () => number;
  readonly backoff: BackoffConfig;
  /** Keys processed at the same time. */
  readonly concurrency: number;
  readonly process: Processor<V>;
  /** Called when a processor throws (the key is retried). */
  readonly onError?: (key: string, error: unknown) => void;
}

interface Entry<V> {
  value: V;
  readyAt: number;
  /** When the key first started waiting (for lag). */
  since: number;
}

/** A keyed delay queue; see the module comment. */
export class WorkQueue<V> {
  private readonly due = new Map<string, Entry<V>>();
  private readonly later = new Map<string, Entry<V>>();
  /** Keys in flight, with the entry to run after them when they were added again meanwhile. */
  private readonly active = new Map<string, Entry<V> | null>();
  private readonly attempts = new Map<string, number>();
  private timer: TimerHandle | null = null;
  private timerAt = Number.POSITIVE_INFINITY;
  private stopped = false;

  constructor(private readonly o: WorkQueueOptions<V>) {}

  /** Adds `key` to run after `delayMs` (0: now); see the module comment for deduplication. */
  add(key: string, value: V, delayMs = 0): void {
    if (this.stopped) return;
    const now = this.o.clock.now();
    const readyAt = now + Math.max(0, delayMs);
    if (this.active.has(key)) {
      const next = this.active.get(key) ?? null;
      this.active.set(key, next === null ? { value, readyAt, since: now } : { value, readyAt: Math.min(next.readyAt, readyAt), since: next.since });
      return;
    }
    const prev = this.due.get(key) ?? this.later.get(key);
    const entry: Entry<V> = prev === undefined ? { value, readyAt, since: now } : { value, readyAt: Math.min(prev.readyAt, readyAt), since: prev.since };
    this.place(key, entry, now);
    this.pump();
  }

  /** True when `key` is waiting or in flight. */
  has(key: string): boolean {
    return this.due.has(key) || this.later.has(key) || this.active.has(key);
  }

  /** Keys waiting (due or delayed), not counting those in flight. */
  get depth(): number {
    return this.due.size + this.later.size;
  }

  /** Keys in flight. */
  get inFlight(): number {
    return this.active.size;
  }

  /** Age in ms of the oldest waiting key; 0 when none waits. */
  lagMs(): number {
    const now = this.o.clock.now();
    let oldest = now;
    for (const e of this.due.values()) oldest = Math.min(oldest, e.since);
    for (const e of this.later.values()) oldest = Math.min(oldest, e.since);
    return now - oldest;
  }

  /** Drops everything waiting and ignores the results of calls in flight. */
  stop(): void {
    this.stopped = true;
    this.due.clear();
    this.later.clear();
    this.attempts.clear();
    if (this.timer !== null) this.o.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  private place(key: string, entry: Entry<V>, now: number): void {
    this.due.delete(key);
    this.later.delete(key);
    if (entry.readyAt <= now) this.due.set(key, entry);
    else this.later.set(key, entry);
  }

  private pump(): void {
    if (this.stopped) return;
    while (this.active.size < this.o.concurrency && this.due.size > 0) {
      const first = this.due.entries().next();
      if (first.done === true) break;
      const [key, entry] = first.value;
      this.due.delete(key);
      this.run(key, entry);
    }
    this.arm();
  }

  private arm(): void {
    if (this.later.size === 0) return;
    let min = Number.POSITIVE_INFINITY;
    for (const e of this.later.values()) min = Math.min(min, e.readyAt);
    if (min >= this.timerAt && this.timer !== null) return;
    if (this.timer !== null) this.o.clock.clearTimeout(this.timer);
    this.timerAt = min;
    this.timer = this.o.clock.setTimeout(() => this.wake(), Math.max(0, min - this.o.clock.now()));
  }

  private wake(): void {
    this.timer = null;
    this.timerAt = Number.POSITIVE_INFINITY;
    if (this.stopped) return;
    const now = this.o.clock.now();
    for (const [key, e] of this.later) {
      if (e.readyAt <= now) {
        this.later.delete(key);
        this.due.set(key, e);
      }
    }
    this.pump();
  }

  private run(key: string, entry: Entry<V>): void {
    this.active.set(key, null);
    const attempt = this.attempts.get(key) ?? 0;
    let result: Promise<QueueResult>;
    try {
      result = this.o.process(key, entry.value, attempt);
    } catch (e) {
      result = Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
    result
      .catch((e: unknown): QueueResult => {
        this.o.onError?.(key, e);
        return { kind: 'retry' };
      })
      .then((r) => this.settle(key, entry, r))
      .catch((e: unknown) => this.o.onError?.(key, e));
  }

  private settle(key: string, entry: Entry<V>, r: QueueResult): void {
    const again = this.active.get(key) ?? null;
    this.active.delete(key);
    if (this.stopped) return;
    const now = this.o.clock.now();
    let next: Entry<V> | null = null;
    if (r.kind === 'done') {
      this.attempts.delete(key);
    } else if (r.kind === 'retry') {
      const n = (this.attempts.get(key) ?? 0) + 1;
      this.attempts.set(key, n);
      next = { value: entry.value, readyAt: now + backoffDelay(n, this.o.backoff, this.o.random), since: entry.since };
    } else {
      next = { value: entry.value, readyAt: now + Math.max(0, r.ms), since: entry.since };
    }
    // Added again while in flight: the desired state may have changed, so run again (and soon).
    if (again !== null) next = next === null ? again : { value: again.value, readyAt: Math.min(next.readyAt, again.readyAt), since: next.since };
    if (next !== null) this.place(key, next, now);
    this.pump();
  }
}
