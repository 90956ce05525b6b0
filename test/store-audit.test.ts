import { afterEach, beforeEach, expect, it } from 'vitest';
import { hashEvent } from '../store/audit-chain.js';
import type { TianshuStore } from '../store/core.js';
import type { AuditCheckpoint } from '../store/store.js';
import type { RawDb } from './store/engines.js';
import { describeStore } from './store/engines.js';
import { OPERATOR, cloud, spec } from './store/fixtures.js';
import { firstFit } from './store/planner.js';

describeStore('audit chain tamper detection', (h) => {
  let store: TianshuStore;
  let raw: RawDb;
  let exported: AuditCheckpoint;

  beforeEach(async () => {
    const url = await h.fresh();
    store = await h.open(url);
    await store.registerCloud(OPERATOR, cloud('c1'));
    await store.createTenant(OPERATOR, 'gd', 'Guangdong');
    for (let i = 0; i < 8; i++) await store.admitDeployment(OPERATOR, spec('gd', `d${i}`, 1), firstFit());
    exported = await store.checkpoint(); // seq 10, stored and handed to an auditor
    expect(exported.seq).toBe(10);
    expect(await store.verifyAudit()).toMatchObject({ ok: true, checked: 10, headSeq: 10 });
    raw = await h.raw(url);
  });
  afterEach(async () => {
    await raw.close();
    await store.close();
  });

  async function expectBroken(seq: number, problem: RegExp): Promise<void> {
    const v = await store.verifyAudit();
    expect(v.ok).toBe(false);
    expect(v.firstBadSeq).toBe(seq);
    expect(v.problem).toMatch(problem);
  }

  it('detects an edited event', async () => {
    await raw.exec(`UPDATE audit_events SET actor = 'mallory' WHERE seq = 5`);
    await expectBroken(5, /does not match its hash \(edited\)/);
  });

  it('detects an edited detail with a recomputed hash (the next link breaks)', async () => {
    const [row] = await raw.all<Record<string, unknown>>('SELECT * FROM audit_events WHERE seq = 4');
    const forged = { seq: 4, time: String(row?.time), actor: String(row?.actor), role: String(row?.role), action: String(row?.action), object: String(row?.object), result: 'ok' as const, detail: { forged: true }, prevHash: String(row?.prev_hash) };
    await raw.exec(`UPDATE audit_events SET detail = '{"forged":true}', hash = '${hashEvent(forged)}' WHERE seq = 4`);
    await expectBroken(5, /does not chain to event 4/);
  });

  it('detects a deleted event', async () => {
    await raw.exec('DELETE FROM audit_events WHERE seq = 4');
    await expectBroken(4, /events 4\.\.4 are missing \(deleted\)/);
  });

  it('detects reordered events', async () => {
    await raw.exec('UPDATE audit_events SET seq = -1 WHERE seq = 3');
    await raw.exec('UPDATE audit_events SET seq = 3 WHERE seq = 4');
    await raw.exec('UPDATE audit_events SET seq = 4 WHERE seq = -1');
    await expectBroken(3, /does not chain to event 2/);
  });

  it('detects an inserted event, even one hashed correctly', async () => {
    const [row] = await raw.all<Record<string, unknown>>('SELECT hash FROM audit_events WHERE seq = 5');
    await raw.exec('UPDATE audit_events SET seq = seq + 1000 WHERE seq > 5');
    await raw.exec('UPDATE audit_events SET seq = seq - 999 WHERE seq > 1000');
    const forged = { seq: 6, time: '2025-01-01T00:00:00.000Z', actor: 'mallory', role: 'operator', action: 'tenant.quota', object: 'tenant/gd', result: 'ok' as const, detail: {}, prevHash: String(row?.hash) };
    await raw.exec(
      `INSERT INTO audit_events (seq, time, actor, role, action, object, result, detail, prev_hash, hash) VALUES (6, '${forged.time}', 'mallory', 'operator', 'tenant.quota', 'tenant/gd', 'ok', '{}', '${forged.prevHash}', '${hashEvent(forged)}')`,
    );
    await expectBroken(7, /does not chain to event 6/);
  });

  it('detects a truncated tail through the recorded head', async () => {
    await raw.exec('DELETE FROM audit_events WHERE seq > 7');
    await expectBroken(8, /truncated/);
  });

  it('detects a truncated tail through a stored signed checkpoint, even with the head rewritten', async () => {
    const [row] = await raw.all<Record<string, unknown>>('SELECT hash FROM audit_events WHERE seq = 7');
    await raw.exec('DELETE FROM audit_events WHERE seq > 7');
    await raw.exec(`UPDATE audit_head SET seq = 7, hash = '${String(row?.hash)}'`);
    await expectBroken(8, /signed checkpoint vouches for seq 10: events were truncated/);
  });

  it('detects truncation with an exported checkpoint when the stored ones are gone too', async () => {
    const [row] = await raw.all<Record<string, unknown>>('SELECT hash FROM audit_events WHERE seq = 7');
    await raw.exec('DELETE FROM audit_events WHERE seq > 7');
    await raw.exec('DELETE FROM audit_checkpoints');
    await raw.exec(`UPDATE audit_head SET seq = 7, hash = '${String(row?.hash)}'`);
    expect((await store.verifyAudit()).ok).toBe(true); // nothing in the database can tell…
    const v = await store.verifyAudit(exported); // …but the auditor's copy can
    expect(v).toMatchObject({ ok: false, firstBadSeq: 8 });
    expect(v.problem).toMatch(/truncated/);
  });

  it('detects a forged checkpoint', async () => {
    await raw.exec(`UPDATE audit_checkpoints SET seq = 5`);
    await expectBroken(5, /invalid signature/);
    const v = await store.verifyAudit({ ...exported, signature: 'ab'.repeat(32) });
    expect(v.problem).toMatch(/invalid signature/);
  });

  it('detects deleting the purge anchor', async () => {
    const purged = await store.purgeAudit(new Date(Date.now() + 60_000));
    expect(purged.purged).toBe(10);
    expect(await store.verifyAudit()).toMatchObject({ ok: true });
    await raw.exec(`DELETE FROM audit_checkpoints WHERE kind = 'purge'`);
    await expectBroken(1, /missing \(deleted\)/);
  });
});
