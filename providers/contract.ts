/**
 * The provider contract suite: one set of behaviours every adapter must show, run by each
 * adapter's tests against its real backend (the simulated cloud in memory, a real kube-apiserver,
 * moto for EC2). Import it only from test files; it registers vitest suites.
 *
 * @packageDocumentation
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTianshuError } from '../domain/errors.js';
import { sliceKey } from './provider.js';
import type { Provider, ReplicaResources, Slice, SliceRef, Workload } from './provider.js';

/** How a backend plugs into {@link providerContract}. */
export interface ContractHooks {
  /** Creates the provider under test (once per suite, after the backend is up). */
  create(): Promise<Provider>;
  /** The workload the adapter accepts (a container image for Kubernetes, an AMI for EC2). */
  workload(): Workload;
  /** Per-replica resources to use; small enough for the backend to hold 4 replicas. */
  resources: ReplicaResources;
  /**
   * An opaque fingerprint of everything the cloud holds for a slice (resourceVersions, instance
   * ids and states…): a no-op apply must leave it unchanged.
   */
  fingerprint(ref: SliceRef): Promise<string>;
  /**
   * Stable identities of what backs a slice (a Deployment's uid, instance ids): scaling in place
   * keeps them — scale up keeps all, scale down keeps a subset.
   */
  identities(ref: SliceRef): Promise<string[]>;
  /** Runs after the suite, before the provider is closed. */
  cleanup?(): Promise<void>;
}

let counter = 0;

/**
 * A fresh slice for `provider`, with its own deployment and tenant per call so tests never see
 * each other's objects (a Kubernetes namespace emptied by one test may still be terminating).
 */
export function aSlice(provider: Provider, hooks: Pick<ContractHooks, 'workload' | 'resources'>, overrides: Partial<Slice> = {}): Slice {
  counter += 1;
  const n = `${Date.now().toString(36)}${counter}`;
  return {
    deploymentId: `dep-${n}`,
    tenant: `gd/t${n}`,
    name: `web-${n}`,
    cloudId: provider.cloudId,
    replicas: 2,
    generation: 1,
    workload: hooks.workload(),
    resources: hooks.resources,
    ...overrides,
  };
}

/** Registers the contract suite for one adapter. */
export function providerContract(title: string, hooks: ContractHooks): void {
  describe(`provider contract: ${title}`, () => {
    let provider: Provider;
    beforeAll(async () => {
      provider = await hooks.create();
    });
    afterAll(async () => {
      await hooks.cleanup?.();
      await provider?.close();
    });

    it('reports health and an inventory with non-negative numbers', async () => {
      const health = await provider.health();
      expect(health.ok, health.detail).toBe(true);
      const inv = await provider.inventory();
      expect(inv.cloudId).toBe(provider.cloudId);
      for (const v of [...Object.values(inv.capacity), ...Object.values(inv.allocated)]) expect(v).toBeGreaterThanOrEqual(0);
    });

    it('apply creates the slice; status reflects the desired replicas; listSlices shows it', async () => {
      const slice = aSlice(provider, hooks, { replicas: 2 });
      const applied = await provider.apply(slice);
      expect(applied.desiredReplicas).toBe(2);
      expect(applied.generation).toBe(1);
      const status = await provider.status(slice);
      expect(status).not.toBeNull();
      expect(status?.desiredReplicas).toBe(2);
      expect(status?.ref).toEqual({ deploymentId: slice.deploymentId, tenant: slice.tenant, name: slice.name });
      const listed = (await provider.listSlices()).map(sliceKey);
      expect(listed).toContain(sliceKey(slice));
      await provider.remove(slice);
    });

    it('re-apply of the same slice is a no-op', async () => {
      const slice = aSlice(provider, hooks, { replicas: 2 });
      await provider.apply(slice);
      const before = await hooks.fingerprint(slice);
      const again = await provider.apply(slice);
      expect(again.desiredReplicas).toBe(2);
      expect(await hooks.fingerprint(slice)).toBe(before);
      await provider.remove(slice);
    });

    it('scales up and down in place', async () => {
      const slice = aSlice(provider, hooks, { replicas: 2 });
      await provider.apply(slice);
      const first = await hooks.identities(slice);
      expect(first.length).toBeGreaterThan(0);

      const up = await provider.apply({ ...slice, replicas: 3, generation: 2 });
      expect(up.desiredReplicas).toBe(3);
      expect(up.generation).toBe(2);
      const afterUp = await hooks.identities(slice);
      expect(afterUp).toEqual(expect.arrayContaining(first));

      const down = await provider.apply({ ...slice, replicas: 1, generation: 3 });
      expect(down.desiredReplicas).toBe(1);
      expect((await provider.status(slice))?.desiredReplicas).toBe(1);
      const afterDown = await hooks.identities(slice);
      expect(afterUp).toEqual(expect.arrayContaining(afterDown));
      await provider.remove(slice);
    });

    it('remove deletes; removing twice, or what never existed, is fine', async () => {
      const slice = aSlice(provider, hooks, { replicas: 1 });
      await provider.apply(slice);
      await provider.remove(slice);
      expect(await provider.status(slice)).toBeNull();
      expect((await provider.listSlices()).map(sliceKey)).not.toContain(sliceKey(slice));
      await provider.remove(slice);
      await provider.remove(aSlice(provider, hooks));
    });

    it('status of an unknown slice is null', async () => {
      expect(await provider.status(aSlice(provider, hooks))).toBeNull();
    });

    it('rejects a slice placed on another cloud with a non-retryable error naming the cloud', async () => {
      const slice = aSlice(provider, hooks, { cloudId: `${provider.cloudId}-other` });
      const err: unknown = await provider.apply(slice).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isTianshuError(err, 'PROVIDER_ERROR')).toBe(true);
      expect(String((err as Error).message)).toContain(provider.cloudId);
    });
  });
}
