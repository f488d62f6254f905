/**
 * Large UnixFS files for the bench, built by hand with the layout
 * ipfs-unixfs-importer 17 gives them by default (balanced, at most 174 links
 * per node, raw leaves, CIDv1, sha2-256, single leaf reduced to itself), so a
 * root here is the root the importer would give the same bytes (checked by
 * `bench/check-dag.ts`).
 *
 * Leaf `i` is deterministic pseudo-random bytes (xorshift32 seeded from
 * `seed` and `i`), so leaves can be kept in memory or produced again on
 * demand (`keepLeaves: false`): a 1 GiB file then costs ~70 KiB of parent
 * nodes plus one leaf at a time.
 */
import { createHash } from "node:crypto";
import * as dagPb from "@ipld/dag-pb";
import { UnixFS } from "ipfs-unixfs";
import { CID } from "multiformats/cid";
import * as Digest from "multiformats/hashes/digest";
import { varint } from "multiformats";
import { carHeader } from "../test/servers/car-encode.ts";
import type { BlockGetter } from "../test/servers/memory-block-store.ts";

const RAW = 0x55;
const DAG_PB = 0x70;
const SHA2_256 = 0x12;
/** ipfs-unixfs-importer's default `maxChildrenPerNode` for the balanced layout. */
export const MAX_CHILDREN = 174;

export interface SyntheticFileOptions {
  size: number;
  chunkSize: number;
  seed: number;
  /** Keep leaves in memory (fast to serve) or produce them again on each request (bounded memory). */
  keepLeaves: boolean;
}

export interface SyntheticFile {
  root: CID;
  size: number;
  chunkSize: number;
  leafCount: number;
  /** Leaves plus parent nodes. */
  blockCount: number;
  /** Length of the CARv1 (`dag-scope=all`, `dups=y`, DFS) of the whole file. */
  carLength: number;
  /** Serves every block of the file by CIDv1 string (for `addBlockSource`). */
  getter: BlockGetter;
}

interface Built {
  cid: CID;
  /** Bytes of file data under this node. */
  fileSize: number;
  /** Tsize: encoded bytes of this node and everything below it. */
  dagSize: number;
}

/** Leaf `index` of a file: `length` bytes of xorshift32 output (little-endian words). */
export function leafBytes(seed: number, index: number, length: number): Uint8Array {
  const words = new Uint32Array(Math.ceil(length / 4));
  // Mix seed and index into a non-zero state (xorshift32 has no zero state).
  let x = (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35)) >>> 0 || 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x;
  }
  return new Uint8Array(words.buffer, 0, length);
}

function sha256Cid(code: number, bytes: Uint8Array): CID {
  const digest = createHash("sha256").update(bytes).digest();
  return CID.createV1(code, Digest.create(SHA2_256, new Uint8Array(digest.buffer, digest.byteOffset, digest.byteLength)));
}

function sectionLength(cid: CID, dataLength: number): number {
  const body = cid.bytes.length + dataLength;
  return varint.encodingLength(body) + body;
}

export function buildFile(options: SyntheticFileOptions): SyntheticFile {
  const { size, chunkSize, seed, keepLeaves } = options;
  if (size <= 0 || chunkSize <= 0) throw new Error("size and chunkSize must be positive");
  const leafCount = Math.ceil(size / chunkSize);
  const leafIndex = new Map<string, number>();
  const kept: Uint8Array[] = [];
  const parents = new Map<string, Uint8Array>();
  let carBody = 0;

  let level: Built[] = [];
  for (let i = 0; i < leafCount; i++) {
    const length = Math.min(chunkSize, size - i * chunkSize);
    const bytes = leafBytes(seed, i, length);
    const cid = sha256Cid(RAW, bytes);
    leafIndex.set(cid.toString(), i);
    if (keepLeaves) kept.push(bytes);
    carBody += sectionLength(cid, length);
    level.push({ cid, fileSize: length, dagSize: length });
  }
  // Balanced layout: group each level by MAX_CHILDREN until one node is left.
  while (level.length > 1) {
    const next: Built[] = [];
    for (let at = 0; at < level.length; at += MAX_CHILDREN) {
      const children = level.slice(at, at + MAX_CHILDREN);
      const unixfs = new UnixFS({ type: "file" });
      for (const child of children) unixfs.addBlockSize(BigInt(child.fileSize));
      const node = dagPb.prepare({
        Data: unixfs.marshal(),
        Links: children.map((child) => ({ Name: "", Tsize: child.dagSize, Hash: child.cid })),
      });
      const bytes = dagPb.encode(node);
      const cid = sha256Cid(DAG_PB, bytes);
      parents.set(cid.toString(), bytes);
      carBody += sectionLength(cid, bytes.length);
      next.push({
        cid,
        fileSize: children.reduce((sum, child) => sum + child.fileSize, 0),
        dagSize: bytes.length + children.reduce((sum, child) => sum + child.dagSize, 0),
      });
    }
    level = next;
  }
  const root = level[0]!.cid;

  const getter: BlockGetter = (cidV1) => {
    const parent = parents.get(cidV1);
    if (parent) return parent;
    const index = leafIndex.get(cidV1);
    if (index === undefined) return undefined;
    return keepLeaves ? kept[index] : leafBytes(seed, index, Math.min(chunkSize, size - index * chunkSize));
  };

  return {
    root,
    size,
    chunkSize,
    leafCount,
    blockCount: leafCount + parents.size,
    carLength: carHeader([root]).length + carBody,
    getter,
  };
}
