import type { CID } from "multiformats/cid";
import { HttpError } from "../../http/errors";
import { IDENTITY, SHA2_256, SHA2_512 } from "./block";

/**
 * Checks `bytes` against the multihash of `cid`. Returns false on mismatch;
 * throws 501 for a hash function we cannot compute (we never serve a block
 * we could not verify). crypto.subtle runs SHA-2 natively (~1.3 GB/s here).
 */
export async function verifyBlock(cid: CID, bytes: Uint8Array): Promise<boolean> {
  const mh = cid.multihash;
  let digest: Uint8Array;
  switch (mh.code) {
    case IDENTITY:
      digest = bytes;
      break;
    case SHA2_256:
      digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
      break;
    case SHA2_512:
      digest = new Uint8Array(await crypto.subtle.digest("SHA-512", bytes as Uint8Array<ArrayBuffer>));
      break;
    default:
      throw new HttpError("not_implemented", `cannot verify blocks hashed with multihash 0x${mh.code.toString(16)}`);
  }
  return equalBytes(digest, mh.digest);
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Whether a CID names its own bytes (identity multihash): answered locally, never fetched or emitted. */
export function isIdentity(cid: CID): boolean {
  return cid.multihash.code === IDENTITY;
}
