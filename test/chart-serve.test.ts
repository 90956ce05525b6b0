/**
 * The chart's default install, run for real without a cluster: the ConfigMap and environment
 * `helm template` renders are handed to `tianshu serve` exactly as the pod would get them (only
 * the data directory and port are moved, standing in for the emptyDir and the pod's network
 * namespace); the probes' paths answer, and the NOTES' token command mints a token the API accepts.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { describeWithComponents, locate } from './rig/components.js';
import { freePort } from './rig/ports.js';
import { makeTempDir, spawnManaged, waitFor } from './rig/proc.js';
import type { ManagedProcess } from './rig/proc.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const chartDir = join(root, 'charts', 'tianshu');

interface Rendered {
  kind: string;
  metadata: { name: string };
  data?: Record<string, string>;
  spec?: {
    template: {
      spec: {
        containers: {
          args: string[];
          env: { name: string; value?: string; valueFrom?: unknown }[];
          livenessProbe: { httpGet: { path: string } };
          readinessProbe: { httpGet: { path: string } };
          startupProbe?: { httpGet: { path: string } };
        }[];
      };
    };
  };
}

/**
 * Runs `node --import tsx bin/tianshu.ts <args>`: the source twin of the image's
 * `node dist/bin/tianshu.js <args>` (the image is not built here).
 */
function tianshuArgs(args: readonly string[]): string[] {
  return ['--import', 'tsx', join(root, 'bin', 'tianshu.ts'), ...args];
}

describeWithComponents(['helm'], 'chart: the default install serves as rendered', () => {
  const tmp = makeTempDir('chart-serve');
  let service: ManagedProcess | undefined;
  let base = '';
  let env: NodeJS.ProcessEnv = {};
  let container: NonNullable<Rendered['spec']>['template']['spec']['containers'][number];
  let configFile = '';

  beforeAll(async () => {
    const helm = locate('helm') ?? '';
    const res = spawnSync(helm, ['template', 'tianshu', chartDir, '--namespace', 'tianshu'], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', HOME: tmp.dir },
    });
    expect(res.status, res.stderr).toBe(0);
    const objects = parseAllDocuments(res.stdout)
      .map((d) => d.toJS() as Rendered | null)
      .filter((o): o is Rendered => o !== null);
    const cm = objects.find((o) => o.kind === 'ConfigMap');
    const deploy = objects.find((o) => o.kind === 'Deployment');
    const c = deploy?.spec?.template.spec.containers[0];
    if (cm?.data === undefined || c === undefined) throw new Error('the chart rendered no ConfigMap or Deployment');
    container = c;

    // the ConfigMap mounted at /etc/tianshu, and the container's literal environment
    const configDir = join(tmp.dir, 'etc-tianshu');
    mkdirSync(configDir);
    for (const [name, text] of Object.entries(cm.data)) writeFileSync(join(configDir, name), text);
    const configArg = c.args[c.args.indexOf('--config') + 1] ?? '';
    configFile = join(configDir, configArg.split('/').at(-1) ?? '');
    const port = await freePort();
    env = {
      PATH: process.env.PATH ?? '',
      ...Object.fromEntries(c.env.filter((e) => e.value !== undefined).map((e) => [e.name, e.value])),
      POD_NAME: 'tianshu-0',
      POD_NAMESPACE: 'tianshu',
      // stand-ins for the pod: the emptyDir data volume, and the port (host stays the chart's 0.0.0.0)
      TIANSHU_DATA_DIR: join(tmp.dir, 'data'),
      TIANSHU_LISTEN: `:${port}`,
    };
    base = `http://127.0.0.1:${port}`;
    const args = c.args.map((a) => (a === configArg ? configFile : a));
    expect(args[0]).toBe('serve');
    service = spawnManaged('tianshu', process.execPath, tianshuArgs(args), { logPath: join(tmp.dir, 'tianshu.log'), cwd: root, env });
    const proc = service;
    await waitFor(
      async () => {
        const r = await fetch(`${base}${c.readinessProbe.httpGet.path}`);
        return r.ok;
      },
      { what: 'tianshu readiness', proc, timeoutMs: 60_000, intervalMs: 200 },
    );
  });
  afterAll(async () => {
    await service?.stop('SIGTERM', 10_000);
    tmp.remove();
  });

  it('answers the liveness, readiness and startup probe paths', async () => {
    for (const probe of [container.livenessProbe, container.readinessProbe, container.startupProbe]) {
      if (probe === undefined) continue;
      const r = await fetch(`${base}${probe.httpGet.path}`);
      expect(r.status, probe.httpGet.path).toBe(200);
    }
  });

  it('mints a token with the command NOTES.txt prints, and the API accepts it', async () => {
    const res = spawnSync(process.execPath, tianshuArgs(['token', '--role', 'operator', '--config', configFile]), { cwd: root, env, encoding: 'utf8' });
    expect(res.status, res.stderr).toBe(0);
    const token = res.stdout.trim();
    expect(token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    const r = await fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ data: { __typename: 'Query' } });
  });

  it('serves Prometheus metrics where the ServiceMonitor scrapes', async (ctx) => {
    const r = await fetch(`${base}/metrics`);
    // /metrics is wired by the observability work; until it is, say so rather than pass
    if (r.status === 404) ctx.skip('tianshu serve has no /metrics route yet');
    expect(r.status).toBe(200);
    expect(await r.text()).toMatch(/^# (HELP|TYPE) /m);
  });
});
