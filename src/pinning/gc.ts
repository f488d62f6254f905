import { BLOCK_REF_SHARDS, blockRefsShard } from "./block-refs";

/** Hourly at :17 (wrangler.toml `[triggers]`): delete blocks no pin holds any more. */
export const GC_CRON = "17 * * * *";

/** Candidates one shard deletes per run (bounds the work of one invocation). */
const PER_SHARD = 1000;

/**
 * Garbage collection of R2 blocks (docs/storage.md "GC"): every BlockRefs
 * shard deletes the blocks that have had no holder for at least
 * `GC_GRACE_MS`, after releasing the holders whose lifetime ended (hot
 * write-through, `HOT_CACHE_TTL_MS`). Only blocks some pin, upload or hot
 * write once held are candidates. Returns
 * the number of blocks deleted.
 */
export async function collectGarbage(env: Env, graceMs = Number(env.GC_GRACE_MS ?? "3600000")): Promise<number> {
  const grace = Number.isFinite(graceMs) && graceMs >= 0 ? graceMs : 3_600_000;
  const deleted = await Promise.all(
    Array.from({ length: BLOCK_REF_SHARDS }, (_, shard) => blockRefsShard(env, shard).collect(grace, PER_SHARD)),
  );
  return deleted.reduce((a, b) => a + b, 0);
}
