/**
 * A periodic verification of the audit hash chain, exported as `tianshu_audit_chain_valid`, so a
 * tampered or truncated trail pages someone instead of waiting for the next audit.
 *
 * @packageDocumentation
 */
import type { AuditVerification } from '../store/store.js';
import type { Metrics } from './metrics.js';

/** Options of {@link startAuditProbe}. */
export interface AuditProbeOptions {
  /** Verifies the chain, e.g. `() => store.verifyAudit()`. */
  readonly verify: () => Promise<Pick<AuditVerification, 'ok' | 'checked'>>;
  readonly metrics: Pick<Metrics, 'recordAuditVerification'>;
  /** Time between verifications in ms; default 5 minutes (verification reads the whole chain). */
  readonly intervalMs?: number;
  /** Called when verification itself fails (the store is unreachable); the last result stands. */
  readonly onError?: (err: unknown) => void;
}

/** A running probe. */
export interface AuditProbe {
  /** Verifies once now and records the result. */
  runOnce(): Promise<void>;
  /** Stops the schedule and waits for a verification in progress. */
  stop(): Promise<void>;
}

/**
 * Verifies the audit chain now and then every `intervalMs`, recording each result. The timer does
 * not keep the process alive.
 *
 * @example
 * const probe = startAuditProbe({ verify: () => store.verifyAudit(), metrics });
 * // on shutdown: await probe.stop();
 */
export function startAuditProbe(options: AuditProbeOptions): AuditProbe {
  const intervalMs = options.intervalMs ?? 300_000;
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  let running: Promise<void> = Promise.resolve();

  const runOnce = (): Promise<void> => {
    running = (async () => {
      try {
        options.metrics.recordAuditVerification(await options.verify());
      } catch (err) {
        options.onError?.(err);
      }
    })();
    return running;
  };
  const schedule = (): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      void runOnce().then(schedule);
    }, intervalMs);
    timer.unref();
  };
  void runOnce().then(schedule);
  return {
    runOnce,
    async stop() {
      stopped = true;
      if (timer !== null) clearTimeout(timer);
      await running;
    },
  };
}
