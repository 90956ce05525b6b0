import { describe, expect, it } from 'vitest';
import { parseDeploymentSpec } from '../domain/deployment.js';
import { isTianshuError } from '../domain/errors.js';
import { aSpec, TEST_TIERS } from '../test/builders.js';

function refusal(input: unknown): { code: string; field: unknown; message: string } {
  try {
    parseDeploymentSpec(input, TEST_TIERS);
  } catch (e) {
    if (!isTianshuError(e)) throw e;
    return { code: e.code, field: e.details.field, message: e.message };
  }
  throw new Error('accepted');
}

describe('bad specs are refused by parseDeploymentSpec with a VALIDATION error naming the field', () => {
  it.each<[string, (i: Record<string, unknown>) => Record<string, unknown>, string]>([
    ['negative replicas', (i) => ({ ...i, replicas: -1 }), 'replicas'],
    ['fractional replicas', (i) => ({ ...i, replicas: 1.5 }), 'replicas'],
    ['unknown tier', (i) => ({ ...i, minTier: 'L9' }), 'minTier'],
    ['malformed residency locality', (i) => ({ ...i, residency: ['CN//gd'] }), 'residency[0]'],
    ['malformed preference locality', (i) => ({ ...i, localityPreference: 'cn/' }), 'localityPreference'],
    ['empty resources', (i) => ({ ...i, resources: {} }), 'resources'],
    ['all-zero resources', (i) => ({ ...i, resources: { cpu: 0, memory: 0 } }), 'resources'],
    ['negative cpu', (i) => ({ ...i, resources: { cpu: -5 } }), 'resources.cpu'],
    ['minClouds above replicas', (i) => ({ ...i, replicas: 2, spread: { minClouds: 3 } }), 'spread.minClouds'],
    ['zero minClouds', (i) => ({ ...i, spread: { minClouds: 0 } }), 'spread.minClouds'],
    ['unknown field', (i) => ({ ...i, colour: 'red' }), '(root)'],
  ])('%s', (_name, mutate, field) => {
    const r = refusal(mutate(aSpec().replicas(3).input()));
    expect(r.code).toBe('VALIDATION');
    expect(r.field).toBe(field);
    expect(r.message).toContain(field === '(root)' ? '' : field);
  });

  it('accepts a good spec and applies defaults', () => {
    const spec = parseDeploymentSpec({ tenant: 'gd/sz', name: 'web', workload: { kind: 'container', image: 'x' }, replicas: 3, resources: { cpu: 100 }, minTier: 'L2' }, TEST_TIERS);
    expect(spec.spread).toEqual({ minClouds: 1, topology: 'cloud' });
    expect(spec.strategy).toBe('binpack');
  });
});
