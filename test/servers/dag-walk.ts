/**
 * Which blocks a trustless CAR response carries, and in which order: the
 * blocks met while resolving the content path, then the terminal element
 * according to `dag-scope` / `entity-bytes` (IPIP-402), depth-first
 * pre-order (IPIP-412 `order=dfs`).
 *
 * Every block is in memory, so this walks the DAG directly. It yields every
 * time the traversal meets a block (duplicates included); the caller drops
 * repeats for `dups=n`. A missing child ends the walk early: the response
 * then ends at a section boundary (trustless-gateway.md "Streaming and
 * Missing Child Blocks").
 */
import * as dagCbor from "@ipld/dag-cbor";
import * as dagJson from "@ipld/dag-json";
import * as dagPb from "@ipld/dag-pb";
import { murmur364 } from "@multiformats/murmur3";
import { UnixFS } from "ipfs-unixfs";
import { CID } from "multiformats/cid";
import type { CarBlock } from "./car-encode";
import type { MemoryBlockStore } from "./memory-block-store";
import type { DagScope, EntityBytes } from "./request-params";

const RAW = 0x55;
const DAG_PB = 0x70;
const DAG_CBOR = 0x71;
const DAG_JSON = 0x0129;
/** UnixFS HAMT hash function: murmur3-x64-64 (multicodec 0x22). */
const MURMUR3_X64_64 = 0x22n;

/** The path does not exist in the DAG, or one of its blocks is missing. */
export class PathNotFound extends Error {}

/** Where a content path ends. */
export interface Terminal {
  block: CarBlock;
  /** The data-model value the path ends on; the decoded block itself unless the path stops inside a dag-cbor/dag-json block. */
  value: unknown;
  /** True when `value` is the whole block (the path ended on a link). */
  isBlockRoot: boolean;
}

export interface ResolvedPath {
  /** Blocks needed to verify the path, root first, terminal block last. */
  pathBlocks: CarBlock[];
  terminal: Terminal;
}

function load(store: MemoryBlockStore, cid: CID): CarBlock {
  const bytes = store.get(cid);
  if (!bytes) throw new PathNotFound(`block ${cid} is not available`);
  return { cid, bytes };
}

function decode(block: CarBlock): unknown {
  switch (block.cid.code) {
    case DAG_PB:
      return dagPb.decode(block.bytes);
    case DAG_CBOR:
      return dagCbor.decode(block.bytes);
    case DAG_JSON:
      return dagJson.decode(block.bytes);
    default:
      return block.bytes;
  }
}

function unixfsOf(node: dagPb.PBNode): UnixFS | undefined {
  if (!node.Data) return undefined;
  try {
    return UnixFS.unmarshal(node.Data);
  } catch {
    return undefined;
  }
}

/** Link names of a HAMT shard: `HH` (sub-shard) or `HH{entry name}`, hex of the bucket index, uppercase. */
function hamtPadLength(fanout: bigint): number {
  return (fanout - 1n).toString(16).length;
}

/** `width` bits of `hash` starting at bit `start`, most-significant bit of each byte first. */
function hashBits(hash: Uint8Array, start: number, width: number): number {
  let value = 0;
  for (let i = start; i < start + width; i++) {
    const byte = hash[i >> 3];
    if (byte === undefined) throw new PathNotFound("HAMT deeper than its 64-bit hash");
    value = (value << 1) | ((byte >> (7 - (i & 7))) & 1);
  }
  return value;
}

/** murmur3-x64-64 of the entry name (the UnixFS HAMT hash). */
function hamtHash(name: string): Uint8Array {
  const digest = murmur364.digest(new TextEncoder().encode(name));
  if (digest instanceof Promise) throw new Error("murmur3 hasher is unexpectedly async");
  return digest.digest;
}

/** Finds `name` in a UnixFS HAMT; sub-shard blocks on the way are path blocks. */
function hamtLookup(store: MemoryBlockStore, shard: dagPb.PBNode, unixfs: UnixFS, name: string, pathBlocks: CarBlock[]): CID {
  const fanout = unixfs.fanout ?? 0n;
  // ipfs-unixfs' unmarshal drops hashType; UnixFS HAMTs only use murmur3-x64-64.
  if ((unixfs.hashType !== undefined && unixfs.hashType !== MURMUR3_X64_64) || fanout < 2n || (fanout & (fanout - 1n)) !== 0n) {
    throw new PathNotFound("unsupported HAMT parameters");
  }
  const bitsPerLevel = (fanout - 1n).toString(2).length;
  const padLength = hamtPadLength(fanout);
  const hash = hamtHash(name);
  let node = shard;
  for (let level = 0; ; level++) {
    const prefix = hashBits(hash, level * bitsPerLevel, bitsPerLevel).toString(16).toUpperCase().padStart(padLength, "0");
    const link = node.Links.find((candidate) => (candidate.Name ?? "").startsWith(prefix));
    if (!link) throw new PathNotFound(`no entry ${JSON.stringify(name)}`);
    if ((link.Name ?? "").length === padLength) {
      const child = load(store, link.Hash);
      pathBlocks.push(child);
      node = dagPb.decode(child.bytes);
      continue;
    }
    if (link.Name === prefix + name) return link.Hash;
    throw new PathNotFound(`no entry ${JSON.stringify(name)}`);
  }
}

