import type { CID } from "multiformats/cid";
import { HttpError } from "../../http/errors";
import type { VerifiedBlock } from "../blocks/block";
import { RAW } from "../dag/codecs";
import { decodeNode, type DecodedNode } from "../dag/decode-node";
import type { ByteRange } from "../request/range";
import type { BlockSource, ResumePoint } from "../traversal/block-source";
import { loadBlock } from "../traversal/load-block";

/**
 * The size of a UnixFS file (https://specs.ipfs.tech/unixfs/#dag-pb-file):
 * a raw block is its bytes; a dag-pb file is its own data plus its
 * children's `blocksizes`. Undefined when the block is not a file.
 */
export function unixfsFileSize(block: VerifiedBlock, node: DecodedNode): number | undefined {
  if (block.cid.code === RAW) return block.bytes.length;
  if (node.kind !== "dag-pb" || !node.unixfs) return undefined;
  if (node.unixfs.type !== "file" && node.unixfs.type !== "raw") return undefined;
  return Number(node.unixfs.fileSize());
}

/**
 * The bytes [first, last] of a UnixFS file, in order, one block at a time
 * (memory: about one block). Only the blocks whose span overlaps the range
 * are fetched, depth first, exactly the blocks and order of a trustless
 * `dag-scope=entity&entity-bytes=first:last` CAR (IPIP-402), so one
 * upstream CAR serves the whole walk. `whole` also walks zero-length
 * children, as a CAR without entity-bytes carries them.
 *
 * Each block fetched carries the resume point "this file, from here to
 * `last`", so a failing upstream is replaced by the narrowest request.
 * A child whose real size differs from what its parent declared makes the
 * DAG unusable (the Content-Length was promised from the parent): 502.
 */
export async function* fileBytes(
  src: BlockSource,
  file: VerifiedBlock,
  node: DecodedNode,
  range: ByteRange,
  whole = false,
): AsyncGenerator<Uint8Array> {
  yield* walk(src, file.cid, file, node, 0, range, whole, 0);
}

const MAX_DEPTH = 64;

async function* walk(
  src: BlockSource,
  fileRoot: CID,
  block: VerifiedBlock,
  node: DecodedNode,
  offset: number,
  range: ByteRange,
  whole: boolean,
  depth: number,
): AsyncGenerator<Uint8Array> {
  if (block.cid.code === RAW || node.kind === "leaf") {
    yield* slice(block.bytes, offset, range);
    return;
  }
  if (node.kind !== "dag-pb" || !node.unixfs || (node.unixfs.type !== "file" && node.unixfs.type !== "raw")) {
    throw new HttpError("bad_gateway", `block ${block.cid} inside file ${fileRoot} is not a UnixFS file node`);
  }
  if (depth > MAX_DEPTH) throw new HttpError("bad_gateway", `file ${fileRoot} is deeper than ${MAX_DEPTH} levels`);
  const data = node.unixfs.data ?? new Uint8Array(0);
  yield* slice(data, offset, range);

  const links = node.node.Links;
  const sizes = node.unixfs.blockSizes;
  if (sizes.length !== links.length) {
    throw new HttpError("bad_gateway", `file node ${block.cid} has ${links.length} links but ${sizes.length} blocksizes`);
  }
  let start = offset + data.length;
  for (let i = 0; i < links.length; i++) {
    const size = Number(sizes[i]);
    const end = start + size - 1;
    const overlaps = size > 0 ? end >= range[0] && start <= range[1] : whole;
    if (overlaps) {
      const cid = links[i]!.Hash;
      const resume: ResumePoint = {
        kind: "car",
        root: fileRoot,
        segments: [],
        scope: "entity",
        entityBytes: { from: Math.max(start, range[0]), to: range[1] },
      };
      const bytes = await loadBlock(src, cid, resume);
      const child = { cid, bytes };
      const childNode = decodeNode(cid, bytes);
      const actual = unixfsFileSize(child, childNode);
      if (actual !== size) {
        throw new HttpError("bad_gateway", `block ${cid} holds ${actual ?? "no file"} bytes but its parent ${block.cid} says ${size}`);
      }
      yield* walk(src, fileRoot, child, childNode, start, range, whole, depth + 1);
    }
    start += size;
    if (start > range[1] && !whole) break;
  }
}

/** The part of `data` (which starts at file offset `offset`) inside `range`. */
function* slice(data: Uint8Array, offset: number, range: ByteRange): Generator<Uint8Array> {
  const from = Math.max(range[0] - offset, 0);
  const to = Math.min(range[1] - offset + 1, data.length);
  if (to > from) yield from === 0 && to === data.length ? data : data.subarray(from, to);
}
