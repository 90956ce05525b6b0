/**
 * Where the SQLite engine's group commits are executed ({@link BatchExecutor}): on a thread of its
 * own with its own connection for a file, so the event loop goes on serving requests — and
 * planning none, one batch being in flight — while the batch's SQL, its fsync and SQLite's WAL
 * checkpoints run; inline on the engine's connection for `:memory:`. The thread is supervised
 * ({@link supervisedWriter}): one that ends is replaced, a few times a minute at most.
 */
import { Worker } from 'node:worker_threads';
import { TianshuError } from '../../domain/errors.js';
import type { WriteBatch, WriteOutcome } from './batch-executor.js';
import { BatchExecutor, errorOf } from './batch-executor.js';
import type Database from 'better-sqlite3';

/**
 * A batch's outcome as a writer reports it: the executor's, or `lost` when the writer's thread
 * ended with the batch in flight, so that it may or may not have committed (the file says which).
 */
export type WriterOutcome = WriteOutcome | { readonly kind: 'lost' };

/** Executes write batches in the order they are given. */
export interface Writer {
  /** Resolves with the batch's outcome; rejects (UNAVAILABLE) only when the writer itself is gone. */
  write(batch: WriteBatch): Promise<WriterOutcome>;
  /** Finishes the batches already given, then closes the writer's connection. */
  close(): Promise<void>;
  /** Why the writer stopped (UNAVAILABLE), or null while it runs. */
  readonly failure: TianshuError | null;
}

/** What the writer thread is started with. */
export interface WriterThreadData {
  readonly path: string;
  readonly busyTimeoutMs: number;
}

/** Messages to the writer thread. */
export type ToWriter = { readonly kind: 'write'; readonly id: number; readonly batch: WriteBatch } | { readonly kind: 'close' };

/** Messages from the writer thread. */
export type FromWriter =
  | { readonly kind: 'ready' }
  | { readonly kind: 'done'; readonly id: number; readonly outcome: WriteOutcome }
  | { readonly kind: 'open-failed'; readonly code: string | null; readonly message: string };

/** A writer on the engine's own connection, on the event loop. */
export function inlineWriter(db: Database.Database): Writer {
  const executor = new BatchExecutor(db);
  return {
    write: (batch) => Promise.resolve(executor.run(batch)),
    close: () => Promise.resolve(),
    failure: null,
  };
}

/** How many lost writer threads {@link supervisedWriter} replaces within a minute before it gives up. */
export const WRITER_RESTARTS_PER_MINUTE = 3;

/**
 * A writer that outlives its thread: when the thread ends (a crash, its heap exhausted), the
 * batches it had in flight are answered `lost` and the next batch starts a new thread with
 * `start`. A thread that cannot be started, or a fourth loss within a minute (a batch that takes
 * every thread down with it, say), and the writer stops for good: `failure` is set and every
 * write refused, as by a writer that is not supervised.
 */
export function supervisedWriter(first: Writer, start: () => Promise<Writer>, now: () => number = Date.now): Writer {
  let current = first;
  let stopped: TianshuError | null = null;
  let replacing: Promise<void> | null = null;
  const restarts: number[] = [];

  const replace = (): Promise<void> => {
    replacing ??= (async () => {
      const t = now();
      while (restarts.length > 0 && t - (restarts[0] ?? t) >= 60_000) restarts.shift();
      const lost = current.failure?.message ?? 'the SQLite writer thread stopped';
      if (restarts.length >= WRITER_RESTARTS_PER_MINUTE) {
        stopped = new TianshuError('UNAVAILABLE', `${lost}; it was replaced ${restarts.length} times in the last minute, so the store stays unavailable until the service restarts`);
        return;
      }
      restarts.push(t);
      try {
        current = await start();
      } catch (err) {
        stopped = new TianshuError('UNAVAILABLE', `${lost}, and a new one could not be started (${err instanceof Error ? err.message : String(err)}); the store is unavailable until the service restarts`);
      }
    })().finally(() => {
      replacing = null;
    });
    return replacing;
  };

  return {
    async write(batch) {
      if (stopped === null && current.failure !== null) await replace();
      if (stopped !== null) throw stopped;
      const writer = current;
      try {
        return await writer.write(batch);
      } catch (err) {
        // Handed over, then the thread ended: the next write replaces it.
        if (writer.failure !== null) return { kind: 'lost' };
        throw err;
      }
    },
    async close() {
      await replacing;
      await current.close();
    },
    get failure() {
      return stopped;
    },
  };
}

