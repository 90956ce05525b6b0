/**
 * The simulated cloud: an in-memory {@link Provider} with configurable capacity, latency and
 * seeded fault injection. The demo fleet, the orchestrator's tests and the scale benchmarks run on
 * it; tests drive its faults through the public controls ({@link SimulatedProvider.setOutage},
 * {@link SimulatedProvider.failNext}, …).
 *
 * Faults come in three flavours, chosen to exercise the orchestrator's handling of each:
 * - `error`: the call fails with UNAVAILABLE before taking effect (a 503);
 * - `timeout`: the call takes effect, then fails with UNAVAILABLE (a lost response), so only
 *   idempotent callers converge;
 * - `reject`: the call fails with PROVIDER_ERROR (a 4xx) before taking effect.
 *
 * @packageDocumentation
 */
import type { ProviderKind } from '../../domain/cloud.js';
import { demandPerReplica } from '../../domain/deployment.js';
import { add, formatAmount, RESOURCE_NAMES, resources, scale, ZERO } from '../../domain/resources.js';
import type { ResourceName, Resources } from '../../domain/resources.js';
import type { TianshuError } from '../../domain/errors.js';
import { providerError } from '../errors.js';
import type { ProviderErrorCode } from '../errors.js';
import { conditionOf, sliceKey, toRef } from '../provider.js';
import type { HealthReport, Inventory, Provider, ProviderOptions, Slice, SliceRef, SliceStatus } from '../provider.js';
import type { SimulatedConnection } from './connection.js';
import { hashString, seededRandom } from '../../domain/random.js';

/** The operations of a provider, for per-operation call counts and targeted faults. */
export type SimulatedOperation = 'inventory' | 'apply' | 'remove' | 'status' | 'listSlices';

/** The kinds of injected fault (see the module comment). */
export type SimulatedFault = 'error' | 'timeout' | 'reject';

/** What the simulated cloud holds for one slice; exposed read-only to tests. */
export interface SimulatedSliceRecord {
  readonly slice: Slice;
  /** Stable for the slice's lifetime: a re-created slice gets a new uid. */
  readonly uid: string;
  /** Bumped on every change that the cloud actually made; a no-op apply leaves it alone. */
  readonly version: number;
  /** Replicas that were ready before the last change, and when the new ones become ready. */
  readonly readyBefore: number;
  readonly readyAt: number;
}

interface ForcedFault {
  readonly fault: SimulatedFault;
  readonly op: SimulatedOperation | undefined;
}

const KIND: ProviderKind = 'simulated';

/** An in-memory cloud. Construct through the registry, or directly in tests. */
export class SimulatedProvider implements Provider {
  readonly kind = KIND;
  /** Calls received per operation, faults included; tests assert retry counts with it. */
  readonly calls: Record<SimulatedOperation, number> = { inventory: 0, apply: 0, remove: 0, status: 0, listSlices: 0 };

  private readonly slices = new Map<string, SimulatedSliceRecord>();
  private readonly random: () => number;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly forced: ForcedFault[] = [];
  private capacity: Resources;
  private latencyMs: number;
  private errorRate: number;
  private timeoutRate: number;
  private readonly readyAfterMs: number;
  private outage: boolean;
  private closed = false;
  private uidCounter = 0;

