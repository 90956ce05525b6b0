/**
 * Options of {@link openStore}, validated and resolved once at open.
 */
import { randomFillSync } from 'node:crypto';
import { TianshuError } from '../domain/errors.js';

const pool = Buffer.alloc(4096);
let poolAt = pool.length;
/** The text of one id, written digit by digit and read back as a single flat string. */
const text = Buffer.alloc(36);
const HEX_DIGITS = Buffer.from('0123456789abcdef', 'latin1');

/**
 * A time-ordered UUID (version 7: 48-bit milliseconds, then random bits), so new rows land at
 * the right edge of the primary-key B-trees instead of splitting pages all over them.
 */
export function uuidv7(now: number = Date.now()): string {
  // Random bits come from a pooled buffer: one getrandom call per 256 ids instead of one per id.
  if (poolAt + 16 > pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  // The id is assembled in the pool itself (its bytes are used once): no Buffer per id.
  const at = poolAt;
  poolAt += 16;
  pool.writeUIntBE(now, at, 6);
  pool[at + 6] = ((pool[at + 6] ?? 0) & 0x0f) | 0x70;
  pool[at + 8] = ((pool[at + 8] ?? 0) & 0x3f) | 0x80;
  let o = 0;
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) text[o++] = 0x2d; // '-'
    const byte = pool[at + i] ?? 0;
    text[o++] = HEX_DIGITS[byte >> 4] ?? 0;
    text[o++] = HEX_DIGITS[byte & 15] ?? 0;
  }
  return text.toString('latin1');
}

/**
 * The clock as ISO-8601 text, formatting each millisecond once: `toISOString` is costly and a group
 * commit asks for the time several times per request within the same millisecond. The clock is
 * still read on every call, so an injected clock behaves exactly as before.
 */
export function isoClock(clock: () => Date): () => string {
  let lastMs = Number.NaN;
  let lastIso = '';
  return () => {
    const d = clock();
    const ms = d.getTime();
    if (ms !== lastMs) {
      // An invalid date (NaN) never equals lastMs, so toISOString still throws for it.
      lastIso = d.toISOString();
      lastMs = ms;
    }
    return lastIso;
  };
}

/** Options for opening a store; every field is optional. */
export interface StoreOptions {
  /** The time source (tests inject a fake clock). Default: `() => new Date()`. */
  readonly clock?: () => Date;
  /** Deployment id generator. Default: time-ordered UUIDv7 from the clock. */
  readonly newId?: () => string;
  /**
   * The HMAC key for audit checkpoints, as hex or bytes (≥ 16 bytes). Default: a random key
   * generated at first open and kept in the database's `meta` table. Pass one from a secret store
   * when someone with write access to the database must not be able to forge checkpoints.
   */
  readonly checkpointKey?: string | Buffer;
  /** How long audit events are kept by `purgeExpiredAudit()`, in days. Default 180. */
  readonly auditRetentionDays?: number;
  /** SQLite: `group` commits concurrent requests in one transaction per tick (default); `single` commits each alone. */
  readonly mode?: 'group' | 'single';
  /** SQLite: the most requests in one group commit. Default 1024. */
  readonly maxBatch?: number;
  /** SQLite: how long to wait for another connection's lock before failing UNAVAILABLE. Default 5000 ms. */
  readonly busyTimeoutMs?: number;
  /** PostgreSQL: attempts of one mutation before CONFLICT when versions keep changing. Default 8. */
  readonly maxAttempts?: number;
  /** PostgreSQL: connection pool size. Default 10. */
  readonly poolSize?: number;
  /** PostgreSQL: how long to wait for a connection before UNAVAILABLE. Default 5000 ms. */
  readonly connectTimeoutMs?: number;
}

/** Options with defaults applied. */
export interface ResolvedOptions {
  readonly clock: () => Date;
  readonly newId: () => string;
  readonly checkpointKey: Buffer | null;
  readonly auditRetentionDays: number;
  readonly mode: 'group' | 'single';
  readonly maxBatch: number;
  readonly busyTimeoutMs: number;
  readonly maxAttempts: number;
  readonly poolSize: number;
  readonly connectTimeoutMs: number;
}

function positiveInt(v: number | undefined, dflt: number, field: string): number {
  if (v === undefined) return dflt;
  if (!Number.isSafeInteger(v) || v <= 0) throw new TianshuError('VALIDATION', `${field}: must be a positive whole number`, { field });
  return v;
}

/** Applies defaults and validates; VALIDATION naming the field. */
export function resolveOptions(o: StoreOptions = {}): ResolvedOptions {
  let key: Buffer | null = null;
  if (o.checkpointKey !== undefined) {
    key = typeof o.checkpointKey === 'string' ? Buffer.from(o.checkpointKey, 'hex') : Buffer.from(o.checkpointKey);
    if (key.length < 16) throw new TianshuError('VALIDATION', 'checkpointKey: must be at least 16 bytes (32 hex digits)', { field: 'checkpointKey' });
  }
  if (o.mode !== undefined && o.mode !== 'group' && o.mode !== 'single') {
    throw new TianshuError('VALIDATION', 'mode: must be "group" or "single"', { field: 'mode' });
  }
  const clock = o.clock ?? (() => new Date());
  return Object.freeze({
    clock,
    newId: o.newId ?? (() => uuidv7(clock().getTime())),
    checkpointKey: key,
    auditRetentionDays: positiveInt(o.auditRetentionDays, 180, 'auditRetentionDays'),
    mode: o.mode ?? 'group',
    maxBatch: positiveInt(o.maxBatch, 1024, 'maxBatch'),
    busyTimeoutMs: o.busyTimeoutMs === 0 ? 0 : positiveInt(o.busyTimeoutMs, 5_000, 'busyTimeoutMs'),
    maxAttempts: positiveInt(o.maxAttempts, 8, 'maxAttempts'),
    poolSize: positiveInt(o.poolSize, 10, 'poolSize'),
    connectTimeoutMs: positiveInt(o.connectTimeoutMs, 5_000, 'connectTimeoutMs'),
  });
}
