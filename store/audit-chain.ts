/**
 * The audit hash chain, shared by both engines: how an event is hashed, how checkpoints are
 * signed, and how a chain read back from storage is verified.
 *
 * hash = SHA-256(canonical JSON of {seq, time, actor, role, action, object, result, detail, prevHash}).
 * The first event's prevHash is {@link GENESIS_HASH}. A checkpoint is an HMAC-SHA256 over
 * `seq|hash|time` with the store's checkpoint key; a stored or exported checkpoint beyond the last
 * event reveals truncation, and the checkpoint written by a retention purge anchors what remains.
 */
import * as crypto from 'node:crypto';
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { AuditCheckpoint, AuditEvent, AuditVerification } from './store.js';
import { canonicalJson } from './canonical-json.js';

/** The prevHash of the first event ever written. */
export const GENESIS_HASH = '0'.repeat(64);

/** An event before the chain assigns its position. */
export interface AuditDraft {
  readonly actor: string;
  readonly role: string;
  readonly action: string;
  readonly object: string;
  readonly result: AuditEvent['result'];
  readonly detail: Readonly<Record<string, unknown>>;
}

/** The head of a chain: the last event's sequence number and hash (0 and genesis when empty). */
export interface ChainHead {
  readonly seq: number;
  readonly hash: string;
}

/** The head of an empty chain. */
export const EMPTY_HEAD: ChainHead = Object.freeze({ seq: 0, hash: GENESIS_HASH });

/** The canonical detail text of events this process chained, so storing them does not encode twice. */
const detailText = new WeakMap<object, string>();

/** The canonical JSON of an event's detail, as hashed and as stored. */
export function canonicalDetail(e: Pick<AuditEvent, 'detail'>): string {
  return detailText.get(e) ?? canonicalJson(e.detail);
}

/**
 * SHA-256 over the canonical encoding of everything in the event but its own hash: the JSON object
 * {action, actor, detail, object, prevHash, result, role, seq, time} with keys in that (sorted)
 * order, no whitespace. Written out by hand because it runs once per mutation on the hot path.
 */
export function hashEvent(e: Omit<AuditEvent, 'hash'>, detail: string = canonicalJson(e.detail)): string {
  const j = canonicalJson;
  const body = `{"action":${j(e.action)},"actor":${j(e.actor)},"detail":${detail},"object":${j(e.object)},"prevHash":${j(e.prevHash)},"result":${j(e.result)},"role":${j(e.role)},"seq":${j(e.seq)},"time":${j(e.time)}}`;
  return sha256(body);
}

/** One-shot `crypto.hash` where the runtime has it (Node ≥ 20.12), else a Hash object. */
const oneShot = (crypto as { hash?: (algorithm: string, data: string, encoding: 'hex') => string }).hash;
function sha256(text: string): string {
  return oneShot !== undefined ? oneShot('sha256', text, 'hex') : createHash('sha256').update(text).digest('hex');
}

/** Chains `draft` after `head` at `time`. */
export function chainEvent(head: ChainHead, draft: AuditDraft, time: string): AuditEvent {
  const detail = canonicalJson(draft.detail);
  // Field by field rather than spread: a spread in the middle of a literal copies property by property.
  const event: { -readonly [K in keyof AuditEvent]: AuditEvent[K] } = {
    seq: head.seq + 1,
    time,
    actor: draft.actor,
    role: draft.role,
    action: draft.action,
    object: draft.object,
    result: draft.result,
    detail: draft.detail,
    prevHash: head.hash,
    hash: '',
  };
  event.hash = hashEvent(event, detail);
  detailText.set(event, detail);
  return event;
}

/** Signs a checkpoint of `head` taken at `time`. */
export function signCheckpoint(key: Buffer, head: ChainHead, time: string): AuditCheckpoint {
  const signature = createHmac('sha256', key).update(`${head.seq}|${head.hash}|${time}`).digest('hex');
  return { seq: head.seq, hash: head.hash, time, signature };
}