function childOfDagPb(store: MemoryBlockStore, node: dagPb.PBNode, name: string, pathBlocks: CarBlock[]): CID {
  const unixfs = unixfsOf(node);
  if (unixfs?.type === "hamt-sharded-directory") return hamtLookup(store, node, unixfs, name, pathBlocks);
  const link = node.Links.find((candidate) => candidate.Name === name);
  if (!link) throw new PathNotFound(`no link named ${JSON.stringify(name)}`);
  return link.Hash;
}

function childOfDataModel(value: unknown, segment: string): unknown {
  if (Array.isArray(value)) {
    if (!/^(0|[1-9]\d*)$/.test(segment)) return undefined;
    return value[Number(segment)];
  }
  if (value !== null && typeof value === "object" && !(value instanceof Uint8Array) && !CID.asCID(value)) {
    return Object.hasOwn(value, segment) ? (value as Record<string, unknown>)[segment] : undefined;
  }
  return undefined;
}

/** Resolves `/ipfs/{root}/{path...}` (path-gateway.md); throws PathNotFound. */
export function resolvePath(store: MemoryBlockStore, root: CID, path: string[]): ResolvedPath {
  let block = load(store, root);
  const pathBlocks = [block];
  let value = decode(block);
  let isBlockRoot = true;
  for (const segment of path) {
    let next: CID;
    if (block.cid.code === DAG_PB) {
      next = childOfDagPb(store, value as dagPb.PBNode, segment, pathBlocks);
    } else if (block.cid.code === DAG_CBOR || block.cid.code === DAG_JSON) {
      const child = childOfDataModel(value, segment);
      if (child === undefined) throw new PathNotFound(`no field ${JSON.stringify(segment)}`);
      const link = CID.asCID(child);
      if (!link) {
        value = child;
        isBlockRoot = false;
        continue;
      }
      next = link;
    } else {
      throw new PathNotFound(`cannot path into a block of codec 0x${block.cid.code.toString(16)}`);
    }
    block = load(store, next);
    pathBlocks.push(block);
    value = decode(block);
    isBlockRoot = true;
  }
  return { pathBlocks, terminal: { block, value, isBlockRoot } };
}

/** Compares keys the way dag-cbor sorts map keys: shorter first, then bytewise. */
function dagCborKeyOrder(a: string, b: string): number {
  const ea = new TextEncoder().encode(a);
  const eb = new TextEncoder().encode(b);
  if (ea.length !== eb.length) return ea.length - eb.length;
  for (let i = 0; i < ea.length; i++) if (ea[i] !== eb[i]) return (ea[i] ?? 0) - (eb[i] ?? 0);
  return 0;
}

/** dag-json sorts map keys bytewise (no length-first rule). */
function dagJsonKeyOrder(a: string, b: string): number {
  const ea = new TextEncoder().encode(a);
  const eb = new TextEncoder().encode(b);
  for (let i = 0; i < Math.min(ea.length, eb.length); i++) if (ea[i] !== eb[i]) return (ea[i] ?? 0) - (eb[i] ?? 0);
  return ea.length - eb.length;
}

/**
 * CID links in a dag-cbor/dag-json value in data-model order: list indexes
 * in order, map entries in the order the codec serialises them (JS objects
 * would put integer-like keys first, so sort explicitly).
 */
function dataModelLinks(value: unknown, codec: number, out: CID[] = []): CID[] {
  const link = CID.asCID(value);
  if (link) {
    out.push(link);
  } else if (Array.isArray(value)) {
    for (const item of value) dataModelLinks(item, codec, out);
  } else if (value !== null && typeof value === "object" && !(value instanceof Uint8Array)) {
    const keys = Object.keys(value).sort(codec === DAG_JSON ? dagJsonKeyOrder : dagCborKeyOrder);
    for (const key of keys) dataModelLinks((value as Record<string, unknown>)[key], codec, out);
  }
  return out;
}

function linksOf(block: CarBlock, value: unknown): CID[] {
  switch (block.cid.code) {
    case DAG_PB:
      return (value as dagPb.PBNode).Links.map((link) => link.Hash);
    case DAG_CBOR:
    case DAG_JSON:
      return dataModelLinks(value, block.cid.code);
    default:
      return [];
  }
}

