/**
 * The SQLite writer thread's entry (started by `writer.ts`): opens its own connection to the
 * engine's file and runs each batch it is sent, in order, answering with the outcome. A batch
 * never throws here; the thread ends when told to close.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type Database from 'better-sqlite3';
import { BatchExecutor, failureOf } from './batch-executor.js';
import { openConnection } from './connection.js';
import type { FromWriter, ToWriter, WriterThreadData } from './writer.js';

const port = parentPort;
if (port === null) throw new Error('writer-thread.ts is the entry of a worker thread, not a module to import');
const data = workerData as WriterThreadData;
const send = (m: FromWriter): void => port.postMessage(m);

/** The connection and its executor, or null (and the engine told why) when the file cannot be opened. */
function open(): { db: Database.Database; executor: BatchExecutor } | null {
  try {
    const db = openConnection(data.path, data.busyTimeoutMs);
    return { db, executor: new BatchExecutor(db) };
  } catch (err) {
    const { code, message } = failureOf(err);
    send({ kind: 'open-failed', code, message });
    return null;
  }
}

const opened = open();
if (opened === null) port.close();
else {
  const { db, executor } = opened;
  port.on('message', (m: ToWriter) => {
    if (m.kind === 'close') {
      db.close();
      port.close();
      return;
    }
    send({ kind: 'done', id: m.id, outcome: executor.run(m.batch) });
  });
  send({ kind: 'ready' });
}
