import { CID } from "multiformats/cid";
import { blockKey } from "../gateway/blocks/block";
import { blockLinks } from "../pinning/block-links";
import { BufferPool } from "../gateway/blocks/buffer-pool";
import { RAW } from "../gateway/dag/codecs";
import { checkBlock, hashName, type BlockCheck } from "./check-block";
import { CarSectionError, carSections, type Section } from "./car-sections";
import type { OpenCar } from "./open-car";

export interface VerifyProblem {
  /** The block concerned (the CID string), when there is one. */
  cid?: string;
  /** 1-based section number in the CAR, when the problem is in a section. */
  section?: number;
  kind: "hash-mismatch" | "unsupported-hash" | "undecodable" | "missing-block" | "missing-root" | "truncated" | "malformed" | "no-roots";
  message: string;
}

export interface VerifyReport {
  roots: string[];
  blocks: number;
  bytes: number;
  /** Distinct blocks reachable from the roots (all present when `complete`). */
  reachable: number;
  complete: boolean;
  problems: VerifyProblem[];
}

/** Blocks hashed while the next ones are read (crypto.subtle runs off the main thread): bounded to this many. */
const HASHES_IN_FLIGHT = 4;

/**
 * Checks a CAR in one pass (memory: one block, plus each block's links as
 * multihash keys): every block hashes to its CID, decodes as its codec
 * says, and the DAG under every root is complete. Then walks the link graph
 * from the roots and reports each block that is linked but absent, with the
 * block that links to it. Identity CIDs need no block.
 */
export async function verifyCar(car: OpenCar, onBytes?: (n: number) => void): Promise<VerifyReport> {
  const problems: VerifyProblem[] = [];
  const links = new Map<string, string[]>();
  const cids = new Map<string, CID>();
  let blocks = 0;
  let bytes = 0;
  // Raw leaves (most of the bytes) are read into pooled buffers, given back once hashed: a big CAR
  // does not leave a trail of 1 MiB buffers for the GC. Other blocks are decoded, and their CIDs keep views.
  const pool = new BufferPool(HASHES_IN_FLIGHT + 2);
  const record = (s: Section, check: BlockCheck) => {
    if (check !== "ok") {
      problems.push(
        check === "mismatch"
          ? { cid: s.cid.toString(), section: s.index, kind: "hash-mismatch", message: `section ${s.index} (byte ${s.sectionOffset}): block ${s.cid} does not hash to its CID` }
          : { cid: s.cid.toString(), section: s.index, kind: "unsupported-hash", message: `section ${s.index}: block ${s.cid} uses ${hashName(s.cid.multihash.code)}, which cannot be verified` },
      );
      return;
    }
    if (links.has(s.key)) return;
    let children: CID[];
    try {
      children = blockLinks(s.cid, s.bytes!);
    } catch (err) {
      problems.push({ cid: s.cid.toString(), section: s.index, kind: "undecodable", message: `section ${s.index}: block ${s.cid} does not decode as its codec: ${(err as Error).message}` });
      return;
    }
    links.set(s.key, children.map((c) => blockKey(c.multihash.bytes)));
    for (const c of children) {
      const k = blockKey(c.multihash.bytes);
      if (!cids.has(k)) cids.set(k, c);
    }
    cids.set(s.key, s.cid);
  };
  const inFlight: { s: Section; check: Promise<BlockCheck> }[] = [];
  const settleOldest = async () => {
    const { s, check } = inFlight.shift()!;
    record(s, await check);
    if (s.cid.code === RAW) pool.release(s.bytes!);
  };
  try {
    for await (const s of carSections(car, { allocate: (n) => pool.acquire(n) })) {
      blocks++;
      bytes += s.dataLength;
      onBytes?.(s.dataLength);
      if (s.cid.code === RAW) pool.adopt(s.bytes!);
      inFlight.push({ s, check: checkBlock(s.cid, s.bytes!) });
      if (inFlight.length >= HASHES_IN_FLIGHT) await settleOldest();
    }
  } catch (err) {
    if (!(err instanceof CarSectionError)) throw err;
    while (inFlight.length > 0) await settleOldest();
    problems.push({ section: err.section, kind: err.truncated ? "truncated" : "malformed", message: `section ${err.section} (byte ${err.offset}): ${err.message}` });
  }
  while (inFlight.length > 0) await settleOldest();
  if (car.roots.length === 0) problems.push({ kind: "no-roots", message: "the CAR header names no root" });

  // Completeness from the roots: each absent block reported once, with a parent that links to it.
  const seen = new Set<string>();
  const stack: { key: string; cid: CID; parent?: CID }[] = car.roots.map((r) => ({ key: blockKey(r.multihash.bytes), cid: r }));
  let reachable = 0;
  while (stack.length > 0) {
    const { key, cid, parent } = stack.pop()!;
    if (seen.has(key)) continue;
    seen.add(key);
    if (cid.multihash.code === 0x00) continue; // identity: the CID is the block
    const children = links.get(key);
    if (children === undefined) {
      const present = problems.some((p) => p.cid === cid.toString());
      if (present) continue; // a bad block is already reported; its subtree cannot be walked
      problems.push(
        parent
          ? { cid: cid.toString(), kind: "missing-block", message: `block ${cid} (linked from ${parent}) is not in the CAR` }
          : { cid: cid.toString(), kind: "missing-root", message: `root ${cid} is not in the CAR` },
      );
      continue;
    }
    reachable++;
    for (const k of children) stack.push({ key: k, cid: cids.get(k)!, parent: cid });
  }
  return { roots: car.roots.map(String), blocks, bytes, reachable, complete: !problems.some((p) => p.kind === "missing-block" || p.kind === "missing-root" || p.kind === "truncated"), problems };
}
