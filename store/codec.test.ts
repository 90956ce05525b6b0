import { describe, expect, it } from 'vitest';
import { aCloud, aSpec, headroomOf, TEST_TIERS } from '../test/builders.js';
import type { Decision } from '../scheduler/decision.js';
import { createScheduler } from '../scheduler/scheduler.js';
import { createSnapshot } from '../scheduler/snapshot.js';
import { chainEvent, EMPTY_HEAD } from './audit-chain.js';
import {
  AUDIT_COLUMNS,
  auditToRow,
  auditValues,
  decodeDecision,
  DEPLOYMENT_COLUMNS,
  deploymentToRow,
  deploymentValues,
  encodeDecision,
  PLACEMENT_COLUMNS,
  placementToRow,
  placementValues,
  rowToPlacement,
} from './codec.js';
import type { PlacementRecord } from './store.js';

const scheduler = createScheduler({ tiers: TEST_TIERS });

function record(decision: Decision): PlacementRecord {
  return { deploymentId: 'd-1', generation: 1, slices: decision.assignments, decision, cause: 'admit', decidedAt: '2026-01-01T00:00:00.000Z' };
}

describe('the stored placement decision', () => {
  it.each([
    ['a placement over ranked clouds', 30, 3, 'L3'],
    ['a refusal with every cloud rejected', 10, 3, 'L4'],
    ['zero replicas', 5, 0, 'L1'],
  ])('reads back exactly as the object form: %s', (_name, n, replicas, tier) => {
    const clouds = Array.from({ length: n }, (_, i) => aCloud(`c${i}`).tier(i % 2 === 0 ? 'L3' : 'L1').cpu(4_000 + i).build());
    const spec = aSpec().tenant('gd').replicas(replicas).cpu(1_000).tier(tier).build();
    const d = scheduler.place({ spec, headroom: [headroomOf('gd')], seed: 'gd/x' }, createSnapshot(clouds, TEST_TIERS));
    const row = placementToRow(record(d));
    expect(rowToPlacement({ ...row, generation: row.generation }).decision).toEqual(JSON.parse(JSON.stringify(d)));
    // Smaller than the object form whenever something is ranked.
    if (d.ok && replicas > 0) expect(row.decision.length).toBeLessThan(JSON.stringify(d).length / 2);
  });

  it('reads rows written in the object form, and keeps a ranking whose terms differ in shape as objects', () => {
    const old = JSON.parse(JSON.stringify(scheduler.place({ spec: aSpec().tenant('gd').replicas(1).build(), headroom: [headroomOf('gd')], seed: 's' }, createSnapshot([aCloud('a').build(), aCloud('b').build()], TEST_TIERS)))) as Decision;
    expect(decodeDecision(old)).toEqual(old);
    const odd: Decision = { ...old, ranked: [...old.ranked, { cloudId: 'z', total: 1, terms: [{ scorer: 'binpack', score: 1, weight: 1 }], maxReplicas: 1 }] };
    const encoded = encodeDecision(odd);
    expect(encoded.ranked).toEqual(odd.ranked);
    expect(decodeDecision(JSON.parse(JSON.stringify(encoded)))).toEqual(odd);
    // Numbers that are not whole hundredths keep the object form rather than being rounded.
    const fine: Decision = { ...old, ranked: old.ranked.map((r, i) => (i === 0 ? { ...r, total: r.total + 0.001 } : r)) };
    expect(encodeDecision(fine).rankedColumns).toBeUndefined();
    expect(decodeDecision(JSON.parse(JSON.stringify(encodeDecision(fine))))).toEqual(JSON.parse(JSON.stringify(fine)));
  });
});

describe('positional row values', () => {
  it('match the named row form column by column', () => {
    const spec = aSpec().tenant('gd').replicas(2).build();
    const d = scheduler.place({ spec, headroom: [headroomOf('gd')], seed: 'gd/x' }, createSnapshot([aCloud('a').build(), aCloud('b').build()], TEST_TIERS));
    const p = record(d);
    const dep = { id: 'd-1', tenant: 'gd', name: 'x', spec, generation: 1, phase: 'Scheduled' as const, slices: p.slices, message: '', createdAt: p.decidedAt, updatedAt: p.decidedAt, version: 1 };
    const e = chainEvent(EMPTY_HEAD, { actor: 'u', role: 'operator', action: 'deployment.admit', object: 'deployment/gd/x', result: 'ok', detail: { b: [1, { z: 'é"' }], a: null } }, p.decidedAt);
    const named = <R extends object>(row: R, columns: readonly (keyof R)[]): unknown[] => columns.map((c) => row[c]);
    expect(deploymentValues(dep)).toEqual(named(deploymentToRow(dep), DEPLOYMENT_COLUMNS));
    expect(placementValues(p)).toEqual(named(placementToRow(p), PLACEMENT_COLUMNS));
    expect(auditValues(e)).toEqual(named(auditToRow(e), AUDIT_COLUMNS));
  });
});
