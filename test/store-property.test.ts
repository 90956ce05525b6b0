import fc from 'fast-check';
import { afterAll, expect, it } from 'vitest';
import type { CloudCondition } from '../domain/cloud.js';
import { isTianshuError } from '../domain/errors.js';
import type { Phase } from '../domain/deployment.js';
import { RESOURCE_NAMES } from '../domain/resources.js';
import type { TianshuStore } from '../store/core.js';
import type { Harness } from './store/engines.js';
import { describeStore } from './store/engines.js';
import { OPERATOR, cloud, spec } from './store/fixtures.js';
import { firstFit } from './store/planner.js';

/**
 * Operations per engine: 10,000 on SQLite; 2,500 on PostgreSQL by default, where every step is a
 * few dozen round trips and the whole store suite must stay within ~2 minutes on 2 cores
 * (override with TIANSHU_STORE_PROPERTY_OPS / TIANSHU_STORE_PROPERTY_OPS_PG).
 */
const TARGETS = {
  sqlite: Number(process.env.TIANSHU_STORE_PROPERTY_OPS ?? 10_000),
  postgres: Number(process.env.TIANSHU_STORE_PROPERTY_OPS_PG ?? 2_500),
};
const MIN_LEN = 40;
const TENANTS = ['gd', 'gd/a', 'gd/b', 'gd/a/x'] as const;
const CLOUDS = ['c1', 'c2', 'c3'] as const;
const CONDITIONS: readonly CloudCondition[] = ['Ready', 'NotReady', 'Cordoned', 'Draining'];
const PHASES: readonly Phase[] = ['Deploying', 'Running', 'Degraded', 'Failed'];
/** Refusals a random sequence may legitimately provoke; anything else (INTERNAL, a raw error) fails. */
const EXPECTED = new Set(['QUOTA_EXCEEDED', 'UNSCHEDULABLE', 'VALIDATION', 'CONFLICT', 'NOT_FOUND']);

type Cmd =
  | { op: 'admit'; tenant: number; replicas: number; cpu: number; pending: boolean; key: number | null }
  | { op: 'scale'; dep: number; replicas: number }
  | { op: 'replace'; dep: number; avoid: number }
  | { op: 'delete'; dep: number; finish: boolean }
  | { op: 'finish'; dep: number }
  | { op: 'quota'; tenant: number; cpu: number | null }
  | { op: 'condition'; cloud: number; condition: number }
  | { op: 'phase'; dep: number; phase: number };

const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ op: fc.constant('admit' as const), tenant: fc.nat(3), replicas: fc.nat(6), cpu: fc.integer({ min: 1, max: 6 }).map((n) => n * 500), pending: fc.boolean(), key: fc.option(fc.nat(5)) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('scale' as const), dep: fc.nat(30), replicas: fc.nat(8) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('replace' as const), dep: fc.nat(30), avoid: fc.nat(2) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('delete' as const), dep: fc.nat(30), finish: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('finish' as const), dep: fc.nat(30) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('quota' as const), tenant: fc.nat(3), cpu: fc.option(fc.integer({ min: 0, max: 40 }).map((n) => n * 500)) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('condition' as const), cloud: fc.nat(2), condition: fc.nat(3) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('phase' as const), dep: fc.nat(30), phase: fc.nat(3) }) },
);

async function seed(store: TianshuStore): Promise<void> {
  await store.registerCloud(OPERATOR, cloud('c1', { cpu: 10_000 }));
  await store.registerCloud(OPERATOR, cloud('c2', { cpu: 8_000, tier: 'L4' }));
  await store.registerCloud(OPERATOR, cloud('c3', { cpu: 6_000 }));
  await store.createTenant(OPERATOR, 'gd', 'Guangdong', { total: { cpu: 20_000 }, byTier: { L4: { cpu: 6_000 } } });
  await store.createTenant(OPERATOR, 'gd/a', 'A', { total: { cpu: 12_000 }, byTier: {} });
  await store.createTenant(OPERATOR, 'gd/b', 'B');
  await store.createTenant(OPERATOR, 'gd/a/x', 'X', { total: { cpu: 6_000 }, byTier: {} });
}

async function checkInvariants(store: TianshuStore, step: string): Promise<void> {
  for (const c of await store.listClouds()) {
    for (const r of RESOURCE_NAMES) {
      expect(c.allocated[r], `${step}: ${c.id}.${r} allocated ≤ capacity`).toBeLessThanOrEqual(c.capacity[r]);
      expect(c.allocated[r], `${step}: ${c.id}.${r} allocated ≥ 0`).toBeGreaterThanOrEqual(0);
    }
  }
  expect(await store.checkLedger(), `${step}: usage = Σ placements`).toEqual([]);
  const v = await store.verifyAudit();
  expect(v.ok, `${step}: chain verifies (${v.problem ?? ''})`).toBe(true);
}