  constructor(
    readonly cloudId: string,
    connection: SimulatedConnection,
    options: ProviderOptions = {},
  ) {
    this.capacity = resources(connection.capacity ?? {});
    this.latencyMs = connection.latencyMs;
    this.errorRate = connection.errorRate;
    this.timeoutRate = connection.timeoutRate;
    this.readyAfterMs = connection.readyAfterMs;
    this.outage = connection.outage;
    this.random = seededRandom(connection.seed ?? hashString(cloudId));
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  // ---- fault-injection controls -------------------------------------------------------------

  /** Starts or ends an outage: while on, every call fails with UNAVAILABLE and health is not ok. */
  setOutage(on: boolean): void {
    this.outage = on;
  }

  /** Sets the probability of an `error` fault per call. */
  setErrorRate(rate: number): void {
    this.errorRate = rate;
  }

  /** Sets the probability of a `timeout` fault per call. */
  setTimeoutRate(rate: number): void {
    this.timeoutRate = rate;
  }

  /** Sets the latency added to every call. */
  setLatency(ms: number): void {
    this.latencyMs = ms;
  }

  /** Changes the capacity (e.g. a cloud losing nodes); resources not named keep their value. */
  setCapacity(partial: Partial<Record<ResourceName, number>>): void {
    this.capacity = { ...this.capacity, ...partial };
  }

  /** Makes the next `times` calls (of `op`, or of any operation) fail with `fault`, before the random faults. */
  failNext(fault: SimulatedFault, times = 1, op?: SimulatedOperation): void {
    for (let i = 0; i < times; i++) this.forced.push({ fault, op });
  }

  /** What the cloud holds for a slice, or undefined; for assertions, never for the orchestrator. */
  inspect(ref: SliceRef): SimulatedSliceRecord | undefined {
    return this.slices.get(sliceKey(ref));
  }

  // ---- the Provider contract ----------------------------------------------------------------

  /** Capacity as configured; allocation is the sum of every slice's replicas × per-replica demand. */
  inventory(): Promise<Inventory> {
    return this.call('inventory', () => ({
      cloudId: this.cloudId,
      capacity: this.capacity,
      allocated: this.allocatedExcept(undefined),
      condition: 'Ready',
      capacitySource: 'declared',
      detail: `${this.slices.size} slice(s) in memory`,
    }));
  }

  /** Creates or updates the slice in place; rejects with PROVIDER_ERROR when it would not fit. */
  apply(slice: Slice): Promise<SliceStatus> {
    return this.call('apply', () => {
      if (slice.cloudId !== this.cloudId) {
        throw this.error('PROVIDER_ERROR', 'apply', `slice is placed on "${slice.cloudId}", not here`);
      }
      if (!Number.isInteger(slice.replicas) || slice.replicas < 0) {
        throw this.error('PROVIDER_ERROR', 'apply', `replicas must be a whole number ≥ 0, got ${slice.replicas}`);
      }
      const key = sliceKey(slice);
      const existing = this.slices.get(key);
      if (existing !== undefined && sameSlice(existing.slice, slice)) return this.statusOf(existing);

      const need = scale(demandPerReplica(slice), slice.replicas);
      const free = subtractClamped(this.capacity, this.allocatedExcept(key));
      const short = RESOURCE_NAMES.filter((r) => need[r] > free[r]);
      if (short.length > 0) {
        const what = short.map((r) => `${r} needs ${formatAmount(r, need[r])}, ${formatAmount(r, free[r])} free`).join('; ');
        throw this.error('PROVIDER_ERROR', 'apply', `insufficient capacity: ${what}`, 'INSUFFICIENT_CAPACITY');
      }

      const now = this.now();
      const wasReady = existing === undefined ? 0 : readyOf(existing, now);
      const workloadChanged = existing !== undefined && JSON.stringify([existing.slice.workload, existing.slice.resources]) !== JSON.stringify([slice.workload, slice.resources]);
      const record: SimulatedSliceRecord = {
        slice: freezeSlice(slice),
        uid: existing?.uid ?? `${this.cloudId}-${++this.uidCounter}`,
        version: (existing?.version ?? 0) + 1,
        // A new workload replaces every replica; a scale keeps the ready ones.
        readyBefore: workloadChanged ? 0 : wasReady,
        readyAt: slice.replicas > wasReady || workloadChanged ? now + this.readyAfterMs : now,
      };
      this.slices.set(key, record);
      return this.statusOf(record);
    });
  }

  /** Forgets the slice; forgetting an unknown slice succeeds. */
  remove(ref: SliceRef): Promise<void> {
    return this.call('remove', () => {
      this.slices.delete(sliceKey(ref));
    });
  }

  /** The slice's status, or null when unknown. */
  status(ref: SliceRef): Promise<SliceStatus | null> {
    return this.call('status', () => {
      const record = this.slices.get(sliceKey(ref));
      return record === undefined ? null : this.statusOf(record);
    });
  }

  /** Every slice held, sorted by key for stable output. */
  listSlices(): Promise<SliceRef[]> {
    return this.call('listSlices', () =>
      [...this.slices.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, r]) => toRef(r.slice)),
    );
  }

  /** Not ok during an outage or after close; never throws. */
  async health(): Promise<HealthReport> {
    if (this.latencyMs > 0) await this.sleep(this.latencyMs);
    if (this.closed) return { ok: false, detail: 'provider closed' };
    if (this.outage) return { ok: false, detail: 'simulated outage' };
    return { ok: true, detail: `simulated, ${this.slices.size} slice(s)` };
  }

  /** Marks the provider closed; later calls fail. The in-memory state is kept for inspection. */
  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }

  // ---- internals ----------------------------------------------------------------------------

  /** Latency, outage and faults around one operation; `fn` runs only when the call "reaches" the cloud. */
  private async call<T>(op: SimulatedOperation, fn: () => T): Promise<T> {
    this.calls[op]++;
    // Draw both numbers on every call so the fault sequence depends only on the call count.
    const errorDraw = this.random();
    const timeoutDraw = this.random();
    if (this.latencyMs > 0) await this.sleep(this.latencyMs);
    if (this.closed) throw this.error('PROVIDER_ERROR', op, 'provider is closed');
    if (this.outage) throw this.error('UNAVAILABLE', op, 'simulated outage: connection refused', 'ECONNREFUSED');
    const fault = this.takeForced(op) ?? (errorDraw < this.errorRate ? 'error' : timeoutDraw < this.timeoutRate ? 'timeout' : undefined);
    if (fault === 'error') throw this.error('UNAVAILABLE', op, 'injected fault: HTTP 503 before taking effect', 'INJECTED_ERROR');
    if (fault === 'reject') throw this.error('PROVIDER_ERROR', op, 'injected fault: HTTP 400', 'INJECTED_REJECT');
    const result = fn();
    if (fault === 'timeout') throw this.error('UNAVAILABLE', op, 'injected fault: timed out after taking effect', 'INJECTED_TIMEOUT');
    return result;
  }

  private takeForced(op: SimulatedOperation): SimulatedFault | undefined {
    const i = this.forced.findIndex((f) => f.op === undefined || f.op === op);
    if (i < 0) return undefined;
    const [taken] = this.forced.splice(i, 1);
    return taken?.fault;
  }

  private allocatedExcept(key: string | undefined): Resources {
    let total = ZERO;
    for (const [k, r] of this.slices) {
      if (k !== key) total = add(total, scale(demandPerReplica(r.slice), r.slice.replicas));
    }
    return total;
  }

  private statusOf(record: SimulatedSliceRecord): SliceStatus {
    const desired = record.slice.replicas;
    const ready = readyOf(record, this.now());
    return {
      ref: toRef(record.slice),
      cloudId: this.cloudId,
      desiredReplicas: desired,
      readyReplicas: ready,
      availableReplicas: ready,
      generation: record.slice.generation,
      observed: true,
      condition: conditionOf(desired, ready, true),
      message: `${ready}/${desired} ready`,
    };
  }

  private error(code: ProviderErrorCode, operation: string, reason: string, cause?: string): TianshuError {
    return providerError(code, { cloudId: this.cloudId, kind: KIND, operation, cause, attempts: 1 }, reason);
  }
}

function readyOf(record: SimulatedSliceRecord, now: number): number {
  return now >= record.readyAt ? record.slice.replicas : Math.min(record.readyBefore, record.slice.replicas);
}

function subtractClamped(a: Resources, b: Resources): Resources {
  return {
    cpu: Math.max(0, a.cpu - b.cpu),
    memory: Math.max(0, a.memory - b.memory),
    gpu: Math.max(0, a.gpu - b.gpu),
    instances: Math.max(0, a.instances - b.instances),
  };
}

/** Two slices are the same when everything the cloud would act on is equal. */
function sameSlice(a: Slice, b: Slice): boolean {
  return (
    a.replicas === b.replicas &&
    a.generation === b.generation &&
    JSON.stringify(a.workload) === JSON.stringify(b.workload) &&
    JSON.stringify(a.resources) === JSON.stringify(b.resources)
  );
}

function freezeSlice(slice: Slice): Slice {
  return Object.freeze({ ...slice, workload: Object.freeze({ ...slice.workload }), resources: Object.freeze({ ...slice.resources }) });
}
