import type { CID } from "multiformats/cid";
import { isIdentity } from "../blocks/verify-block";
import type { BlockSource, ResumePoint } from "./block-source";

/** A block's bytes: identity CIDs carry them inline (never fetched), others come verified from the source. */
export function loadBlock(src: BlockSource, cid: CID, rp: ResumePoint): Promise<Uint8Array> {
  if (isIdentity(cid)) return Promise.resolve(cid.multihash.digest);
  return src.get(cid, rp);
}
