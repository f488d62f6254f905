import * as dagCbor from "@ipld/dag-cbor";
import { varint } from "multiformats";
import type { CID } from "multiformats/cid";

/** A CARv1 of one block, its own root (https://ipld.io/specs/transport/car/carv1/): the `test()` round trip's payload. */
export function encodeOneBlockCar(root: CID, bytes: Uint8Array): Uint8Array {
  const header = dagCbor.encode({ version: 1, roots: [root] });
  const sectionLength = root.bytes.length + bytes.length;
  const out = new Uint8Array(varint.encodingLength(header.length) + header.length + varint.encodingLength(sectionLength) + sectionLength);
  let offset = 0;
  varint.encodeTo(header.length, out, offset);
  offset += varint.encodingLength(header.length);
  out.set(header, offset);
  offset += header.length;
  varint.encodeTo(sectionLength, out, offset);
  offset += varint.encodingLength(sectionLength);
  out.set(root.bytes, offset);
  out.set(bytes, offset + root.bytes.length);
  return out;
}
