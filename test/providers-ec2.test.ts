/**
 * The EC2 adapter against moto (an EC2 emulator) from the rig, through a loopback proxy that
 * counts requests per Action and can inject HTTP faults, so retries are observed on the wire.
 *
 * moto does not check credentials (unless IAM auth is switched on, which the rig does not do), so
 * "wrong credentials" is shown by the proxy answering as AWS does (401 AuthFailure).
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import type { Instance } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isTianshuError } from '../domain/errors.js';
import { aSlice, providerContract } from '../providers/contract.js';
import { Ec2ConnectionSchema } from '../providers/ec2/connection.js';
import type { Ec2Connection, Ec2ConnectionInput } from '../providers/ec2/connection.js';
import { Ec2Provider } from '../providers/ec2/ec2-provider.js';
import type { Ec2ProviderOptions } from '../providers/ec2/ec2-provider.js';
import { probe } from '../providers/registry.js';
import type { SliceRef } from '../providers/provider.js';
import { describeWithComponents } from './rig/components.js';
import { startMoto } from './rig/moto.js';
import type { MotoInstance } from './rig/moto.js';
import { freePort } from './rig/ports.js';

const AMI = 'ami-12c6146b'; // one of moto's built-in images
const ALLOWED = ['t3.micro', 't3.small', 'm5.large', 'c5.xlarge'];
const resources = { cpu: 2000, memory: 2048, gpu: 0 };
const vm = () => ({ kind: 'vm' as const, image: AMI });

interface Fault {
  readonly action: string;
  readonly status: number;
  readonly code: string;
}

/** A loopback proxy in front of moto: counts requests by EC2 Action and injects queued faults. */
class FaultProxy {
  readonly counts = new Map<string, number>();
  private readonly faults: Fault[] = [];
  private server: Server | undefined;
  endpoint = '';

  constructor(private readonly upstream: string) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.endpoint = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Answers the next `times` requests for `action` with `status`/`code` instead of forwarding them. */
  inject(action: string, status: number, code: string, times = 1): void {
    for (let i = 0; i < times; i++) this.faults.push({ action, status, code });
  }

  count(action: string): number {
    return this.counts.get(action) ?? 0;
  }

  reset(): void {
    this.counts.clear();
    this.faults.length = 0;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const action = new URLSearchParams(body.toString('utf8')).get('Action') ?? 'unknown';
    this.counts.set(action, this.count(action) + 1);
    const i = this.faults.findIndex((f) => f.action === action);
    if (i >= 0) {
      const [fault] = this.faults.splice(i, 1);
      res.writeHead(fault?.status ?? 500, { 'content-type': 'text/xml' });
      res.end(
        `<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>${fault?.code}</Code><Message>injected by the test proxy</Message></Error></Errors><RequestID>proxy-${Date.now()}</RequestID></Response>`,
      );
      return;
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (typeof v === 'string' && !['host', 'connection', 'content-length'].includes(k)) headers[k] = v;
    }
    const up = await fetch(`${this.upstream}${req.url ?? '/'}`, { method: req.method, headers, body: req.method === 'GET' ? undefined : body });
    const out = Buffer.from(await up.arrayBuffer());
    res.writeHead(up.status, { 'content-type': up.headers.get('content-type') ?? 'text/xml' });
    res.end(out);
  }
}

async function failure(p: Promise<unknown>): Promise<Error & { code?: string; retryable?: boolean; details?: Record<string, unknown> }> {
  return p.then(
    () => {
      throw new Error('expected a failure');
    },
    (e: unknown) => e as Error,
  );
}

