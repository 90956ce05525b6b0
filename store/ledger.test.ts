import { describe, expect, it } from 'vitest';
import { TianshuError } from '../domain/errors.js';
import { resources, ZERO } from '../domain/resources.js';
import type { Tenant } from '../domain/tenant.js';
import { headroomOf, quotaViolation, usageDelta, usageOf, validateQuota, withUsage } from './ledger.js';

const container = { resources: { cpu: 500, memory: 256, gpu: 0 }, workload: { kind: 'container' as const, image: 'x' } };
const vm = { resources: { cpu: 1000, memory: 1024, gpu: 0 }, workload: { kind: 'vm' as const, image: 'x' } };

function tenant(path: string, total: Tenant['quota']['total'], byTier: Tenant['quota']['byTier'] = {}, usage = ZERO, usageByTier: Tenant['usageByTier'] = {}): Tenant {
  return { path, displayName: path, quota: { total, byTier }, usage, usageByTier, version: 1 };
}

describe('ledger arithmetic', () => {
  it('sums slices in total and per tier; a VM replica also takes an instance', () => {
    const u = usageOf(vm, [
      { cloudId: 'a', replicas: 2, tier: 'L3' },
      { cloudId: 'b', replicas: 1, tier: 'L4' },
    ]);
    expect(u.total).toEqual(resources({ cpu: 3000, memory: 3072, instances: 3 }));
    expect(u.byTier.L4).toEqual(resources({ cpu: 1000, memory: 1024, instances: 1 }));
  });

  it('computes deltas and drops tiers that fall to zero', () => {
    const before = usageOf(container, [{ cloudId: 'a', replicas: 2, tier: 'L3' }]);
    const after = usageOf(container, [{ cloudId: 'b', replicas: 1, tier: 'L4' }]);
    const d = usageDelta(before, after);
    expect(d.total.cpu).toBe(-500);
    const t = withUsage(withUsage(tenant('gd', {}), before), d);
    expect(Object.keys(t.usageByTier)).toEqual(['L4']);
  });

  it.each([
    ['fits exactly', tenant('gd', { cpu: 1000 }), 1000, null],
    ['exceeds the total', tenant('gd', { cpu: 999 }), 1000, /cpu would reach 1000m, over its limit of 999m/],
    ['exceeds a lowered limit', tenant('gd', { cpu: 100 }, {}, resources({ cpu: 500 })), 500, /lowered below usage/],
    ['releases under a lowered limit', tenant('gd', { cpu: 100 }, {}, resources({ cpu: 500 })), -500, null],
  ])('%s', (_name, t, cpu, expected) => {
    const v = quotaViolation(t, { total: resources({ cpu }), byTier: {} });
    if (expected === null) expect(v).toBeNull();
    else expect(v).toMatch(expected);
  });

  it('checks per-tier limits against usage on that tier only', () => {
    const t = tenant('gd', {}, { L4: { cpu: 1000 } }, resources({ cpu: 5000 }), { L3: resources({ cpu: 5000 }) });
    expect(quotaViolation(t, { total: resources({ cpu: 1000 }), byTier: { L4: resources({ cpu: 1000 }) } })).toBeNull();
    expect(quotaViolation(t, { total: resources({ cpu: 1001 }), byTier: { L4: resources({ cpu: 1001 }) } })).toMatch(/L4 cpu/);
    expect(headroomOf(t)).toEqual({ tenant: 'gd', total: {}, byTier: { L4: { cpu: 1000 } } });
  });

  it.each([
    [{ total: { cpu: 2000 }, byTier: {} }, 'quota.total.cpu'],
    [{ total: {}, byTier: { L4: { cpu: 2000 } } }, 'quota.byTier.L4.cpu'],
    [{ total: { cpu: -1 }, byTier: {} }, 'quota.total.cpu'],
    [{ total: { disk: 1 }, byTier: {} }, 'quota.total.disk'],
  ])('refuses %o naming %s', (quota, field) => {
    try {
      validateQuota(quota as Tenant['quota'], tenant('gd', { cpu: 1000 }));
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(TianshuError);
      expect((e as TianshuError).details.field).toBe(field);
    }
  });
});
