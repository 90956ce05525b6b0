import { describe, expect, it } from 'vitest';
import type { TaintEffect } from '../../domain/cloud.js';
import { aCloud, aSpec } from '../../test/builders.js';
import type { SpecBuilder } from '../../test/builders.js';
import { verdictOf } from '../../test/scheduler-reference.js';
import { taintsFilter } from './taints.js';

describe('taints filter', () => {
  it.each<[string, TaintEffect, (s: SpecBuilder) => SpecBuilder, boolean]>([
    ['NoSchedule, no toleration', 'NoSchedule', (s) => s, false],
    ['NoSchedule, tolerated by value', 'NoSchedule', (s) => s.tolerate('dedicated', 'gpu'), true],
    ['NoSchedule, other value', 'NoSchedule', (s) => s.tolerate('dedicated', 'ops'), false],
    ['NoSchedule, tolerated by Exists', 'NoSchedule', (s) => s.tolerate('dedicated'), true],
    ['NoSchedule, toleration for another effect', 'NoSchedule', (s) => s.tolerate('dedicated', 'gpu', 'PreferNoSchedule'), false],
    ['NoSchedule, toleration for the same effect', 'NoSchedule', (s) => s.tolerate('dedicated', 'gpu', 'NoSchedule'), true],
    ['PreferNoSchedule never rejects', 'PreferNoSchedule', (s) => s, true],
  ])('%s', (_name, effect, tol, ok) => {
    const v = verdictOf(taintsFilter, tol(aSpec()).build(), aCloud('c').taint('dedicated', 'gpu', effect).build());
    expect(v.ok).toBe(ok);
    if (!v.ok) expect(v).toMatchObject({ reason: 'UNTOLERATED_TAINT', detail: 'taint dedicated=gpu:NoSchedule is not tolerated' });
  });
});
