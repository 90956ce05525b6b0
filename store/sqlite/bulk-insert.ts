/**
 * Multi-row INSERTs for the group committer: the rows a batch adds to one table are collected and
 * written by statements of up to {@link MAX_ROWS} rows each (`INSERT … VALUES (…), (…), …`), so a
 * batch of admissions costs a handful of statement executions per table instead of one per row.
 * Rows keep the order they were added in (AUTOINCREMENT ids are assigned in that order).
 */
import type Database from 'better-sqlite3';

/** Rows per statement: 64 rows of 10 columns stay far below SQLite's 32,766 bound parameters. */
const MAX_ROWS = 64;

/** Collects rows of one table and inserts them in as few statements as possible. */
export class BulkInsert {
  /** Statements by row count: powers of two up to {@link MAX_ROWS}, prepared when first needed. */
  private readonly statements = new Map<number, Database.Statement>();
  private values: unknown[] = [];
  private rows = 0;

  constructor(
    private readonly db: Database.Database,
    private readonly table: string,
    private readonly columns: readonly string[],
  ) {}

  /** Queues one row, its values in the columns' order. */
  add(row: readonly unknown[]): void {
    for (let i = 0; i < row.length; i++) this.values.push(row[i]);
    this.rows++;
  }

  /** Inserts every queued row; the queue is empty afterwards, also when a statement fails. */
  flush(): void {
    const values = this.values;
    const width = this.columns.length;
    let left = this.rows;
    this.values = [];
    this.rows = 0;
    let at = 0;
    for (let size = MAX_ROWS; left > 0; size >>= 1) {
      while (left >= size) {
        this.statement(size).run(...values.slice(at, at + size * width));
        at += size * width;
        left -= size;
      }
    }
  }

  /** Forgets the queued rows (the batch failed before they were written). */
  clear(): void {
    this.values = [];
    this.rows = 0;
  }

  private statement(rows: number): Database.Statement {
    let s = this.statements.get(rows);
    if (s === undefined) {
      const row = `(${this.columns.map(() => '?').join(', ')})`;
      s = this.db.prepare(`INSERT INTO ${this.table} (${this.columns.join(', ')}) VALUES ${Array.from({ length: rows }, () => row).join(', ')}`);
      this.statements.set(rows, s);
    }
    return s;
  }
}
