import type { ReplicaCheck } from "../backends/replication-backend";

/** Per-replica states (docs/replication.md "States"). */
export type ReplicaState = "queued" | "replicating" | "stored" | "failed" | "lost" | "at_risk" | "removing" | "removed";

export type ReplicaRow = {
  root: string;
  backend: string;
  state: ReplicaState;
  wanted: number;
  next: "store" | "check" | "remove" | "none";
  remote_id: string | null;
  details: string;
  progress: string | null;
  superseded: string;
  attempts: number;
  last_error: string | null;
  bytes: number | null;
  poll_ms: number | null;
  created: number;
  updated: number;
  stored_at: number | null;
  checked_at: number | null;
  remove_after: number | null;
};

/** One copy as the API shows it (unified status, `listReplicas`). */
export type ReplicaView = {
  root: string;
  backend: string;
  state: ReplicaState;
  wanted: boolean;
  remoteId: string | null;
  /** The backend's own details (JSON); typed two levels deep so RPC types stay shallow. */
  details: ReplicaDetails;
  attempts: number;
  lastError: string | null;
  bytes: number | null;
  created: string;
  updated: string;
  storedAt: string | null;
  checkedAt: string | null;
  removeAfter: string | null;
  nextAttempt: string | null;
  log?: { at: string; action: string; message: string | null }[];
};

type Scalar = string | number | boolean | null;
/** `ReplicaRef.details` as the API shows it (JSON; deeper values are kept as they are). */
export type ReplicaDetails = Record<string, Scalar | Scalar[] | Record<string, Scalar | Scalar[]>>;

/** `listReplicas` filter (the Filecoin monitor, the verification cron, the API). */
export type ReplicaFilter = { backend?: string; state?: ReplicaState[]; root?: string; limit?: number; after?: string };

/** Unified status of one root (`GET /api/v1/pins/{cid}`). */
export type RootStatus = {
  cid: string;
  aggregate: AggregateState;
  pins: { requestid: string; status: string; name: string | null; created: string }[];
  dagSize: number | null;
  carSize: number | null;
  plan: { backends: string[]; minCopies: number; rule: string; problems: string[] } | null;
  replicas: (ReplicaView & { log: NonNullable<ReplicaView["log"]> })[];
};

/** The pessimistic aggregate: the least healthy copy decides (ipfs-cluster's rule). */
export type AggregateState = "failed" | "lost" | "at_risk" | "queued" | "replicating" | "stored" | "under_replicated";

export type { ReplicaCheck };

export function toView(row: ReplicaRow, nextAttempt: number | null): ReplicaView {
  return {
    root: row.root,
    backend: row.backend,
    state: row.state,
    wanted: row.wanted === 1,
    remoteId: row.remote_id,
    details: JSON.parse(row.details) as ReplicaDetails,
    attempts: row.attempts,
    lastError: row.last_error,
    bytes: row.bytes,
    created: iso(row.created)!,
    updated: iso(row.updated)!,
    storedAt: iso(row.stored_at),
    checkedAt: iso(row.checked_at),
    removeAfter: iso(row.remove_after),
    nextAttempt: iso(nextAttempt),
  };
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}
