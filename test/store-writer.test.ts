/**
 * The SQLite engine's writer thread, seen through the store: a write waiting for another
 * connection's lock leaves the event loop free, so timers fire and reads are answered meanwhile; a
 * batch the database refuses is retried request by request, so only the bad one fails; and a
 * commit by another connection is noticed under the next batch's lock, which is then planned again
 * on the state that includes it; a thread that ends is replaced, and the batch it had in flight
 * neither lost nor written twice, until threads are lost too often.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import type { TianshuError } from '../domain/errors.js';
import { ZERO } from '../domain/resources.js';
import { cloudToRow } from '../store/codec.js';
import type { TianshuStore } from '../store/core.js';
import { EngineStore } from '../store/core.js';
import { openStore } from '../store/open.js';
import type { StoreOptions } from '../store/options.js';
import { resolveOptions } from '../store/options.js';
import { openSqliteEngine } from '../store/sqlite/sqlite-engine.js';
import type { Writer, WriterThreadData } from '../store/sqlite/writer.js';
import { startWriterThread, WRITER_RESTARTS_PER_MINUTE } from '../store/sqlite/writer.js';
import type { NewCloud } from '../store/store.js';
import { OPERATOR, cloud, spec } from './store/fixtures.js';
import { firstFit } from './store/planner.js';

/** The ledger matches the slices, the audit chain verifies; then the store is closed. */
async function expectConsistentAndClose(store: TianshuStore): Promise<void> {
  expect(await store.checkLedger()).toEqual([]);
  expect((await store.verifyAudit()).ok).toBe(true);
  await store.close();
}

describe('SQLite writer thread', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tianshu-writer-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** A store on a new file in `dir`, with tenant gd and `clouds` registered. */
  async function storeWith(name: string, clouds: readonly NewCloud[], options: StoreOptions = {}): Promise<{ path: string; store: TianshuStore }> {
    const path = join(dir, name);
    const store = await openStore(path, options);
    await store.createTenant(OPERATOR, 'gd', 'Guangdong');
    for (const c of clouds) await store.registerCloud(OPERATOR, c);
    return { path, store };
  }

  it("keeps the event loop free while a write waits for another connection's lock", async () => {
    const { path, store } = await storeWith('locked.db', [cloud('c1')], { busyTimeoutMs: 10_000 });
    const other = new Database(path);
    other.exec('BEGIN IMMEDIATE');
    let settled = false;
    const write = store.admitDeployment(OPERATOR, spec('gd', 'web', 1), firstFit()).finally(() => {
      settled = true;
    });
    try {
      // Were the write waiting on the event loop, this timer would fire only once the lock was
      // given up on (after the 10 s busy timeout), with the write settled by then.
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(settled).toBe(false);
      expect((await store.getCloud('c1'))?.allocated.cpu).toBe(0);
      expect((await store.listDeployments({ first: 10 })).items).toEqual([]);
      expect(settled).toBe(false);
    } finally {
      other.exec('COMMIT');
      other.close();
    }
    const admitted = await write;
    expect(admitted.deployment.slices).toEqual([{ cloudId: 'c1', replicas: 1 }]);
    expect((await store.getCloud('c1'))?.allocated.cpu).toBe(1_000);
    await expectConsistentAndClose(store);
  });

  it('fails a request the database refuses alone, committing the rest of its batch', async () => {
    const { path, store } = await storeWith('poison.db', [cloud('c1')]);
    const other = new Database(path);
    other.exec("CREATE TRIGGER poison BEFORE INSERT ON deployments WHEN NEW.name = 'poison' BEGIN SELECT RAISE(ABORT, 'poisoned name'); END");
    other.close();
    // Requested in one tick: one batch, whose multi-row insert the trigger aborts as a whole.
    const names = ['a', 'b', 'poison', 'c', 'd'];
    const results = await Promise.allSettled(names.map((n) => store.admitDeployment(OPERATOR, spec('gd', n, 1), firstFit())));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    const refused = results[2];
    expect(refused?.status === 'rejected' ? (refused.reason as TianshuError) : null).toMatchObject({ code: 'INTERNAL', message: expect.stringContaining('poisoned name') });
    expect((await store.listDeployments({ first: 10 })).items.map((d) => d.name).sort()).toEqual(['a', 'b', 'c', 'd']);
    expect((await store.getCloud('c1'))?.allocated.cpu).toBe(4_000);
    await expectConsistentAndClose(store);
  });

  it('answers a batch that could not take the lock at once, rather than waiting again per request', async () => {
    const { path, store } = await storeWith('busy.db', [cloud('c1')], { busyTimeoutMs: 200 });
    const other = new Database(path);
    other.exec('BEGIN IMMEDIATE');
    // Released five busy timeouts on: were the batch's requests retried one by one, each would wait
    // for the lock again, and the last ones would get it.
    const release = setTimeout(() => other.exec('COMMIT'), 1_000);
    try {
      const results = await Promise.allSettled(['a', 'b', 'c', 'd', 'e'].map((n) => store.admitDeployment(OPERATOR, spec('gd', n, 1), firstFit())));
      expect(results.map((r) => (r.status === 'rejected' ? (r.reason as TianshuError).details.cause : r.status))).toEqual(['locked', 'locked', 'locked', 'locked', 'locked']);
    } finally {
      clearTimeout(release);
      if (other.inTransaction) other.exec('COMMIT');
      other.close();
    }
    expect((await store.admitDeployment(OPERATOR, spec('gd', 'after', 1), firstFit())).deployment.phase).toBe('Scheduled');
    await expectConsistentAndClose(store);
  });

  it('plans on what another connection committed since the last batch', async () => {
    const { path, store } = await storeWith('shared.db', [cloud('full', { cpu: 500 })]);
    // Another process on the same file registers a cloud behind this store's back.
    const other = new Database(path);
    const r = cloudToRow({ ...cloud('foreign'), allocated: ZERO, version: 1 });
    other.prepare('INSERT INTO clouds (id, kind, condition, data, allocated, version) VALUES (?, ?, ?, ?, ?, ?)').run(r.id, r.kind, r.condition, r.data, r.allocated, r.version);
    other.close();
    const admitted = await store.admitDeployment(OPERATOR, spec('gd', 'web', 2), firstFit());
    expect(admitted.deployment.slices).toEqual([{ cloudId: 'foreign', replicas: 2 }]);
    expect((await store.getCloud('foreign'))?.allocated.cpu).toBe(2_000);
    await expectConsistentAndClose(store);
  });
});

