import { describe, expect, it } from 'vitest';
import type { Deployment } from '../domain/deployment.js';
import { parseDeploymentSpec } from '../domain/deployment.js';
import { Tiers } from '../domain/tiers.js';
import { aCloud } from '../test/builders.js';
import { createScheduler, planner as plannerOf } from '../scheduler/scheduler.js';
import { choosePreemption, mayPreempt, quotaAncestor, withoutVictims } from './preemption.js';

const tiers = new Tiers();
const plan = plannerOf(createScheduler({ tiers }), tiers);

function dep(name: string, tenant: string, priority: number, replicas: number, cloudId: string | null, createdAt = '2025-01-01T00:00:00Z'): Deployment {
  const spec = parseDeploymentSpec({ tenant, name, workload: { kind: 'container', image: 'x' }, replicas, resources: { cpu: 1_000, memory: 0 }, minTier: 'L1', priority }, tiers);
  return { id: name, tenant, name, spec, generation: 1, phase: cloudId === null ? 'Pending' : 'Running', slices: cloudId === null ? [] : [{ cloudId, replicas }], message: '', createdAt, updatedAt: createdAt, version: 1 };
}

describe('preemption', () => {
  const cloud = aCloud('c1').cpu(6_000).allocated({ cpu: 6_000 }).build();
  const state = { clouds: [cloud], headroom: [{ tenant: 'gd', total: {}, byTier: {} }] };

  it('evicts the fewest, lowest-priority victims that make room, sparing the unneeded', () => {
    const low = dep('low', 'gd/a', 1, 1, 'c1');
    const mid = dep('mid', 'gd/b', 5, 3, 'c1', '2025-01-02T00:00:00Z');
    const midOld = dep('mid-old', 'gd/b', 5, 2, 'c1');
    const urgent = dep('urgent', 'gd/c', 9, 3, null);
    const choice = choosePreemption(urgent, [mid, low, midOld], state, plan);
    // low (1 replica) alone is not enough; adding the newest mid (3) is; then low is not needed.
    expect(choice?.victims.map((v) => v.id)).toEqual(['mid']);
    expect(choice?.decision.ok).toBe(true);
  });

  it('gives up when even every candidate would not be enough', () => {
    expect(choosePreemption(dep('huge', 'gd/c', 9, 10, null), [dep('low', 'gd/a', 1, 1, 'c1')], state, plan)).toBeNull();
  });

  it('credits the victims back to the capacity and to the quota nodes they share', () => {
    const s = withoutVictims({ clouds: [cloud], headroom: [{ tenant: 'gd', total: { cpu: 0 }, byTier: {} }, { tenant: 'gd/c', total: { cpu: 0 }, byTier: {} }] }, [dep('low', 'gd/a', 1, 2, 'c1')]);
    expect(s.clouds[0]?.allocated.cpu).toBe(4_000);
    expect(s.headroom.map((h) => h.total.cpu)).toEqual([2_000, 0]);
  });

  it.each([
    ['lower priority, same subtree', dep('v', 'gd/a', 1, 1, 'c1'), true],
    ['equal priority', dep('v', 'gd/a', 9, 1, 'c1'), false],
    ['another subtree', dep('v', 'bj/a', 1, 1, 'c1'), false],
    ['holds nothing', dep('v', 'gd/a', 1, 1, null), false],
  ])('%s: may preempt = %s', (_what, victim, want) => {
    expect(mayPreempt(dep('p', 'gd/c', 9, 1, null), victim, 'gd')).toBe(want);
  });

  it('stays under the highest ancestor that carries a quota, or the root', () => {
    const none = { total: {}, byTier: {} };
    expect(quotaAncestor('gd/sz/health', [{ path: 'gd', quota: none }, { path: 'gd/sz', quota: { total: { cpu: 1 }, byTier: {} } }, { path: 'gd/sz/health', quota: none }])).toBe('gd/sz');
    expect(quotaAncestor('gd/sz', [{ path: 'gd', quota: none }, { path: 'gd/sz', quota: none }])).toBe('gd');
  });
});
