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

/** What the engine's PinRegistry exposes to the watch (its RPC method, typed here so this branch does not depend on it). */
export interface ReplicaCheckReceiver {
  reportReplicaCheck(root: string, backend: string, remoteId: string, check: ReplicaCheck): Promise<unknown>;
}

/**
 * The engine's sink: the PinRegistry of the copy's account. Wired through
 * `replicaSinks.forEnv` so a test can put a recording sink in its place.
 */
export const replicaSinks = {
  forEnv(env: Env): ReplicaSink {
    return {
      async reportReplicaCheck(copy, check) {
        if (!copy.account) throw new Error(`copy ${copy.remoteId} has no account to report to`);
        const stub = env.PIN_REGISTRY.get(env.PIN_REGISTRY.idFromName(copy.account)) as unknown as ReplicaCheckReceiver;
        await stub.reportReplicaCheck(copy.root, copy.backend, copy.remoteId, check);
      },
    };
  },
};
