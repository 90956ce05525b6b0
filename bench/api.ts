/**
 * API load benchmark on loopback: autocannon, 100 connections, ~5 s per operation, against a
 * server in a child process (so the load generator and the service do not share an event loop).
 * The server runs the real stack, from the compiled build as `npm start` does and with
 * NODE_ENV=production as the container image sets it: JWT auth, rate
 * limiting, limit rules, mercurius (JIT), the scheduler, and a SQLite store with group commit and
 * full fsync. Prints:
 *
 *   BENCH api op=requestDeployment req_per_s=… p50_ms=… p99_ms=…
 *   BENCH api op=fleetSummary req_per_s=… p50_ms=… p99_ms=…
 *   BENCH api op=typename req_per_s=… p50_ms=… p99_ms=…
 *
 * `typename` (`{ __typename }` on the same server) is the ceiling, measured half before and half
 * after requestDeployment (its rate is the mean of the halves, its latencies the worse); the other
 * lines give their rate as a share of it (`of_ceiling`).
 * `BENCH_API_SECONDS` and `BENCH_API_CONNECTIONS` override duration and connections.
 *
 * On Linux each line also carries the server's CPU time per request, read from `/proc`: the whole
 * process (`server_cpu_us`: the event loop, the SQLite writer thread, V8's helpers) and its event
 * loop alone (`loop_cpu_us`), which bounds the rate. The machine's speed drifts over minutes, so
 * the rates of two runs compare less well than these do.
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { SERVICE_NODE_FLAGS } from '../bin/node-flags.js';
import type * as AuthModule from '../api/auth.js';
import type * as EventsModule from '../api/events.js';
import type * as ServerModule from '../api/server.js';
import type * as TiersModule from '../domain/tiers.js';
import type * as SchedulerModule from '../scheduler/scheduler.js';
import type * as OpenModule from '../store/open.js';

const CHILD_FLAG = 'TIANSHU_BENCH_API_CHILD';
const TENANT = 'bench';
const FLEET_SIZE = Number(process.env.BENCH_API_CLOUDS ?? 24);

interface Ready {
  readonly port: number;
  readonly token: string;
}

/** The child: a real server over a fresh SQLite store with a large fleet and an unlimited tenant. */
async function serveChild(): Promise<void> {
  const { randomBytes } = await import('node:crypto');
  // The service as production runs it: the compiled build (`npm run build`, which `npm run bench`
  // runs first), not the TypeScript sources through tsx's loader. Types come from the sources.
  const built = (path: string): string => new URL(`../dist/${path}`, import.meta.url).href;
  const { MLPS, Tiers } = (await import(built('domain/tiers.js'))) as typeof TiersModule;
  const { createScheduler, planner } = (await import(built('scheduler/scheduler.js'))) as typeof SchedulerModule;
  const { openStore } = (await import(built('store/open.js'))) as typeof OpenModule;
  const { createJwtAuthenticator, mintDevToken } = (await import(built('api/auth.js'))) as typeof AuthModule;
  const { createEventBus } = (await import(built('api/events.js'))) as typeof EventsModule;
  const { buildServer } = (await import(built('api/server.js'))) as typeof ServerModule;
  const dir = process.env.TIANSHU_BENCH_DIR ?? mkdtempSync(join(tmpdir(), 'tianshu-bench-'));
  const store = await openStore(join(dir, 'bench.db'));
  const tiers = new Tiers(MLPS);
  const actor = { subject: 'bench', role: 'system', tenant: null };
  const provinces = ['gd', 'zj', 'bj', 'js', 'sc'];
  // A fleet of 24 large clouds: admission cost in the store grows with the cloud count (see api/README.md).
  for (let i = 0; i < FLEET_SIZE; i++) {
    const p = provinces[i % provinces.length] ?? 'gd';
    await store.registerCloud(actor, {
      id: `bench-${i}`,
      kind: 'simulated',
      locality: `cn/${p}/c${i % 7}`,
      zone: `z${i % 3}`,
      tier: ['L2', 'L3', 'L4'][i % 3] ?? 'L3',
      tierExclusive: false,
      attributes: { arch: 'amd64', xinchuang: false, gpuModel: null, labels: {} },
      taints: [],
      capacity: { cpu: 1_000_000_000, memory: 1_000_000_000, gpu: 0, instances: 0 },
      costPerUnit: { cpu: 1 + (i % 5), memory: 1, gpu: 0, instances: 0 },
      condition: 'Ready',
      connection: {},
    });
  }
  await store.createTenant(actor, TENANT, 'Benchmark agency');
  const secret = new Uint8Array(randomBytes(32));
  const claims = { roleClaim: 'role', tenantClaim: 'tenant', clockToleranceSeconds: 30 };
  const app = await buildServer({
    store,
    planner: planner(createScheduler({ tiers }), tiers),
    tiers,
    authenticator: createJwtAuthenticator({ ...claims, key: secret, issuer: 'bench', audience: 'bench', algorithms: ['HS256'] }),
    events: createEventBus(),
    mode: 'production',
    limits: { depth: 10, aliases: 15, cost: 10_000, maxPageSize: 100, defaultPageSize: 20, bodyLimitBytes: 1_048_576, ratePerMinute: 1_000_000_000 },
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const token = await mintDevToken({ secret, issuer: 'bench', audience: 'bench', role: 'tenant-admin', tenant: TENANT, ttl: '1h' });
  process.send?.({ port, token } satisfies Ready);
  process.on('message', (m) => {
    if (m === 'stop') {
      void app
        .close()
        .then(() => store.close())
        .then(() => {
          if (process.env.TIANSHU_BENCH_DIR === undefined) rmSync(dir, { recursive: true, force: true });
          process.exit(0);
        });
    }
  });
}

interface Result {
  readonly reqPerSec: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
  readonly non2xx: number;
  readonly requests: number;
  /** The server's CPU time during the run (ms): the whole process, and its main thread; null off Linux. */
  readonly cpu: Cpu | null;
}

interface Cpu {
  readonly process: number;
  readonly loop: number;
}

/** CPU time (ms) of the process `pid` and of its main thread, from `/proc` (null where there is none). */
function cpuOf(pid: number | undefined): Cpu | null {
  if (pid === undefined) return null;
  // Fields 14 and 15 of …/stat, after the parenthesised command name: user and system time in clock ticks (100 Hz).
  const ticks = (path: string): number => {
    const stat = readFileSync(path, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  };
  try {
    return { process: ticks(`/proc/${pid}/stat`), loop: ticks(`/proc/${pid}/task/${pid}/stat`) };
  } catch {
    return null;
  }
}

async function load(url: string, token: string, seconds: number, connections: number, body: () => string, serverPid?: number): Promise<Result> {
  const before = cpuOf(serverPid);
  const result = await autocannon({
    url: `${url}/graphql`,
    connections,
    duration: seconds,
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    requests: [{ setupRequest: (req) => ({ ...req, body: body() }) }],
  });
  const after = cpuOf(serverPid);
  const cpu = before === null || after === null ? null : { process: after.process - before.process, loop: after.loop - before.loop };
  return { reqPerSec: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, errors: result.errors, non2xx: result.non2xx, requests: result.requests.total, cpu };
}

/** Two runs of equal length as one: the mean rate, the worse latencies, every error and request, the CPU of both. */
function bothHalves(a: Result, b: Result): Result {
  const cpu = a.cpu === null || b.cpu === null ? null : { process: a.cpu.process + b.cpu.process, loop: a.cpu.loop + b.cpu.loop };
  return { reqPerSec: (a.reqPerSec + b.reqPerSec) / 2, p50: Math.max(a.p50, b.p50), p99: Math.max(a.p99, b.p99), errors: a.errors + b.errors, non2xx: a.non2xx + b.non2xx, requests: a.requests + b.requests, cpu };
}

/** One BENCH line; `ceiling` (the typename rate) adds the operation's rate as a share of it. */
function line(op: string, r: Result, ceiling?: number): string {
  const perRequest = (ms: number): number => Math.round((ms * 1000) / Math.max(1, r.requests));
  const share = ceiling === undefined || ceiling <= 0 ? '' : ` of_ceiling=${(r.reqPerSec / ceiling).toFixed(3)}`;
  const cpu = r.cpu === null ? '' : ` server_cpu_us=${perRequest(r.cpu.process)} loop_cpu_us=${perRequest(r.cpu.loop)}`;
  return `BENCH api op=${op} req_per_s=${Math.round(r.reqPerSec)} p50_ms=${r.p50} p99_ms=${r.p99}${share}${cpu}`;
}

/** Runs the benchmark and prints the three BENCH lines. */
export async function run(): Promise<void> {
  const seconds = Number(process.env.BENCH_API_SECONDS ?? 5);
  const connections = Number(process.env.BENCH_API_CONNECTIONS ?? 100);
  // NODE_ENV=production as the image sets it (Dockerfile): graphql-js, for one, checks less per value then.
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), [], { env: { ...process.env, NODE_ENV: 'production', [CHILD_FLAG]: '1' }, execArgv: [...process.execArgv, ...SERVICE_NODE_FLAGS], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    const ready = await new Promise<Ready>((resolve, reject) => {
      child.once('message', (m) => resolve(m as Ready));
      child.once('exit', (code) => reject(new Error(`bench server exited with ${code}`)));
    });
    const url = `http://127.0.0.1:${ready.port}`;
    const typenameBody = JSON.stringify({ query: '{ __typename }' });
    const summaryBody = JSON.stringify({ query: '{ fleetSummary { clouds totals { capacity { cpu memory } allocated { cpu memory } headroom { cpu memory } } byTier { tier clouds resources { headroom { cpu } } } byProvince { province clouds resources { headroom { cpu } } } } }' });
    const deployDoc = 'mutation Deploy($spec: DeploymentSpecInput!) { requestDeployment(spec: $spec) { deployment { id phase slices { cloudId replicas } } } }';
    let n = 0;
    const run = `r${Date.now().toString(36)}`;
    const deployBody = (): string =>
      JSON.stringify({
        query: deployDoc,
        variables: { spec: { tenant: TENANT, name: `${run}-${(n++).toString(36)}`, workload: { kind: 'container', image: 'bench:1' }, replicas: 2, resources: { cpu: 10, memory: 16 }, minTier: 'L2' } },
      });
    // Warm up at the measured concurrency (JIT, caches, the database's first growth). Warmed at
    // 10 connections, the measured run began with what a server pays once on reaching full load,
    // and its tail showed it: requestDeployment's p99 was 3-30 ms higher in eight alternating
    // pairs of eight (api/README.md).
    await load(url, ready.token, 1, connections, () => typenameBody);
    await load(url, ready.token, 1, connections, deployBody);
    // The ceiling is measured in two halves, just before and just after requestDeployment: the
    // speed of a shared machine drifts over seconds, and one run before it would skew the ratio
    // whichever way the drift went.
    const pid = child.pid;
    const typenameBefore = await load(url, ready.token, seconds / 2, connections, () => typenameBody, pid);
    const deploy = await load(url, ready.token, seconds, connections, deployBody, pid);
    const typenameAfter = await load(url, ready.token, seconds / 2, connections, () => typenameBody, pid);
    const typename = bothHalves(typenameBefore, typenameAfter);
    const summary = await load(url, ready.token, seconds, connections, () => summaryBody, pid);
    for (const [op, r] of [['requestDeployment', deploy], ['fleetSummary', summary], ['typename', typename]] as const) {
      if (r.errors > 0 || r.non2xx > 0) console.error(`bench api ${op}: ${r.errors} errors, ${r.non2xx} non-2xx responses`);
      console.log(line(op, r, op === 'typename' ? undefined : typename.reqPerSec));
    }
  } finally {
    child.send('stop');
    await new Promise((r) => child.once('exit', r));
  }
}

if (process.env[CHILD_FLAG] === '1') {
  void serveChild();
} else if (/[\\/]bench[\\/]api\.ts$/.test(process.argv[1] ?? '')) {
  void run();
}