/** After a step that grew `tenant`'s usage, every ancestor must be within its cpu quota (a reservation must have fit). */
async function withinQuota(store: TianshuStore, tenant: string, before: number, step: string): Promise<void> {
  const after = (await store.getTenant(tenant))?.usage.cpu ?? 0;
  if (after <= before) return;
  for (const h of await store.headroom(tenant)) {
    const room = h.total.cpu;
    if (room !== undefined) expect(room, `${step}: ${h.tenant} within its cpu quota after a reservation`).toBeGreaterThanOrEqual(0);
  }
}

function runSuite(h: Harness): void {
  let total = 0;
  let admitted = 0;
  let store: TianshuStore | undefined;

  afterAll(async () => {
    await store?.close();
  });

  const TARGET = TARGETS[h.engine];
  let pgUrl: string | undefined;

  it(`keeps every invariant over ≥ ${TARGET} random operations`, { timeout: 240_000 }, async () => {
    const plan = firstFit();
    await fc.assert(
      fc.asyncProperty(fc.array(cmd, { minLength: MIN_LEN, maxLength: MIN_LEN + 20 }), async (cmds) => {
        if (h.reset !== null && store !== undefined && pgUrl !== undefined) {
          await h.reset(pgUrl);
        } else {
          await store?.close();
          const url = await h.fresh();
          if (h.reset !== null) pgUrl = url;
          store = await h.open(url);
        }
        await seed(store);
        const ids: string[] = [];
        let n = 0;
        for (const c of cmds) {
          const step = `step ${n++} ${JSON.stringify(c)}`;
          const dep = (i: number): string => ids[i % Math.max(1, ids.length)] ?? 'none';
          const s = store;
          try {
            switch (c.op) {
              case 'admit': {
                const tenant = TENANTS[c.tenant] ?? 'gd';
                const key = c.key === null ? undefined : `k${c.key}`;
                const before = (await s.getTenant(tenant))?.usage.cpu ?? 0;
                const a = await s.admitDeployment(OPERATOR, spec(tenant, `d${n}-${c.key ?? 'x'}`, c.replicas, c.cpu), plan, {
                  onUnschedulable: c.pending ? 'pending' : 'reject',
                  ...(key === undefined ? {} : { idempotencyKey: key }),
                });
                if (!a.replayed) {
                  ids.push(a.deployment.id);
                  admitted++;
                }
                await withinQuota(s, tenant, before, step);
                break;
              }
              case 'scale': {
                const d = await s.getDeployment(dep(c.dep));
                const before = d === null ? 0 : ((await s.getTenant(d.tenant))?.usage.cpu ?? 0);
                const a = await s.scaleDeployment(OPERATOR, dep(c.dep), c.replicas, plan);
                await withinQuota(s, a.deployment.tenant, before, step);
                break;
              }
              case 'replace': {
                const avoid = CLOUDS[c.avoid] ?? 'c1';
                await s.replacePlacement(OPERATOR, dep(c.dep), firstFit({ only: (cl) => cl.id !== avoid }), 'rebalance', (sl) => sl.cloudId !== avoid);
                break;
              }
              case 'delete':
                await s.deleteDeployment(OPERATOR, dep(c.dep));
                if (c.finish) await s.finishDeletion(OPERATOR, dep(c.dep));
                break;
              case 'finish':
                await s.finishDeletion(OPERATOR, dep(c.dep));
                break;
              case 'quota':
                await s.setQuota(OPERATOR, TENANTS[c.tenant] ?? 'gd', { total: c.cpu === null ? {} : { cpu: c.cpu }, byTier: {} });
                break;
              case 'condition':
                await s.setCloudCondition(OPERATOR, CLOUDS[c.cloud] ?? 'c1', CONDITIONS[c.condition] ?? 'Ready', 'property test');
                break;
              case 'phase':
                await s.setPhase(OPERATOR, dep(c.dep), PHASES[c.phase] ?? 'Running', 'property test');
                break;
            }
          } catch (e) {
            if (!isTianshuError(e) || !EXPECTED.has(e.code)) throw e;
          }
          total++;
          await checkInvariants(s, step);
        }
      }),
      { numRuns: Math.ceil(TARGET / MIN_LEN) },
    );
    expect(total).toBeGreaterThanOrEqual(TARGET);
    expect(admitted).toBeGreaterThan(TARGET / 20);
  });
}

describeStore('random operation sequences keep the invariants', (h) => {
  runSuite(h);
}, { memoryBacked: true, pgSettings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' } });
