import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { TianshuError } from '../domain/errors.js';
import { SQLITE_MIGRATIONS } from '../store/migrations/sqlite/index.js';
import { openStore, parseStoreUrl } from '../store/open.js';
import { describeStore } from './store/engines.js';
import { OPERATOR, cloud, spec } from './store/fixtures.js';
import { firstFit } from './store/planner.js';

async function failure(p: Promise<unknown>): Promise<TianshuError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(TianshuError);
    return e as TianshuError;
  }
  throw new Error('expected a failure');
}

/** A loopback port nobody listens on. */
function deadPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 1;
      s.close(() => resolve(port));
    });
  });
}

describe('bad state: SQLite files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tianshu-bad-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reports a file locked by another process, and loses nothing once it is released', async () => {
    const path = join(dir, 'locked.db');
    const store = await openStore(path, { busyTimeoutMs: 200 });
    await store.registerCloud(OPERATOR, cloud('c1'));
    await store.createTenant(OPERATOR, 'gd', 'Guangdong');
    const other = new Database(path);
    other.exec('BEGIN EXCLUSIVE');
    try {
      const atOpen = await failure(openStore(path, { busyTimeoutMs: 200 }));
      expect(atOpen.code).toBe('UNAVAILABLE');
      expect(atOpen.details.cause).toBe('locked');
      expect(atOpen.message).toMatch(/is locked by another connection or process/);
      expect(atOpen.message).toContain(path);
      const write = await failure(store.admitDeployment(OPERATOR, spec('gd', 'web', 1), firstFit()));
      expect(write.code).toBe('UNAVAILABLE');
      expect(write.retryable).toBe(true);
    } finally {
      other.exec('COMMIT');
      other.close();
    }
    const ok = await store.admitDeployment(OPERATOR, spec('gd', 'web', 1), firstFit());
    expect(ok.deployment.phase).toBe('Scheduled');
    expect(await store.getTenant('gd')).not.toBeNull();
    expect(await store.checkLedger()).toEqual([]);
    expect((await store.verifyAudit()).ok).toBe(true);
    await store.close();
  });

  it('refuses a file that is not a database, leaving it untouched', async () => {
    const path = join(dir, 'garbage.db');
    const garbage = Buffer.alloc(16_384, 0x5a);
    writeFileSync(path, garbage);
    const err = await failure(openStore(path));
    expect(err.code).toBe('UNAVAILABLE');
    expect(err.details.cause).toBe('corrupt');
    expect(err.message).toMatch(/corrupt or not a database/);
    expect(err.message).toContain(path);
    expect(readFileSync(path).equals(garbage)).toBe(true);
  });

  it('refuses a database whose pages are damaged', async () => {
    const path = join(dir, 'damaged.db');
    const store = await openStore(path);
    await store.registerCloud(OPERATOR, cloud('c1'));
    await store.createTenant(OPERATOR, 'gd', 'Guangdong');
    for (let i = 0; i < 40; i++) await store.admitDeployment(OPERATOR, spec('gd', `d${i}`, 1), firstFit());
    await store.close();
    const size = statSync(path).size;
    const fd = openSync(path, 'r+');
    // Scribble over every page but the header page.
    writeSync(fd, Buffer.alloc(size - 4096, 0xa5), 0, size - 4096, 4096);
    closeSync(fd);
    const before = readFileSync(path);
    const err = await failure(openStore(path));
    expect(err.code).toBe('UNAVAILABLE');
    expect(err.details.cause).toBe('corrupt');
    expect(readFileSync(path).equals(before)).toBe(true);
  });
});

describe('bad state: PostgreSQL', () => {
  it('reports an unreachable server, naming it and the cause', async () => {
    const port = await deadPort();
    const err = await failure(openStore(`postgres://tianshu:secret@127.0.0.1:${port}/tianshu`, { connectTimeoutMs: 2_000 }));
    expect(err.code).toBe('UNAVAILABLE');
    expect(err.details.cause).toBe('unreachable');
    expect(err.message).toContain(`127.0.0.1:${port}`);
    expect(err.message).toMatch(/unreachable: ECONNREFUSED/);
    expect(err.message).not.toContain('secret');
  });
});

describe('store URLs', () => {
  it.each([
    [undefined, { engine: 'sqlite', path: './data/tianshu.db' }],
    ['', { engine: 'sqlite', path: './data/tianshu.db' }],
    ['./data/x.db', { engine: 'sqlite', path: './data/x.db' }],
    ['sqlite:./a.db', { engine: 'sqlite', path: './a.db' }],
    ['sqlite:///var/lib/t.db', { engine: 'sqlite', path: '/var/lib/t.db' }],
    ['file:///var/lib/t.db', { engine: 'sqlite', path: '/var/lib/t.db' }],
    ['postgres://u@h:5432/db', { engine: 'postgres', url: 'postgres://u@h:5432/db' }],
    ['postgresql://u@h/db', { engine: 'postgres', url: 'postgresql://u@h/db' }],
  ])('%s → %o', (url, expected) => {
    expect(parseStoreUrl(url)).toEqual(expected);
  });

  it('rejects other schemes', () => {
    expect(() => parseStoreUrl('mysql://u:pw@h/db')).toThrow(/unsupported URL scheme/);
  });
});

describeStore('bad state: migrations', (h) => {
  it('refuses a schema newer than the code, keeping the data', async () => {
    const url = await h.fresh();
    const store = await h.open(url);
    await store.createTenant(OPERATOR, 'gd', 'Guangdong');
    await store.close();
    const raw = await h.raw(url);
    // Both engines know the same number of migrations.
    const known = SQLITE_MIGRATIONS.length;
    try {
      for (let v = known + 1; v <= known + 6; v++) await raw.exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (${v}, 'future', '2030-01-01')`);
      const err = await failure(h.open(url));
      expect(err.message).toBe(`database schema version ${known + 6} is newer than this Tianshu (knows up to ${known}); upgrade Tianshu`);
      expect(await raw.all('SELECT path FROM tenants')).toEqual([{ path: 'gd' }]);
      await raw.exec(`DELETE FROM schema_migrations WHERE version > ${known}`);
    } finally {
      await raw.close();
    }
    const again = await h.open(url);
    expect((await again.listTenants()).map((t) => t.path)).toEqual(['gd']);
    await again.close();
  });
});
