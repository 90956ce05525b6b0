import { describe, expect, it } from 'vitest';
import type { Headroom } from '../../domain/tenant.js';
import { aCloud, aSpec, headroomOf } from '../../test/builders.js';
import { verdictOf } from '../../test/scheduler-reference.js';
import { quotaFilter } from './quota.js';

describe('quota filter', () => {
  it.each<[string, Headroom[], string, boolean]>([
    ['no limits', [], 'L3', true],
    ['root total admits one', [headroomOf('gd', { memory: 1024 })], 'L3', true],
    ['root total too small', [headroomOf('gd', { memory: 1023 })], 'L3', false],
    ['child too small, root fine', [headroomOf('gd', { memory: 100_000 }), headroomOf('gd/sz', { memory: 10 })], 'L3', false],
    ['negative headroom (quota lowered below usage)', [headroomOf('gd', { memory: -5 })], 'L3', false],
    ['limit on an unrequested resource', [headroomOf('gd', { gpu: 0 })], 'L3', true],
    ['per-tier limit of the cloud tier', [headroomOf('gd', {}, { L3: { memory: 100 } })], 'L3', false],
    ['per-tier limit of another tier', [headroomOf('gd', {}, { L4: { memory: 100 } })], 'L3', true],
  ])('%s', (_name, headroom, tier, ok) => {
    const v = verdictOf(quotaFilter, aSpec().memory(1024).build(), aCloud('c').tier(tier).build(), { headroom });
    expect(v.ok).toBe(ok);
    if (!v.ok) expect(v.reason).toBe('QUOTA_EXCEEDED');
  });

  it('credits held replicas back', () => {
    const headroom = [headroomOf('gd', { memory: 0 }, { L3: { memory: 0 } })];
    const v = verdictOf(quotaFilter, aSpec().memory(1024).build(), aCloud('c').build(), { headroom, current: [{ cloudId: 'c', replicas: 1 }] });
    expect(v.ok).toBe(true);
  });

  it('names the tenant, the resource and the tier', () => {
    const v = verdictOf(quotaFilter, aSpec().memory(4096).build(), aCloud('c').build(), { headroom: [headroomOf('gd'), headroomOf('gd/sz', {}, { L3: { memory: 1024 } })] });
    expect(v).toMatchObject({ ok: false, detail: 'tenant gd/sz: 1024 MiB memory left on L3 clouds, needs 4096 MiB per replica' });
  });
});
