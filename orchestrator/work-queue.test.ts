import { describe, expect, it } from 'vitest';
import type { Clock } from './clock.js';
import { WorkQueue } from './work-queue.js';
import type { QueueResult } from './work-queue.js';

/** A clock whose timers fire only when the test advances it. */
function manualClock(): Clock & { advance(ms: number): void } {
  let now = 0;
  let seq = 0;
  const timers = new Map<number, { at: number; fn: () => void }>();
  return {
    now: () => now,
    setTimeout: (fn, ms) => {
      const id = ++seq;
      timers.set(id, { at: now + ms, fn });
      return id;
    },
    clearTimeout: (h) => void timers.delete(h as number),
    advance(ms) {
      now += ms;
      for (const [id, t] of [...timers].sort((a, b) => a[1].at - b[1].at)) {
        if (t.at <= now) {
          timers.delete(id);
          t.fn();
        }
      }
    },
  };
}

const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('WorkQueue', () => {
  it('deduplicates a waiting key and runs a key added while in flight once more afterwards', async () => {
    const clock = manualClock();
    const seen: string[] = [];
    const releases: (() => void)[] = [];
    const release = (): void => releases.shift()?.();
    const q = new WorkQueue<string>({
      clock,
      random: () => 0.5,
      backoff: { baseMs: 100, maxMs: 1_000 },
      concurrency: 1,
      process: (key, value) => {
        seen.push(`${key}=${value}`);
        return new Promise<QueueResult>((r) => void releases.push(() => r({ kind: 'done' })));
      },
    });
    q.add('a', '1');
    q.add('b', '1');
    q.add('b', '2');
    expect(q.depth).toBe(1);
    q.add('a', '3');
    release();
    await flush();
    release();
    await flush();
    release();
    await flush();
    expect(seen).toEqual(['a=1', 'b=2', 'a=3']);
  });

  it('retries on the jittered backoff schedule and counts attempts', async () => {
    const clock = manualClock();
    const attempts: number[] = [];
    const q = new WorkQueue<null>({
      clock,
      random: () => 0.5,
      backoff: { baseMs: 100, maxMs: 1_000 },
      concurrency: 4,
      process: (_k, _v, attempt) => {
        attempts.push(attempt);
        return Promise.resolve<QueueResult>(attempt < 2 ? { kind: 'retry' } : { kind: 'done' });
      },
    });
    q.add('k', null);
    await flush();
    expect(attempts).toEqual([0]);
    clock.advance(49);
    await flush();
    expect(attempts).toEqual([0]);
    clock.advance(1);
    await flush();
    expect(attempts).toEqual([0, 1]);
    clock.advance(100);
    await flush();
    expect(attempts).toEqual([0, 1, 2]);
    expect(q.has('k')).toBe(false);
  });

  it('keeps one slow key from blocking others up to the concurrency', async () => {
    const clock = manualClock();
    const done: string[] = [];
    const q = new WorkQueue<null>({
      clock,
      random: () => 0,
      backoff: { baseMs: 1, maxMs: 1 },
      concurrency: 2,
      process: (key) => (key === 'slow' ? new Promise<QueueResult>(() => undefined) : Promise.resolve<QueueResult>({ kind: 'done' })).finally(() => done.push(key)),
    });
    q.add('slow', null);
    for (let i = 0; i < 5; i++) q.add(`k${i}`, null);
    for (let i = 0; i < 10; i++) await flush();
    expect(done).toEqual(['k0', 'k1', 'k2', 'k3', 'k4']);
    expect(q.inFlight).toBe(1);
  });
});