describe('SQLite writer thread and the process', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tianshu-writer-exit-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('does not keep an idle process alive, as the connection it stands for would not', async () => {
    const path = join(dir, 'forgotten.db');
    const open = pathToFileURL(join(import.meta.dirname, '../store/open.ts')).href;
    // Opens a store, writes, and ends its script without closing the store.
    const script = `const { openStore } = await import(${JSON.stringify(open)});
      const store = await openStore(${JSON.stringify(path)});
      await store.createTenant({ subject: 't', role: 'operator', tenant: null }, 'gd', 'Guangdong');
      process.stdout.write('WROTE\\n');`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    const hung = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
    clearTimeout(hung);
    expect({ code, signal, out }).toEqual({ code: 0, signal: null, out: 'WROTE\n' });
    const store = await openStore(path);
    expect((await store.getTenant('gd'))?.displayName).toBe('Guangdong');
    await store.close();
  });
});

describe('SQLite writer thread lost', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tianshu-writer-stop-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /**
   * A store whose writer threads can be made to end: `lose('before')` makes the next batch's
   * thread end before the batch is run, `lose('after')` after it committed, both before the answer
   * reaches the engine — as a crash of the thread would. `started` counts the threads.
   */
  async function losableStore(name: string): Promise<{ store: TianshuStore; lose: (when: 'before' | 'after') => void; started: () => number; engine: Awaited<ReturnType<typeof openSqliteEngine>> }> {
    let pending: 'before' | 'after' | null = null;
    let count = 0;
    const start = async (data: WriterThreadData): Promise<Writer> => {
      const w = await startWriterThread(data);
      count++;
      return {
        async write(batch) {
          const when = pending;
          pending = null;
          if (when === null) return w.write(batch);
          if (when === 'after') expect((await w.write(batch)).kind).toBe('committed');
          await w.close();
          throw new Error('the thread ended');
        },
        close: () => w.close(),
        get failure() {
          return w.failure;
        },
      };
    };
    const engine = await openSqliteEngine(join(dir, name), resolveOptions(), start);
    const store = new EngineStore(engine, engine.checkpointKey, resolveOptions());
    await store.createTenant(OPERATOR, 'gd', 'Guangdong');
    await store.registerCloud(OPERATOR, cloud('c1'));
    return { store, engine, lose: (when) => (pending = when), started: () => count };
  }

  it.each(['before', 'after'] as const)('answers a batch whose thread ended %s it committed, once, and goes on with a new thread', async (when) => {
    const { store, lose, started } = await losableStore(`lost-${when}.db`);
    expect(started()).toBe(1);
    lose(when);
    const admitted = await store.admitDeployment(OPERATOR, spec('gd', 'web', 2), firstFit());
    expect(admitted.deployment.phase).toBe('Scheduled');
    // Committed exactly once, whichever way the thread ended; the next write is on a new thread.
    expect((await store.listDeployments({ under: 'gd', first: 10 })).items.map((d) => d.name)).toEqual(['web']);
    await store.admitDeployment(OPERATOR, spec('gd', 'api', 1), firstFit());
    expect(started()).toBe(2);
    expect(store.broken).toBeNull();
    await expectConsistentAndClose(store);
  });

  it('refuses an audit checkpoint whose thread ended under it, saying it may have been stored', async () => {
    const { store, lose, started } = await losableStore('lost-checkpoint.db');
    lose('after');
    await expect(store.checkpoint()).rejects.toMatchObject({ code: 'UNAVAILABLE', message: expect.stringContaining('may or may not have been stored') });
    // The next checkpoint goes through a new thread.
    expect((await store.checkpoint()).seq).toBeGreaterThan(0);
    expect(started()).toBe(2);
    await expectConsistentAndClose(store);
  });

  it(`gives up after ${WRITER_RESTARTS_PER_MINUTE} lost threads in a minute: writes and reads refuse, and the store says it is broken`, async () => {
    const { store, engine, lose, started } = await losableStore('lost-often.db');
    for (let i = 0; i < WRITER_RESTARTS_PER_MINUTE; i++) {
      lose('before');
      await store.createTenant(OPERATOR, `t${i}`, `Tenant ${i}`);
    }
    expect(started()).toBe(1 + WRITER_RESTARTS_PER_MINUTE);
    expect(store.broken).toBeNull();
    lose('before');
    const refused = { code: 'UNAVAILABLE', message: expect.stringContaining('writer thread') };
    await expect(store.createTenant(OPERATOR, 'last', 'Last')).rejects.toMatchObject(refused);
    expect(store.broken).toMatchObject(refused);
    expect(started()).toBe(1 + WRITER_RESTARTS_PER_MINUTE);
    await expect(store.getCloud('c1')).rejects.toMatchObject(refused);
    await engine.close();
  });
});
