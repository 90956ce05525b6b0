/**
 * Cloud: one registered cloud as the scheduler and the store model it — where it is, what it is
 * certified for, what it has, and whether it takes work.
 */
import type { LocalityPath } from './locality.js';
import type { Resources } from './resources.js';

/** The kinds of provider adapters. */
export const PROVIDER_KINDS = ['kubernetes', 'ec2', 'simulated'] as const;
/** One kind of provider. */
export type ProviderKind = (typeof PROVIDER_KINDS)[number];

/** Whether a cloud takes work. Only `Ready` clouds receive new placements. */
export const CLOUD_CONDITIONS = ['Ready', 'NotReady', 'Cordoned', 'Draining'] as const;
/** One cloud condition. */
export type CloudCondition = (typeof CLOUD_CONDITIONS)[number];

/** Taint effects, as in Kubernetes: `NoSchedule` rejects, `PreferNoSchedule` only lowers the score. */
export const TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule'] as const;
/** One taint effect. */
export type TaintEffect = (typeof TAINT_EFFECTS)[number];

/** A taint repels workloads that do not tolerate it. */
export interface Taint {
  readonly key: string;
  readonly value: string;
  readonly effect: TaintEffect;
}

/** Attributes workloads may require. */
export interface CloudAttributes {
  /** CPU architecture, e.g. `amd64`, `arm64`. */
  readonly arch: string;
  /** A domestic (信创) stack: domestic CPU, OS and middleware. */
  readonly xinchuang: boolean;
  /** The GPU model offered, or null for none. */
  readonly gpuModel: string | null;
  /** Free-form labels matched by label expressions. */
  readonly labels: Readonly<Record<string, string>>;
}

/** A registered cloud. */
export interface Cloud {
  readonly id: string;
  readonly kind: ProviderKind;
  readonly locality: LocalityPath;
  /** The fault domain inside the locality (availability zone). */
  readonly zone: string;
  /** The certified security tier. */
  readonly tier: string;
  /** An exclusive cloud hosts only workloads whose minimum tier equals its own. */
  readonly tierExclusive: boolean;
  readonly attributes: CloudAttributes;
  readonly taints: readonly Taint[];
  readonly capacity: Resources;
  readonly allocated: Resources;
  /** Cost per unit of each resource per hour, in the operator's currency. */
  readonly costPerUnit: Resources;
  readonly condition: CloudCondition;
  /** Provider connection settings (kubeconfig, endpoint, simulated knobs); opaque to the scheduler. */
  readonly connection: Readonly<Record<string, unknown>>;
  /** Optimistic-concurrency version, bumped on every change. */
  readonly version: number;
}
