import type { _InstanceType } from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import type { Slice } from '../provider.js';
import {
  checkRequestedType,
  chooseInstanceType,
  classifyAwsError,
  clientToken,
  instanceSize,
  instanceTags,
  planScale,
  sliceInstance,
  statusFromInstances,
} from './mapping.js';
import type { InstanceSize, SliceInstance } from './mapping.js';

const sizes: InstanceSize[] = [
  { name: 'm5.large', cpu: 2000, memory: 8192, gpu: 0 },
  { name: 't3.medium', cpu: 2000, memory: 4096, gpu: 0 },
  { name: 'c5.xlarge', cpu: 4000, memory: 8192, gpu: 0 },
  { name: 'p3.2xlarge', cpu: 8000, memory: 62464, gpu: 1 },
  { name: 't3.micro', cpu: 2000, memory: 1024, gpu: 0 },
];

const slice: Slice = {
  deploymentId: 'd-7',
  tenant: 'gd/sz/health',
  name: 'records',
  cloudId: 'gov-1',
  replicas: 3,
  generation: 2,
  workload: { kind: 'vm', image: 'ami-123' },
  resources: { cpu: 2000, memory: 2048, gpu: 0 },
};

describe('instance type choice', () => {
  it.each([
    [{ cpu: 2000, memory: 2048, gpu: 0 }, 't3.medium'],
    [{ cpu: 1000, memory: 512, gpu: 0 }, 't3.micro'],
    [{ cpu: 3000, memory: 1024, gpu: 0 }, 'c5.xlarge'],
    [{ cpu: 1000, memory: 1024, gpu: 1 }, 'p3.2xlarge'],
  ])('without prices: smallest vCPU then memory fitting %j → %s', (need, name) => {
    const choice = chooseInstanceType(sizes, need);
    expect(choice.ok && choice.size.name).toBe(name);
  });

  it('with a price table, the cheapest fitting priced type wins', () => {
    const choice = chooseInstanceType(sizes, { cpu: 2000, memory: 2048, gpu: 0 }, { 'm5.large': 0.096, 't3.medium': 0.1, 'c5.xlarge': 0.17 });
    expect(choice.ok && choice.size.name).toBe('m5.large');
  });

  it('does not depend on the order the endpoint lists types in', () => {
    const a = chooseInstanceType(sizes, { cpu: 500, memory: 512, gpu: 0 });
    const b = chooseInstanceType([...sizes].reverse(), { cpu: 500, memory: 512, gpu: 0 });
    expect(a).toEqual(b);
  });

  it('explains when nothing fits, naming the need and the largest offer', () => {
    const choice = chooseInstanceType(sizes, { cpu: 96_000, memory: 1024, gpu: 0 });
    expect(choice).toEqual({ ok: false, reason: expect.stringMatching(/no instance type fits 96 vCPU, 1024 MiB, 0 GPU per replica \(largest offered: p3.2xlarge/) });
  });

  it('checks an explicitly requested type', () => {
    expect(checkRequestedType(sizes, 'c5.xlarge', slice.resources).ok).toBe(true);
    expect(checkRequestedType(sizes, 't3.micro', slice.resources)).toEqual({ ok: false, reason: expect.stringContaining('t3.micro (2 vCPU, 1024 MiB, 0 GPU) cannot fit') });
    expect(checkRequestedType(sizes, 'x9.huge', slice.resources)).toEqual({ ok: false, reason: expect.stringContaining('not offered') });
  });

  it('reads SDK instance type infos, summing GPUs', () => {
    expect(
      instanceSize({ InstanceType: 'p3.8xlarge', VCpuInfo: { DefaultVCpus: 32 }, MemoryInfo: { SizeInMiB: 249856 }, GpuInfo: { Gpus: [{ Count: 4 }] } }),
    ).toEqual({ name: 'p3.8xlarge', cpu: 32_000, memory: 249856, gpu: 4 });
    expect(instanceSize({ InstanceType: 'broken' as _InstanceType })).toBeUndefined();
  });
});

describe('tokens and tags', () => {
  it('derives a stable 64-char token from deployment, generation and index range', () => {
    const t = clientToken('d-7', 2, 0, 0);
    expect(t).toHaveLength(64);
    expect(clientToken('d-7', 2, 0, 0)).toBe(t);
    expect(new Set([t, clientToken('d-7', 3, 0, 0), clientToken('d-7', 2, 1, 1), clientToken('d-8', 2, 0, 0), clientToken('d-7', 2, 0, 0, 1)]).size).toBe(5);
  });

  it('tags every instance with the slice, its index, generation and desired count, and reads them back', () => {
    const tags = instanceTags(slice, 1);
    expect(tags).toEqual(
      expect.arrayContaining([
        { Key: 'tianshu:deployment', Value: 'd-7' },
        { Key: 'tianshu:tenant', Value: 'gd/sz/health' },
        { Key: 'tianshu:slice-index', Value: '1' },
        { Key: 'tianshu:generation', Value: '2' },
        { Key: 'tianshu:replicas', Value: '3' },
      ]),
    );
    expect(sliceInstance({ InstanceId: 'i-1', Tags: tags, State: { Name: 'running' }, InstanceType: 't3.medium' })).toMatchObject({
      id: 'i-1',
      index: 1,
      ref: { deploymentId: 'd-7', tenant: 'gd/sz/health', name: 'records' },
      state: 'running',
    });
    expect(sliceInstance({ InstanceId: 'i-2', Tags: [{ Key: 'Name', Value: 'not ours' }] })).toBeUndefined();
  });
});

function inst(id: string, index: number, extra: Partial<SliceInstance> = {}): SliceInstance {
  return { id, ref: slice, index, state: 'running', type: 't3.medium', generation: 2, replicas: 3, launchedAt: 1000 + index, ...extra };
}

describe('scale planning', () => {
  it('launches only the missing indexes', () => {
    expect(planScale([inst('a', 0), inst('c', 2)], 4)).toMatchObject({ launch: [1, 3], terminate: [] });
  });

  it('terminates the highest indexes first when scaling down', () => {
    const plan = planScale([inst('a', 0), inst('b', 1), inst('c', 2), inst('d', 3)], 2);
    expect(plan.terminate.map((i) => i.id)).toEqual(['d', 'c']);
    expect(plan.keep.map((i) => i.id)).toEqual(['a', 'b']);
    expect(plan.launch).toEqual([]);
  });

  it('keeps the oldest of duplicates an endpoint launched twice', () => {
    const plan = planScale([inst('late', 0, { launchedAt: 5000 }), inst('early', 0, { launchedAt: 10 })], 1);
    expect(plan.keep.map((i) => i.id)).toEqual(['early']);
    expect(plan.terminate.map((i) => i.id)).toEqual(['late']);
  });

  it('is a no-op when everything is in place', () => {
    expect(planScale([inst('a', 0), inst('b', 1), inst('c', 2)], 3)).toMatchObject({ launch: [], terminate: [] });
  });
});

describe('status from instances', () => {
  it('counts running instances below the desired count', () => {
    expect(statusFromInstances(slice, 'gov-1', [inst('a', 0), inst('b', 1, { state: 'pending' }), inst('c', 2)])).toMatchObject({
      desiredReplicas: 3,
      readyReplicas: 2,
      generation: 2,
      condition: 'Progressing',
      message: '2/3 running, 1 pending',
    });
    expect(statusFromInstances(slice, 'gov-1', [])).toBeNull();
  });
});

describe('AWS error classification', () => {
  const aws = (name: string, status: number, attempts = 1, fault = 'client') => Object.assign(new Error(`${name} happened`), { name, $fault: fault, $metadata: { httpStatusCode: status, attempts } });

  it.each([
    [aws('InternalError', 500, 3, 'server'), 'UNAVAILABLE'],
    [aws('RequestLimitExceeded', 503, 3, 'client'), 'UNAVAILABLE'],
    [aws('InsufficientInstanceCapacity', 500, 1, 'server'), 'UNAVAILABLE'],
    [aws('InvalidParameterValue', 400), 'PROVIDER_ERROR'],
    [aws('InvalidAMIID.NotFound', 400), 'PROVIDER_ERROR'],
    [aws('AuthFailure', 401), 'PROVIDER_ERROR'],
    [aws('UnauthorizedOperation', 403), 'PROVIDER_ERROR'],
    [Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED', $metadata: { attempts: 3 } }), 'UNAVAILABLE'],
    [Object.assign(new Error('timed out'), { name: 'TimeoutError' }), 'UNAVAILABLE'],
  ])('%s → %s', (e, code) => {
    expect(classifyAwsError(e, 'http://ec2.local').code).toBe(code);
  });

  it('says when credentials are rejected and how many attempts were made', () => {
    const f = classifyAwsError(aws('AuthFailure', 401, 1), 'http://ec2.local');
    expect(f.reason).toMatch(/^credentials rejected \(AuthFailure\)/);
    expect(classifyAwsError(aws('InternalError', 500, 3, 'server'), 'x').attempts).toBe(3);
    expect(classifyAwsError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }), 'http://ec2.local').reason).toBe('cannot reach http://ec2.local (ECONNREFUSED)');
  });
});
