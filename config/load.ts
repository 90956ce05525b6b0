/**
 * Loading configuration: read one YAML or JSON file, apply environment overrides, validate once
 * with {@link ConfigSchema}, deep-freeze. Invalid configuration throws a VALIDATION
 * {@link TianshuError} whose message names the field (`clouds[2].tier`); `bin/` turns that into a
 * refusal to start.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { TianshuError } from '../domain/errors.js';
import { Tiers, TIER_PRESETS } from '../domain/tiers.js';
import { parseWith } from '../domain/validation.js';
import { ConfigSchema } from './schema.js';
import type { Config } from './schema.js';

/** Environment variables that override configuration fields, and the field each one sets. */
export const ENV_OVERRIDES = {
  TIANSHU_LISTEN: 'listen (host:port, or :port)',
  TIANSHU_MODE: 'mode',
  TIANSHU_DATA_DIR: 'dataDir',
  TIANSHU_DATABASE_URL: 'database.url',
  TIANSHU_TIERS: 'tiers.preset',
  TIANSHU_OIDC_ISSUER: 'auth.oidc.issuer',
  TIANSHU_OIDC_AUDIENCE: 'auth.oidc.audience',
  TIANSHU_OIDC_JWKS_URL: 'auth.oidc.jwksUrl',
  TIANSHU_DEV_SECRET_FILE: 'auth.devSecretFile',
  TIANSHU_RATE_PER_MINUTE: 'limits.ratePerMinute',
  TIANSHU_DEMO: 'demo.enabled (true/false)',
} as const;

type Json = Record<string, unknown>;

function obj(parent: Json, key: string): Json {
  const v = parent[key];
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) return v as Json;
  const fresh: Json = {};
  parent[key] = fresh;
  return fresh;
}

function envError(name: string, message: string): TianshuError {
  return new TianshuError('VALIDATION', `${name}: ${message}`, { field: name });
}

/** Applies {@link ENV_OVERRIDES} to a raw (unvalidated) configuration object, in place. */
export function applyEnvOverrides(raw: Json, env: Readonly<Record<string, string | undefined>>): Json {
  const set = (name: keyof typeof ENV_OVERRIDES, apply: (v: string) => void): void => {
    const v = env[name];
    if (v !== undefined && v !== '') apply(v);
  };
  set('TIANSHU_LISTEN', (v) => {
    const m = /^(?:(.*):)?(\d{1,5})$/.exec(v);
    if (m === null) throw envError('TIANSHU_LISTEN', `must be host:port or :port, got "${v}"`);
    const listen = obj(raw, 'listen');
    if (m[1] !== undefined && m[1] !== '') listen.host = m[1].replace(/^\[(.*)\]$/, '$1');
    listen.port = Number(m[2]);
  });
  set('TIANSHU_MODE', (v) => (raw.mode = v));
  set('TIANSHU_DATA_DIR', (v) => (raw.dataDir = v));
  set('TIANSHU_DATABASE_URL', (v) => (obj(raw, 'database').url = v));
  set('TIANSHU_TIERS', (v) => (raw.tiers = { preset: v }));
  set('TIANSHU_OIDC_ISSUER', (v) => (obj(obj(raw, 'auth'), 'oidc').issuer = v));
  set('TIANSHU_OIDC_AUDIENCE', (v) => (obj(obj(raw, 'auth'), 'oidc').audience = v));
  set('TIANSHU_OIDC_JWKS_URL', (v) => (obj(obj(raw, 'auth'), 'oidc').jwksUrl = v));
  set('TIANSHU_DEV_SECRET_FILE', (v) => (obj(raw, 'auth').devSecretFile = v));
  set('TIANSHU_RATE_PER_MINUTE', (v) => {
    const n = Number(v);
    if (!Number.isInteger(n)) throw envError('TIANSHU_RATE_PER_MINUTE', `must be a whole number, got "${v}"`);
    obj(raw, 'limits').ratePerMinute = n;
  });
  set('TIANSHU_DEMO', (v) => {
    if (v !== 'true' && v !== 'false') throw envError('TIANSHU_DEMO', `must be true or false, got "${v}"`);
    obj(raw, 'demo').enabled = v === 'true';
  });
  return raw;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** Parses configuration text; `.json` files as JSON, everything else as YAML (a superset of JSON). */
export function parseConfigText(text: string, path: string): Json {
  let raw: unknown;
  try {
    raw = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new TianshuError('VALIDATION', `${path}: not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'}: ${(e as Error).message}`, { field: '(root)' });
  }
  if (raw === null || raw === undefined) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new TianshuError('VALIDATION', `(root): ${path} must hold a mapping`, { field: '(root)' });
  return raw as Json;
}

/** Validates a raw configuration object (after overrides) and deep-freezes the result. */
export function validateConfig(raw: unknown): Config {
  return deepFreeze(parseWith(ConfigSchema, raw));
}

/** Options of {@link loadConfig}. */
export interface LoadConfigOptions {
  /** The config file (YAML or JSON); none means defaults plus environment. */
  readonly path?: string;
  /** The environment to read overrides from (pass `process.env` from `bin/`). */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** Reads, overrides, validates and freezes the configuration. */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  let raw: Json = {};
  if (options.path !== undefined) {
    let text: string;
    try {
      text = readFileSync(options.path, 'utf8');
    } catch (e) {
      throw new TianshuError('VALIDATION', `--config: cannot read ${options.path}: ${(e as Error).message}`, { field: '--config' });
    }
    raw = parseConfigText(text, options.path);
  }
  applyEnvOverrides(raw, options.env ?? {});
  return validateConfig(raw);
}

/** The tier scale the configuration selects. */
export function tiersOf(config: Config): Tiers {
  if ('levels' in config.tiers) return new Tiers({ name: config.tiers.name, levels: config.tiers.levels });
  const preset = TIER_PRESETS[config.tiers.preset];
  if (preset === undefined) throw new TianshuError('VALIDATION', `tiers.preset: unknown preset "${config.tiers.preset}"`, { field: 'tiers.preset' });
  return new Tiers(preset);
}

/** The absolute data directory, resolved against `cwd`. */
export function dataDirOf(config: Config, cwd: string = process.cwd()): string {
  return isAbsolute(config.dataDir) ? config.dataDir : resolve(cwd, config.dataDir);
}

/** The database URL: the configured one, or a SQLite file `tianshu.db` in the data directory. */
export function databaseUrlOf(config: Config, cwd: string = process.cwd()): string {
  return config.database.url ?? `sqlite:${join(dataDirOf(config, cwd), 'tianshu.db')}`;
}

/** The development secret file: the configured one, or `dev-jwt-secret` in the data directory. */
export function devSecretFileOf(config: Config, cwd: string = process.cwd()): string {
  const f = config.auth.devSecretFile;
  if (f === undefined) return join(dataDirOf(config, cwd), 'dev-jwt-secret');
  return isAbsolute(f) ? f : resolve(cwd, f);
}
