import { describe, expect, it } from 'vitest';
import { isTianshuError } from '../../domain/errors.js';
import { aSlice, providerContract } from '../contract.js';
import { SimulatedConnectionSchema } from './connection.js';
import type { SimulatedConnectionInput } from './connection.js';
import { SimulatedProvider } from './simulated-provider.js';

const resources = { cpu: 500, memory: 512, gpu: 0 };
const container = () => ({ kind: 'container' as const, image: 'registry.example.gov/web:1' });

function simulated(input: SimulatedConnectionInput = {}, now: () => number = Date.now): SimulatedProvider {
  const conn = SimulatedConnectionSchema.parse({ capacity: { cpu: 16_000, memory: 32_768, instances: 10 }, ...input });
  return new SimulatedProvider('sim-gd-1', conn, { now });
}

async function failure(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error('expected a failure');
    },
    (e: unknown) => e,
  );
}

let contractProvider: SimulatedProvider | undefined;
providerContract('simulated', {
  create: () => Promise.resolve((contractProvider = simulated())),
  workload: container,
  resources,
  fingerprint: (ref) => Promise.resolve(JSON.stringify(contractProvider?.inspect(ref) ?? null)),
  // One record backs the whole slice; its uid survives scaling.
  identities: (ref) => Promise.resolve([contractProvider?.inspect(ref)?.uid ?? 'missing']),
});

describe('simulated provider', () => {
  it('keeps uid and version on a no-op apply, bumps the version on a change', async () => {
    const p = simulated();
    const slice = aSlice(p, { workload: container, resources });
    await p.apply(slice);
    const first = p.inspect(slice);
    await p.apply(slice);
    expect(p.inspect(slice)).toBe(first);
    await p.apply({ ...slice, replicas: 3, generation: 2 });
    expect(p.inspect(slice)?.uid).toBe(first?.uid);
    expect(p.inspect(slice)?.version).toBe(2);
  });

  it('accounts allocation and rejects what does not fit, naming the resource', async () => {
    const p = simulated();
    const slice = aSlice(p, { workload: container, resources: { cpu: 4_000, memory: 1_024, gpu: 0 } }, { replicas: 3 });
    await p.apply(slice);
    expect((await p.inventory()).allocated).toEqual({ cpu: 12_000, memory: 3_072, gpu: 0, instances: 0 });
    const err = await failure(p.apply({ ...slice, replicas: 5, generation: 2 }));
    expect(isTianshuError(err, 'PROVIDER_ERROR')).toBe(true);
    expect((err as Error).message).toMatch(/sim-gd-1.*insufficient capacity: cpu needs 20000m, 16000m free/);
    // A VM consumes an instance per replica.
    const vm = aSlice(p, { workload: () => ({ kind: 'vm', image: 'ami-1' }), resources: { cpu: 1_000, memory: 1_024, gpu: 0 } }, { replicas: 4 });
    await p.apply(vm);
    expect((await p.inventory()).allocated.instances).toBe(4);
  });

  it('fails every call with UNAVAILABLE during an outage and recovers after', async () => {
    const p = simulated();
    p.setOutage(true);
    const err = await failure(p.inventory());
    expect(isTianshuError(err, 'UNAVAILABLE')).toBe(true);
    expect((err as { retryable: boolean }).retryable).toBe(true);
    expect((await p.health()).ok).toBe(false);
    p.setOutage(false);
    expect((await p.health()).ok).toBe(true);
    await expect(p.inventory()).resolves.toMatchObject({ condition: 'Ready' });
  });

  it('a timeout fault takes effect; a retried apply converges without a second change', async () => {
    const p = simulated();
    const slice = aSlice(p, { workload: container, resources });
    p.failNext('timeout', 1, 'apply');
    const err = await failure(p.apply(slice));
    expect(isTianshuError(err, 'UNAVAILABLE')).toBe(true);
    expect(p.inspect(slice)?.version).toBe(1);
    await p.apply(slice);
    expect(p.inspect(slice)?.version).toBe(1);
    expect(p.calls.apply).toBe(2);
  });

  it('an error fault takes no effect; a reject is not retryable', async () => {
    const p = simulated();
    const slice = aSlice(p, { workload: container, resources });
    p.failNext('error');
    expect(isTianshuError(await failure(p.apply(slice)), 'UNAVAILABLE')).toBe(true);
    expect(p.inspect(slice)).toBeUndefined();
    p.failNext('reject');
    const rejected = await failure(p.apply(slice));
    expect(isTianshuError(rejected, 'PROVIDER_ERROR')).toBe(true);
    expect((rejected as { retryable: boolean }).retryable).toBe(false);
  });

  it('injects random faults deterministically from the seed', async () => {
    const run = async (): Promise<string> => {
      const p = simulated({ seed: 42, errorRate: 0.3, timeoutRate: 0.2 });
      const outcomes: string[] = [];
      for (let i = 0; i < 40; i++) {
        outcomes.push(
          await p.listSlices().then(
            () => 'ok',
            (e: unknown) => (e as { details: { cause: string } }).details.cause,
          ),
        );
      }
      return outcomes.join(',');
    };
    const a = await run();
    expect(a).toBe(await run());
    expect(a).toContain('INJECTED_ERROR');
    expect(a).toContain('INJECTED_TIMEOUT');
    expect(a).toContain('ok');
  });

  it('makes new replicas ready after readyAfterMs of the injected clock', async () => {
    let now = 1_000;
    const p = simulated({ readyAfterMs: 5_000 }, () => now);
    const slice = aSlice(p, { workload: container, resources }, { replicas: 2 });
    expect(await p.apply(slice)).toMatchObject({ readyReplicas: 0, condition: 'Progressing' });
    now += 5_000;
    expect(await p.status(slice)).toMatchObject({ readyReplicas: 2, condition: 'Ready' });
    await p.apply({ ...slice, replicas: 3, generation: 2 });
    expect(await p.status(slice)).toMatchObject({ readyReplicas: 2, desiredReplicas: 3, condition: 'Progressing' });
    now += 5_000;
    expect(await p.status(slice)).toMatchObject({ readyReplicas: 3, condition: 'Ready' });
  });

  it('adds the configured latency through the injected sleep', async () => {
    const slept: number[] = [];
    const conn = SimulatedConnectionSchema.parse({ latencyMs: 25 });
    const p = new SimulatedProvider('sim-lat', conn, { sleep: (ms) => (slept.push(ms), Promise.resolve()) });
    await p.listSlices();
    await p.health();
    expect(slept).toEqual([25, 25]);
  });

  it('refuses calls after close', async () => {
    const p = simulated();
    await p.close();
    expect(isTianshuError(await failure(p.listSlices()), 'PROVIDER_ERROR')).toBe(true);
  });
});
