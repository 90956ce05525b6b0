import { describe, expect, it } from 'vitest';
import { aCloud, aSpec } from '../../test/builders.js';
import type { CloudBuilder, SpecBuilder } from '../../test/builders.js';
import { verdictOf } from '../../test/scheduler-reference.js';
import { attributesFilter } from './attributes.js';

describe('attributes filter', () => {
  it.each<[string, (s: SpecBuilder) => SpecBuilder, (c: CloudBuilder) => CloudBuilder, string | null]>([
    ['no requirement', (s) => s, (c) => c, null],
    ['arch matches', (s) => s.arch('arm64'), (c) => c.arch('arm64'), null],
    ['arch differs', (s) => s.arch('arm64'), (c) => c.arch('amd64'), 'ARCH_MISMATCH'],
    ['xinchuang required, present', (s) => s.xinchuang(), (c) => c.xinchuang(), null],
    ['xinchuang required, absent', (s) => s.xinchuang(), (c) => c, 'NOT_XINCHUANG'],
    ['non-xinchuang required, present', (s) => s.xinchuang(false), (c) => c.xinchuang(), 'XINCHUANG_EXCLUDED'],
    ['gpu model matches', (s) => s.gpuModel('910B'), (c) => c.gpu('910B'), null],
    ['gpu model differs', (s) => s.gpuModel('910B'), (c) => c.gpu('A100'), 'GPU_MODEL_MISMATCH'],
    ['gpu model, no gpu', (s) => s.gpuModel('910B'), (c) => c, 'GPU_MODEL_MISMATCH'],
    ['In matches', (s) => s.label('net', 'In', 'gov', 'edu'), (c) => c.label('net', 'gov'), null],
    ['In, other value', (s) => s.label('net', 'In', 'gov'), (c) => c.label('net', 'pub'), 'LABEL_MISMATCH'],
    ['In, absent', (s) => s.label('net', 'In', 'gov'), (c) => c, 'LABEL_MISMATCH'],
    ['NotIn, other value', (s) => s.label('net', 'NotIn', 'pub'), (c) => c.label('net', 'gov'), null],
    ['NotIn, absent', (s) => s.label('net', 'NotIn', 'pub'), (c) => c, null],
    ['NotIn, listed', (s) => s.label('net', 'NotIn', 'pub'), (c) => c.label('net', 'pub'), 'LABEL_MISMATCH'],
    ['Exists, present', (s) => s.label('net', 'Exists'), (c) => c.label('net', 'x'), null],
    ['Exists, absent', (s) => s.label('net', 'Exists'), (c) => c, 'LABEL_MISMATCH'],
    ['DoesNotExist, absent', (s) => s.label('net', 'DoesNotExist'), (c) => c, null],
    ['DoesNotExist, present', (s) => s.label('net', 'DoesNotExist'), (c) => c.label('net', 'x'), 'LABEL_MISMATCH'],
    ['arch is checked before labels', (s) => s.arch('arm64').label('net', 'Exists'), (c) => c, 'ARCH_MISMATCH'],
  ])('%s', (_name, spec, cloud, reason) => {
    const v = verdictOf(attributesFilter, spec(aSpec()).build(), cloud(aCloud('c')).build());
    expect(v.ok ? null : v.reason).toBe(reason);
  });

  it('names the label expression that failed', () => {
    const v = verdictOf(attributesFilter, aSpec().label('net', 'In', 'gov').build(), aCloud('c').label('net', 'pub').build());
    expect(v).toMatchObject({ ok: false, detail: 'label net=pub, needs net In [gov]' });
  });
});
