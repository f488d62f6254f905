import type { CID } from "multiformats/cid";
import type { BlockStore } from "../../backends/block-store";
import { verifyBlock } from "../blocks/verify-block";

/** A block looked up in R2: its verified bytes, absent, or present with bytes that do not hash to the CID. */
export type R2Read = { kind: "hit"; bytes: Uint8Array } | { kind: "absent" } | { kind: "corrupt" };

/**
 * Reads one block from the R2 block store and hashes it against `cid`
 * before anything uses it. R2 is ours and only verified blocks are written
 * there, but the check is cheap next to the read (SHA-256 runs at ~1 GB/s)
 * and keeps the rule without exceptions: no byte leaves the worker
 * unverified (DESIGN.md). A mismatch (a bad write, bit rot, an operator's
 * mistake) is reported as `corrupt`, never served.
 */
export async function readVerified(store: BlockStore, cid: CID): Promise<R2Read> {
  const bytes = await store.get(cid);
  if (bytes === undefined) return { kind: "absent" };
  if (!(await verifyBlock(cid, bytes))) return { kind: "corrupt" };
  return { kind: "hit", bytes };
}
