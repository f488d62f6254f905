import * as dagCbor from "@ipld/dag-cbor";
import * as dagJson from "@ipld/dag-json";
import * as dagPb from "@ipld/dag-pb";
import { CID } from "multiformats/cid";

const RAW = 0x55;

/**
 * The CIDs a block links to, in link order (dag-pb `Links`, or every CID
 * inside a dag-cbor / dag-json value, depth first). Raw and unknown codecs
 * have no links we can see, as for boxo's `dag-scope=all` traversal.
 */
export function blockLinks(cid: CID, bytes: Uint8Array): CID[] {
  switch (cid.code) {
    case dagPb.code:
      return dagPb.decode(bytes).Links.map((link) => link.Hash);
    case dagCbor.code:
      return [...cidsIn(dagCbor.decode(bytes))];
    case dagJson.code:
      return [...cidsIn(dagJson.decode(bytes))];
    case RAW:
    default:
      return [];
  }
}

function* cidsIn(value: unknown): Generator<CID> {
  const cid = CID.asCID(value);
  if (cid !== null) {
    yield cid;
    return;
  }
  if (value instanceof Uint8Array || value === null || typeof value !== "object") return;
  for (const child of Array.isArray(value) ? value : Object.values(value)) yield* cidsIn(child);
}
