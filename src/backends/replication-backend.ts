import type { CID } from "multiformats/cid";

/**
 * The one interface of every replication target (DESIGN.md "Replication"):
 * R2, a remote Pinning Service API, S3-compatible object storage, a user's
 * Kubo node, a Hugging Face dataset repo, Filecoin Onchain Cloud. The
 * replication engine (a PinRegistry alarm) drives it out of the request
 * path; a backend never sees a request of ours, only a DAG to store.
 *
 * Error contract: every method either resolves or throws a `BackendError`
 * (any other throw is treated as `retryable`). A backend never retries by
 * itself beyond one request: the engine owns backoff, `Retry-After` and
 * attempt counts. Secrets never appear in a message, a `details` value or a
 * URL a backend returns.
 */
export interface ReplicationBackend {
  /** The configured name (`BACKENDS` key), e.g. `pinata`, `archive-s3`. */
  readonly name: string;
  readonly type: BackendType;

  /**
   * Stores the DAG under `dag.root`, or resumes an earlier attempt from
   * `ctx.progress`. Resolves `stored` when the copy is complete where it
   * lives, `pending` when the remote works on it asynchronously (a PSA pin
   * `queued`, a Filecoin piece not yet confirmed) or when `ctx.deadline`
   * came before the end (the engine calls `store` again with the progress
   * saved through `ctx.checkpoint`). Idempotent: storing an already stored
   * DAG again must not create a second copy.
   */
  store(dag: DagToStore, ctx: StoreContext): Promise<StoreOutcome>;

  /**
   * Checks a copy where it lives (PSA status, Kubo `pin/ls`, S3 HEAD and a
   * ranged read, Hub LFS oid, Filecoin proofs...). `lost` means the copy is
   * gone or wrong and must be stored again; a failure to ask throws.
   */
  check(replica: ReplicaRef, dag: DagIdentity): Promise<ReplicaCheck>;

  /** Removes a copy. Idempotent: a copy already absent resolves. */
  remove(replica: ReplicaRef): Promise<void>;

  /** URLs a client (or our gateway) can retrieve the copy from, if any. */
  retrievalUrls(replica: ReplicaRef): string[];

  /** `POST /api/v1/backends/{name}/test`: reachable, authorised, a small round trip. */
  test(): Promise<BackendTestReport>;
}

export type BackendType = "r2" | "psa" | "s3" | "kubo" | "hf" | "filecoin";

/** JSON values a backend may keep in the PinRegistry (replica details, resume progress). */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** What identifies a DAG, enough to check a copy of it. */
export interface DagIdentity {
  /** Root CID as CIDv1. */
  root: CID;
  /** Bytes of all distinct blocks of the DAG. */
  dagSize: number;
  /** Distinct blocks. */
  blocks: number;
  /** Exact byte length of the CARv1 that `DagToStore.car()` yields. */
  carSize: number;
}

/** A pinned DAG to copy. Every block comes from R2, verified against its CID on read. */
export interface DagToStore extends DagIdentity {
  name?: string;
  meta: Record<string, string>;
  /**
   * A fresh CARv1 of the whole DAG (root as the only header root, blocks
   * in DFS order, each distinct block once), exactly `carSize` bytes,
   * streamed in bounded memory. `fromByte` starts at that byte offset of
   * the same CAR (resuming a multipart upload). Call again to restart.
   */
  car(fromByte?: number): ReadableStream<Uint8Array>;
  /** Base URL of this gateway (`https://<worker>`), for backends that pull from us (PSA `origins`). */
  gatewayUrl: string;
  /**
   * The account (PinRegistry name) holding the pin: monitors that check a
   * copy outside the engine (the Filecoin watch) report back to it.
   */
  account: string;
  /**
   * The copies this store replaces (reported lost or at risk; the engine
   * keeps them in `superseded` until the new copy is stored). A backend that
   * chooses where a copy lives must not put the new one where a failing old
   * one is (Filecoin: never the same data set, another provider when one is
   * available); the others ignore it. Absent on a first store.
   */
  avoid?: ReplicaRef[];
}

export interface StoreContext {
  /** What the last `checkpoint` of an earlier attempt of this replica saved, if any. */
  progress?: Json;
  /** Durably saves progress (e.g. an S3 upload id and the parts done); survives eviction. */
  checkpoint(progress: Json): Promise<void>;
  /** Epoch ms: return `pending` (after a checkpoint) rather than run past it. */
  deadline: number;
  signal?: AbortSignal;
}

export type StoreOutcome =
  | { state: "stored"; replica: ReplicaRef; bytes: number }
  /** Not done yet: the engine calls `check` (remote working) or `store` (our upload unfinished) after `retryAfterMs`. */
  | { state: "pending"; replica: ReplicaRef; retryAfterMs: number; next: "check" | "store" };

/** One copy as the engine records it. `remoteId` is the backend's own id (PSA requestid, S3 key, piece CID...). */
export interface ReplicaRef {
  backend: string;
  remoteId: string;
  details: { [key: string]: Json };
}

export type ReplicaCheck =
  | { state: "stored"; details?: { [key: string]: Json } }
  | { state: "pending"; details?: { [key: string]: Json }; message?: string }
  /** Still there but endangered (e.g. Filecoin proofs overdue, deal near its end): renew. */
  | { state: "at_risk"; details?: { [key: string]: Json }; message: string }
  | { state: "lost"; message: string };

export interface BackendTestReport {
  reachable: boolean;
  authorised: boolean;
  /** A small round trip (store, read back, remove) succeeded. */
  roundTrip: boolean;
  latencyMs: number;
  message?: string;
}

export type BackendErrorKind =
  /** May work later (network, 5xx, timeouts): backoff and retry. */
  | "retryable"
  /** The remote asks us to wait `retryAfterMs` (HTTP 429 / 503 with Retry-After). */
  | "rate_limited"
  /** Credentials missing, wrong or without the permission needed: retry only after the operator acts. */
  | "unauthorized"
  /** Will not work with this input (too large, refused content, bad configuration). */
  | "permanent";

export class BackendError extends Error {
  readonly kind: BackendErrorKind;
  readonly retryAfterMs?: number;

  constructor(kind: BackendErrorKind, message: string, retryAfterMs?: number) {
    super(message);
    this.name = "BackendError";
    this.kind = kind;
    if (retryAfterMs !== undefined) this.retryAfterMs = retryAfterMs;
  }
}

/**
 * Builds a backend from its configuration entry. Settings come from the
 * `BACKENDS` var (JSON: `{ "<name>": { "type": "s3", ...settings } }`);
 * credentials from secrets named `BACKEND_<NAME>_<FIELD>` (name upper-cased,
 * `-` → `_`), read through `secret(field)`, never from the JSON. Factories of
 * heavy SDKs (Filecoin, Hub) are loaded with a dynamic `import()` so the
 * gateway's cold start never pays for them.
 */
export type BackendFactory = (config: {
  name: string;
  settings: { [key: string]: Json };
  secret: (field: string) => string | undefined;
  env: Env;
}) => ReplicationBackend | Promise<ReplicationBackend>;
