import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { benchFleet, benchRequests } from '../bench/scheduler.js';
import { Tiers } from '../domain/tiers.js';
import { aCloud, aSpec, headroomOf, TEST_TIERS } from '../test/builders.js';
import { decodeStoredDecision, encodeStoredDecision, STORED_EXPLANATION_BOUNDS } from './decision.js';
import type { Decision, RankedCloud, Rejection, StoredDecision } from './decision.js';
import { createScheduler, EngineDecision } from './scheduler.js';
import { createSnapshot } from './snapshot.js';

const scheduler = createScheduler({ tiers: TEST_TIERS });

function decide(lowTier: number, feasible: number, replicas: number): Decision {
  const clouds = [
    ...Array.from({ length: lowTier }, (_, i) => aCloud(`low-${i}`).tier('L1').cpu(8_000).build()),
    ...Array.from({ length: feasible }, (_, i) => aCloud(`ok-${i}`).tier('L3').cpu(8_000 + i).build()),
  ];
  const spec = aSpec().tenant('gd').replicas(replicas).cpu(1_000).tier('L3').build();
  return scheduler.place({ spec, headroom: [headroomOf('gd')], seed: 'gd/x' }, createSnapshot(clouds, TEST_TIERS));
}

describe('the stored explanation', () => {
  it('keeps a bounded number of examples per reason while counting every cloud', () => {
    const d = decide(100, 40, 3);
    const stored = JSON.parse(JSON.stringify(d)) as Decision;
    expect(stored.reasonCounts).toEqual({ BELOW_TIER: 100 });
    expect(stored.rejected).toHaveLength(STORED_EXPLANATION_BOUNDS.rejectedPerReason);
    expect(stored.rejected.every((r) => r.reason === 'BELOW_TIER' && /L1/.test(r.detail))).toBe(true);
    expect(stored.ranked.length).toBeLessThanOrEqual(STORED_EXPLANATION_BOUNDS.ranked + 3);
    expect(stored.omitted).toEqual({ ranked: 40 - stored.ranked.length, rejected: 100 - STORED_EXPLANATION_BOUNDS.rejectedPerReason });
    // The live decision still explains every cloud.
    expect(d.rejected).toHaveLength(100);
    expect(d.ranked).toHaveLength(40);
  });

  it('always keeps every chosen cloud with its score breakdown', () => {
    const d = decide(0, 60, 30);
    const stored = JSON.parse(JSON.stringify(d)) as Decision;
    const kept = new Set(stored.ranked.map((r) => r.cloudId));
    for (const a of stored.assignments) expect(kept.has(a.cloudId)).toBe(true);
    for (const r of stored.ranked) expect(r.terms.length).toBeGreaterThan(0);
  });

  it('keeps chosen clouds ranked below the runners-up, in rank order after them', () => {
    // One replica per cloud over 30 of 60 clouds: most chosen clouds rank below the stored best.
    const clouds = Array.from({ length: 60 }, (_, i) => aCloud(`ok-${i}`).tier('L3').cpu(8_000 + 100 * i).build());
    const spec = aSpec().tenant('gd').replicas(30).cpu(1_000).tier('L3').maxPerCloud(1).build();
    const d = scheduler.place({ spec, headroom: [headroomOf('gd')], seed: 'gd/x' }, createSnapshot(clouds, TEST_TIERS));
    expect(d.assignments).toHaveLength(30);
    const stored = JSON.parse(JSON.stringify(d)) as Decision;
    const full = d.ranked.map((r) => r.cloudId);
    const chosen = new Set(d.assignments.map((a) => a.cloudId));
    const expected = full.filter((id, n) => n < STORED_EXPLANATION_BOUNDS.ranked || chosen.has(id));
    expect(expected.length).toBeGreaterThan(STORED_EXPLANATION_BOUNDS.ranked);
    expect(stored.ranked.map((r) => r.cloudId)).toEqual(expected);
    expect(stored.omitted?.ranked).toBe(60 - expected.length);
  });

  it('ranks the best runners-up of a large fleet exactly as the full ranking does', () => {
    // Hundreds of feasible clouds with close totals: most are passed over on a bound before their
    // terms are rounded, and none that the full ranking shows may be.
    const tiers = new Tiers();
    const snap = createSnapshot(benchFleet(1_000), tiers);
    const engine = createScheduler({ tiers });
    for (const req of benchRequests(32)) {
      const d = engine.place(req, snap);
      if (!(d instanceof EngineDecision)) throw new Error('the engine returns an EngineDecision');
      const chosen = new Set(d.assignments.map((a) => a.cloudId));
      const expected = d.ranked.filter((r, n) => n < STORED_EXPLANATION_BOUNDS.ranked || chosen.has(r.cloudId));
      expect(d.toJSON().ranked).toEqual(expected);
    }
  });

  it('ranks a homogeneous fleet exactly as the full ranking does: of clouds alike, the best by draw', () => {
    // A few kinds of cloud, each registered many times: within reach of the best are whole classes
    // of clouds with equal terms, which only their tie-break draws order. A tainted cloud or one
    // holding replicas differs from its look-alikes, so some copies carry a taint or replicas.
    const strategies = ['binpack', 'spread', 'cost', 'locality'] as const;
    // Kinds that differ from a common base in one input each, so that clouds alike in all but
    // one input sit side by side.
    const base = fc.record({ cpu: fc.integer({ min: 2, max: 6 }), used: fc.integer({ min: 0, max: 1 }), cost: fc.integer({ min: 1, max: 3 }) });
    const kind = fc.record({ differs: fc.constantFrom('nothing', 'city', 'used', 'cost', 'cpu', 'size'), copies: fc.integer({ min: 1, max: 30 }) });
    fc.assert(
      fc.property(
        base,
        fc.array(kind, { minLength: 1, maxLength: 5 }),
        fc.integer({ min: 1, max: 6 }),
        fc.constantFrom(...strategies),
        fc.boolean(),
        fc.constantFrom(3, 3, 16),
        fc.string({ maxLength: 4 }),
        (b, kinds, replicas, strategy, prefer, bound, seed) => {
          const clouds = kinds.flatMap((k, n) =>
            Array.from({ length: k.copies }, (_, j) => {
              const cloud = aCloud(`k${n}-${j}`)
                .tier('L3')
                .in(k.differs === 'city' ? 'cn/gd/gz' : 'cn/gd/sz')
                .cpu((b.cpu + (k.differs === 'cpu' || k.differs === 'size' ? 1 : 0)) * 1_000)
                .cost({ cpu: (b.cost + (k.differs === 'cost' ? 1 : 0)) / 100_000 })
                // 'size': as much free as the base, out of more.
                .allocated({ cpu: (b.used + (k.differs === 'used' || k.differs === 'size' ? 1 : 0)) * 1_000 });
              return (j % 7 === 3 ? cloud.taint('maintenance', 'soon', 'PreferNoSchedule') : cloud).build();
            }),
          );
          const current = clouds.filter((_c, i) => i % 23 === 7).map((c) => ({ cloudId: c.id, replicas: 1 }));
          const request = aSpec().tenant('gd').replicas(replicas).cpu(1_000).tier('L2').strategy(strategy);
          const spec = (prefer ? request.prefer('cn/gd/sz') : request).build();
          const d = scheduler.place({ spec, headroom: [headroomOf('gd')], seed, current }, createSnapshot(clouds, TEST_TIERS));
          if (!(d instanceof EngineDecision)) throw new Error('the engine returns an EngineDecision');
          const chosen = new Set(d.assignments.map((a) => a.cloudId));
          const stored = d.toJSON({ ranked: bound, rejectedPerReason: STORED_EXPLANATION_BOUNDS.rejectedPerReason });
          expect(stored.ranked).toEqual(d.ranked.filter((r, n) => n < bound || chosen.has(r.cloudId)));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('writes a score every ranked cloud shares once', () => {
    // One tier, one city, no preference, no taints, nothing held: only binpack's term differs.
    const d = decide(0, 12, 2);
    if (!(d instanceof EngineDecision)) throw new Error('the engine returns an EngineDecision');
    const stored = JSON.parse(JSON.stringify(d.toStored())) as StoredDecision;
    const cols = stored.rankedColumns;
    if (cols === undefined || 'rows' in cols) throw new Error('a ranking is stored in columns');
    const scoreOf = (scorer: string): number | readonly number[] | undefined => cols.scores[cols.scorers.indexOf(scorer)];
    for (const shared of ['locality', 'taints', 'sticky']) expect(typeof scoreOf(shared), shared).toBe('number');
    expect(scoreOf('binpack')).toHaveLength(cols.clouds.length);
    expect(decodeStoredDecision(stored)).toEqual(JSON.parse(JSON.stringify(d.toJSON())));
  });

  it('reads a ranking stored in the earlier row form', () => {
    const stored = {
      ok: true,
      assignments: [{ cloudId: 'bench-20', replicas: 2 }],
      rejected: [],
      reasonCounts: {},
      failure: null,
      summary: '2 replicas placed on 1/24 clouds',
      demand: { cpu: 20, memory: 32, gpu: 0, instances: 0 },
      considered: 24,
      rankedColumns: {
        scorers: ['binpack', 'cost'],
        weights: [1, 0.1],
        rows: [
          ['bench-20', 6000, 62498750, 5000, 10000],
          ['bench-21', 5750, 62498687, 4750, 7500],
        ],
      },
      omitted: { ranked: 22, rejected: 0 },
    } satisfies StoredDecision;
    expect(decodeStoredDecision(stored).ranked).toEqual([
      { cloudId: 'bench-20', total: 60, terms: [{ scorer: 'binpack', score: 50, weight: 1 }, { scorer: 'cost', score: 100, weight: 0.1 }], maxReplicas: 62498750 },
      { cloudId: 'bench-21', total: 57.5, terms: [{ scorer: 'binpack', score: 47.5, weight: 1 }, { scorer: 'cost', score: 75, weight: 0.1 }], maxReplicas: 62498687 },
    ]);
  });

  it('stores a small fleet whole, with nothing omitted', () => {
    const stored = JSON.parse(JSON.stringify(decide(3, 4, 2))) as Decision;
    expect(stored.rejected).toHaveLength(3);
    expect(stored.ranked).toHaveLength(4);
    expect(stored.omitted).toBeUndefined();
  });

  it('is the full explanation bounded: the best runners-up plus the chosen, the first examples per reason, built from one evaluation and cached', () => {
    const strategies = ['binpack', 'spread', 'cost', 'locality'] as const;
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            tier: fc.constantFrom('L1', 'L2', 'L3', 'L4'),
            cpu: fc.integer({ min: 0, max: 8 }),
            used: fc.integer({ min: 0, max: 8 }),
            cordoned: fc.boolean(),
            // Costs and localities that differ from cloud to cloud, so the cost scorer's min–max
            // normalisation and the locality term take part in which clouds make the best.
            cost: fc.integer({ min: 1, max: 6 }),
            city: fc.constantFrom('cn/gd/sz', 'cn/gd/gz', 'cn/zj/hz'),
            // Replicas the deployment already holds there (a scale or a re-placement): the sticky term.
            held: fc.constantFrom(0, 0, 0, 1, 2),
          }),
          { maxLength: 80 },
        ),
        fc.integer({ min: 0, max: 12 }),
        fc.constantFrom(...strategies),
        fc.boolean(),
        (specs, replicas, strategy, prefer) => {
          const clouds = specs.map((c, i) =>
            aCloud(`c${i}`)
              .tier(c.tier)
              .in(c.city)
              .cpu(c.cpu * 1_000)
              .cost({ cpu: c.cost / 100_000 })
              .allocated({ cpu: Math.min(c.cpu, Math.max(c.used, c.held)) * 1_000 })
              .condition(c.cordoned && i % 3 === 0 ? 'Cordoned' : 'Ready')
              .build(),
          );
          const base = aSpec().tenant('gd').replicas(replicas).cpu(1_000).tier('L2').strategy(strategy);
          const spec = (prefer ? base.prefer('cn/gd/sz') : base).build();
          const current = specs.flatMap((c, i) => (c.held > 0 ? [{ cloudId: `c${i}`, replicas: c.held }] : []));
          const d = scheduler.place({ spec, headroom: [headroomOf('gd')], seed: 'gd/p', current }, createSnapshot(clouds, TEST_TIERS));
          if (!(d instanceof EngineDecision)) throw new Error('the engine returns an EngineDecision');
          const stored = d.toJSON();
          expect(d.toJSON()).toBe(stored);
          const chosen = new Set(d.assignments.map((a) => a.cloudId));
          const ranked: RankedCloud[] = d.ranked.filter((r, n) => n < STORED_EXPLANATION_BOUNDS.ranked || chosen.has(r.cloudId));
          const perReason = new Map<string, number>();
          const rejected: Rejection[] = d.rejected.filter((r) => {
            const n = perReason.get(r.reason) ?? 0;
            perReason.set(r.reason, n + 1);
            return n < STORED_EXPLANATION_BOUNDS.rejectedPerReason;
          });
          expect(stored.ranked).toEqual(ranked);
          expect(stored.rejected).toEqual(rejected);
          const omitted = { ranked: d.ranked.length - ranked.length, rejected: d.rejected.length - rejected.length };
          expect(stored.omitted).toEqual(omitted.ranked === 0 && omitted.rejected === 0 ? undefined : omitted);
          expect(stored.summary).toBe(d.summary);
          // Tighter bounds, where far fewer candidates than the feasible can rank among the shown.
          const few = d.toJSON({ ranked: 3, rejectedPerReason: 1 });
          expect(few.ranked).toEqual(d.ranked.filter((r, n) => n < 3 || chosen.has(r.cloudId)));
          // The column form built straight from the engine's columns is the object form, encoded.
          const roundTrip = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;
          expect(decodeStoredDecision(roundTrip(d.toStored()))).toEqual(roundTrip(stored));
          expect(roundTrip(d.toStored())).toEqual(roundTrip(encodeStoredDecision(stored)));
        },
      ),
      { numRuns: 200 },
    );
  });
});
