/**
 * A Storacha (web3.storage "w3up") space, read with a delegation
 * (docs/storacha.md). One interface for the outside service; the
 * implementation (`storacha-client.ts`) loads `@storacha/client` with a
 * dynamic `import()` so the gateway never pays for it.
 *
 * Error contract: every method throws `StorachaError` only.
 * - `unauthorized`: the service refused the invocation (forged, expired or
 *   revoked delegation, a delegation to another agent, a capability it
 *   does not grant). Retrying does not help until the operator replaces
 *   `STORACHA_PROOF` / `STORACHA_KEY`.
 * - `misconfigured`: the secrets are absent or cannot be parsed.
 * - `unavailable`: the service (or the claims service) could not be
 *   reached or answered 5xx / garbage: retry later.
 * - `not_found`: the service knows no such record (a piece it never saw).
 */
export type StorachaErrorKind = "unauthorized" | "misconfigured" | "unavailable" | "not_found";

export class StorachaError extends Error {
  readonly kind: StorachaErrorKind;
  constructor(kind: StorachaErrorKind, message: string) {
    super(message);
    this.name = "StorachaError";
    this.kind = kind;
  }
}

/** One entry of `upload/list`: a root and the CAR shards that hold its blocks. */
export type StorachaUpload = {
  root: string;
  shards: string[];
  insertedAt: string;
  updatedAt: string;
};

/** `filecoin/info` of a piece: the aggregates that include it and their deals. */
export type StorachaFilecoinInfo = {
  piece: string;
  aggregates: { aggregate: string }[];
  deals: { aggregate: string; provider: string; dealId: string }[];
};

export interface StorachaSpace {
  /** The space's DID (`did:key:…`), from the delegation. */
  readonly did: string;
  /** One page of `upload/list`, in the service's order; `cursor` absent on the last page. */
  listUploads(cursor: string | undefined, size: number): Promise<{ results: StorachaUpload[]; cursor?: string }>;
  /** The piece CID of a CAR shard (the storefront's `assert/equals` claim), or null when none is known. */
  pieceOf(shard: string): Promise<string | null>;
  /** `filecoin/info` of a piece. */
  filecoinInfo(piece: string): Promise<StorachaFilecoinInfo>;
}
