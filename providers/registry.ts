/**
 * The one place that knows every provider kind: its connection schema and its factory, in an
 * exhaustive `Record<ProviderKind, …>` so a new kind does not compile until it is wired here.
 * Registration (`registerCloud`, config load) calls {@link validateConnection} and
 * {@link probe}; the orchestrator calls {@link createProvider}.
 *
 * @packageDocumentation
 */
import type { z } from 'zod';
import type { Cloud, ProviderKind } from '../domain/cloud.js';
import { PROVIDER_KINDS } from '../domain/cloud.js';
import { isTianshuError, TianshuError } from '../domain/errors.js';
import { parseWith } from '../domain/validation.js';
import { Ec2ConnectionSchema } from './ec2/connection.js';
import type { Ec2ConnectionSettings } from './ec2/connection.js';
import { Ec2Provider } from './ec2/ec2-provider.js';
import { KubernetesConnectionSchema } from './kubernetes/connection.js';
import type { KubernetesConnection } from './kubernetes/connection.js';
import { KubernetesProvider } from './kubernetes/kubernetes-provider.js';
import type { HealthReport, Inventory, Provider, ProviderOptions } from './provider.js';
import { SimulatedConnectionSchema } from './simulated/connection.js';
import type { SimulatedConnection } from './simulated/connection.js';
import { SimulatedProvider } from './simulated/simulated-provider.js';

/** The fields of a cloud a provider needs. */
export type CloudTarget = Pick<Cloud, 'id' | 'kind' | 'connection' | 'capacity'>;

/** The validated connection type of each kind. */
export interface ConnectionByKind {
  kubernetes: KubernetesConnection;
  ec2: Ec2ConnectionSettings;
  simulated: SimulatedConnection;
}

/** How one kind is validated and built. */
export interface Adapter<C> {
  /** Validates `cloud.connection` (strict: unknown fields are errors). */
  readonly schema: z.ZodType<C>;
  /** Builds a provider from a validated connection. */
  create(cloud: CloudTarget, connection: C, options: ProviderOptions): Provider;
}

/** Every provider kind's adapter. */
export const ADAPTERS: { readonly [K in ProviderKind]: Adapter<ConnectionByKind[K]> } = {
  kubernetes: {
    schema: KubernetesConnectionSchema,
    create: (cloud, connection, options) => new KubernetesProvider(cloud.id, connection, options),
  },
  ec2: {
    schema: Ec2ConnectionSchema,
    // Like a simulated cloud, an EC2 cloud without a declared capacity offers what was registered.
    create: (cloud, connection, options) => new Ec2Provider(cloud.id, { ...connection, declaredCapacity: connection.declaredCapacity ?? cloud.capacity }, options),
  },
  simulated: {
    schema: SimulatedConnectionSchema,
    // A simulated cloud without its own capacity simulates exactly what was registered.
    create: (cloud, connection, options) => new SimulatedProvider(cloud.id, { ...connection, capacity: connection.capacity ?? cloud.capacity }, options),
  },
};

function adapterFor<K extends ProviderKind>(cloud: Pick<Cloud, 'id'> & { kind: K }): Adapter<ConnectionByKind[K]> {
  if (!(PROVIDER_KINDS as readonly string[]).includes(cloud.kind)) {
    throw new TianshuError('VALIDATION', `cloud "${cloud.id}": kind: unknown provider kind "${String(cloud.kind)}" (known: ${PROVIDER_KINDS.join(', ')})`, { field: 'kind', cloudId: cloud.id });
  }
  return ADAPTERS[cloud.kind];
}

/**
 * Validates a cloud's `connection` against its kind's schema. Throws a VALIDATION
 * {@link TianshuError} naming the cloud and the field, e.g.
 * `ec2 cloud "gov-west": connection.region: must not be empty`.
 */
export function validateConnection<K extends ProviderKind>(cloud: Pick<Cloud, 'id' | 'connection'> & { kind: K }): ConnectionByKind[K] {
  const adapter = adapterFor(cloud);
  try {
    // Frozen: settings are validated once and never edited in place.
    return Object.freeze(parseWith(adapter.schema, cloud.connection, 'connection')) as ConnectionByKind[K];
  } catch (e) {
    if (isTianshuError(e, 'VALIDATION')) {
      throw new TianshuError('VALIDATION', `${cloud.kind} cloud "${cloud.id}": ${e.message}`, { ...e.details, cloudId: cloud.id }, { cause: e });
    }
    throw e;
  }
}

/**
 * Builds the provider of a cloud. Throws VALIDATION for a malformed connection, or for one that
 * can be seen to be wrong without a network call (a missing kubeconfig file, an unknown context).
 */
export function createProvider(cloud: CloudTarget, options: ProviderOptions = {}): Provider {
  const build = <K extends ProviderKind>(c: CloudTarget & { kind: K }): Provider => adapterFor(c).create(c, validateConnection(c), options);
  return build(cloud);
}

/** What {@link probe} found. */
export interface ProbeResult {
  readonly cloudId: string;
  readonly kind: ProviderKind;
  readonly health: HealthReport;
  readonly inventory: Inventory;
}

/**
 * Checks at registration that a cloud can be used: the connection is valid, the endpoint answers,
 * the credentials are accepted (an inventory is read), and the kind's own checks pass. Throws
 * the first problem as a {@link TianshuError} naming the cloud and the cause: VALIDATION (bad
 * settings, missing kubeconfig context), UNAVAILABLE (unreachable endpoint), PROVIDER_ERROR
 * (rejected credentials, forbidden, nothing offered).
 */
export async function probe(cloud: CloudTarget, options: ProviderOptions = {}): Promise<ProbeResult> {
  const provider = createProvider(cloud, options);
  try {
    const inventory = await provider.inventory();
    await provider.verify?.();
    const health = await provider.health();
    return { cloudId: cloud.id, kind: cloud.kind, health, inventory };
  } finally {
    await provider.close();
  }
}
