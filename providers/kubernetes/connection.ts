/**
 * Connection settings of a Kubernetes cloud: where its kubeconfig comes from, which context to
 * use, and the capacity to assume when the credentials may not list nodes.
 *
 * @packageDocumentation
 */
import { z } from 'zod';
import { DeclaredCapacitySchema, RequestTimeoutSchema } from '../schema.js';

/** The zod schema of `cloud.connection` for `kind: kubernetes`; exactly one credential source. */
export const KubernetesConnectionSchema = z
  .object({
    /** Path of a kubeconfig file. */
    kubeconfigPath: z.string().min(1, 'must not be empty').optional(),
    /** An inline kubeconfig (YAML). */
    kubeconfig: z.string().min(1, 'must not be empty').optional(),
    /** Use the pod's service account (when Tianshu itself runs in the cluster). */
    inCluster: z.boolean().default(false),
    /** The kubeconfig context; absent → the kubeconfig's current context. */
    context: z.string().min(1, 'must not be empty').optional(),
    /** Capacity to report when listing nodes is forbidden (RBAC); cpu millicores, memory MiB. */
    declaredCapacity: DeclaredCapacitySchema.optional(),
    /** Deadline of each API request. */
    requestTimeoutMs: RequestTimeoutSchema.default(10_000),
    /** The extended resource name GPUs are requested as. */
    gpuResourceName: z.string().min(1).max(253).default('nvidia.com/gpu'),
    /** Delete a tenant's namespace when its last Tianshu slice is removed. */
    deleteEmptyNamespaces: z.boolean().default(true),
  })
  .strict()
  .superRefine((c, ctx) => {
    const sources = [c.kubeconfigPath !== undefined, c.kubeconfig !== undefined, c.inCluster].filter(Boolean).length;
    if (sources !== 1) {
      ctx.addIssue({
        code: 'custom',
        path: sources === 0 ? ['kubeconfigPath'] : ['inCluster'],
        message: 'give exactly one of kubeconfigPath, kubeconfig (inline) or inCluster: true',
      });
    }
    if (c.inCluster && c.context !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['context'], message: 'has no meaning with inCluster: true' });
    }
  });

/** Validated Kubernetes connection settings. */
export type KubernetesConnection = z.output<typeof KubernetesConnectionSchema>;
/** Kubernetes connection settings as written in config. */
export type KubernetesConnectionInput = z.input<typeof KubernetesConnectionSchema>;
