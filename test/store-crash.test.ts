import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../store/open.js';
import { OPERATOR, spec } from './store/fixtures.js';
import { firstFit } from './store/planner.js';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const child = join(root, 'test', 'store', 'crash-child.ts');
const KILLS = 20;

/** Runs the child until `killAfterMs` after its first acknowledgement, SIGKILLs it, and returns the acknowledged key → id pairs. */
function runAndKill(path: string, cycle: number, killAfterMs: number): Promise<{ acked: Map<string, string>; stderr: string }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', child, path, String(cycle)], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    const acked = new Map<string, string>();
    let buf = '';
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    const guard = setTimeout(() => proc.kill('SIGKILL'), 60_000);
    proc.stdout.setEncoding('utf8');
    proc.stdout.on('data', (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const m = /^ACK (\S+) (\S+)$/.exec(line);
        if (m?.[1] !== undefined && m[2] !== undefined) {
          // The clock starts at the first acknowledgement, so every kill lands mid-stream even on a slow machine.
          if (acked.size === 0) timer = setTimeout(() => proc.kill('SIGKILL'), killAfterMs);
          acked.set(m[1], m[2]);
        }
      }
    });
    proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    proc.on('error', reject);
    proc.on('close', (_code, signal) => {
      clearTimeout(guard);
      if (timer !== undefined) clearTimeout(timer);
      if (signal !== 'SIGKILL') reject(new Error(`child exited without being killed (signal ${String(signal)}): ${stderr}`));
      else resolve({ acked, stderr });
    });
  });
}

describe('crash safety (SQLite, SIGKILL)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tianshu-crash-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it(`keeps every acknowledged admission across ${KILLS} SIGKILLs`, { timeout: 180_000 }, async () => {
    const path = join(dir, 'crash.db');
    const everAcked = new Map<string, string>();
    let killedMidStream = 0;
    for (let cycle = 0; cycle < KILLS; cycle++) {
      const { acked } = await runAndKill(path, cycle, Math.floor(Math.random() * 250));
      if (acked.size > 0) killedMidStream++;
      for (const [k, id] of acked) everAcked.set(k, id);

      const raw = new Database(path, { readonly: true });
      try {
        expect(raw.pragma('integrity_check', { simple: true })).toBe('ok');
        const keys = raw.prepare('SELECT key, deployment_id FROM idempotency').all() as { key: string; deployment_id: string }[];
        const deployments = raw.prepare('SELECT count(*) AS n FROM deployments').get() as { n: number };
        // One deployment per key ever committed: nothing duplicated, nothing orphaned.
        expect(deployments.n).toBe(keys.length);
        const byKey = new Map(keys.map((k) => [k.key, k.deployment_id]));
        for (const [k, id] of everAcked) expect(byKey.get(k), `acknowledged ${k} survived cycle ${cycle}`).toBe(id);
      } finally {
        raw.close();
      }

      const store = await openStore(path);
      try {
        expect(await store.checkLedger()).toEqual([]);
        const v = await store.verifyAudit();
        expect(v.ok, v.problem ?? '').toBe(true);
        // A retried request after the crash replays instead of admitting twice.
        const [someKey, someId] = [...acked][acked.size - 1] ?? [];
        if (someKey !== undefined) {
          const [c, i] = someKey.split('-');
          const again = await store.admitDeployment(OPERATOR, spec('gd', `d-${c}-${i}`, 1, 100), firstFit(), { idempotencyKey: someKey });
          expect(again).toMatchObject({ replayed: true, deployment: { id: someId } });
        }
      } finally {
        await store.close();
      }
    }
    expect(everAcked.size).toBeGreaterThan(KILLS);
    expect(killedMidStream).toBe(KILLS);
  });
});
