/**
 * Connection settings of an EC2 (or EC2-compatible) cloud: region, endpoint, credentials, the
 * capacity the operator grants Tianshu, and which instance types it may launch at what price.
 *
 * @packageDocumentation
 */
import { z } from 'zod';
import { DeclaredCapacitySchema, RequestTimeoutSchema } from '../schema.js';

/** The zod schema of `cloud.connection` for `kind: ec2`. */
export const Ec2ConnectionSchema = z
  .object({
    /** e.g. `us-gov-west-1`, or whatever a private cloud calls its region. */
    region: z.string().min(1, 'must not be empty'),
    /** An EC2-compatible endpoint URL; absent → AWS's endpoint for the region. */
    endpoint: z.url('must be a URL such as https://ec2.example.gov').optional(),
    /** Static credentials; absent → the SDK's default chain (environment, profile, instance role). */
    credentials: z
      .object({
        accessKeyId: z.string().min(1, 'must not be empty'),
        secretAccessKey: z.string().min(1, 'must not be empty'),
        sessionToken: z.string().min(1).optional(),
      })
      .strict()
      .optional(),
    /** What Tianshu may use on this cloud: cpu millicores, memory MiB, gpu and instance counts; absent → the cloud's registered capacity. */
    declaredCapacity: DeclaredCapacitySchema.optional(),
    /** Only these instance types may be launched; absent → any the endpoint offers. */
    allowedInstanceTypes: z.array(z.string().min(1)).min(1, 'must list at least one type').optional(),
    /** Hourly price per instance type; when given, the cheapest fitting priced type wins. */
    priceTable: z.record(z.string().min(1), z.number().nonnegative('must not be negative')).optional(),
    /** Attempts per call in the SDK's standard retry mode (the only retry layer). */
    maxAttempts: z.number().int('must be a whole number').min(1, 'must be at least 1').max(10, 'must be at most 10').default(3),
    /** Deadline of each HTTP request. */
    requestTimeoutMs: RequestTimeoutSchema.default(10_000),
    subnetId: z.string().min(1).optional(),
    securityGroupIds: z.array(z.string().min(1)).optional(),
    keyName: z.string().min(1).optional(),
  })
  .strict();

/** Validated EC2 connection settings. */
export type Ec2ConnectionSettings = z.output<typeof Ec2ConnectionSchema>;
/** Connection settings as the provider uses them: the declared capacity resolved. */
export type Ec2Connection = Ec2ConnectionSettings & { readonly declaredCapacity: NonNullable<Ec2ConnectionSettings['declaredCapacity']> };
/** EC2 connection settings as written in config. */
export type Ec2ConnectionInput = z.input<typeof Ec2ConnectionSchema>;
