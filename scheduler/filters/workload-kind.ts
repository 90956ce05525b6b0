/**
 * Workload-kind filter: a `container` runs on kubernetes (or simulated) clouds, a `vm` on ec2 (or
 * simulated) clouds.
 */
import type { ProviderKind } from '../../domain/cloud.js';
import { defineFilter } from './define.js';

/** Which provider kinds host each workload kind. */
export const HOSTS: Readonly<Record<'container' | 'vm', readonly ProviderKind[]>> = {
  container: ['kubernetes', 'simulated'],
  vm: ['ec2', 'simulated'],
};

/** The workload-kind filter. */
export const workloadKindFilter = defineFilter({
  name: 'workload-kind',
  stage: 'static',
  reasons: ['WORKLOAD_KIND_MISMATCH'],
  reason: (req, { cloud }) => (HOSTS[req.spec.workload.kind].includes(cloud.kind) ? null : 'WORKLOAD_KIND_MISMATCH'),
  detail: (req, { cloud }) => `${req.spec.workload.kind} workloads need a ${HOSTS[req.spec.workload.kind].join(' or ')} cloud, this is ${cloud.kind}`,
});
