/**
 * `deploymentPhasesFromStore`: counts every deployment by phase across pages, recounts at most once
 * per refresh interval, one count at a time, and keeps the last counts when a recount fails.
 */
import { describe, expect, it } from 'vitest';
import type { Deployment, Phase } from '../domain/deployment.js';
import { deploymentPhasesFromStore } from '../observability/views.js';
import type { Page } from '../store/store.js';

function fakeStore(phases: Phase[]) {
  const state = { phases, calls: 0, fail: false };
  return {
    state,
    listDeployments(q: { first: number; after?: string }): Promise<Page<Deployment>> {
      state.calls++;
      if (state.fail) return Promise.reject(new Error('store down'));
      const start = q.after === undefined ? 0 : Number(q.after);
      const items = state.phases.slice(start, start + q.first).map((phase, i) => ({ id: String(start + i), phase }) as unknown as Deployment);
      const end = start + items.length;
      return Promise.resolve({ items, nextCursor: end < state.phases.length ? String(end) : null });
    },
  };
}

describe('deploymentPhasesFromStore', () => {
  it('counts across pages', async () => {
    const store = fakeStore(['Running', 'Running', 'Pending', 'Degraded', 'Running']);
    const counts = await deploymentPhasesFromStore(store, { pageSize: 2 })();
    expect(counts).toEqual({ Running: 3, Pending: 1, Degraded: 1 });
    expect(store.state.calls).toBe(3);
  });

  it('recounts at most once per interval, in the background, and keeps the last counts on failure', async () => {
    let t = 0;
    const store = fakeStore(['Running']);
    const phases = deploymentPhasesFromStore(store, { refreshMs: 1000, now: () => t });
    expect(await phases()).toEqual({ Running: 1 });
    store.state.phases = ['Running', 'Failed'];
    t = 500;
    expect(await phases()).toEqual({ Running: 1 });
    expect(store.state.calls).toBe(1);
    t = 1000;
    // Stale: the last counts now, the recount lands for the next call.
    expect(await phases()).toEqual({ Running: 1 });
    await Promise.all([phases(), phases()]);
    expect(await phases()).toEqual({ Running: 1, Failed: 1 });
    expect(store.state.calls).toBe(2);
    store.state.fail = true;
    t = 5000;
    expect(await phases()).toEqual({ Running: 1, Failed: 1 });
    await new Promise((r) => setTimeout(r, 0));
    expect(await phases()).toEqual({ Running: 1, Failed: 1 });
  });

  it('rejects the first count when the store fails, so the metrics count a source error', async () => {
    const store = fakeStore([]);
    store.state.fail = true;
    await expect(deploymentPhasesFromStore(store)()).rejects.toThrow('store down');
  });
});
