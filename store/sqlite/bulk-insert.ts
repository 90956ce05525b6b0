/**
 * Multi-row INSERTs for the group committer: the rows a batch adds to one table are collected and
 * written by statements of up to {@link MAX_ROWS} rows each (`INSERT … VALUES (…), (…), …`), so a
 * batch of admissions costs a handful of statement executions per table instead of one per row.
 * Rows keep the order they were added in (AUTOINCREMENT ids are assigned in that order). The
 * statements are {@link WriteStep}s for the writer (`writer.ts`) to run.
 */
import type { WriteStep } from './batch-executor.js';

/** Rows per statement: 64 rows of 10 columns stay far below SQLite's 32,766 bound parameters. */
const MAX_ROWS = 64;

/** Collects rows of one table and turns them into as few statements as possible. */
export class BulkInsert {
  /** Statement SQL by row count: powers of two up to {@link MAX_ROWS}, built when first needed. */
  private readonly statements = new Map<number, string>();
  /** Values of full chunks of {@link MAX_ROWS} rows, each bound as it is. */
  private full: unknown[][] = [];
  /**
   * Values of the chunk being filled. Grown by pushing, never preallocated: a holey array is
   * cloned to the writer thread element by element as a sparse one, at twice the cost.
   */
  private open: unknown[] = [];
  private readonly chunkValues: number;

  constructor(
    private readonly table: string,
    private readonly columns: readonly string[],
  ) {
    this.chunkValues = MAX_ROWS * columns.length;
  }

  /** Queues one row, its values in the columns' order. */
  add(row: readonly unknown[]): void {
    const open = this.open;
    for (let i = 0; i < row.length; i++) open.push(row[i]);
    if (open.length === this.chunkValues) {
      this.full.push(open);
      this.open = [];
    }
  }

  /** Appends the statements inserting every queued row to `steps`; the queue is empty afterwards. */
  flushInto(steps: WriteStep[]): void {
    const full = this.full;
    const open = this.open;
    this.clear();
    for (const chunk of full) steps.push([this.statement(MAX_ROWS), chunk, null]);
    // The rest in power-of-two pieces, so at most log2(MAX_ROWS) statements are ever prepared.
    const width = this.columns.length;
    let left = open.length / width;
    let at = 0;
    for (let size = MAX_ROWS >> 1; left > 0; size >>= 1) {
      if (left < size) continue;
      steps.push([this.statement(size), open.slice(at, at + size * width), null]);
      at += size * width;
      left -= size;
    }
  }

  /** Forgets the queued rows (the batch failed before they were handed over). */
  clear(): void {
    if (this.full.length > 0) this.full = [];
    if (this.open.length > 0) this.open = [];
  }

  private statement(rows: number): string {
    let s = this.statements.get(rows);
    if (s === undefined) {
      const row = `(${this.columns.map(() => '?').join(', ')})`;
      s = `INSERT INTO ${this.table} (${this.columns.join(', ')}) VALUES ${Array.from({ length: rows }, () => row).join(', ')}`;
      this.statements.set(rows, s);
    }
    return s;
  }
}
