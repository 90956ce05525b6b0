import { describe, expect, it } from 'vitest';
import { PROVIDER_KINDS } from '../domain/cloud.js';
import type { ProviderKind } from '../domain/cloud.js';
import { ADAPTERS, createProvider, probe, validateConnection } from './registry.js';
import { SimulatedProvider } from './simulated/simulated-provider.js';

const capacity = { cpu: 8000, memory: 16384, gpu: 0, instances: 0 };
const cloud = (kind: ProviderKind, connection: Record<string, unknown>, id = 'c1') => ({ id, kind, connection, capacity });

function thrown(fn: () => unknown): Error & { code?: string; details?: Record<string, unknown> } {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a throw');
}

describe('provider registry', () => {
  it('has an adapter for every provider kind', () => {
    expect(Object.keys(ADAPTERS).sort()).toEqual([...PROVIDER_KINDS].sort());
  });

  it.each([
    ['kubernetes', {}, 'connection.kubeconfigPath', /give exactly one of kubeconfigPath/],
    ['kubernetes', { kubeconfigPath: '/k', kubeconfig: 'x' }, 'connection.inCluster', /exactly one/],
    ['kubernetes', { inCluster: true, context: 'x' }, 'connection.context', /no meaning/],
    ['kubernetes', { kubeconfigPath: '/k', declaredCapacity: { cpu: -1 } }, 'connection.declaredCapacity.cpu', /must not be negative/],
    ['ec2', { region: '', declaredCapacity: {} }, 'connection.region', /must not be empty/],
    ['ec2', { region: 'us-gov-west-1', declaredCapacity: { gpu: -1 } }, 'connection.declaredCapacity.gpu', /must not be negative/],
    ['ec2', { region: 'r', declaredCapacity: {}, credentials: { accessKeyId: 'a' } }, 'connection.credentials.secretAccessKey', /./],
    ['ec2', { region: 'r', declaredCapacity: {}, maxAttempts: 0 }, 'connection.maxAttempts', /at least 1/],
    ['ec2', { region: 'r', declaredCapacity: {}, surprise: 1 }, 'connection', /surprise/],
    ['simulated', { errorRate: 2 }, 'connection.errorRate', /between 0 and 1/],
    ['simulated', { seed: 1.5 }, 'connection.seed', /whole number/],
  ] as const)('%s %j → names %s', (kind, connection, field, message) => {
    const err = thrown(() => validateConnection(cloud(kind, connection, 'bad-cloud')));
    expect(err.code).toBe('VALIDATION');
    expect(err.message.startsWith(`${kind} cloud "bad-cloud": ${field}`)).toBe(true);
    expect(err.message).toMatch(message);
    expect(err.details).toMatchObject({ cloudId: 'bad-cloud' });
  });

  it('rejects an unknown kind naming the field', () => {
    const err = thrown(() => validateConnection({ id: 'x', kind: 'openstack' as ProviderKind, connection: {} }));
    expect(err.message).toBe('cloud "x": kind: unknown provider kind "openstack" (known: kubernetes, ec2, simulated)');
  });

  it('returns frozen settings with defaults applied', () => {
    const conn = validateConnection(cloud('ec2', { region: 'us-gov-west-1', declaredCapacity: { instances: 10 } }));
    expect(conn).toMatchObject({ maxAttempts: 3, requestTimeoutMs: 10_000 });
    expect(Object.isFrozen(conn)).toBe(true);
  });

  it('accepts an EC2 cloud without a declared capacity (it offers what was registered)', () => {
    expect(validateConnection({ id: 'c1', kind: 'ec2', connection: { region: 'us-gov-west-1' } }).declaredCapacity).toBeUndefined();
    expect(() => createProvider(cloud('ec2', { region: 'us-gov-west-1' }))).not.toThrow();
  });

  it('builds a simulated cloud that simulates its registered capacity by default', async () => {
    const p = createProvider(cloud('simulated', {}));
    expect(p).toBeInstanceOf(SimulatedProvider);
    expect((await p.inventory()).capacity).toEqual(capacity);
    const own = createProvider(cloud('simulated', { capacity: { cpu: 1 } }));
    expect((await own.inventory()).capacity.cpu).toBe(1);
  });

  it('probes a simulated cloud, and reports an outage as UNAVAILABLE naming the cloud', async () => {
    await expect(probe(cloud('simulated', {}))).resolves.toMatchObject({ cloudId: 'c1', health: { ok: true } });
    const err = await probe(cloud('simulated', { outage: true }, 'sim-down')).then(
      () => {
        throw new Error('expected a failure');
      },
      (e: unknown) => e as Error & { code: string },
    );
    expect(err.code).toBe('UNAVAILABLE');
    expect(err.message).toContain('simulated cloud "sim-down"');
  });

  it('fails fast on a kubeconfig that is not there', () => {
    const err = thrown(() => createProvider(cloud('kubernetes', { kubeconfigPath: '/nonexistent/kubeconfig' }, 'k')));
    expect(err.message).toBe('kubernetes cloud "k": connection.kubeconfigPath: no kubeconfig file at /nonexistent/kubeconfig');
  });
});
