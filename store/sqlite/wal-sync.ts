/**
 * Durability for group commit without blocking the event loop on fsync.
 *
 * In WAL mode with `synchronous=NORMAL`, SQLite's `COMMIT` writes the transaction's frames to the
 * WAL file (the page cache) and returns; it fsyncs only around checkpoints (the WAL before one,
 * the database after one, and the WAL header when the file is reused). A commit is durable once
 * the WAL file is synced after it. {@link WalSync} does that sync on libuv's thread pool
 * (`fdatasync` on a descriptor of the same file: the sync is per file, not per descriptor) and
 * acknowledges a commit only when a sync *started after it* completes. One sync runs at a time;
 * every commit made while it runs is acknowledged by the next one, so a burst of batches shares
 * syncs while the event loop goes on planning and writing the next batch.
 *
 * The guarantee for an acknowledged write is `synchronous=FULL`'s. What differs: a commit is
 * visible to reads of this process (through the in-memory image, as it already is while a batch is
 * planned) a moment before it is acknowledged. If a sync fails, the commits it covered may or may
 * not survive a crash, so the file is no longer trustworthy: the failure is final (every waiting
 * and later commit is refused), as PostgreSQL treats a failed fsync.
 */
import { closeSync, fdatasync, openSync } from 'node:fs';

/** Acknowledgements of committed batches, released once the WAL holding them is on disk. */
export class WalSync {
  private readonly fd: number;
  /** Commits made since the running sync started (or since the last one, when none runs). */
  private waiting: ((error: Error | null) => void)[] = [];
  private running = false;
  private failure: Error | null = null;
  private drained: (() => void)[] = [];

  /** Opens the WAL file of the database at `dbPath` (it must exist: open it after the first write). */
  constructor(dbPath: string) {
    this.fd = openSync(`${dbPath}-wal`, 'r');
  }

  /** The sync failure that made this store refuse commits, or null. */
  get failed(): Error | null {
    return this.failure;
  }

  /** Calls `ack` once everything committed so far is on disk, with the sync's error if it failed. */
  afterCommit(ack: (error: Error | null) => void): void {
    if (this.failure !== null) {
      ack(this.failure);
      return;
    }
    this.waiting.push(ack);
    if (!this.running) this.start();
  }

  /** Resolves when no acknowledgement is outstanding. */
  idle(): Promise<void> {
    if (!this.running && this.waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.drained.push(resolve));
  }

  /** Closes the descriptor; call after {@link idle}. */
  close(): void {
    closeSync(this.fd);
  }

  private start(): void {
    const batch = this.waiting;
    this.waiting = [];
    this.running = true;
    fdatasync(this.fd, (err) => {
      this.running = false;
      if (err !== null && this.failure === null) this.failure = new Error(`fdatasync of the WAL failed: ${err.message}`);
      const failure = this.failure;
      for (const ack of batch) ack(failure);
      if (this.waiting.length > 0) {
        if (failure === null) this.start();
        else for (const ack of this.waiting.splice(0)) ack(failure);
      }
      if (!this.running && this.waiting.length === 0) for (const resolve of this.drained.splice(0)) resolve();
    });
  }
}
