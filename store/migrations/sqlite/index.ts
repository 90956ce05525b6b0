/** Every SQLite migration, in order. */
import type { Migration } from '../migration.js';
import { migration as m0001 } from './0001-init.js';
import { migration as m0002 } from './0002-leader-lease.js';

/** The SQLite migrations this code knows. */
export const SQLITE_MIGRATIONS: readonly Migration[] = [m0001, m0002];