/**
 * Starts the writer thread on `path` and resolves once its connection is open and configured (so
 * that any commit by another connection after this resolves is one its batches will notice).
 * Rejects with what opening the file threw, as an Error carrying SQLite's `code`.
 */
export function startWriterThread(data: WriterThreadData): Promise<Writer> {
  const worker = spawn(data);
  /** The batches handed over and not yet answered, by id. */
  const inFlight = new Map<number, { readonly done: (o: WriteOutcome) => void; readonly fail: (e: unknown) => void }>();
  let nextId = 0;
  let gone: TianshuError | null = null;
  let closing: Promise<void> | null = null;

  const stop = (why: string): void => {
    gone ??= new TianshuError('UNAVAILABLE', `the SQLite writer thread for ${data.path} stopped (${why})`, { path: data.path });
    for (const { fail } of inFlight.values()) fail(gone);
    inFlight.clear();
  };

  return new Promise<Writer>((resolve, reject) => {
    // Until the thread is ready, the first failure it reports rejects the start (the rest are moot).
    let ready = false;
    worker.on('message', (m: FromWriter) => {
      if (m.kind === 'ready') {
        ready = true;
        // Like the connection it stands for, an idle writer does not keep the process alive; a
        // batch in flight does, until it is answered.
        worker.unref();
        resolve(writer);
      } else if (m.kind === 'open-failed') {
        reject(errorOf(m));
      } else {
        const batch = inFlight.get(m.id);
        inFlight.delete(m.id);
        if (inFlight.size === 0) worker.unref();
        batch?.done(m.outcome);
      }
    });
    worker.on('error', (err) => {
      if (!ready) reject(err);
      stop(err instanceof Error ? err.message : String(err));
    });
    worker.on('exit', (code) => {
      if (!ready) reject(new Error(`the SQLite writer thread exited with code ${code} before opening ${data.path}`));
      stop(closing === null ? `exit code ${code}` : 'closed');
    });

    const writer: Writer = {
      write(batch) {
        if (gone !== null) return Promise.reject(gone);
        const id = nextId++;
        return new Promise<WriteOutcome>((done, fail) => {
          try {
            worker.postMessage({ kind: 'write', id, batch } satisfies ToWriter);
          } catch (err) {
            // A value that cannot be cloned: this batch is not written, the writer is fine.
            done({ kind: 'failed', code: null, message: `could not hand the batch to the writer thread: ${err instanceof Error ? err.message : String(err)}` });
            return;
          }
          if (inFlight.size === 0) worker.ref();
          inFlight.set(id, { done, fail });
        });
      },
      close() {
        closing ??= new Promise<void>((closed) => {
          if (gone !== null) return closed();
          worker.ref();
          worker.once('exit', () => closed());
          worker.postMessage({ kind: 'close' } satisfies ToWriter);
        });
        return closing;
      },
      get failure() {
        return gone;
      },
    };
  });
}

/**
 * The writer thread. From the compiled build its entry is `writer-thread.js`; when this module
 * runs from its TypeScript source (the tests, `npm run dev`), the thread loads `writer-thread.ts`
 * through the same loader, tsx, which a worker does not inherit.
 */
function spawn(data: WriterThreadData): Worker {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return new Worker(new URL('./writer-thread.js', here), { workerData: data });
  const loader = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  const entry = JSON.stringify(new URL('./writer-thread.ts', here).href);
  return new Worker(`import(${loader}).then((tsx) => { tsx.register(); return import(${entry}); });`, { eval: true, workerData: data });
}
