import { describe, expect, it } from 'vitest';
import { aCloud, aSpec } from '../../test/builders.js';
import { verdictOf } from '../../test/scheduler-reference.js';
import { capacityFilter } from './capacity.js';

describe('capacity filter', () => {
  it.each<[string, number, number, number, string | null]>([
    ['fits', 4096, 8192, 0, null],
    ['exactly fits', 4096, 4096, 0, null],
    ['too little memory', 4096, 1024, 0, 'INSUFFICIENT_MEMORY'],
    ['held replicas are credited back', 4096, 1024, 1, null],
  ])('%s', (_name, need, free, held, reason) => {
    const cloud = aCloud('c').memory(65_536).allocated({ memory: 65_536 - free }).build();
    const v = verdictOf(capacityFilter, aSpec().memory(need).build(), cloud, { current: held > 0 ? [{ cloudId: 'c', replicas: held }] : [] });
    expect(v.ok ? null : v.reason).toBe(reason);
  });

  it('says how much is needed and free', () => {
    const cloud = aCloud('c').memory(8192).allocated({ memory: 7168 }).build();
    expect(verdictOf(capacityFilter, aSpec().memory(4096).build(), cloud)).toMatchObject({
      ok: false,
      reason: 'INSUFFICIENT_MEMORY',
      detail: 'insufficient memory: needs 4096 MiB per replica, 1024 MiB free',
    });
  });

  it.each<[string, string]>([
    ['cpu', 'INSUFFICIENT_CPU'],
    ['gpu', 'INSUFFICIENT_GPU'],
  ])('checks %s', (resource, reason) => {
    const cloud = aCloud('c').capacity({ cpu: 1000, gpu: 1 }).build();
    const spec = resource === 'cpu' ? aSpec().cpu(2000).build() : aSpec().cpu(100).gpu(2).build();
    expect(verdictOf(capacityFilter, spec, cloud)).toMatchObject({ ok: false, reason });
  });

  it('a vm needs a free instance', () => {
    const cloud = aCloud('c').kind('ec2').instances(2).allocated({ instances: 2 }).build();
    expect(verdictOf(capacityFilter, aSpec().vm().build(), cloud)).toMatchObject({ ok: false, reason: 'INSUFFICIENT_INSTANCES' });
    expect(verdictOf(capacityFilter, aSpec().container().build(), cloud).ok).toBe(true);
  });
});
