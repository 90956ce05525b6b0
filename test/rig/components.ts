/**
 * Where the rig's external components live, and a vitest gate for suites that need them.
 *
 * Provisioning (`npm run rig`, i.e. `bash test/rig/provision.sh`) caches binaries by version
 * under `~/.cache/tianshu/` (override with `TIANSHU_CACHE`); Debian packages come from apt.
 * Versions are pinned in `test/rig/versions.sh`, which this module parses.
 *
 * @packageDocumentation
 */
import { accessSync, constants, readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'vitest';

/** Every component the rig can provide. */
export type ComponentName =
  | 'kube-apiserver'
  | 'etcd'
  | 'helm'
  | 'moto_server'
  | 'prometheus'
  | 'promtool'
  | 'postgres'
  | 'initdb'
  | 'pg_ctl'
  | 'chromium';

/** Components needed by {@link startKube}-style suites. */
export const KUBE_COMPONENTS: readonly ComponentName[] = ['kube-apiserver', 'etcd'];
/** Components needed by {@link startPostgres}-style suites. */
export const POSTGRES_COMPONENTS: readonly ComponentName[] = ['initdb', 'postgres'];

const rigDir = dirname(fileURLToPath(import.meta.url));

/** Root of the rig cache (`$TIANSHU_CACHE` or `~/.cache/tianshu`). */
export function cacheDir(): string {
  return process.env.TIANSHU_CACHE ?? join(homedir(), '.cache', 'tianshu');
}

/** Pinned versions from `test/rig/versions.sh` (KEY=value lines). */
export function pinnedVersions(): Readonly<Record<string, string>> {
  const out: Record<string, string> = {};
  const text = readFileSync(join(rigDir, 'versions.sh'), 'utf8');
  for (const line of text.split('\n')) {
    const m = /^([A-Z0-9_]+)=(\S+)\s*$/.exec(line.trim());
    if (m?.[1] !== undefined && m[2] !== undefined) out[m[1]] = m[2];
  }
  return out;
}

function pinned(key: string): string {
  const v = pinnedVersions()[key];
  if (v === undefined) throw new Error(`test/rig/versions.sh has no ${key}`);
  return v;
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(...names: string[]): string | undefined {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  for (const dir of [...dirs, '/usr/bin', '/usr/local/bin', '/usr/sbin']) {
    for (const name of names) {
      const p = join(dir, name);
      if (executable(p)) return p;
    }
  }
  return undefined;
}

/** Debian keeps PostgreSQL's server tools in /usr/lib/postgresql/<major>/bin; pick the newest. */
function postgresBin(name: string): string | undefined {
  const root = '/usr/lib/postgresql';
  let majors: string[] = [];
  try {
    majors = readdirSync(root).filter((d) => /^\d+$/.test(d));
  } catch {
    // not Debian-packaged
  }
  majors.sort((a, b) => Number(b) - Number(a));
  for (const major of majors) {
    const p = join(root, major, 'bin', name);
    if (executable(p)) return p;
  }
  return onPath(name);
}

/** The version of a component the rig provisions (pinned ones only; apt ones are unpinned). */
export function pinnedVersion(name: ComponentName): string | undefined {
  switch (name) {
    case 'kube-apiserver':
      return pinned('KUBE_VERSION');
    case 'etcd':
      return pinned('ETCD_VERSION');
    case 'helm':
      return pinned('HELM_VERSION');
    case 'moto_server':
      return pinned('MOTO_VERSION');
    default:
      return undefined;
  }
}

/**
 * Absolute path of a component's executable, or undefined when it is not provisioned.
 * `TIANSHU_<NAME>` (upper-case, `-` → `_`, e.g. `TIANSHU_KUBE_APISERVER`) overrides the lookup.
 */
export function locate(name: ComponentName): string | undefined {
  const override = process.env[`TIANSHU_${name.toUpperCase().replace(/-/g, '_')}`];
  if (override) return executable(override) ? override : undefined;
  const bin = join(cacheDir(), 'bin');
  let found: string | undefined;
  switch (name) {
    case 'kube-apiserver':
    case 'etcd':
    case 'helm':
      found = join(bin, `${name}-${pinnedVersion(name) ?? ''}`);
      break;
    case 'moto_server':
      found = join(cacheDir(), 'moto-venv', 'bin', 'moto_server');
      break;
    case 'prometheus':
    case 'promtool':
      return onPath(name);
    case 'postgres':
    case 'initdb':
    case 'pg_ctl':
      return postgresBin(name);
    case 'chromium':
      // Debian's /usr/bin/chromium is a shell wrapper; Playwright wants the real binary.
      return executable('/usr/lib/chromium/chromium') ? '/usr/lib/chromium/chromium' : onPath('chromium', 'chromium-browser', 'google-chrome');
  }
  return executable(found) ? found : undefined;
}

/**
 * Like {@link locate} but throws, naming the component and how to provision it.
 */
export function mustLocate(name: ComponentName): string {
  const p = locate(name);
  if (p === undefined) throw new Error(missingMessage([name]));
  return p;
}

function missingMessage(missing: readonly ComponentName[]): string {
  const detail = missing
    .map((n) => {
      const v = pinnedVersion(n);
      return v === undefined ? n : `${n} ${v}`;
    })
    .join(', ');
  return `missing rig component(s): ${detail}; provision them with \`npm run rig\` (bash test/rig/provision.sh)`;
}

/** Result of {@link requireComponents}. */
export interface ComponentGate {
  /** True when every requested component was found. */
  available: boolean;
  /** Empty when available; otherwise which components are missing and how to get them. */
  reason: string;
}

/** Checks that every named component is provisioned. */
export function requireComponents(...names: ComponentName[]): ComponentGate {
  const missing = names.filter((n) => locate(n) === undefined);
  return missing.length === 0 ? { available: true, reason: '' } : { available: false, reason: missingMessage(missing) };
}

/**
 * `describe` gated on rig components. All present → the suite runs. Missing and
 * `CI=true` → the suite fails with a test naming what is missing (CI must never silently skip).
 * Missing locally → `describe.skip`, with a warning naming the component and `npm run rig`.
 */
export function describeWithComponents(names: readonly ComponentName[], title: string, fn: () => void): void {
  const gate = requireComponents(...names);
  if (gate.available) {
    describe(title, fn);
    return;
  }
  if (process.env.CI === 'true') {
    describe(title, () => {
      it('has the rig components it needs', () => {
        throw new Error(`${title}: ${gate.reason}`);
      });
    });
    return;
  }
  console.warn(`[rig] skipping "${title}": ${gate.reason}`);
  describe.skip(title, fn);
}
