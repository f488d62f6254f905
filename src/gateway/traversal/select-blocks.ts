import type { CID } from "multiformats/cid";
import type { VerifiedBlock } from "../blocks/block";
import { decodeNode, ipldLinks, isHamtShard, isUnixfsFile, type DecodedNode } from "../dag/decode-node";
import { isSubShardLink, shardParams } from "../dag/hamt";
import { resolveEntityBytes, type DagScope, type EntityBytes } from "../request/dag-scope";
import type { BlockSource, ResumePoint } from "./block-source";
import { loadBlock } from "./load-block";

export interface Selection {
  scope: DagScope;
  entityBytes?: EntityBytes;
}

/**
 * The blocks of the terminal element that a CAR response carries, in DFS
 * pre-order, the terminal block first (trustless-gateway.md#dag-scope, IPIP-402):
 * - block: the terminal block only;
 * - entity: a UnixFS file's blocks (only those covering `entity-bytes`), a
 *   directory's own block(s) (HAMT: every shard, no entries), else the block;
 * - all: everything reachable.
 * Duplicates are yielded each time the traversal meets them; the CAR writer
 * drops repeats when the client asked for dups=n.
 */
export async function* selectBlocks(
  src: BlockSource,
  terminal: VerifiedBlock,
  node: DecodedNode,
  sel: Selection,
  rp: ResumePoint,
): AsyncGenerator<VerifiedBlock> {
  yield terminal;
  const scope = sel.entityBytes ? "entity" : sel.scope;
  if (scope === "block") return;
  if (scope === "entity") {
    if (isUnixfsFile(node)) {
      const size = Number(node.kind === "dag-pb" && node.unixfs ? node.unixfs.fileSize() : 0n);
      const range = sel.entityBytes ? resolveEntityBytes(sel.entityBytes, size) : size > 0 ? ([0, size - 1] as [number, number]) : undefined;
      if (range) yield* fileBlocks(src, terminal.cid, node, 0, range, rp, !sel.entityBytes);
    } else if (isHamtShard(node)) {
      yield* shardBlocks(src, node, rp);
    }
    return;
  }
  yield* allBlocks(src, terminal.cid, node, rp);
}

/**
 * Children of a UnixFS file node whose byte spans overlap [first, last],
 * depth first. For the whole file (`whole`) every child is visited, empty
 * ones included: they are part of the entity even though they hold no byte.
 */
async function* fileBlocks(
  src: BlockSource,
  fileRoot: CID,
  node: DecodedNode,
  offset: number,
  range: [number, number],
  rp: ResumePoint,
  whole: boolean,
): AsyncGenerator<VerifiedBlock> {
  if (node.kind !== "dag-pb") return;
  const links = node.node.Links;
  const sizes = node.unixfs?.blockSizes ?? [];
  const known = sizes.length === links.length;
  let start = offset + (node.unixfs?.data?.length ?? 0);
  for (let i = 0; i < links.length; i++) {
    const size = known ? Number(sizes[i]) : Infinity;
    const end = start + size - 1;
    if (whole || (end >= range[0] && start <= range[1])) {
      const cid = links[i]!.Hash;
      // Resume from where we are: the rest of this file's range, re-asked of the file root.
      const resume = narrowToFile(rp, fileRoot, Math.max(start, range[0]), range[1], known);
      const bytes = await loadBlock(src, cid, resume);
      yield { cid, bytes };
      const child = decodeNode(cid, bytes);
      if (child.kind === "dag-pb") yield* fileBlocks(src, fileRoot, child, start, range, resume, whole);
    }
    if (known) start += size;
    if (!whole && start > range[1]) break;
  }
}

function narrowToFile(rp: ResumePoint, fileRoot: CID, from: number, to: number, known: boolean): ResumePoint {
  if (!known || rp.kind === "raw") return rp;
  return { kind: "car", root: fileRoot, segments: [], scope: "entity", entityBytes: { from, to: Number.isFinite(to) ? to : "*" } };
}

/** The sub-shards of a HAMT directory, depth first (its entries are not part of the entity). */
async function* shardBlocks(src: BlockSource, node: Extract<DecodedNode, { kind: "dag-pb" }>, rp: ResumePoint): AsyncGenerator<VerifiedBlock> {
  const params = shardParams(node.unixfs!);
  for (const link of node.node.Links) {
    if (!isSubShardLink(link, params)) continue;
    const bytes = await loadBlock(src, link.Hash, rp);
    yield { cid: link.Hash, bytes };
    const child = decodeNode(link.Hash, bytes);
    if (isHamtShard(child)) yield* shardBlocks(src, child, rp);
  }
}

/** Every block reachable from `node`, depth first, links in block order (dag-cbor: data-model order). */
async function* allBlocks(src: BlockSource, cid: CID, node: DecodedNode, rp: ResumePoint): AsyncGenerator<VerifiedBlock> {
  if (isUnixfsFile(node)) {
    // Same blocks as "all", but a failure inside a file resumes with a narrow entity-bytes request.
    yield* fileBlocks(src, cid, node, 0, [0, Infinity], rp, true);
    return;
  }
  const links: CID[] = node.kind === "dag-pb" ? node.node.Links.map((l) => l.Hash) : node.kind === "ipld" ? ipldLinks(node.value) : [];
  for (const link of links) {
    const bytes = await loadBlock(src, link, rp);
    yield { cid: link, bytes };
    yield* allBlocks(src, link, decodeNode(link, bytes), rp);
  }
}
