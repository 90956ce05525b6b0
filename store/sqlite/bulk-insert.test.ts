import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { WriteOutcome, WriteStep } from './batch-executor.js';
import { BatchExecutor } from './batch-executor.js';
import { BulkInsert } from './bulk-insert.js';

function table(): { db: Database.Database; write: (bulk: BulkInsert) => WriteOutcome } {
  const db = new Database(':memory:');
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, a TEXT NOT NULL, b INTEGER NOT NULL)');
  db.exec('CREATE TABLE leader_lease (name TEXT PRIMARY KEY, token INTEGER NOT NULL)');
  const executor = new BatchExecutor(db);
  return {
    db,
    write(bulk) {
      const steps: WriteStep[] = [];
      bulk.flushInto(steps);
      return executor.run({ checkStale: false, fences: [], steps });
    },
  };
}

describe('BulkInsert', () => {
  it.each([0, 1, 2, 63, 64, 65, 127, 200, 1024])('writes %i rows in the order they were added', (n) => {
    const { db, write } = table();
    const bulk = new BulkInsert('t', ['a', 'b']);
    for (let i = 0; i < n; i++) bulk.add([`row-${i}`, i]);
    expect(write(bulk)).toEqual({ kind: 'committed' });
    const rows = db.prepare('SELECT id, a, b FROM t ORDER BY id').all() as { id: number; a: string; b: number }[];
    expect(rows).toEqual(Array.from({ length: n }, (_, i) => ({ id: i + 1, a: `row-${i}`, b: i })));
  });

  it('starts empty after a flush, after a failed write and after clear', () => {
    const { db, write } = table();
    const bulk = new BulkInsert('t', ['a', 'b']);
    bulk.add(['x', 1]);
    write(bulk);
    bulk.add(['y', null]);
    expect(write(bulk)).toMatchObject({ kind: 'failed', code: 'SQLITE_CONSTRAINT_NOTNULL', message: expect.stringMatching(/NOT NULL/) });
    bulk.add(['z', 2]);
    bulk.clear();
    write(bulk);
    bulk.add(['w', 3]);
    write(bulk);
    expect(db.prepare('SELECT a FROM t ORDER BY id').pluck().all()).toEqual(['x', 'w']);
  });
});
