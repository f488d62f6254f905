import type { CID } from "multiformats/cid";

/**
 * A store of verified IPLD blocks, keyed by multihash (so the same bytes
 * under a CIDv0, a CIDv1 or another codec are stored once, as Kubo's
 * blockstore does). Implementations: R2 (`r2-block-store.ts`).
 *
 * Error contract: `get`/`has` resolve `undefined`/`false` for an absent
 * block and throw only when the store itself failed; `put` must only be
 * given bytes whose hash was checked against `cid` (it does not re-check).
 */
export interface BlockStore {
  get(cid: CID): Promise<Uint8Array | undefined>;
  has(cid: CID): Promise<boolean>;
  put(cid: CID, bytes: Uint8Array): Promise<void>;
  delete(cid: CID): Promise<void>;
}
