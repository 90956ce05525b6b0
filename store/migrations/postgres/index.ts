/** Every PostgreSQL migration, in order. */
import type { Migration } from '../migration.js';
import { migration as m0001 } from './0001-init.js';
import { migration as m0002 } from './0002-leader-lease.js';

/** The PostgreSQL migrations this code knows. */
export const POSTGRES_MIGRATIONS: readonly Migration[] = [m0001, m0002];
