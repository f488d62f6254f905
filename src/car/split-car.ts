import type { FileHandle } from "node:fs/promises";
import type { CID } from "multiformats/cid";
import { blockKey } from "../gateway/blocks/block";
import { RAW } from "../gateway/dag/codecs";
import { carHeader } from "../gateway/car/car-encoder";
import { encodeVarint } from "../gateway/car/varint";
import { blockLinks } from "../pinning/block-links";
import type { CarIndex } from "./car-index";
import { BlockError } from "./check-block";
import { carSections } from "./car-sections";
import type { OpenCar } from "./open-car";

interface Node {
  cid: CID;
  /** Bytes of this block's CAR section. */
  section: number;
  links: string[];
  /** Section bytes of the sub-DAG (shared blocks counted once per parent: an upper bound). */
  total?: number;
}

export interface PiecePlan {
  roots: CID[];
  blocks: CID[];
  bytes: number;
  /** Every root's whole sub-DAG is in this piece. */
  complete: boolean;
}

/** Upper bound of a CARv1 header's bytes with `roots` roots (dag-cbor map, tag-42 CIDs, length varint). */
function headerBound(rootBytes: number, count: number): number {
  return 32 + rootBytes + 5 * count;
}

/**
 * Plans pieces of at most `maxSize` bytes along DAG boundaries: walking from
 * the roots depth first, a sub-DAG that fits in the current piece goes there
 * whole (and becomes one of its roots); one that fits in an empty piece
 * starts a new piece; a larger one leaves its top block in the current piece
 * (as a root whose children are elsewhere: `complete: false`) and is split
 * below. Blocks no root reaches come last, each its own root. Every block
 * lands in exactly one piece. Memory: each block's links as keys.
 */
export async function planSplit(car: OpenCar, maxSize: number): Promise<PiecePlan[]> {
  const nodes = new Map<string, Node>();
  const order: string[] = [];
  // Raw leaves have no links: their bytes are skipped, not read (they are hashed when the pieces are written).
  for await (const s of carSections(car, { withData: (cid) => cid.code !== RAW })) {
    if (nodes.has(s.key)) continue;
    let links: CID[] = [];
    try {
      links = s.bytes ? blockLinks(s.cid, s.bytes) : [];
    } catch (err) {
      throw new BlockError(s.cid, "undecodable", `block ${s.cid} does not decode as its codec: ${(err as Error).message}`);
    }
    const section = encodeVarint(s.cid.bytes.length + s.dataLength).length + s.cid.bytes.length + s.dataLength;
    if (headerBound(s.cid.bytes.length, 1) + section > maxSize) throw new BlockError(s.cid, "undecodable", `block ${s.cid} alone (${section} bytes with its CID) does not fit in --max-size ${maxSize}`);
    nodes.set(s.key, { cid: s.cid, section, links: links.map((c) => blockKey(c.multihash.bytes)) });
    order.push(s.key);
  }
  const total = (key: string, path = new Set<string>()): number => {
    const n = nodes.get(key);
    if (!n) return 0;
    if (n.total !== undefined) return n.total;
    if (path.has(key)) return 0;
    path.add(key);
    let sum = n.section;
    for (const k of n.links) sum += total(k, path);
    path.delete(key);
    return (n.total = sum);
  };

  const pieces: PiecePlan[] = [];
  const placed = new Set<string>();
  let cur: PiecePlan & { rootBytes: number } = { roots: [], blocks: [], bytes: 0, complete: true, rootBytes: 0 };
  const size = (p: typeof cur, extraRoot: CID | undefined, extra: number) =>
    headerBound(p.rootBytes + (extraRoot?.bytes.length ?? 0), p.roots.length + (extraRoot ? 1 : 0)) + p.bytes + extra;
  const close = () => {
    if (cur.blocks.length > 0) pieces.push({ roots: cur.roots, blocks: cur.blocks, bytes: size(cur, undefined, 0), complete: cur.complete });
    cur = { roots: [], blocks: [], bytes: 0, complete: true, rootBytes: 0 };
  };
  const addWhole = (key: string) => {
    const stack = [key];
    while (stack.length > 0) {
      const k = stack.pop()!;
      const n = nodes.get(k);
      if (!n || placed.has(k)) continue;
      placed.add(k);
      cur.blocks.push(n.cid);
      cur.bytes += n.section;
      for (let i = n.links.length - 1; i >= 0; i--) stack.push(n.links[i]!);
    }
  };
  const place = (key: string) => {
    const n = nodes.get(key);
    if (!n || placed.has(key)) return;
    const whole = total(key);
    if (size(cur, n.cid, whole) <= maxSize || (cur.blocks.length > 0 && (close(), size(cur, n.cid, whole) <= maxSize))) {
      cur.roots.push(n.cid);
      cur.rootBytes += n.cid.bytes.length;
      addWhole(key);
      return;
    }
    if (size(cur, n.cid, n.section) > maxSize) close();
    placed.add(key);
    cur.roots.push(n.cid);
    cur.rootBytes += n.cid.bytes.length;
    cur.blocks.push(n.cid);
    cur.bytes += n.section;
    cur.complete = false;
    for (const k of n.links) place(k);
  };
  for (const root of car.roots) place(blockKey(root.multihash.bytes));
  for (const key of order) place(key);
  close();
  return pieces;
}

/** Writes one planned piece as a CARv1 (blocks read through the index, each verified). */
export async function writePiece(index: CarIndex, piece: PiecePlan, handle: FileHandle): Promise<number> {
  const header = carHeader(piece.roots);
  let position = 0;
  await handle.write(header, 0, undefined, position);
  position += header.length;
  for (const cid of piece.blocks) {
    const bytes = await index.get(cid);
    const prefix = new Uint8Array([...encodeVarint(cid.bytes.length + bytes.length), ...cid.bytes]);
    await handle.writev([prefix, bytes], position);
    position += prefix.length + bytes.length;
    index.release(bytes);
  }
  return position;
}
