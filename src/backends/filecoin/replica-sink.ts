import { registryStub } from "../../durable-objects/pin-registry";
import type { ReplicaCheck } from "../replication-backend";

/**
 * Where the Filecoin watch reports what it found about a copy: the
 * replication engine (PinRegistry `reportReplicaCheck`), which records the
 * replica's state and, on `lost` or `at_risk`, schedules a new copy on
 * another provider or the next backend of the pin's policy. The watch keeps
 * the old copy under watch until the engine registers the new one
 * (`FilecoinWatch.watch`), so a copy is never dropped before its
 * replacement exists.
 *
 * Error contract: resolves once the engine recorded the report; throws if
 * it could not (the watch keeps its previous state and reports again on the
 * next run).
 */
export interface ReplicaSink {
  reportReplicaCheck(copy: ReportedCopy, check: ReplicaCheck): Promise<void>;
}

export interface ReportedCopy {
  /** PinRegistry account holding the pin, when the copy was registered with one. */
  account: string | null;
  /** Root CID of the pinned DAG. */
  root: string;
  /** `BACKENDS` name. */
  backend: string;
  /** The backend's id of the copy (see filecoin-backend.ts `remoteId`). */
  remoteId: string;
}

/**
 * The engine's sink: the PinRegistry of the copy's account
 * (`reportReplicaCheck`, src/durable-objects/pin-registry.ts). Wired
 * through `replicaSinks.forEnv` so a test can put a recording sink in its
 * place. A copy without an account (registered before the engine passed
 * it, or a deal watched without one) cannot be reported: the throw keeps
 * its state, and the watch logs the failure on every run.
 */
export const replicaSinks = {
  forEnv(env: Env): ReplicaSink {
    return {
      async reportReplicaCheck(copy, check) {
        if (!copy.account) throw new Error(`copy ${copy.remoteId} has no account to report to`);
        await registryStub(env, copy.account).reportReplicaCheck(copy.root, copy.backend, copy.remoteId, check);
      },
    };
  },
};
