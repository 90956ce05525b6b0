import { describe, expect, it } from 'vitest';
import type { ProviderKind } from '../../domain/cloud.js';
import { aCloud, aSpec } from '../../test/builders.js';
import { verdictOf } from '../../test/scheduler-reference.js';
import { workloadKindFilter } from './workload-kind.js';

describe('workload-kind filter', () => {
  it.each<['container' | 'vm', ProviderKind, boolean]>([
    ['container', 'kubernetes', true],
    ['container', 'simulated', true],
    ['container', 'ec2', false],
    ['vm', 'ec2', true],
    ['vm', 'simulated', true],
    ['vm', 'kubernetes', false],
  ])('%s on %s → %s', (workload, kind, ok) => {
    const spec = workload === 'vm' ? aSpec().vm().build() : aSpec().container().build();
    const v = verdictOf(workloadKindFilter, spec, aCloud('c').kind(kind).build());
    expect(v.ok).toBe(ok);
    if (!v.ok) {
      expect(v.reason).toBe('WORKLOAD_KIND_MISMATCH');
      expect(v.detail).toContain(kind);
    }
  });
});
