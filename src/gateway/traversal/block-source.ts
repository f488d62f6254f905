import type { CID } from "multiformats/cid";
import type { DagScope, EntityBytes } from "../request/dag-scope";

/**
 * The narrowest trustless request that yields the block being asked for and
 * then keeps going the way the traversal will: what a fresh upstream is asked
 * for when the one serving us fails mid-stream. Blocks the traversal already
 * has may come again first; they are skipped.
 */
export type ResumePoint =
  | { kind: "car"; root: CID; segments: string[]; scope: DagScope; entityBytes?: EntityBytes }
  | { kind: "raw"; cid: CID };

/**
 * Where the traversal gets its blocks. Implementations return only bytes
 * whose hash matched `cid` (identity CIDs answered locally) and throw
 * HttpError (not_found / bad_gateway / gateway_timeout) when no source can
 * deliver it.
 */
export interface BlockSource {
  get(cid: CID, resume: ResumePoint): Promise<Uint8Array>;
}

export function resumeKey(rp: ResumePoint): string {
  if (rp.kind === "raw") return `raw:${rp.cid}`;
  const eb = rp.entityBytes ? `${rp.entityBytes.from}:${rp.entityBytes.to}` : "";
  return `car:${rp.root}/${rp.segments.join("/")}?${rp.scope}&${eb}`;
}
