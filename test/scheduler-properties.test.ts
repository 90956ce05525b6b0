/**
 * Property tests of the placement engine over random fleets and requests: the safety invariants
 * (tier, exclusivity, residency, capacity, every ancestor's quota), all-or-nothing division, the
 * spread constraints, determinism, incremental snapshots ≡ fresh ones, and the optimised engine ≡
 * the naive reference of `scheduler-reference.ts`.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { benchFleet, benchRequests } from '../bench/scheduler.js';
import type { Cloud } from '../domain/cloud.js';
import type { DeploymentSpec, PlacementSlice } from '../domain/deployment.js';
import { demandPerReplica } from '../domain/deployment.js';
import { isWithin } from '../domain/locality.js';
import { RESOURCE_NAMES } from '../domain/resources.js';
import type { Headroom, Limits } from '../domain/tenant.js';
import { Tiers } from '../domain/tiers.js';
import type { Decision } from '../scheduler/decision.js';
import type { PlacementRequest } from '../scheduler/framework.js';
import { SCORERS } from '../scheduler/registry.js';
import { createScheduler } from '../scheduler/scheduler.js';
import { createSnapshot } from '../scheduler/snapshot.js';
import type { Snapshot } from '../scheduler/snapshot.js';
import { aSpec, TEST_TIERS } from './builders.js';
import { referenceFilter } from './scheduler-reference.js';

const LOCALITIES = ['cn', 'cn/gd', 'cn/gd/sz', 'cn/gd/sz/nanshan', 'cn/gd/gz', 'cn/gdx', 'cn/gdx/sz', 'cn/bj', 'cn/bj/hd'];
const TIER_LEVELS = TEST_TIERS.scale.levels;
const BENCH_TIERS = new Tiers();
const RUNS = Number(process.env.PROPERTY_RUNS ?? 300);

function labelsOf(label: string | null): Record<string, string> {
  return label === null ? {} : { net: label };
}

const cloudArb = (id: string): fc.Arbitrary<Cloud> =>
  fc
    .record({
      kind: fc.constantFrom('kubernetes', 'ec2', 'simulated'),
      locality: fc.constantFrom(...LOCALITIES),
      zone: fc.constantFrom('a', 'b', 'c'),
      tier: fc.constantFrom(...TIER_LEVELS),
      tierExclusive: fc.integer({ min: 0, max: 4 }).map((n) => n === 0),
      arch: fc.constantFrom('amd64', 'arm64'),
      xinchuang: fc.boolean(),
      taint: fc.constantFrom(null, null, null, 'NoSchedule', 'PreferNoSchedule'),
      label: fc.constantFrom(null, 'gov', 'pub'),
      cpu: fc.integer({ min: 0, max: 8 }).map((n) => (n === 0 ? 500 : n * 1000)),
      memory: fc.integer({ min: 0, max: 8 }).map((n) => (n === 0 ? 512 : n * 2048)),
      gpu: fc.integer({ min: 0, max: 2 }),
      instances: fc.integer({ min: 0, max: 6 }),
      used: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 1, noNaN: true })),
      cost: fc.integer({ min: 1, max: 5 }),
      // Independent of `cost`, so that clouds' costs are not proportional across resources.
      memoryCost: fc.integer({ min: 1, max: 5 }),
      condition: fc.constantFrom('Ready', 'Ready', 'Ready', 'Ready', 'Ready', 'Ready', 'NotReady', 'Cordoned', 'Draining'),
    })
    .map((r) => ({
      id,
      kind: r.kind,
      locality: r.locality,
      zone: r.zone,
      tier: r.tier,
      tierExclusive: r.tierExclusive,
      attributes: { arch: r.arch, xinchuang: r.xinchuang, gpuModel: r.gpu > 0 ? 'A100' : null, labels: labelsOf(r.label) },
      taints: r.taint === null ? [] : [{ key: 'dedicated', value: 'x', effect: r.taint }],
      capacity: { cpu: r.cpu, memory: r.memory, gpu: r.gpu, instances: r.instances },
      allocated: {
        cpu: Math.floor(r.cpu * r.used),
        memory: Math.floor(r.memory * r.used),
        gpu: Math.floor(r.gpu * r.used),
        instances: Math.floor(r.instances * r.used),
      },
      costPerUnit: { cpu: r.cost / 1000, memory: r.memoryCost / 10_000, gpu: r.cost, instances: r.cost / 10 },
      condition: r.condition,
      connection: {},
      version: 1,
    }));

const fleetArb: fc.Arbitrary<Cloud[]> = fc.integer({ min: 0, max: 16 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => cloudArb(`c${i}`))));

const specArb: fc.Arbitrary<DeploymentSpec> = fc
  .record({
    replicas: fc.integer({ min: 0, max: 8 }),
    cpu: fc.integer({ min: 0, max: 4 }).map((n) => n * 500),
    memory: fc.integer({ min: 0, max: 4 }).map((n) => n * 1024),
    gpu: fc.constantFrom(0, 0, 0, 0, 0, 0, 0, 1),
    vm: fc.integer({ min: 0, max: 3 }).map((n) => n === 0),
    tier: fc.constantFrom('L1', 'L1', 'L2', 'L2', 'L3', 'L4'),
    residency: fc.oneof(fc.constant([]), fc.subarray(['cn', 'cn/gd', 'cn/gd/sz', 'cn/bj', 'cn/gdx'])),
    prefer: fc.constantFrom(undefined, 'cn/gd/sz/nanshan', 'cn/bj'),
    minClouds: fc.integer({ min: 1, max: 4 }),
    maxPer: fc.option(fc.integer({ min: 1, max: 5 })),
    zone: fc.boolean(),
    strategy: fc.constantFrom('binpack', 'spread', 'cost', 'locality'),
    tolerate: fc.boolean(),
    arch: fc.constantFrom(undefined, undefined, undefined, 'amd64'),
    label: fc.constantFrom(null, null, null, null, 'In', 'NotIn'),
  })
  .map((r) => {
    let b = aSpec()
      .replicas(r.replicas)
      .resources({ cpu: r.cpu === 0 && r.memory === 0 && r.gpu === 0 ? 100 : r.cpu, memory: r.memory, gpu: r.gpu })
      .tier(r.tier)
      .residency(...r.residency)
      .minClouds(r.replicas === 0 ? 1 : Math.min(r.minClouds, r.replicas))
      .topology(r.zone ? 'zone' : 'cloud')
      .strategy(r.strategy);
    if (r.vm) b = b.vm('kylin', r.gpu > 0 ? 'gpu.large' : undefined);
    if (r.prefer !== undefined) b = b.prefer(r.prefer);
    if (r.maxPer !== null) b = b.maxPerCloud(r.maxPer);
    if (r.tolerate) b = b.tolerate('dedicated');
    if (r.arch !== undefined) b = b.arch(r.arch);
    if (r.label !== null) b = b.label('net', r.label, 'gov');
    return b.build();
  });

const limitsArb: fc.Arbitrary<Limits> = fc
  .record({
    cpu: fc.option(fc.integer({ min: -1000, max: 20_000 }), { freq: 2 }),
    memory: fc.option(fc.integer({ min: 0, max: 40_000 }), { freq: 2 }),
    gpu: fc.option(fc.integer({ min: 0, max: 3 }), { freq: 2 }),
  })
  .map((r) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== null)));

const headroomArb: fc.Arbitrary<Headroom[]> = fc.array(
  fc.record({ total: limitsArb, byTier: fc.dictionary(fc.constantFrom(...TIER_LEVELS), limitsArb, { maxKeys: 2 }) }),
  { maxLength: 3 },
).map((levels) => levels.map((l, i) => ({ tenant: ['gd', 'gd/sz', 'gd/sz/health'][i] ?? 'gd', total: l.total, byTier: l.byTier })));

const currentArb = (fleet: readonly Cloud[]): fc.Arbitrary<PlacementSlice[]> =>
  fleet.length === 0
    ? fc.constant([])
    : fc.uniqueArray(fc.record({ cloudId: fc.constantFrom(...fleet.map((c) => c.id)), replicas: fc.integer({ min: 1, max: 3 }) }), {
        maxLength: 3,
        selector: (s) => s.cloudId,
      });

/**
 * Fleets of mostly eligible clouds, larger than the engine's selection of best candidates
 * (8 + minClouds + replicas), so its division often stops short of the rest or must reach past it.
 */
