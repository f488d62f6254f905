import { CID } from "multiformats/cid";
import { HttpError, notFound } from "../../http/errors";
import type { VerifiedBlock } from "../blocks/block";
import { decodeNode, isHamtShard, type DecodedNode } from "../dag/decode-node";
import { hamtHash, shardParams, shardStep } from "../dag/hamt";
import { safeText } from "../request/content-path";
import { loadBlock } from "./load-block";
import type { BlockSource, ResumePoint } from "./block-source";

export interface ResolvedPath {
  /** Every block needed to verify the path, in order, ending with the terminal block. */
  blocks: VerifiedBlock[];
  /** The terminal block (also the last of `blocks`). */
  terminal: VerifiedBlock;
  terminalNode: DecodedNode;
  /** CIDs of the root and of each path segment's target (X-Ipfs-Roots; HAMT inner shards excluded). */
  roots: CID[];
}

/** Upper bound on blocks walked to resolve one path (segments plus HAMT levels). */
const MAX_PATH_BLOCKS = 256;

/**
 * Walks `segments` from `root`: UnixFS directories by link name, HAMT shards
 * by hashed name, dag-cbor / dag-json by map key or list index through links.
 * A segment that does not exist → 404; a path that ends inside a dag-cbor /
 * dag-json block on a non-link value → 501 (path-gateway.md: only links).
 */
export async function resolvePath(src: BlockSource, root: CID, segments: string[], rp: ResumePoint): Promise<ResolvedPath> {
  const blocks: VerifiedBlock[] = [];
  const roots: CID[] = [root];
  const load = async (cid: CID): Promise<VerifiedBlock> => {
    if (blocks.length >= MAX_PATH_BLOCKS) throw new HttpError("bad_request", "path too deep");
    const block = { cid, bytes: await loadBlock(src, cid, rp) };
    blocks.push(block);
    return block;
  };

  let current = await load(root);
  let node = decodeNode(current.cid, current.bytes);
  let i = 0;
  while (i < segments.length) {
    const segment = segments[i]!;
    let next: CID | undefined;
    if (node.kind === "dag-pb") {
      if (isHamtShard(node)) {
        next = await hamtLookup(node, segment, load);
      } else if (node.unixfs?.type === "directory" || node.unixfs === undefined) {
        next = node.node.Links.find((l) => l.Name === segment)?.Hash;
      }
      i += 1;
    } else if (node.kind === "ipld") {
      // Walk the data model inside this block until a link or the end of the path.
      let value: unknown = node.value;
      while (i < segments.length) {
        const key = segments[i]!;
        value = childValue(value, key);
        i += 1;
        if (value === undefined) break;
        const link = CID.asCID(value);
        if (link) {
          next = link;
          break;
        }
      }
      if (value === undefined) throw notFound(`no link named "${safeText(segment)}" under ${current.cid}`);
      if (!next) throw new HttpError("not_implemented", `path ends inside block ${current.cid} on a value that is not a link`);
    }
    if (!next) throw notFound(`no link named "${safeText(segment)}" under ${current.cid}`);
    current = await load(next);
    roots.push(next);
    node = decodeNode(current.cid, current.bytes);
  }
  return { blocks, terminal: current, terminalNode: node, roots };
}

function childValue(value: unknown, key: string): unknown {
  if (Array.isArray(value)) {
    if (!/^\d+$/.test(key)) return undefined;
    return value[Number(key)];
  }
  if (value !== null && typeof value === "object" && !(value instanceof Uint8Array) && !CID.asCID(value)) {
    return Object.prototype.hasOwnProperty.call(value, key) ? (value as Record<string, unknown>)[key] : undefined;
  }
  return undefined;
}

async function hamtLookup(
  shard: Extract<DecodedNode, { kind: "dag-pb" }>,
  name: string,
  load: (cid: CID) => Promise<VerifiedBlock>,
): Promise<CID | undefined> {
  const hash = await hamtHash(name);
  let node = shard;
  for (let depth = 0; depth < 64; depth++) {
    const params = shardParams(node.unixfs!);
    const step = shardStep(node.node.Links, params, hash, depth, name);
    if (step.kind === "absent") return undefined;
    if (step.kind === "entry") return step.link.Hash;
    const block = await load(step.link.Hash);
    const decoded = decodeNode(block.cid, block.bytes);
    if (!isHamtShard(decoded)) throw new HttpError("bad_gateway", `HAMT link ${block.cid} is not a shard`);
    node = decoded;
  }
  return undefined;
}
