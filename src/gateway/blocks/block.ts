import type { CID } from "multiformats/cid";

/** A block whose bytes were checked against its CID's multihash. */
export interface VerifiedBlock {
  cid: CID;
  bytes: Uint8Array;
}

/** Largest block we accept from anyone (the bitswap/trustless convention is 2 MiB; see trustless-gateway.md security notes). */
export const MAX_BLOCK_BYTES = 2 * 1024 * 1024;

/** Multihash codes we can verify. */
export const IDENTITY = 0x00;
export const SHA2_256 = 0x12;
export const SHA2_512 = 0x13;

/**
 * Key of a block by its multihash (codec-independent, like Kubo's
 * blockstore): the same bytes linked as CIDv0 and CIDv1 are one block.
 */
export function blockKey(multihashBytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < multihashBytes.length; i++) s += String.fromCharCode(multihashBytes[i]!);
  return s;
}
