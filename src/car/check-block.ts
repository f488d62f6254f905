import { blake3 } from "@noble/hashes/blake3.js";
import type { CID } from "multiformats/cid";
import { equalBytes, verifyBlock } from "../gateway/blocks/verify-block";
import { HttpError } from "../http/errors";

export type BlockCheck = "ok" | "mismatch" | "unsupported";

/** Multihash code of blake3 (https://github.com/multiformats/multicodec/blob/master/table.csv); the digest length is the CID's. */
const BLAKE3 = 0x1e;

/**
 * Whether `bytes` hash to `cid`'s multihash: the worker's own check
 * (identity, sha2-256, sha2-512), plus blake3 here (pure JS, @noble/hashes),
 * with "unsupported" for a hash function it cannot compute (the caller
 * reports it: never trusted, never hidden).
 */
export async function checkBlock(cid: CID, bytes: Uint8Array): Promise<BlockCheck> {
  if (cid.multihash.code === BLAKE3) {
    const digest = cid.multihash.digest;
    return digest.length > 0 && equalBytes(blake3(bytes, { dkLen: digest.length }), digest) ? "ok" : "mismatch";
  }
  try {
    return (await verifyBlock(cid, bytes)) ? "ok" : "mismatch";
  } catch (err) {
    if (err instanceof HttpError && err.kind === "not_implemented") return "unsupported";
    throw err;
  }
}

/** A block that is not what its CID says, or that cannot be checked. */
export class BlockError extends Error {
  constructor(
    readonly cid: CID,
    readonly problem: "missing" | "mismatch" | "unsupported-hash" | "undecodable",
    message: string,
  ) {
    super(message);
    this.name = "BlockError";
  }
}

export function hashName(code: number): string {
  return ({ 0x00: "identity", 0x12: "sha2-256", 0x13: "sha2-512", 0x1e: "blake3" } as Record<number, string>)[code] ?? `0x${code.toString(16)}`;
}
