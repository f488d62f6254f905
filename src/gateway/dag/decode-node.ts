import * as dagCbor from "@ipld/dag-cbor";
import * as dagJson from "@ipld/dag-json";
import * as dagPb from "@ipld/dag-pb";
import { UnixFS } from "ipfs-unixfs";
import { CID } from "multiformats/cid";
import { HttpError } from "../../http/errors";
import { DAG_CBOR, DAG_JSON, DAG_PB } from "./codecs";

/** A block decoded just enough to walk it: its links and, for dag-pb, its UnixFS meaning. */
export type DecodedNode =
  | { kind: "leaf" } // raw, json, cbor, or a codec we do not walk: no links
  | { kind: "dag-pb"; node: dagPb.PBNode; unixfs: UnixFS | undefined }
  | { kind: "ipld"; value: unknown }; // dag-cbor / dag-json data model

/** Decodes a verified block for traversal. A block that does not decode as its codec says is the DAG's fault: 502, its bytes were genuine but unusable. */
export function decodeNode(cid: CID, bytes: Uint8Array): DecodedNode {
  try {
    switch (cid.code) {
      case DAG_PB: {
        const node = dagPb.decode(bytes);
        let unixfs: UnixFS | undefined;
        if (node.Data) {
          try {
            unixfs = UnixFS.unmarshal(node.Data);
          } catch {
            unixfs = undefined; // plain dag-pb, not UnixFS
          }
        }
        return { kind: "dag-pb", node, unixfs };
      }
      case DAG_CBOR:
        return { kind: "ipld", value: dagCbor.decode(bytes) };
      case DAG_JSON:
        return { kind: "ipld", value: dagJson.decode(bytes) };
      default:
        return { kind: "leaf" };
    }
  } catch (err) {
    throw new HttpError("bad_gateway", `block ${cid} does not decode as its codec: ${(err as Error).message}`);
  }
}

/** Links of a dag-cbor / dag-json value in data-model order (map entries as decoded: canonical key order). */
export function ipldLinks(value: unknown, out: CID[] = []): CID[] {
  const cid = CID.asCID(value);
  if (cid) {
    out.push(cid);
  } else if (Array.isArray(value)) {
    for (const v of value) ipldLinks(v, out);
  } else if (value !== null && typeof value === "object" && !(value instanceof Uint8Array)) {
    for (const v of Object.values(value)) ipldLinks(v, out);
  }
  return out;
}

export function isUnixfsFile(n: DecodedNode): boolean {
  return n.kind === "dag-pb" && (n.unixfs?.type === "file" || n.unixfs?.type === "raw");
}

export function isHamtShard(n: DecodedNode): n is { kind: "dag-pb"; node: dagPb.PBNode; unixfs: UnixFS } {
  return n.kind === "dag-pb" && n.unixfs?.type === "hamt-sharded-directory";
}

export function isUnixfsDirectory(n: DecodedNode): boolean {
  return n.kind === "dag-pb" && (n.unixfs?.type === "directory" || n.unixfs?.type === "hamt-sharded-directory");
}