const largeFleetArb: fc.Arbitrary<Cloud[]> = fc
  .integer({ min: 20, max: 60 })
  .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => cloudArb(`c${i}`))))
  .map((fleet) => fleet.map((c, i): Cloud => (i % 5 === 0 ? c : { ...c, kind: 'simulated', condition: 'Ready', tierExclusive: false, tier: 'L4' })));

/** A tight per-tier quota on the tier most of a large fleet has: the best clouds run out of quota, and the division must reach past them. */
const tightTierHeadroomArb: fc.Arbitrary<Headroom[]> = fc
  .record({ cpu: fc.integer({ min: 0, max: 2_000 }), memory: fc.integer({ min: 0, max: 4_096 }) })
  .map((l) => [{ tenant: 'gd', total: {}, byTier: { L4: l } }]);

const largeCaseArb = largeFleetArb.chain((fleet) =>
  fc.record({
    fleet: fc.constant(fleet),
    spec: specArb,
    headroom: fc.oneof(headroomArb, tightTierHeadroomArb),
    current: currentArb(fleet),
    seed: fc.string({ maxLength: 6 }),
  }),
);

const caseArb = fleetArb.chain((fleet) => fc.record({ fleet: fc.constant(fleet), spec: specArb, headroom: headroomArb, current: currentArb(fleet), seed: fc.string({ maxLength: 6 }) }));

