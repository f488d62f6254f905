import { murmur3128 } from "@multiformats/murmur3";
import type { PBLink } from "@ipld/dag-pb";
import type { UnixFS } from "ipfs-unixfs";
import { HttpError } from "../../http/errors";

/**
 * UnixFS HAMT-sharded directories (https://specs.ipfs.tech/unixfs/#hamt-directory):
 * a name is hashed with murmur3-x64-64 (the first 64 bits of murmur3-x64-128,
 * as go-unixfs does), and each level consumes log2(fanout) bits of it, most
 * significant first. Link names are the bucket index in upper-case hex, padded
 * to the width of fanout-1, followed by the entry name for entries; a bare
 * index names a sub-shard.
 */
const MURMUR3_X64_64 = 0x22;

export interface ShardParams {
  bits: number;
  padLength: number;
}

export function shardParams(unixfs: UnixFS): ShardParams {
  const fanout = Number(unixfs.fanout ?? 0n);
  if (unixfs.hashType !== undefined && Number(unixfs.hashType) !== MURMUR3_X64_64) {
    throw new HttpError("not_implemented", `HAMT hash function 0x${Number(unixfs.hashType).toString(16)} is not supported`);
  }
  if (!fanout || fanout & (fanout - 1) || fanout > 1024) throw new HttpError("bad_gateway", `HAMT fanout ${fanout} is not a power of two`);
  return { bits: Math.log2(fanout), padLength: (fanout - 1).toString(16).length };
}

/** The 64-bit murmur3 hash of a name, as bytes read most-significant bit first. */
export async function hamtHash(name: string): Promise<Uint8Array> {
  const full = await murmur3128.encode(new TextEncoder().encode(name));
  return full.subarray(0, 8);
}

/** Takes `bits` bits starting at bit `offset` (MSB first) from `hash`. */
export function hashBits(hash: Uint8Array, offset: number, bits: number): number {
  let v = 0;
  for (let i = 0; i < bits; i++) {
    const bit = offset + i;
    const byte = hash[bit >> 3];
    if (byte === undefined) throw new HttpError("not_implemented", "HAMT deeper than 64 bits of hash");
    v = (v << 1) | ((byte >> (7 - (bit & 7))) & 1);
  }
  return v;
}

export type ShardStep = { kind: "entry"; link: PBLink } | { kind: "shard"; link: PBLink } | { kind: "absent" };

/** Which link of this shard leads to `name` at `depth` (0 for the root shard). */
export function shardStep(links: PBLink[], params: ShardParams, hash: Uint8Array, depth: number, name: string): ShardStep {
  const index = hashBits(hash, depth * params.bits, params.bits);
  const prefix = index.toString(16).toUpperCase().padStart(params.padLength, "0");
  for (const link of links) {
    const linkName = link.Name ?? "";
    if (!linkName.startsWith(prefix)) continue;
    if (linkName.length === params.padLength) return { kind: "shard", link };
    if (linkName.slice(params.padLength) === name) return { kind: "entry", link };
    return { kind: "absent" };
  }
  return { kind: "absent" };
}

/** Whether a link of a shard points at a sub-shard (its name is only the bucket index). */
export function isSubShardLink(link: PBLink, params: ShardParams): boolean {
  return (link.Name ?? "").length === params.padLength;
}