/** True when the checkpoint's signature was made with `key`. */
export function checkpointSignatureOk(key: Buffer, cp: AuditCheckpoint): boolean {
  const expected = signCheckpoint(key, cp, cp.time).signature;
  const a = Buffer.from(expected, 'hex');
  const b = Buffer.from(cp.signature, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** A checkpoint as stored, with why it was taken. */
export interface StoredCheckpoint extends AuditCheckpoint {
  /** `purge` checkpoints anchor the chain after a retention purge; `head` ones are plain snapshots. */
  readonly kind: 'head' | 'purge';
}

/** What the verifier reads from an engine. */
export interface AuditSource {
  /** Events with `afterSeq` < seq ≤ `maxSeq`, ascending by seq, at most `limit`. */
  events(afterSeq: number, maxSeq: number, limit: number): Promise<readonly AuditEvent[]>;
  checkpoints(): Promise<readonly StoredCheckpoint[]>;
  /** The head as the store last recorded it, independently of the events table. */
  headRecord(): Promise<ChainHead>;
}

const PAGE = 2_000;

/**
 * Verifies the whole stored chain: contiguous sequence numbers, each prevHash equal to the previous
 * event's hash, each hash recomputed, every checkpoint (stored ones and `from`) signed with `key` and
 * matching the event at its position, none beyond the last event, and the recorded head equal to
 * the last event. Reports the first problem found.
 */
export async function verifyChain(source: AuditSource, key: Buffer, from?: AuditCheckpoint): Promise<AuditVerification> {
  // Checkpoints, then the head, then the events up to that head: events appended meanwhile are
  // left for the next verification instead of looking like a broken tail.
  const stored = await source.checkpoints();
  const head = await source.headRecord();
  const all: AuditCheckpoint[] = [...stored];
  if (from !== undefined) all.push(from);
  let checked = 0;
  let prev: ChainHead = EMPTY_HEAD;
  const fail = (seq: number, problem: string): AuditVerification => ({
    ok: false,
    checked,
    firstBadSeq: seq,
    problem,
    headSeq: prev.seq,
    headHash: prev.hash,
  });

  for (const cp of all) {
    if (!checkpointSignatureOk(key, cp)) return fail(cp.seq, `checkpoint at seq ${cp.seq} has an invalid signature (forged or signed with another key)`);
  }
  // Events up to the latest purge checkpoint were deleted on purpose; that checkpoint anchors the rest.
  const purge = stored.filter((c) => c.kind === 'purge').sort((a, b) => b.seq - a.seq)[0];
  if (purge !== undefined) prev = { seq: purge.seq, hash: purge.hash };
  for (const cp of all) {
    if (purge !== undefined && cp.seq === purge.seq && cp.hash !== purge.hash) {
      return fail(cp.seq, `the checkpoint taken at ${cp.time} disagrees with the purge anchor at seq ${cp.seq}`);
    }
  }
  const bySeq = new Map<number, AuditCheckpoint[]>();
  for (const cp of all) {
    const list = bySeq.get(cp.seq) ?? [];
    list.push(cp);
    bySeq.set(cp.seq, list);
  }

  let after = 0;
  for (;;) {
    const page = await source.events(after, head.seq, PAGE);
    for (const e of page) {
      if (purge !== undefined && e.seq <= purge.seq) {
        return fail(e.seq, `event ${e.seq} survives a purge that removed events through seq ${purge.seq} (inserted or renumbered)`);
      }
      if (e.seq !== prev.seq + 1) {
        return e.seq > prev.seq + 1
          ? fail(prev.seq + 1, `events ${prev.seq + 1}..${e.seq - 1} are missing (deleted)`)
          : fail(e.seq, `event ${e.seq} is out of sequence after ${prev.seq} (reordered or inserted)`);
      }
      if (e.prevHash !== prev.hash) {
        return fail(e.seq, `event ${e.seq} does not chain to event ${prev.seq}: prevHash differs (edited, reordered, inserted or deleted)`);
      }
      if (hashEvent(e) !== e.hash) return fail(e.seq, `event ${e.seq} does not match its hash (edited)`);
      for (const cp of bySeq.get(e.seq) ?? []) {
        if (cp.hash !== e.hash) return fail(e.seq, `event ${e.seq} differs from the signed checkpoint taken at ${cp.time}`);
      }
      prev = { seq: e.seq, hash: e.hash };
      checked++;
    }
    if (page.length < PAGE) break;
    after = page[page.length - 1]?.seq ?? after;
  }

  const beyond = all.filter((c) => c.seq > prev.seq).sort((a, b) => b.seq - a.seq)[0];
  if (beyond !== undefined) {
    return fail(prev.seq + 1, `the chain ends at seq ${prev.seq} but a signed checkpoint vouches for seq ${beyond.seq}: events were truncated`);
  }
  if (head.seq !== prev.seq || head.hash !== prev.hash) {
    return fail(Math.min(head.seq, prev.seq) + 1, `the recorded head is seq ${head.seq} but the chain ends at seq ${prev.seq}: events were truncated or appended outside the store`);
  }
  return { ok: true, checked, firstBadSeq: null, problem: null, headSeq: prev.seq, headHash: prev.hash };
}