const scheduler = createScheduler({ tiers: TEST_TIERS });

/** `r` with every resource multiplied by `k`. */
function times(r: Cloud['capacity'], k: number): Cloud['capacity'] {
  return { cpu: r.cpu * k, memory: r.memory * k, gpu: r.gpu * k, instances: r.instances * k };
}

/** The comparable part of a decision. */
function essence(d: Decision) {
  return {
    ok: d.ok,
    assignments: d.assignments,
    reasonCounts: d.reasonCounts,
    failure: d.failure,
    summary: d.summary,
    ranked: d.ranked.map((r) => [r.cloudId, r.total, r.maxReplicas]),
    rejected: [...d.rejected].sort((a, b) => a.cloudId.localeCompare(b.cloudId)),
  };
}

function held(current: readonly PlacementSlice[], cloudId: string): number {
  return current.find((s) => s.cloudId === cloudId)?.replicas ?? 0;
}

/** The per-scorer path: the generic scorer list scores every feasible cloud and divides over them all. */
const perScorer = createScheduler({ tiers: TEST_TIERS, scorers: [...SCORERS] });

/** A fleet and a request on it. */
type Case = PlacementRequest & { readonly fleet: readonly Cloud[] };

/**
 * Holds the default (fused) engine to the per-scorer path over `cases`, and asserts that at least a
 * tenth of them place something (so the comparison is not only of failures).
 */
function decidesAsPerScorer(cases: fc.Arbitrary<Case>, runs: number): void {
  let placed = 0;
  fc.assert(
    fc.property(cases, ({ fleet, ...req }) => {
      const snap = createSnapshot(fleet, TEST_TIERS);
      const fast = scheduler.place(req, snap);
      if (fast.ok && fast.assignments.length > 0) placed++;
      expect(essence(fast)).toEqual(essence(perScorer.place(req, snap)));
    }),
    { numRuns: runs },
  );
  expect(placed).toBeGreaterThan(runs / 10);
}

