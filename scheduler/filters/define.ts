/**
 * A helper that builds a {@link Filter} from its cheap `reason` test and its message, so the two
 * forms cannot disagree.
 */
import type { Filter, FilterName, PreparedRequest, Verdict } from '../framework.js';
import { PASS } from '../framework.js';
import type { ReasonCode } from '../reasons.js';
import type { CloudView, Snapshot } from '../snapshot.js';

/** The parts of a filter: its test, and the message for a reason it returned. */
export interface FilterDefinition {
  readonly name: FilterName;
  readonly stage: 'static' | 'dynamic';
  readonly reasons: readonly ReasonCode[];
  readonly reason: (req: PreparedRequest, cloud: CloudView, snap: Snapshot) => ReasonCode | null;
  readonly detail: (req: PreparedRequest, cloud: CloudView, snap: Snapshot, reason: ReasonCode) => string;
  readonly bulk?: (req: PreparedRequest, snap: Snapshot, out: Uint8Array) => void;
}

/** Builds a frozen {@link Filter} whose `check` is `reason` plus `detail`. */
export function defineFilter(def: FilterDefinition): Filter {
  const filter: Filter = {
    name: def.name,
    stage: def.stage,
    reasons: def.reasons,
    reason: def.reason,
    check(req, cloud, snap): Verdict {
      const reason = def.reason(req, cloud, snap);
      return reason === null ? PASS : { ok: false, reason, detail: def.detail(req, cloud, snap, reason) };
    },
    ...(def.bulk === undefined ? {} : { bulk: def.bulk }),
  };
  return Object.freeze(filter);
}
