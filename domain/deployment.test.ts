import { describe, expect, it } from 'vitest';
import { demandPerReplica, parseDeploymentSpec } from './deployment.js';
import { isTianshuError } from './errors.js';
import { MLPS, Tiers } from './tiers.js';

const tiers = new Tiers(MLPS);
const base = {
  tenant: 'gd/sz/health',
  name: 'clinic-api',
  workload: { kind: 'container', image: 'registry.gd.gov.cn/clinic:1.2' },
  replicas: 3,
  resources: { cpu: 500, memory: 1024 },
  minTier: 'L3',
};

function fieldOf(input: unknown): string | undefined {
  try {
    parseDeploymentSpec(input, tiers);
  } catch (e) {
    if (isTianshuError(e, 'VALIDATION')) return e.details.field;
    throw e;
  }
  return undefined;
}

describe('parseDeploymentSpec', () => {
  it('applies defaults to a minimal spec', () => {
    const spec = parseDeploymentSpec(base, tiers);
    expect(spec.strategy).toBe('binpack');
    expect(spec.spread).toEqual({ minClouds: 1, topology: 'cloud' });
    expect(spec.residency).toEqual([]);
    expect(demandPerReplica(spec)).toEqual({ cpu: 500, memory: 1024, gpu: 0, instances: 0 });
  });

  it('counts one instance per VM replica', () => {
    const spec = parseDeploymentSpec({ ...base, workload: { kind: 'vm', image: 'ami-1' } }, tiers);
    expect(demandPerReplica(spec).instances).toBe(1);
  });

  it.each([
    ['negative replicas', { ...base, replicas: -1 }, 'replicas'],
    ['fractional replicas', { ...base, replicas: 1.5 }, 'replicas'],
    ['unknown tier', { ...base, minTier: 'L7' }, 'minTier'],
    ['malformed residency', { ...base, residency: ['cn//gd'] }, 'residency[0]'],
    ['malformed preference', { ...base, localityPreference: 'CN/GD' }, 'localityPreference'],
    ['empty resources', { ...base, resources: {} }, 'resources'],
    ['minClouds above replicas', { ...base, spread: { minClouds: 4 } }, 'spread.minClouds'],
    ['unknown field', { ...base, colour: 'red' }, '(root)'],
    ['bad tenant', { ...base, tenant: 'GD' }, 'tenant'],
    ['bad workload kind', { ...base, workload: { kind: 'lambda', image: 'x' } }, 'workload.kind'],
  ])('refuses %s naming the field', (_label, input, field) => {
    expect(fieldOf(input)).toBe(field);
  });
});
