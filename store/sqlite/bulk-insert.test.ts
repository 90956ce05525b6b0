import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { BulkInsert } from './bulk-insert.js';

function table(): Database.Database {
  const db = new Database(':memory:');
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, a TEXT NOT NULL, b INTEGER NOT NULL)');
  return db;
}

describe('BulkInsert', () => {
  it.each([0, 1, 2, 63, 64, 65, 127, 200, 1024])('writes %i rows in the order they were added', (n) => {
    const db = table();
    const bulk = new BulkInsert(db, 't', ['a', 'b']);
    for (let i = 0; i < n; i++) bulk.add([`row-${i}`, i]);
    bulk.flush();
    const rows = db.prepare('SELECT id, a, b FROM t ORDER BY id').all() as { id: number; a: string; b: number }[];
    expect(rows).toEqual(Array.from({ length: n }, (_, i) => ({ id: i + 1, a: `row-${i}`, b: i })));
  });

  it('starts empty after a flush, after a failed flush and after clear', () => {
    const db = table();
    const bulk = new BulkInsert(db, 't', ['a', 'b']);
    bulk.add(['x', 1]);
    bulk.flush();
    bulk.add(['y', null]);
    expect(() => bulk.flush()).toThrow(/NOT NULL/);
    bulk.add(['z', 2]);
    bulk.clear();
    bulk.flush();
    bulk.add(['w', 3]);
    bulk.flush();
    expect(db.prepare('SELECT a FROM t ORDER BY id').pluck().all()).toEqual(['x', 'w']);
  });
});
