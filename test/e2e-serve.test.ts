/**
 * The embedded default end to end: `startService` from a config file (port 0, a temporary data
 * directory) seeds the demo fleet, writes the development secret 0600, prints a working token per
 * role and the GraphiQL URL; `tianshu token` mints tokens the server accepts; invalid config
 * refuses to start naming the field.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startService } from '../bin/service.js';
import type { Running } from '../bin/service.js';
import { loadConfig } from '../config/load.js';

const run = promisify(execFile);

describe('tianshu serve (embedded default)', () => {
  let dir: string;
  let svc: Running;
  const lines: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tianshu-e2e-'));
    const cfg = join(dir, 'tianshu.yaml');
    writeFileSync(cfg, `listen: { host: 127.0.0.1, port: 0 }\ndataDir: ${join(dir, 'data')}\n`);
    svc = await startService(loadConfig({ path: cfg, env: {} }), { cwd: dir, log: (l) => lines.push(l) });
  });
  afterAll(async () => svc.close());

  it('seeds the demo fleet and keeps the dev secret private', () => {
    expect(lines[0]).toMatch(/seeded 12 clouds and 7 tenants \(demo fleet\)/);
    expect(statSync(join(dir, 'data', 'dev-jwt-secret')).mode & 0o777).toBe(0o600);
    expect(lines.some((l) => /GraphiQL: http:\/\/127\.0\.0\.1:\d+\/graphiql/.test(l))).toBe(true);
  });

  it('prints a working token for every role', async () => {
    const tokens = lines.join('\n').matchAll(/token ([a-z-]+)[^\n]*\n {2}Bearer (\S+)/g);
    const roles: string[] = [];
    for (const [, role, token] of tokens) {
      const res = await fetch(`${svc.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query: '{ viewer { role } fleetSummary { clouds } }' }) });
      const body = (await res.json()) as { data: { viewer: { role: string }; fleetSummary: { clouds: number } } };
      expect(body.data.viewer.role).toBe(role);
      expect(body.data.fleetSummary.clouds).toBe(12);
      roles.push(role ?? '');
    }
    expect(roles.sort()).toEqual(['auditor', 'operator', 'sre', 'tenant-admin', 'tenant-user']);
    expect((await fetch(`${svc.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${svc.url}/readyz`)).status).toBe(200);
  });

  it('`tianshu token` mints a token the server accepts', async () => {
    const cfg = join(dir, 'tianshu.yaml');
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'bin/tianshu.ts', 'token', '--role', 'tenant-admin', '--tenant', 'gd/sz', '--ttl', '10m', '--config', cfg], { cwd: process.cwd() });
    const res = await fetch(`${svc.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${stdout.trim()}` }, body: JSON.stringify({ query: '{ viewer { role tenant } }' }) });
    expect(((await res.json()) as { data: unknown }).data).toEqual({ viewer: { role: 'tenant-admin', tenant: 'gd/sz' } });
  });

  it('refuses to start on invalid config, naming the field', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'clouds:\n  - { id: a, locality: cn/gd, tier: L2, capacity: {} }\n  - { id: b, locality: cn/gd, tier: L2, capacity: {} }\n  - { id: c, locality: cn/gd, tier: L9, capacity: {} }\n');
    const err = await run(process.execPath, ['--import', 'tsx', 'bin/tianshu.ts', 'serve', '--config', bad], { cwd: process.cwd() }).catch((e: { code: number; stderr: string }) => e);
    expect('code' in err ? err.code : 0).toBe(2);
    expect('stderr' in err ? err.stderr : '').toMatch(/clouds\[2\]\.tier: unknown tier "L9"/);
  });
});
