/**
 * CARv1 framing (https://ipld.io/specs/transport/car/carv1/): a header
 * section `varint(len) dag-cbor({ version: 1, roots })`, then one section per
 * block `varint(len(cid) + len(data)) cid data`.
 *
 * Written by hand (rather than with `@ipld/car`'s writer) so the test
 * upstream can emit, and corrupt, one section at a time while streaming.
 * Pure: used from Node (the test servers) and from workerd (test helpers).
 */
import * as dagCbor from "@ipld/dag-cbor";
import { varint, type CID } from "multiformats";

export interface CarBlock {
  cid: CID;
  bytes: Uint8Array;
}

function withLengthPrefix(parts: Uint8Array[]): Uint8Array {
  const length = parts.reduce((sum, part) => sum + part.length, 0);
  const prefixLength = varint.encodingLength(length);
  const out = new Uint8Array(prefixLength + length);
  varint.encodeTo(length, out, 0);
  let offset = prefixLength;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** The CARv1 header section for `roots`. */
export function carHeader(roots: CID[]): Uint8Array {
  return withLengthPrefix([dagCbor.encode({ version: 1, roots })]);
}

/** One CARv1 data section: the CID bytes then the block bytes. */
export function carSection(block: CarBlock): Uint8Array {
  return withLengthPrefix([block.cid.bytes, block.bytes]);
}

/** A whole CARv1 in memory; for small test DAGs only. */
export function encodeCar(roots: CID[], blocks: Iterable<CarBlock>): Uint8Array {
  const parts = [carHeader(roots)];
  for (const block of blocks) parts.push(carSection(block));
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
