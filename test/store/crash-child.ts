/**
 * The child of the crash test: opens the SQLite store at argv[2] and streams admissions (16 in
 * flight, so they group-commit) with idempotency keys `<cycle>-<n>`, printing `ACK <key> <id>`
 * for each one only after the store acknowledged it. The parent SIGKILLs it at a random moment.
 */
import { isTianshuError } from '../../domain/errors.js';
import { openStore } from '../../store/open.js';
import { OPERATOR, cloud, spec } from './fixtures.js';
import { firstFit } from './planner.js';

const [path, cycle] = process.argv.slice(2);
if (path === undefined || cycle === undefined) throw new Error('usage: crash-child.ts <db> <cycle>');
const store = await openStore(path);
const ignoreConflict = (e: unknown): void => {
  if (!isTianshuError(e, 'CONFLICT')) throw e;
};
await store.registerCloud(OPERATOR, cloud('c1', { cpu: 1e12, memory: 1e12 })).catch(ignoreConflict);
await store.createTenant(OPERATOR, 'gd', 'Guangdong').catch(ignoreConflict);
const plan = firstFit();
process.stdout.write('READY\n');
let n = 0;
const worker = async (): Promise<void> => {
  for (;;) {
    const i = n++;
    const key = `${cycle}-${i}`;
    const a = await store.admitDeployment(OPERATOR, spec('gd', `d-${cycle}-${i}`, 1, 100), plan, { idempotencyKey: key });
    // Pipes are synchronous on Linux: once this returns the line is the parent's, kill or not.
    process.stdout.write(`ACK ${key} ${a.deployment.id}\n`);
  }
};
await Promise.all(Array.from({ length: 16 }, worker));