describeWithComponents(['moto_server'], 'ec2 provider on moto', () => {
  let moto: MotoInstance;
  let proxy: FaultProxy;
  let raw: EC2Client;

  beforeAll(async () => {
    moto = await startMoto();
    proxy = new FaultProxy(moto.endpoint);
    await proxy.start();
    raw = new EC2Client({ endpoint: moto.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  });
  afterAll(async () => {
    raw?.destroy();
    await proxy?.stop();
    await moto?.stop();
  });
  beforeEach(() => proxy?.reset());

  const connection = (extra: Partial<Ec2ConnectionInput> = {}): Ec2Connection => {
    const c = Ec2ConnectionSchema.parse({
      region: 'us-east-1',
      endpoint: proxy.endpoint,
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
      declaredCapacity: { cpu: 64_000, memory: 131_072, instances: 40 },
      allowedInstanceTypes: ALLOWED,
      maxAttempts: 3,
      // moto answers its first DescribeInstances slowly while it loads.
      requestTimeoutMs: 30_000,
      ...extra,
    });
    return { ...c, declaredCapacity: c.declaredCapacity ?? {} };
  };
  const connect = (extra: Partial<Ec2ConnectionInput> = {}, options: Ec2ProviderOptions = {}) => new Ec2Provider('gov-west-1', connection(extra), options);

  /** Every instance of a slice moto holds, terminated ones included, by slice index. */
  const instancesOf = async (ref: SliceRef): Promise<Instance[]> => {
    const out = await raw.send(new DescribeInstancesCommand({ Filters: [{ Name: 'tag:tianshu:deployment', Values: [ref.deploymentId] }] }));
    const all = (out.Reservations ?? []).flatMap((r) => r.Instances ?? []);
    const index = (i: Instance) => Number(i.Tags?.find((t) => t.Key === 'tianshu:slice-index')?.Value);
    return all.sort((a, b) => index(a) - index(b));
  };
  const live = async (ref: SliceRef) => (await instancesOf(ref)).filter((i) => ['pending', 'running'].includes(i.State?.Name ?? ''));
  const tag = (i: Instance, key: string) => i.Tags?.find((t) => t.Key === key)?.Value;

  providerContract('ec2', {
    create: () => Promise.resolve(connect()),
    workload: vm,
    resources,
    fingerprint: async (ref) =>
      JSON.stringify((await instancesOf(ref)).map((i) => [i.InstanceId, i.State?.Name, [...(i.Tags ?? [])].sort((a, b) => String(a.Key).localeCompare(String(b.Key)))])),
    identities: async (ref) => (await live(ref)).map((i) => i.InstanceId ?? ''),
  });

  it('apply launches the right count of the cheapest fitting type, tagged with the slice and index', async () => {
    const p = connect();
    const slice = aSlice(p, { workload: vm, resources }, { replicas: 3 });
    const status = await p.apply(slice);
    expect(status).toMatchObject({ desiredReplicas: 3, generation: 1 });
    const instances = await live(slice);
    expect(instances).toHaveLength(3);
    // 2 vCPU / 2 GiB: t3.micro is too small, t3.small is the smallest that fits.
    expect(new Set(instances.map((i) => i.InstanceType))).toEqual(new Set(['t3.small']));
    expect(instances.map((i) => i.ImageId)).toEqual([AMI, AMI, AMI]);
    expect(instances.map((i) => tag(i, 'tianshu:slice-index'))).toEqual(['0', '1', '2']);
    for (const i of instances) {
      expect(tag(i, 'tianshu:deployment')).toBe(slice.deploymentId);
      expect(tag(i, 'tianshu:tenant')).toBe(slice.tenant);
    }
    expect(proxy.count('RunInstances')).toBe(3);
    const inv = await p.inventory();
    expect(inv.allocated.instances).toBeGreaterThanOrEqual(3);
    expect(inv.capacity).toEqual({ cpu: 64_000, memory: 131_072, gpu: 0, instances: 40 });
    await p.remove(slice);
    expect(await live(slice)).toHaveLength(0);
    await p.close();
  });

  it('ranks by the price table when one is configured, and honours an explicit instance type', async () => {
    const p = connect({ priceTable: { 'm5.large': 0.05, 't3.small': 0.1 } });
    const slice = aSlice(p, { workload: vm, resources }, { replicas: 1 });
    await p.apply(slice);
    expect((await live(slice)).map((i) => i.InstanceType)).toEqual(['m5.large']);
    const explicit = aSlice(p, { workload: () => ({ kind: 'vm', image: AMI, instanceType: 'c5.xlarge' }), resources }, { replicas: 1 });
    await p.apply(explicit);
    expect((await live(explicit)).map((i) => i.InstanceType)).toEqual(['c5.xlarge']);
    await p.remove(slice);
    await p.remove(explicit);
    await p.close();
  });

  it('a retried apply after a lost RunInstances response launches nothing more', async () => {
    let dropped = 0;
    let launches = 0;
    // Lets the request reach moto, then loses the response, as a client-side timeout would.
    const dropFirstLaunch: Ec2ProviderOptions['configureClient'] = (client, role) => {
      if (role !== 'launch') return;
      client.middlewareStack.add(
        (next, context) => async (args) => {
          // The second launch is sent late: apply must still wait for it before reporting the
          // first one's failure, or a retry could describe the slice before it lands.
          if (context.commandName === 'RunInstancesCommand' && ++launches > 1) await new Promise((r) => setTimeout(r, 300));
          const result = await next(args);
          if (context.commandName === 'RunInstancesCommand' && dropped === 0) {
            dropped += 1;
            throw Object.assign(new Error('socket timed out after the request was sent'), { name: 'TimeoutError' });
          }
          return result;
        },
        { step: 'deserialize', name: 'dropFirstLaunchResponse' },
      );
    };
    const p = connect({}, { configureClient: dropFirstLaunch });
    const slice = aSlice(p, { workload: vm, resources }, { replicas: 2 });
    const err = await failure(p.apply(slice));
    expect(isTianshuError(err, 'UNAVAILABLE')).toBe(true);
    expect(err.message).toMatch(/ec2 cloud "gov-west-1": run instances: no answer/);
    // The launch did happen: moto holds both instances although one response was lost.
    expect(await live(slice)).toHaveLength(2);
    expect(proxy.count('RunInstances')).toBe(2);

    const retried = await p.apply(slice);
    expect(retried.desiredReplicas).toBe(2);
    expect(await live(slice)).toHaveLength(2);
    expect(proxy.count('RunInstances')).toBe(2);
    await p.remove(slice);
    await p.close();
  });

  it('scales down by terminating the highest indexes, and up by launching only the missing ones', async () => {
    const p = connect();
    const slice = aSlice(p, { workload: vm, resources }, { replicas: 4 });
    await p.apply(slice);
    const before = await live(slice);
    await p.apply({ ...slice, replicas: 2, generation: 2 });
    const all = await instancesOf(slice);
    const byIndex = new Map(all.map((i) => [tag(i, 'tianshu:slice-index'), i]));
    expect(['0', '1'].map((k) => byIndex.get(k)?.State?.Name)).toEqual(['running', 'running']);
    for (const k of ['2', '3']) expect(['shutting-down', 'terminated']).toContain(byIndex.get(k)?.State?.Name);
    const kept = await live(slice);
    expect(kept.map((i) => i.InstanceId)).toEqual(before.slice(0, 2).map((i) => i.InstanceId));
    // Survivors are re-tagged with the new generation and desired count.
    expect(kept.map((i) => tag(i, 'tianshu:generation'))).toEqual(['2', '2']);
    expect(await p.status(slice)).toMatchObject({ desiredReplicas: 2, generation: 2 });

    proxy.reset();
    await p.apply({ ...slice, replicas: 3, generation: 3 });
    expect(proxy.count('RunInstances')).toBe(1);
    expect((await live(slice)).map((i) => tag(i, 'tianshu:slice-index'))).toEqual(['0', '1', '2']);
    await p.remove(slice);
    await p.close();
  });

  describe('retries at one layer', () => {
    it('a 5xx is retried by the SDK and the call succeeds', async () => {
      const p = connect();
      const slice = aSlice(p, { workload: vm, resources }, { replicas: 1 });
      proxy.inject('DescribeInstances', 500, 'InternalError');
      expect(await p.status(slice)).toBeNull();
      expect(proxy.count('DescribeInstances')).toBe(2);
      await p.close();
    });

    it('a 4xx is not retried and is not retryable', async () => {
      const p = connect();
      proxy.inject('DescribeInstances', 400, 'InvalidParameterValue');
      const err = await failure(p.status(aSlice(p, { workload: vm, resources })));
      expect(err.code).toBe('PROVIDER_ERROR');
      expect(err.retryable).toBe(false);
      expect(err.message).toContain('InvalidParameterValue');
      expect(proxy.count('DescribeInstances')).toBe(1);
      await p.close();
    });

    it('a persistent 5xx surfaces as UNAVAILABLE after maxAttempts, saying how many were made', async () => {
      const p = connect({ maxAttempts: 3 });
      proxy.inject('DescribeInstances', 503, 'Unavailable', 5);
      const err = await failure(p.listSlices());
      expect(err.code).toBe('UNAVAILABLE');
      expect(err.retryable).toBe(true);
      expect(err.details).toMatchObject({ attempts: 3, httpStatus: 503, cloudId: 'gov-west-1' });
      expect(proxy.count('DescribeInstances')).toBe(3);
      await p.close();
    });

    it('RunInstances is never retried inside the SDK; the next apply converges instead', async () => {
      const p = connect();
      const slice = aSlice(p, { workload: vm, resources }, { replicas: 1 });
      proxy.inject('RunInstances', 500, 'InternalError');
      const err = await failure(p.apply(slice));
      expect(err.code).toBe('UNAVAILABLE');
      expect(proxy.count('RunInstances')).toBe(1);
      await p.apply(slice);
      expect(await live(slice)).toHaveLength(1);
      await p.remove(slice);
      await p.close();
    });
  });

  describe('bad input', () => {
    const cloud = (conn: Record<string, unknown>) => ({
      id: 'gov-bad',
      kind: 'ec2' as const,
      connection: { region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' }, declaredCapacity: { instances: 4 }, maxAttempts: 1, ...conn },
      capacity: { cpu: 0, memory: 0, gpu: 0, instances: 0 },
    });

    it('an unreachable endpoint', async () => {
      const port = await freePort();
      const err = await failure(probe(cloud({ endpoint: `http://127.0.0.1:${port}` })));
      expect(err.code).toBe('UNAVAILABLE');
      expect(err.message).toBe(`ec2 cloud "gov-bad": describe instances: cannot reach http://127.0.0.1:${port} (ECONNREFUSED)`);
    });

    it('credentials the endpoint rejects (as AWS answers; moto itself does not check)', async () => {
      proxy.inject('DescribeInstances', 401, 'AuthFailure');
      const err = await failure(probe(cloud({ endpoint: proxy.endpoint })));
      expect(err.code).toBe('PROVIDER_ERROR');
      expect(err.message).toMatch(/^ec2 cloud "gov-bad": describe instances: credentials rejected \(AuthFailure\)/);
    });

    it('an allowed instance type the endpoint does not offer', async () => {
      const err = await failure(probe(cloud({ endpoint: proxy.endpoint, allowedInstanceTypes: ['t3.small', 'zz9.plural'] })));
      expect(err.code).toBe('PROVIDER_ERROR');
      expect(err.message).toMatch(/ec2 cloud "gov-bad": describe instance types: .*InvalidInstanceType/);
    });

    it('a replica no instance type can fit', async () => {
      const p = connect();
      const err = await failure(p.apply(aSlice(p, { workload: vm, resources: { cpu: 64_000, memory: 1024, gpu: 0 } })));
      expect(err.code).toBe('PROVIDER_ERROR');
      expect(err.message).toMatch(/^ec2 cloud "gov-west-1": choose instance type: no instance type fits 64 vCPU, 1024 MiB, 0 GPU per replica \(largest offered: c5.xlarge/);
      expect(proxy.count('RunInstances')).toBe(0);
      await p.close();
    });

    it('a malformed connection names the field', async () => {
      const err = await failure(probe(cloud({ endpoint: 'not a url' })));
      expect(err.code).toBe('VALIDATION');
      expect(err.message).toMatch(/^ec2 cloud "gov-bad": connection\.endpoint: must be a URL/);
    });

    it('a container workload is refused', async () => {
      const p = connect();
      const err = await failure(p.apply(aSlice(p, { workload: () => ({ kind: 'container', image: 'nginx' }), resources })));
      expect(err.code).toBe('PROVIDER_ERROR');
      await p.close();
    });

    it('a good cloud probes ok', async () => {
      const result = await probe(cloud({ endpoint: proxy.endpoint, allowedInstanceTypes: ALLOWED }));
      expect(result.health.ok).toBe(true);
      expect(result.inventory.capacity.instances).toBe(4);
    });
  });
});