describe('scheduler properties', () => {
  it('is safe: tier, exclusivity, residency, condition, kind, capacity and every quota hold; all or nothing; spread honoured', () => {
    let placedSome = 0;
    fc.assert(
      fc.property(caseArb, ({ fleet, spec, headroom, current, seed }) => {
        const snap = createSnapshot(fleet, TEST_TIERS);
        const d = scheduler.place({ spec, headroom, seed, current }, snap);
        const demand = demandPerReplica(spec);
        const placed = d.assignments.reduce((s, a) => s + a.replicas, 0);
        if (placed > 0) placedSome++;
        expect(placed === spec.replicas || placed === 0).toBe(true);
        expect(d.ok).toBe(placed === spec.replicas);
        if (!d.ok) expect(d.failure).not.toBeNull();
        const minRank = TEST_TIERS.rank(spec.minTier);
        const heldTotal = current.reduce((s, c) => s + c.replicas, 0);
        for (const a of d.assignments) {
          const cloud = fleet.find((c) => c.id === a.cloudId);
          if (cloud === undefined) throw new Error('unknown cloud');
          expect(a.replicas).toBeGreaterThan(0);
          const rank = TEST_TIERS.rank(cloud.tier);
          expect(rank).toBeGreaterThanOrEqual(minRank);
          if (cloud.tierExclusive) expect(rank).toBe(minRank);
          if (spec.residency.length > 0) expect(spec.residency.some((p) => isWithin(cloud.locality, p))).toBe(true);
          expect(cloud.condition).toBe('Ready');
          for (const r of RESOURCE_NAMES) {
            expect(cloud.allocated[r] - held(current, cloud.id) * demand[r] + a.replicas * demand[r]).toBeLessThanOrEqual(cloud.capacity[r]);
          }
          if (spec.spread.maxReplicasPerCloud !== undefined && spec.spread.topology === 'cloud') expect(a.replicas).toBeLessThanOrEqual(spec.spread.maxReplicasPerCloud);
        }
        // Every ancestor's quota, in total and per tier of the hosting clouds, with held replicas credited.
        for (const level of headroom) {
          for (const r of RESOURCE_NAMES) {
            const limit = level.total[r];
            if (limit !== undefined && placed > 0 && demand[r] > 0) expect(placed * demand[r]).toBeLessThanOrEqual(limit + heldTotal * demand[r]);
            for (const [tier, limits] of Object.entries(level.byTier)) {
              const tl = limits[r];
              if (tl === undefined || demand[r] === 0) continue;
              const onTier = d.assignments.filter((a) => fleet.find((c) => c.id === a.cloudId)?.tier === tier).reduce((s, a) => s + a.replicas, 0);
              const heldOnTier = current.filter((s) => fleet.find((c) => c.id === s.cloudId)?.tier === tier).reduce((s, c) => s + c.replicas, 0);
              if (onTier > 0) expect(onTier * demand[r]).toBeLessThanOrEqual(tl + heldOnTier * demand[r]);
            }
          }
        }
        if (d.ok && spec.replicas > 0) {
          const domainOf = (id: string): string => (spec.spread.topology === 'zone' ? (fleet.find((c) => c.id === id)?.zone ?? '') : id);
          const perDomain = new Map<string, number>();
          for (const a of d.assignments) perDomain.set(domainOf(a.cloudId), (perDomain.get(domainOf(a.cloudId)) ?? 0) + a.replicas);
          expect(perDomain.size).toBeGreaterThanOrEqual(spec.spread.minClouds);
          const max = spec.spread.maxReplicasPerCloud;
          if (max !== undefined) for (const n of perDomain.values()) expect(n).toBeLessThanOrEqual(max);
        }
      }),
      { numRuns: RUNS },
    );
    // The generators must exercise placements, not only refusals.
    expect(placedSome).toBeGreaterThan(RUNS / 20);
  });

  it('filters exactly like the naive reference: the same feasible set, first reasons and counts', () => {
    fc.assert(
      fc.property(caseArb, ({ fleet, spec, headroom, current, seed }) => {
        const snap = createSnapshot(fleet, TEST_TIERS);
        const d = scheduler.place({ spec, headroom, seed, current }, snap);
        const ref = referenceFilter(spec, headroom, snap, current);
        expect(d.reasonCounts).toEqual(ref.reasonCounts);
        expect(d.ranked.map((r) => r.cloudId).sort()).toEqual([...ref.feasible].sort());
        expect(new Map(d.rejected.map((r) => [r.cloudId, r.reason]))).toEqual(ref.rejected);
        expect(d.considered).toBe(fleet.length);
      }),
      { numRuns: RUNS },
    );
  });

  it('is deterministic: the same snapshot and seed give the same decision, from any scheduler instance', () => {
    fc.assert(
      fc.property(caseArb, ({ fleet, spec, headroom, current, seed }) => {
        const req = { spec, headroom, seed, current };
        const a = scheduler.place(req, createSnapshot(fleet, TEST_TIERS));
        const b = createScheduler({ tiers: TEST_TIERS }).place(req, createSnapshot([...fleet].reverse(), TEST_TIERS));
        expect(essence(b)).toEqual(essence(a));
      }),
      { numRuns: RUNS },
    );
  });

  it('runs the fused default scorers bit-for-bit like the per-scorer path', () => {
    fc.assert(
      fc.property(caseArb, ({ fleet, spec, headroom, current, seed }) => {
        const snap = createSnapshot(fleet, TEST_TIERS);
        const req = { spec, headroom, seed, current };
        expect(essence(perScorer.place(req, snap))).toEqual(essence(scheduler.place(req, snap)));
      }),
      { numRuns: RUNS },
    );
  });

  it('divides over its selection of the best candidates exactly as over every feasible cloud, on fleets larger than the selection', () => {
    decidesAsPerScorer(largeCaseArb, RUNS);
  });

  it('selects exactly as the full division on fleets many times the selection, where a key bound prunes it', () => {
    const hugeFleetArb = fc
      .integer({ min: 100, max: 200 })
      .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => cloudArb(`c${i}`))))
      .map((fleet) => fleet.map((c): Cloud => ({ ...c, kind: 'simulated', condition: 'Ready', tierExclusive: false, tier: 'L4', taints: [], capacity: times(c.capacity, 16), allocated: times(c.allocated, 16) })));
    // Requests most of the fleet can host, so that the candidates far outnumber the selection.
    const broadSpecArb = fc
      .record({
        replicas: fc.integer({ min: 1, max: 8 }),
        cpu: fc.integer({ min: 1, max: 4 }).map((n) => n * 500),
        memory: fc.integer({ min: 0, max: 4 }).map((n) => n * 1024),
        minClouds: fc.integer({ min: 1, max: 4 }),
        zone: fc.boolean(),
        prefer: fc.constantFrom(undefined, 'cn/gd/sz/nanshan', 'cn/bj'),
        strategy: fc.constantFrom('binpack', 'spread', 'cost', 'locality'),
      })
      .map((r) => {
        const b = aSpec()
          .replicas(r.replicas)
          .resources({ cpu: r.cpu, memory: r.memory })
          .tier('L1')
          .minClouds(Math.min(r.minClouds, r.replicas))
          .topology(r.zone ? 'zone' : 'cloud')
          .strategy(r.strategy);
        return (r.prefer === undefined ? b : b.prefer(r.prefer)).build();
      });
    const cases = fc.record({ fleet: hugeFleetArb, spec: broadSpecArb, headroom: fc.oneof(headroomArb, tightTierHeadroomArb), seed: fc.string({ maxLength: 6 }) });
    decidesAsPerScorer(cases, Math.max(10, Math.floor(RUNS / 3)));
  });

  it('decides as the per-scorer path on the benchmark fleets of 1,000 and 10,000 clouds', () => {
    // Realistic fleets: hundreds to thousands of candidates per request, where the selection's
    // key bound and every shortcut of the fused pass are in play on each decision.
    const generic = createScheduler({ tiers: BENCH_TIERS, scorers: [...SCORERS] });
    const fused = createScheduler({ tiers: BENCH_TIERS });
    for (const [n, count] of [[1_000, 256], [10_000, 24]] as const) {
      const snap = createSnapshot(benchFleet(n), BENCH_TIERS);
      let placed = 0;
      for (const req of benchRequests(count)) {
        const fast = fused.place(req, snap);
        if (fast.ok) placed++;
        expect(fast.assignments).toEqual(generic.place(req, snap).assignments);
      }
      expect(placed).toBeGreaterThan(count / 2);
    }
  });

  it('ranks by sorted access exactly as the per-scorer path, on snapshots moved by allocations between decisions', () => {
    // Every request of these cases takes the sorted access (threshold 0, no replicas held, no
    // PreferNoSchedule taint), and its candidate index follows the allocations made between
    // decisions; at the end the first snapshot is asked again, behind the index's.
    const sorted = createScheduler({ tiers: TEST_TIERS, sortedAccessFrom: 0 });
    const untaintedFleetArb = largeFleetArb.map((fleet) => fleet.map((c): Cloud => ({ ...c, taints: c.taints.filter((t) => t.effect !== 'PreferNoSchedule') })));
    const allocationArb = fc.tuple(fc.nat(), fc.double({ min: 0, max: 1, noNaN: true }), fc.boolean());
    let placed = 0;
    fc.assert(
      fc.property(
        untaintedFleetArb,
        fc.array(fc.record({ spec: specArb, headroom: fc.oneof(headroomArb, tightTierHeadroomArb), seed: fc.string({ maxLength: 6 }) }), { minLength: 1, maxLength: 4 }),
        fc.array(allocationArb, { maxLength: 6 }),
        (fleet, requests, allocations) => {
          const first = createSnapshot(fleet, TEST_TIERS);
          let snap = first;
          const decideBoth = (req: PlacementRequest, on: Snapshot): void => {
            const d = sorted.place(req, on);
            if (d.ok && d.assignments.length > 0) placed++;
            expect(essence(d)).toEqual(essence(perScorer.place(req, on)));
          };
          for (const [k, [i, f, viaCloud]] of allocations.entries()) {
            for (const req of requests) decideBoth(req, snap);
            const c = snap.clouds[(i + k) % snap.clouds.length] as Cloud;
            const allocated = { cpu: Math.floor(c.capacity.cpu * f), memory: Math.floor(c.capacity.memory * f), gpu: 0, instances: 0 };
            snap = viaCloud ? snap.withCloud({ ...c, allocated }) : snap.withAllocation(c.id, allocated);
          }
          for (const req of requests) decideBoth(req, snap);
          for (const req of requests) decideBoth(req, first);
        },
      ),
      { numRuns: Math.max(10, Math.floor(RUNS / 3)) },
    );
    expect(placed).toBeGreaterThan(RUNS / 10);
  });

  it('ranks by sorted access exactly as the per-scorer path on evenly loaded fleets, where utilisation cannot lead', () => {
    // Every cloud at nearly the same utilisation and demands large against the smallest clouds:
    // the cost or locality term leads, and the utilisation terms — bounded by their greatest value
    // over the candidates, a replica's lift included — decide between clouds of equal price.
    const sorted = createScheduler({ tiers: TEST_TIERS, sortedAccessFrom: 0 });
    const evenFleetArb = fc
      .tuple(fc.integer({ min: 30, max: 70 }), fc.double({ min: 0, max: 0.9, noNaN: true }), fc.double({ min: 0, max: 0.02, noNaN: true }))
      .chain(([n, load, jitter]) =>
        fc.tuple(
          ...Array.from({ length: n }, (_, i) =>
            fc.record({ size: fc.constantFrom(1, 2, 4, 8), price: fc.integer({ min: 20, max: 60 }), memoryPrice: fc.integer({ min: 1, max: 2 }), locality: fc.constantFrom(...LOCALITIES), zone: fc.constantFrom('a', 'b', 'c'), wobble: fc.double({ min: 0, max: 1, noNaN: true }) }).map(
              (r): Cloud => {
                const used = load + jitter * r.wobble;
                const capacity = { cpu: 1_000 * r.size, memory: 2_048 * r.size, gpu: 0, instances: 0 };
                return {
                  id: `e${i}`,
                  kind: 'simulated',
                  locality: r.locality,
                  zone: r.zone,
                  tier: 'L4',
                  tierExclusive: false,
                  attributes: { arch: 'amd64', xinchuang: false, gpuModel: null, labels: {} },
                  taints: [],
                  capacity,
                  allocated: { cpu: Math.floor(capacity.cpu * used), memory: Math.floor(capacity.memory * used), gpu: 0, instances: 0 },
                  costPerUnit: { cpu: r.price / 20_000, memory: r.memoryPrice / 10_000, gpu: 0, instances: 0 },
                  condition: 'Ready',
                  connection: {},
                  version: 1,
                };
              },
            ),
          ),
        ),
      );
    const evenSpecArb = fc
      .record({
        replicas: fc.integer({ min: 1, max: 4 }),
        cpu: fc.constantFrom(5, 10, 100, 500, 900),
        memory: fc.constantFrom(0, 0, 64, 1024),
        prefer: fc.constantFrom(undefined, undefined, 'cn/gd/sz/nanshan', 'cn/bj'),
        strategy: fc.constantFrom('binpack', 'spread', 'spread', 'cost', 'locality'),
      })
      .map((r) => {
        const b = aSpec().replicas(r.replicas).resources({ cpu: r.cpu, memory: r.memory }).tier('L1').strategy(r.strategy);
        return (r.prefer === undefined ? b : b.prefer(r.prefer)).build();
      });
    let placed = 0;
    fc.assert(
      fc.property(evenFleetArb, evenSpecArb, fc.string({ maxLength: 6 }), (fleet, spec, seed) => {
        const snap = createSnapshot(fleet, TEST_TIERS);
        const req = { spec, headroom: [], seed };
        const d = sorted.place(req, snap);
        if (d.ok) placed++;
        expect(essence(d)).toEqual(essence(perScorer.place(req, snap)));
      }),
      { numRuns: RUNS },
    );
    expect(placed).toBeGreaterThan(RUNS / 2);
  });

  it('selects among equal keys by the tie-break draw exactly as the full division does', () => {
    // Clouds alike in all but their ids score the same: the selection and the best of the rest
    // are decided by the seeded draws alone, and must be the ones the full division would take.
    const twinsArb = fc.tuple(cloudArb('template'), fc.integer({ min: 20, max: 60 })).map(([c, n]) =>
      Array.from({ length: n }, (_, i): Cloud => ({ ...c, id: `t${i}`, kind: 'simulated', condition: 'Ready', tierExclusive: false, tier: 'L4', taints: [] })),
    );
    decidesAsPerScorer(fc.record({ fleet: twinsArb, spec: specArb, headroom: fc.constant([]), seed: fc.string({ maxLength: 6 }) }), RUNS);
  });

  it('decides the same on an incrementally updated snapshot as on a fresh one', () => {
    type Op = { kind: 'alloc'; i: number; f: number } | { kind: 'replace'; cloud: Cloud } | { kind: 'add'; cloud: Cloud } | { kind: 'remove'; i: number };
    const opArb: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ kind: fc.constant('alloc' as const), i: fc.nat(), f: fc.double({ min: 0, max: 1, noNaN: true }) }),
      fc.record({ kind: fc.constant('replace' as const), cloud: fc.nat({ max: 13 }).chain((i) => cloudArb(`c${i}`)) }),
      fc.record({ kind: fc.constant('add' as const), cloud: fc.nat({ max: 99 }).chain((i) => cloudArb(`n${i}`)) }),
      fc.record({ kind: fc.constant('remove' as const), i: fc.nat() }),
    );
    fc.assert(
      fc.property(caseArb, fc.array(opArb, { maxLength: 8 }), ({ fleet, spec, headroom, current, seed }, ops) => {
        let snap: Snapshot = createSnapshot(fleet, TEST_TIERS);
        const req = { spec, headroom, seed, current };
        scheduler.place(req, snap); // warm the static cache, so stale cache entries would show
        let clouds = [...fleet];
        for (const op of ops) {
          if (op.kind === 'alloc' && clouds.length > 0) {
            const c = clouds[op.i % clouds.length] as Cloud;
            const allocated = { cpu: Math.floor(c.capacity.cpu * op.f), memory: Math.floor(c.capacity.memory * op.f), gpu: 0, instances: 0 };
            snap = snap.withAllocation(c.id, allocated);
            clouds = clouds.map((x) => (x.id === c.id ? { ...x, allocated } : x));
          } else if (op.kind === 'replace' || op.kind === 'add') {
            snap = snap.withCloud(op.cloud);
            clouds = clouds.some((x) => x.id === op.cloud.id) ? clouds.map((x) => (x.id === op.cloud.id ? op.cloud : x)) : [...clouds, op.cloud];
          } else if (op.kind === 'remove' && clouds.length > 0) {
            const c = clouds[op.i % clouds.length] as Cloud;
            snap = snap.withoutCloud(c.id);
            clouds = clouds.filter((x) => x.id !== c.id);
          }
          scheduler.place(req, snap);
        }
        expect(snap.size).toBe(clouds.length);
        expect(essence(scheduler.place(req, snap))).toEqual(essence(scheduler.place(req, createSnapshot(clouds, TEST_TIERS))));
      }),
      { numRuns: RUNS },
    );
  });
});
