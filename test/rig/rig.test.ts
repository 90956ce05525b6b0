import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import pg from 'pg';
import { DescribeInstancesCommand, DescribeRegionsCommand, EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { describeWithComponents, KUBE_COMPONENTS, locate, mustLocate, pinnedVersion, POSTGRES_COMPONENTS } from './components.js';
import { kubeRequest, startKube } from './kube.js';
import type { KubeInstance } from './kube.js';
import { createDatabase, startPostgres } from './postgres.js';
import type { PostgresInstance } from './postgres.js';
import { startMoto } from './moto.js';
import type { MotoInstance } from './moto.js';
import { promtoolPath, startPrometheus } from './prometheus.js';
import type { PrometheusInstance } from './prometheus.js';

const execFileAsync = promisify(execFile);

describeWithComponents(POSTGRES_COMPONENTS, 'rig: postgres', () => {
  let server: PostgresInstance;
  beforeAll(async () => {
    server = await startPostgres();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('answers select 1 and creates fresh databases', async () => {
    const fresh = await createDatabase(server.url, 'rig_fresh');
    for (const url of [server.url, fresh]) {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        const res = await client.query<{ one: number; fsync: string }>("select 1 as one, current_setting('fsync') as fsync");
        expect(res.rows[0]).toEqual({ one: 1, fsync: 'on' });
      } finally {
        await client.end();
      }
    }
  });
});

describeWithComponents(['moto_server'], 'rig: moto', () => {
  let moto: MotoInstance;
  beforeAll(async () => {
    moto = await startMoto();
  });
  afterAll(async () => {
    await moto?.stop();
  });

  it('serves EC2 to the AWS SDK and resets', async () => {
    const ec2 = new EC2Client({
      endpoint: moto.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    });
    try {
      const regions = await ec2.send(new DescribeRegionsCommand({}));
      expect(regions.$metadata.httpStatusCode).toBe(200);
      expect(regions.Regions?.map((r) => r.RegionName)).toContain('us-east-1');
      const run = await ec2.send(new RunInstancesCommand({ ImageId: 'ami-12c6146b', MinCount: 1, MaxCount: 1, InstanceType: 't3.micro' }));
      expect(run.Instances).toHaveLength(1);
      await moto.reset();
      const after = await ec2.send(new DescribeInstancesCommand({}));
      expect(after.$metadata.httpStatusCode).toBe(200);
      expect(after.Reservations ?? []).toHaveLength(0);
    } finally {
      ec2.destroy();
    }
  });
});

describeWithComponents(['prometheus', 'promtool'], 'rig: prometheus', () => {
  let prom: PrometheusInstance;
  let target: Server;
  beforeAll(async () => {
    target = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end('# TYPE tianshu_rig_probe gauge\ntianshu_rig_probe 1\n');
    });
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    const addr = target.address() as AddressInfo;
    prom = await startPrometheus({ scrapeTargets: [`127.0.0.1:${addr.port}`], scrapeIntervalMs: 200 });
  });
  afterAll(async () => {
    await prom?.stop();
    await new Promise((resolve) => target?.close(resolve));
  });

  it('scrapes its target and answers queries', async () => {
    const deadline = Date.now() + 15_000;
    let up: unknown[] = [];
    while (Date.now() < deadline) {
      const res = await fetch(`${prom.url}/api/v1/query?query=up`);
      const body = (await res.json()) as { status: string; data: { result: { value: [number, string] }[] } };
      expect(body.status).toBe('success');
      up = body.data.result.map((r) => r.value[1]);
      if (up.includes('1')) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(up).toContain('1');
    expect(existsSync(promtoolPath())).toBe(true);
  });
});

describeWithComponents(KUBE_COMPONENTS, 'rig: kube-apiserver + etcd', () => {
  let kube: KubeInstance;
  beforeAll(async () => {
    kube = await startKube();
  });
  afterAll(async () => {
    await kube?.stop();
  });

  it('reports the built version and stores a Namespace across an apiserver restart', async () => {
    const version = await kubeRequest(kube.server, kube.token, 'GET', '/version');
    expect(version.status).toBe(200);
    expect((version.body as { gitVersion: string }).gitVersion).toBe(pinnedVersion('kube-apiserver'));

    const ns = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'rig-check' } };
    const created = await kubeRequest(kube.server, kube.token, 'POST', '/api/v1/namespaces', ns);
    expect(created.status).toBe(201);

    // Anonymous callers are authenticated but not authorized (RBAC is on).
    const anon = await kubeRequest(kube.server, '', 'GET', '/api/v1/namespaces');
    expect([401, 403]).toContain(anon.status);

    await kube.stopApiserver();
    await expect(kubeRequest(kube.server, kube.token, 'GET', '/readyz', undefined, 2_000)).rejects.toThrow();
    await kube.startApiserver();
    const got = await kubeRequest(kube.server, kube.token, 'GET', '/api/v1/namespaces/rig-check');
    expect(got.status).toBe(200);

    // The kubeconfig works for a real client (helm uses client-go), when helm is provisioned.
    const helm = locate('helm');
    if (helm !== undefined) {
      const { stdout } = await execFileAsync(helm, ['list', '--all-namespaces', '--output', 'json', '--kubeconfig', kube.kubeconfigPath]);
      expect(JSON.parse(stdout)).toEqual([]);
    }
  });
});

describeWithComponents(['helm'], 'rig: helm', () => {
  it('is the pinned version', async () => {
    const { stdout } = await execFileAsync(mustLocate('helm'), ['version', '--short']);
    expect(stdout.trim().startsWith(`${pinnedVersion('helm')}+`) || stdout.trim() === pinnedVersion('helm')).toBe(true);
  });
});
