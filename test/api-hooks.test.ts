/**
 * What the API tells the rest of the service: committed cloud changes (so the orchestrator drains
 * a cloud at once) and previews answered by their own planner (so metrics count them apart).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cloud } from '../domain/cloud.js';
import type { DeploymentSpec } from '../domain/deployment.js';
import type { Planner } from '../store/store.js';
import { createScheduler, planner } from '../scheduler/scheduler.js';
import { MLPS, Tiers } from '../domain/tiers.js';
import { specInput, startHarness } from './api-harness.js';
import type { Harness } from './api-harness.js';

describe('API hooks', () => {
  let h: Harness;
  let operator: string;
  const changed: Cloud[] = [];
  const previewed: DeploymentSpec[] = [];

  beforeAll(async () => {
    const tiers = new Tiers(MLPS);
    const inner = planner(createScheduler({ tiers }), tiers);
    const previewPlanner: Planner = (spec, state, current) => {
      previewed.push(spec);
      return inner(spec, state, current);
    };
    h = await startHarness({ deps: { onCloudChanged: (c) => changed.push(c), previewPlanner } });
    operator = await h.token('operator');
  });
  afterAll(async () => h?.close());

  it('reports each committed condition change with the cloud as stored', async () => {
    const res = await h.gql('mutation { drainCloud(id: "gd-sz-k8s-a", reason: "maintenance") { id condition } }', {}, operator);
    expect(res.body.errors).toBeUndefined();
    expect(changed.map((c) => [c.id, c.condition])).toEqual([['gd-sz-k8s-a', 'Draining']]);
    await h.gql('mutation { uncordonCloud(id: "gd-sz-k8s-a") { id } }', {}, operator);
    expect(changed.at(-1)?.condition).toBe('Ready');
  });

  it('does not report a change that was refused', async () => {
    const before = changed.length;
    const res = await h.gql('mutation { drainCloud(id: "no-such-cloud") { id } }', {}, operator);
    expect(res.body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(changed).toHaveLength(before);
  });

  it('answers previewPlacement with the preview planner', async () => {
    const res = await h.gql('query($spec: DeploymentSpecInput!) { previewPlacement(spec: $spec) { explanation { ok } } }', { spec: specInput({ name: 'preview-only' }) }, operator);
    expect(res.body.errors).toBeUndefined();
    expect(previewed.map((s) => s.name)).toEqual(['preview-only']);
  });
});
