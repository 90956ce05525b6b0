import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WalSync } from './wal-sync.js';

const dirs: string[] = [];

/** A database path whose `-wal` file exists. */
function walPath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tianshu-walsync-'));
  dirs.push(dir);
  const db = join(dir, 'x.db');
  writeFileSync(`${db}-wal`, 'frames');
  return db;
}

afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('WalSync', () => {
  it('acknowledges a commit made while a sync runs only with the next sync, not the running one', async () => {
    const sync = new WalSync(walPath());
    const order: string[] = [];
    let sameTurnAsFirst = false;
    let firstTurn = false;
    const first = new Promise<void>((resolve) =>
      sync.afterCommit((e) => {
        expect(e).toBeNull();
        order.push('first');
        firstTurn = true;
        queueMicrotask(() => (firstTurn = false));
        resolve();
      }),
    );
    // The first sync is running now; this commit came after it started.
    const second = new Promise<void>((resolve) =>
      sync.afterCommit((e) => {
        expect(e).toBeNull();
        order.push('second');
        sameTurnAsFirst = firstTurn;
        resolve();
      }),
    );
    await Promise.all([first, second]);
    expect(order).toEqual(['first', 'second']);
    expect(sameTurnAsFirst).toBe(false);
    await sync.idle();
    sync.close();
  });

  it('resolves idle() only when every acknowledgement is out', async () => {
    const sync = new WalSync(walPath());
    let acked = 0;
    for (let i = 0; i < 5; i++) sync.afterCommit(() => acked++);
    await sync.idle();
    expect(acked).toBe(5);
    await expect(sync.idle()).resolves.toBeUndefined();
    sync.close();
  });

  it('fails every waiting and later commit once a sync fails', async () => {
    const sync = new WalSync(walPath());
    sync.close(); // the descriptor is gone: fdatasync fails with EBADF
    const error = await new Promise<Error | null>((resolve) => sync.afterCommit(resolve));
    expect(error?.message).toMatch(/fdatasync of the WAL failed/);
    expect(sync.failed).toBe(error);
    let later: Error | null = null;
    sync.afterCommit((e) => (later = e));
    expect(later).toBe(error);
    await sync.idle();
  });

  it('refuses to start without the WAL file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tianshu-walsync-'));
    dirs.push(dir);
    expect(() => new WalSync(join(dir, 'missing.db'))).toThrow(/ENOENT/);
  });
});
