/**
 * Upstream personalities: the first path segment of a request to the test
 * upstream (`{base}/{personality}/ipfs/...`) picks how it misbehaves.
 * `{name}` or `{name}-{n}`; `n` is the parameter of the fault (block index,
 * byte count or milliseconds), or only tells two instances apart for the
 * ones without a parameter (`honest-2`). An optional `~tag` suffix
 * (`flip-byte-2~t7`) changes nothing but the log key, so test files running
 * at the same time can keep their request logs apart.
 */
import { CID } from "multiformats/cid";
import { sha256 } from "multiformats/hashes/sha2";
import type { CarBlock } from "./car-encode";

export const PERSONALITY_NAMES = [
  "honest",
  "not-found",
  "status-500",
  "status-429",
  "slow",
  "slow-body",
  "flip-byte",
  "wrong-block",
  "wrong-cid",
  "extra-block",
  "oversized",
  "truncate",
  "die",
  "stall",
  "trickle",
  "no-car",
  "dups-n",
  "redirect",
  // Kubo before 0.22 and other old gateways: dag-scope and entity-bytes ignored, the whole DAG under the
  // terminal sent breadth first (valid blocks, more of them, in another order); ?format=raw honest.
  "old-gateway",
] as const;

export type PersonalityName = (typeof PERSONALITY_NAMES)[number];

export interface Personality {
  /** The whole path segment, e.g. `flip-byte-2` or `honest~t3`; the request log is keyed by it. */
  id: string;
  name: PersonalityName;
  n: number | undefined;
}

const BY_LENGTH = [...PERSONALITY_NAMES].sort((a, b) => b.length - a.length);

export function parsePersonality(segment: string): Personality | undefined {
  const tagAt = segment.indexOf("~");
  const kind = tagAt === -1 ? segment : segment.slice(0, tagAt);
  for (const name of BY_LENGTH) {
    if (kind === name) return { id: segment, name, n: undefined };
    if (kind.startsWith(`${name}-`)) {
      const rest = kind.slice(name.length + 1);
      if (/^\d+$/.test(rest)) return { id: segment, name, n: Number(rest) };
    }
  }
  return undefined;
}

/** Blocks the hostile personalities inject; each is valid under its own CID (raw, sha2-256). */
export interface FaultBlocks {
  wrong: CarBlock;
  extra: CarBlock;
  /** 3 MiB: above the 2 MiB block limit of trustless-gateway.md "Block Limits". */
  oversized: CarBlock;
}

const RAW = 0x55;

async function rawBlock(bytes: Uint8Array): Promise<CarBlock> {
  return { cid: CID.createV1(RAW, await sha256.digest(bytes)), bytes };
}

export async function makeFaultBlocks(): Promise<FaultBlocks> {
  const oversized = new Uint8Array(3 * 1024 * 1024);
  for (let i = 0; i < oversized.length; i++) oversized[i] = (i * 31 + 7) & 0xff;
  return {
    wrong: await rawBlock(new TextEncoder().encode("wrong-block personality: a valid block that belongs to no requested DAG\n")),
    extra: await rawBlock(new TextEncoder().encode("extra-block personality: a valid block appended to the CAR\n")),
    oversized: await rawBlock(oversized),
  };
}

/** The block with one byte of its data inverted (the middle one). */
function flipByte(block: CarBlock): CarBlock {
  if (block.bytes.length === 0) return { cid: block.cid, bytes: Uint8Array.of(1) };
  const bytes = new Uint8Array(block.bytes); // a copy (Buffer#slice would alias the stored block)
  const at = bytes.length >> 1;
  bytes[at] = (bytes[at] ?? 0) ^ 0xff;
  return { cid: block.cid, bytes };
}

/** Same CID version and codec, but the multihash of other bytes. */
function otherCid(block: CarBlock, faults: FaultBlocks): CID {
  return CID.create(block.cid.version, block.cid.code, faults.wrong.cid.multihash);
}

/**
 * Applies the block-level faults to the sections of a CAR (after `dups`
 * filtering, so `k` counts the blocks actually sent, 0-based).
 */
export function* faultyCarBlocks(personality: Personality, blocks: Iterable<CarBlock>, faults: FaultBlocks): Generator<CarBlock> {
  const { name } = personality;
  const k = personality.n ?? 0;
  let index = 0;
  let extraSent = false;
  for (const block of blocks) {
    if (name === "extra-block" && personality.n === index) {
      yield faults.extra;
      extraSent = true;
    }
    if (index === k && name === "flip-byte") yield flipByte(block);
    else if (index === k && name === "wrong-block") yield faults.wrong;
    else if (index === k && name === "wrong-cid") yield { cid: otherCid(block, faults), bytes: block.bytes };
    else if (index === k && name === "oversized") yield faults.oversized;
    else yield block;
    index++;
  }
  // `extra-block` appends at the end; `extra-block-{k}` past the end too.
  if (name === "extra-block" && !extraSent) yield faults.extra;
}

/** The body of a raw block response under the block-level faults (only index 0 exists). */
export function faultyRawBody(personality: Personality, block: CarBlock, faults: FaultBlocks): Uint8Array {
  if ((personality.n ?? 0) !== 0) return block.bytes;
  switch (personality.name) {
    case "flip-byte":
      return flipByte(block).bytes;
    case "wrong-block":
      return faults.wrong.bytes;
    case "oversized":
      return faults.oversized.bytes;
    default:
      return block.bytes;
  }
}

/** Byte-level end of the body: `truncate-n`, `die-n`, `stall-n` stop after n bytes. */
export function byteLimit(personality: Personality): number | undefined {
  const { name } = personality;
  return name === "truncate" || name === "die" || name === "stall" ? (personality.n ?? 0) : undefined;
}
