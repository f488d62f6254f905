import type { CID } from "multiformats/cid";
import { blockKey } from "../backends/r2-block-store";
import type { BlockRefs } from "../durable-objects/block-refs";

/** Shards of the BlockRefs key space (fixed: changing it needs a migration, docs/storage.md). */
export const BLOCK_REF_SHARDS = 16;

/** The shard of a block: last digest byte (uniform for cryptographic hashes) mod the shard count. */
export function shardOf(cid: CID): number {
  const digest = cid.multihash.digest;
  return (digest[digest.length - 1] ?? 0) % BLOCK_REF_SHARDS;
}

export function blockRefsShard(env: Env, shard: number): DurableObjectStub<BlockRefs> {
  return env.BLOCK_REFS.get(env.BLOCK_REFS.idFromName(`shard-${shard}`));
}

/** Holds blocks for a holder (`<registry id>/<root CID>`), grouped by shard, one RPC per shard. */
export async function holdBlocks(env: Env, holder: string, cids: CID[]): Promise<void> {
  await holdByShard(env, cids, (stub, keys) => stub.hold(holder, keys));
}

/** Holds blocks for a holder that lets go by itself at `expires` (ms epoch), one RPC per shard. */
export async function holdBlocksUntil(env: Env, holder: string, cids: CID[], expires: number): Promise<void> {
  await holdByShard(env, cids, (stub, keys) => stub.holdUntil(holder, keys, expires));
}

async function holdByShard(env: Env, cids: CID[], hold: (stub: DurableObjectStub<BlockRefs>, keys: string[]) => Promise<void>): Promise<void> {
  const byShard = new Map<number, string[]>();
  for (const cid of cids) {
    if (cid.multihash.code === 0x00) continue; // identity: bytes live in the CID, nothing stored
    const shard = shardOf(cid);
    const list = byShard.get(shard) ?? [];
    list.push(blockKey(cid));
    byShard.set(shard, list);
  }
  await Promise.all([...byShard].map(([shard, keys]) => hold(blockRefsShard(env, shard), keys)));
}

/** The holder of the blocks hot write-through stored for `root` (one per root, shared by every response for it). */
export function hotHolder(root: CID): string {
  return `hot/${blockKey(root)}`;
}

/** Releases every block of a holder, in every shard. */
export async function releaseHolder(env: Env, holder: string): Promise<void> {
  await Promise.all(
    Array.from({ length: BLOCK_REF_SHARDS }, (_, shard) => blockRefsShard(env, shard).release(holder)),
  );
}
