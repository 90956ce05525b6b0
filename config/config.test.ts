/**
 * Configuration: defaults, the full example, strictness with field paths, environment overrides,
 * and freezing.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isTianshuError } from '../domain/errors.js';
import { databaseUrlOf, devSecretFileOf, loadConfig, tiersOf, validateConfig } from './load.js';
import { demoClouds, demoTenants } from './demo-fleet.js';

function write(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'tianshu-config-'));
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

function fieldOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    if (isTianshuError(e, 'VALIDATION')) return e.details.field;
    throw e;
  }
  return undefined;
}

describe('config', () => {
  it('defaults to the embedded development setup', () => {
    const c = loadConfig();
    expect(c.listen).toEqual({ host: '127.0.0.1', port: 4000 });
    expect(c.mode).toBe('development');
    expect(c.demo.enabled).toBe(true);
    expect(databaseUrlOf(c, '/srv')).toBe('sqlite:/srv/data/tianshu.db');
    expect(devSecretFileOf(c, '/srv')).toBe('/srv/data/dev-jwt-secret');
    expect(tiersOf(c).scale.levels).toEqual(['L1', 'L2', 'L3', 'L4']);
  });

  it('parses the shipped example', () => {
    const c = loadConfig({ path: fileURLToPath(new URL('./example.yaml', import.meta.url)) });
    expect(c.clouds.map((x) => x.id)).toEqual(['gd-sz-prod', 'gd-gz-iaas']);
    expect(c.tenants[0]?.quota?.byTier.L4?.cpu).toBe(48_000);
  });

  it.each([
    ['clouds[2].tier', { clouds: [0, 1, 2].map((i) => ({ id: `c${i}`, locality: 'cn/gd', tier: i === 2 ? 'L7' : 'L2', capacity: {} })) }],
    ['clouds[0].capacity.cpu', { clouds: [{ id: 'c', locality: 'cn/gd', tier: 'L2', capacity: { cpu: -1 } }] }],
    ['clouds[1].id', { clouds: [{ id: 'c', locality: 'cn/gd', tier: 'L2', capacity: {} }, { id: 'c', locality: 'cn/gd', tier: 'L2', capacity: {} }] }],
    ['clouds[0].connection.latencyMs', { clouds: [{ id: 'c', locality: 'cn/gd', tier: 'L2', capacity: {}, connection: { latencyMs: -5 } }] }],
    ['clouds[0].connection', { clouds: [{ id: 'c', locality: 'cn/gd', tier: 'L2', capacity: {}, connection: { simulated: true } }] }],
    ['clouds[0].connection.region', { clouds: [{ id: 'c', kind: 'ec2', locality: 'cn/gd', tier: 'L2', capacity: {}, connection: {} }] }],
    ['orchestrator.failoverGraceMs', { orchestrator: { failoverGraceMs: 0 } }],
    ['listen.port', { listen: { port: 70000 } }],
    ['limits.maxPageSize', { limits: { maxPageSize: 500 } }],
    ['auth.oidc', { mode: 'production' }],
    ['tenants[0].path', { tenants: [{ path: 'gd/sz' }] }],
    ['(root)', { nonsense: true }],
  ])('refuses invalid config naming %s', (field, raw) => {
    expect(fieldOf(() => validateConfig(raw))).toBe(field);
  });

  it('refuses unknown fields in a file and names the file for bad YAML', () => {
    const p = write('bad.yaml', 'listen:\n  host: 0.0.0.0\n  prot: 80\n');
    expect(() => loadConfig({ path: p })).toThrow(/listen/);
    const q = write('broken.yaml', 'listen: [\n');
    expect(() => loadConfig({ path: q })).toThrow(/not valid YAML/);
    const j = write('c.json', '{"mode": "development", "listen": {"port": 4100}}');
    expect(loadConfig({ path: j }).listen.port).toBe(4100);
  });

  it('environment variables override the file', () => {
    const p = write('c.yaml', 'listen: { host: 127.0.0.1, port: 4000 }\nmode: development\n');
    const c = loadConfig({
      path: p,
      env: {
        TIANSHU_LISTEN: '0.0.0.0:8080',
        TIANSHU_MODE: 'production',
        TIANSHU_DATA_DIR: '/var/lib/tianshu',
        TIANSHU_DATABASE_URL: 'postgres://db/tianshu',
        TIANSHU_OIDC_ISSUER: 'https://sso.example/realm',
        TIANSHU_OIDC_AUDIENCE: 'tianshu',
        TIANSHU_OIDC_JWKS_URL: 'https://sso.example/realm/certs',
        TIANSHU_DEMO: 'false',
        TIANSHU_TIERS: 'fedramp',
      },
    });
    expect(c.listen).toEqual({ host: '0.0.0.0', port: 8080 });
    expect(c.mode).toBe('production');
    expect(c.dataDir).toBe('/var/lib/tianshu');
    expect(databaseUrlOf(c)).toBe('postgres://db/tianshu');
    expect(c.auth.oidc?.jwksUrl).toBe('https://sso.example/realm/certs');
    expect(c.demo.enabled).toBe(false);
    expect(tiersOf(c).scale.name).toBe('fedramp');
    expect(fieldOf(() => loadConfig({ env: { TIANSHU_LISTEN: 'nope' } }))).toBe('TIANSHU_LISTEN');
    expect(fieldOf(() => loadConfig({ env: { TIANSHU_MODE: 'staging' } }))).toBe('mode');
    expect(loadConfig({ env: { TIANSHU_LISTEN: ':4555' } }).listen).toEqual({ host: '127.0.0.1', port: 4555 });
  });

  it('is deeply frozen', () => {
    const c = loadConfig({ env: {} });
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.limits)).toBe(true);
    expect(() => {
      (c.limits as { depth: number }).depth = 99;
    }).toThrow();
  });

  it('the demo fleet is valid config for both presets', () => {
    for (const preset of ['mlps', 'fedramp']) {
      const tiers = tiersOf(validateConfig({ tiers: { preset } }));
      const c = validateConfig({ tiers: { preset }, clouds: demoClouds(tiers), tenants: demoTenants(tiers) });
      expect(c.clouds).toHaveLength(12);
      expect(c.clouds.filter((x) => x.tierExclusive)).toHaveLength(1);
      expect(c.clouds.some((x) => x.attributes.xinchuang && x.attributes.arch === 'arm64')).toBe(true);
      expect(c.clouds.some((x) => x.capacity.instances > 0)).toBe(true);
      expect(new Set(c.clouds.map((x) => x.locality.split('/')[1])).size).toBeGreaterThanOrEqual(3);
    }
  });
});
