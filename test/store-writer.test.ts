/**
 * The SQLite engine's writer thread, seen through the store: a write waiting for another
 * connection's lock leaves the event loop free, so timers fire and reads are answered meanwhile; a
 * batch the database refuses is retried request by request, so only the bad one fails; and a
 * commit by another connection is noticed under the next batch's lock, which is then planned again
 * on the state that includes it.
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
import type { Writer } from '../store/sqlite/writer.js';
import { startWriterThread } from '../store/sqlite/writer.js';
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

describe('SQLite writer thread stopping', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tianshu-writer-stop-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses writes and reads once the writer thread has ended, so readiness fails', async () => {
    const path = join(dir, 'stop.db');
    let writer: Writer | null = null;
    const engine = await openSqliteEngine(path, resolveOptions(), async (data) => (writer = await startWriterThread(data)));
    const store = new EngineStore(engine, engine.checkpointKey, resolveOptions());
    await store.registerCloud(OPERATOR, cloud('c1'));
    expect(writer).not.toBeNull();
    const w = writer as unknown as Writer;
    expect(w.failure).toBeNull();
    // The thread ends behind the engine's back (as a crash would end it).
    await w.close();
    expect(w.failure).toMatchObject({ code: 'UNAVAILABLE', message: expect.stringContaining('writer thread') });
    await expect(w.write({ checkStale: false, fences: [], steps: [] })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    await expect(store.createTenant(OPERATOR, 'gd', 'Guangdong')).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    await expect(store.getCloud('c1')).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    await engine.close();
  });
});