/** `dag-scope=all`: every block under `value`, pre-order. Returns false when a block is missing. */
function* allBelow(store: MemoryBlockStore, block: CarBlock, value: unknown): Generator<CarBlock, boolean> {
  for (const cid of linksOf(block, value)) {
    const bytes = store.get(cid);
    if (!bytes) return false;
    const child = { cid, bytes };
    yield child;
    if (!(yield* allBelow(store, child, decode(child)))) return false;
  }
  return true;
}

/**
 * Every block under `block`, breadth first (what an old gateway that
 * ignores dag-scope and DFS order sends: the `old-gateway` personality).
 * Stops at the first missing block.
 */
export function* allBelowBreadthFirst(store: MemoryBlockStore, block: CarBlock, value: unknown): Generator<CarBlock> {
  let level: { block: CarBlock; value: unknown }[] = [{ block, value }];
  while (level.length > 0) {
    const next: { block: CarBlock; value: unknown }[] = [];
    for (const parent of level) {
      for (const cid of linksOf(parent.block, parent.value)) {
        const bytes = store.get(cid);
        if (!bytes) return;
        const child = { cid, bytes };
        yield child;
        next.push({ block: child, value: decode(child) });
      }
    }
    level = next;
  }
}

/** All shard blocks of a HAMT directory below `node` (not the entries' targets). */
function* hamtShardsBelow(store: MemoryBlockStore, node: dagPb.PBNode, padLength: number): Generator<CarBlock, boolean> {
  for (const link of node.Links) {
    if ((link.Name ?? "").length !== padLength) continue;
    const bytes = store.get(link.Hash);
    if (!bytes) return false;
    yield { cid: link.Hash, bytes };
    if (!(yield* hamtShardsBelow(store, dagPb.decode(bytes), padLength))) return false;
  }
  return true;
}

/** Inclusive byte range of a file, resolved against its size; null when empty or outside. */
export function resolveEntityBytes(range: EntityBytes, size: number): { first: number; last: number } | null {
  const first = range.from < 0 ? Math.max(0, size + range.from) : range.from;
  let last = range.to === null ? size - 1 : range.to < 0 ? size + range.to : range.to;
  last = Math.min(last, size - 1);
  if (size === 0 || first > last || first >= size) return null;
  return { first, last };
}

/**
 * Blocks of a UnixFS file below `node` whose bytes overlap [first, last];
 * `offset` is where `node`'s bytes start in the file. Sizes come from
 * `blocksizes` (trustless-gateway.md entity-bytes).
 */
function* fileBlocksBelow(
  store: MemoryBlockStore,
  node: dagPb.PBNode,
  unixfs: UnixFS,
  offset: number,
  range: { first: number; last: number } | null,
): Generator<CarBlock, boolean> {
  let start = offset + (unixfs.data?.length ?? 0);
  for (const [index, link] of node.Links.entries()) {
    const sizeOfChild = unixfs.blockSizes[index];
    const childStart = start;
    if (sizeOfChild !== undefined) start += Number(sizeOfChild);
    if (range && sizeOfChild !== undefined) {
      const childLast = childStart + Number(sizeOfChild) - 1;
      if (Number(sizeOfChild) === 0 || childLast < range.first || childStart > range.last) continue;
    }
    const bytes = store.get(link.Hash);
    if (!bytes) return false;
    yield { cid: link.Hash, bytes };
    if (link.Hash.code !== DAG_PB) continue;
    const childNode = dagPb.decode(bytes);
    const childUnixfs = unixfsOf(childNode);
    if (childUnixfs && !(yield* fileBlocksBelow(store, childNode, childUnixfs, childStart, range))) return false;
  }
  return true;
}

/**
 * Blocks after the terminal block for `scope` (the terminal block itself is
 * the last path block). Returns false when a needed block is missing.
 */
export function* terminalBlocks(
  store: MemoryBlockStore,
  terminal: Terminal,
  scope: DagScope,
  entityBytes: EntityBytes | null,
): Generator<CarBlock, boolean> {
  if (scope === "block") return true;
  if (scope === "all") return yield* allBelow(store, terminal.block, terminal.value);
  // entity: UnixFS files and directories are more than one block; everything else is the block.
  if (!terminal.isBlockRoot || terminal.block.cid.code !== DAG_PB) return true;
  const node = terminal.value as dagPb.PBNode;
  const unixfs = unixfsOf(node);
  if (!unixfs) return true;
  if (unixfs.type === "file" || unixfs.type === "raw") {
    let range: { first: number; last: number } | null = null;
    if (entityBytes) {
      range = resolveEntityBytes(entityBytes, Number(unixfs.fileSize()));
      // A zero-length or fully outside range is dag-scope=block (IPIP-402).
      if (!range) return true;
    }
    return yield* fileBlocksBelow(store, node, unixfs, 0, range);
  }
  if (unixfs.type === "hamt-sharded-directory") {
    return yield* hamtShardsBelow(store, node, hamtPadLength(unixfs.fanout ?? 256n));
  }
  return true;
}
