import * as dagCbor from "@ipld/dag-cbor";
import type { CID } from "multiformats/cid";
import { encodeVarint } from "./varint";

/** CARv1 header bytes: varint length + dag-cbor `{ roots, version: 1 }` (https://ipld.io/specs/transport/car/carv1/#header). */
export function carHeader(roots: CID[]): Uint8Array {
  const header = dagCbor.encode({ roots, version: 1 });
  return concat([encodeVarint(header.length), header]);
}

/**
 * Bytes a section prefix takes at most: a varint (at most 9 bytes) and a CID
 * (at most 128 bytes, the CAR reader's limit for upstream CIDs).
 */
export const SECTION_PREFIX_ROOM = 9 + 128;

/** The bytes that precede a block's data in a CARv1 section: varint(len(cid) + len(data)) | cid. */
export function sectionPrefix(cid: CID, dataLength: number): Uint8Array {
  return concat([encodeVarint(cid.bytes.length + dataLength), cid.bytes]);
}

export function concat(parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
