#!/usr/bin/env node
/**
 * The `tianshu` command: `serve` runs the control plane (the embedded default with no
 * arguments), `token` mints a development token. This and `service.ts` (the wiring) are the only
 * places that read the environment, open the store and listen.
 *
 * @packageDocumentation
 */
import { parseArgs } from 'node:util';
import { isTianshuError, TianshuError } from '../domain/errors.js';
import { ensureDevSecret, mintDevToken, ROLES } from '../api/auth.js';
import type { Role } from '../api/auth.js';
import { devSecretFileOf, loadConfig } from '../config/load.js';
import { startService } from './service.js';

const USAGE = `usage:
  tianshu serve [--config FILE]
  tianshu token --role ROLE [--tenant PATH] [--ttl 1h] [--subject NAME] [--config FILE]

roles: ${ROLES.join(', ')}`;

async function serve(configPath: string | undefined): Promise<void> {
  const config = loadConfig({ ...(configPath === undefined ? {} : { path: configPath }), env: process.env });
  const running = await startService(config);
  let closing = false;
  const shutdown = (signal: string): void => {
    if (closing) return;
    closing = true;
    console.log(`${signal}: closing`);
    running.close().then(
      () => process.exit(0),
      (e: unknown) => {
        console.error(e);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

async function token(values: { role?: string; tenant?: string; ttl?: string; subject?: string; config?: string }): Promise<void> {
  const role = values.role;
  if (role === undefined || !(ROLES as readonly string[]).includes(role)) throw new TianshuError('VALIDATION', `--role: must be one of ${ROLES.join(', ')}`, { field: '--role' });
  const config = loadConfig({ ...(values.config === undefined ? {} : { path: values.config }), env: process.env });
  if (config.auth.oidc !== undefined) throw new TianshuError('VALIDATION', 'token: OIDC is configured; tokens come from the identity provider', { field: 'auth.oidc' });
  const secret = ensureDevSecret(devSecretFileOf(config));
  const t = await mintDevToken({
    secret,
    issuer: config.auth.devIssuer,
    audience: config.auth.devAudience,
    role: role as Role,
    tenant: values.tenant ?? null,
    ttl: values.ttl ?? '1h',
    roleClaim: config.auth.roleClaim,
    tenantClaim: config.auth.tenantClaim,
    ...(values.subject === undefined ? {} : { subject: values.subject }),
  });
  console.log(t);
}

/** Entry point: parses argv and runs a subcommand; exits 2 on invalid input or configuration. */
export async function main(argv: readonly string[]): Promise<void> {
  const [command, ...rest] = argv;
  try {
    const { values } = parseArgs({
      args: rest,
      options: { config: { type: 'string' }, role: { type: 'string' }, tenant: { type: 'string' }, ttl: { type: 'string' }, subject: { type: 'string' } },
      strict: true,
    });
    if (command === 'serve') await serve(values.config);
    else if (command === 'token') await token(values);
    else {
      console.error(USAGE);
      process.exitCode = 2;
    }
  } catch (e) {
    if (isTianshuError(e, 'VALIDATION')) {
      console.error(`tianshu: refusing to start: invalid configuration: ${e.message}`);
      process.exitCode = 2;
      return;
    }
    if (e instanceof TypeError && 'code' in e && typeof e.code === 'string' && e.code.startsWith('ERR_PARSE_ARGS')) {
      console.error(`tianshu: ${e.message}\n${USAGE}`);
      process.exitCode = 2;
      return;
    }
    console.error('tianshu:', e instanceof Error ? e.message : e);
    process.exitCode = 1;
  }
}

// Run when executed directly (node dist/bin/tianshu.js, tsx bin/tianshu.ts), not when imported by tests.
const invoked = process.argv[1] ?? '';
if (/[\\/]tianshu\.(js|ts)$/.test(invoked)) void main(process.argv.slice(2));
