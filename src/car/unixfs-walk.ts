import type { PBLink } from "@ipld/dag-pb";
import type { CID } from "multiformats/cid";
import { RAW } from "../gateway/dag/codecs";
import { decodeNode, isHamtShard, type DecodedNode } from "../gateway/dag/decode-node";
import { shardParams } from "../gateway/dag/hamt";
import { HttpError } from "../http/errors";
import { BlockError } from "./check-block";

/** Gets a block's verified bytes (CarIndex.get, or a block fetched over HTTP and checked). */
export type GetBlock = (cid: CID) => Promise<Uint8Array>;

export type EntryType = "file" | "directory" | "symlink" | "other";

export interface UnixfsEntry {
  /** Path below the root, "/"-separated; "" for the root itself. */
  path: string;
  cid: CID;
  type: EntryType;
  /** File size in bytes (files), 0 otherwise. */
  size: number;
  /** Symlink target (symlinks only). */
  target?: string;
  /** The entry's decoded root block (files: where `fileBytes` starts). */
  node: DecodedNode;
  bytes: Uint8Array;
}

/**
 * Walks a UnixFS DAG depth first, each entry before its children
 * (https://specs.ipfs.tech/unixfs/): directories, HAMT-sharded directories
 * (every shard visited, sub-shards recursively), files, symlinks. A raw
 * block is a file. Only entry roots are read here; file contents are read
 * by `fileBytes` when wanted.
 */
export async function* walkUnixfs(get: GetBlock, root: CID, path = ""): AsyncGenerator<UnixfsEntry> {
  const bytes = await get(root);
  const node = decode(root, bytes);
  const entry = describe(root, node, bytes, path);
  yield entry;
  if (entry.type !== "directory" || node.kind !== "dag-pb") return;
  for await (const link of directoryLinks(get, root, node)) {
    yield* walkUnixfs(get, link.cid, path === "" ? link.name : `${path}/${link.name}`);
  }
}

/** The named entries of a directory node, HAMT shards flattened. */
async function* directoryLinks(get: GetBlock, cid: CID, node: DecodedNode): AsyncGenerator<{ name: string; cid: CID }> {
  if (node.kind !== "dag-pb") return;
  if (!isHamtShard(node)) {
    for (const link of node.node.Links) yield { name: checkName(cid, link), cid: link.Hash };
    return;
  }
  const params = shardParams(node.unixfs);
  for (const link of node.node.Links) {
    const name = link.Name ?? "";
    if (name.length === params.padLength) {
      const sub = decode(link.Hash, await get(link.Hash));
      if (!isHamtShard(sub)) throw new BlockError(link.Hash, "undecodable", `HAMT shard ${cid} links to ${link.Hash}, which is not a shard`);
      yield* directoryLinks(get, link.Hash, sub);
    } else {
      yield { name: checkName(cid, { ...link, Name: name.slice(params.padLength) }), cid: link.Hash };
    }
  }
}

/**
 * A directory entry's name must be one path segment: not empty, not "." or
 * "..", no "/" and no NUL (https://specs.ipfs.tech/unixfs/#paths). Anything
 * else could write outside the target on extraction.
 */
function checkName(dir: CID, link: PBLink): string {
  const name = link.Name ?? "";
  if (name === "" || name === "." || name === ".." || name.includes("/") || name.includes("\\") || name.includes("\0")) {
    throw new BlockError(dir, "undecodable", `directory ${dir} has an unsafe entry name ${JSON.stringify(name)}`);
  }
  return name;
}

function decode(cid: CID, bytes: Uint8Array): DecodedNode {
  try {
    return decodeNode(cid, bytes);
  } catch (err) {
    if (err instanceof HttpError) throw new BlockError(cid, "undecodable", err.message);
    throw err;
  }
}

function describe(cid: CID, node: DecodedNode, bytes: Uint8Array, path: string): UnixfsEntry {
  if (cid.code === RAW) return { path, cid, type: "file", size: bytes.length, node, bytes };
  if (node.kind !== "dag-pb" || !node.unixfs) return { path, cid, type: "other", size: 0, node, bytes };
  switch (node.unixfs.type) {
    case "file":
    case "raw":
      return { path, cid, type: "file", size: Number(node.unixfs.fileSize()), node, bytes };
    case "directory":
    case "hamt-sharded-directory":
      return { path, cid, type: "directory", size: 0, node, bytes };
    case "symlink":
      return { path, cid, type: "symlink", size: 0, target: new TextDecoder().decode(node.unixfs.data ?? new Uint8Array()), node, bytes };
    default:
      return { path, cid, type: "other", size: 0, node, bytes };
  }
}

/**
 * The bytes of a UnixFS file in order: raw leaves, `Data` of file nodes,
 * children depth first. Holds one block per tree level.
 */
export async function* fileBytes(get: GetBlock, cid: CID, node: DecodedNode, bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  if (cid.code === RAW) {
    if (bytes.length > 0) yield bytes;
    return;
  }
  if (node.kind !== "dag-pb" || !node.unixfs) throw new BlockError(cid, "undecodable", `block ${cid} is not a UnixFS file node`);
  const data = node.unixfs.data;
  if (data && data.length > 0) yield data;
  for (const link of node.node.Links) {
    const child = await get(link.Hash);
    yield* fileBytes(get, link.Hash, decode(link.Hash, child), child);
  }
}

/** The CID at `segments` below `root` (plain and HAMT directories); BlockError "missing" if a name is absent. */
export async function resolveUnixfsPath(get: GetBlock, root: CID, segments: string[]): Promise<CID> {
  let cid = root;
  for (const segment of segments) {
    const node = decode(cid, await get(cid));
    if (node.kind !== "dag-pb" || !(node.unixfs?.type === "directory" || node.unixfs?.type === "hamt-sharded-directory")) {
      throw new BlockError(cid, "missing", `${cid} is not a directory: no entry ${JSON.stringify(segment)}`);
    }
    let next: CID | undefined;
    for await (const link of directoryLinks(get, cid, node)) {
      if (link.name === segment) {
        next = link.cid;
        break;
      }
    }
    if (!next) throw new BlockError(cid, "missing", `no entry ${JSON.stringify(segment)} in directory ${cid}`);
    cid = next;
  }
  return cid;
}
