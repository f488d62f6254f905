import { env } from "cloudflare:workers";
import { createExecutionContext, createScheduledController, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { blockKey } from "../../src/backends/r2-block-store";
import { blockRefsShard, holdBlocks, shardOf } from "../../src/pinning/block-refs";
import { collectGarbage, GC_CRON } from "../../src/pinning/gc";
import worker from "../../src/worker";
import { call, newAccount, pinJson, pseudoRandomBytes, settle } from "./helpers";

type Upload = { cid: string; requestid: string };

async function upload(token: string, bytes: Uint8Array): Promise<Upload> {
  const res = await call("POST", "/api/v1/upload", { token, body: bytes });
  expect(res.status).toBe(201);
  return (await res.json()) as Upload;
}

async function leafKeys(bytes: Uint8Array): Promise<string[]> {
  const { unixfsDag } = await import("./helpers");
  const dag = await unixfsDag(bytes, 1024 * 1024);
  return dag.blocks.map((b) => blockKey(b.cid));
}

async function present(keys: string[]): Promise<number> {
  let n = 0;
  for (const key of keys) if ((await env.BLOCKS.head(key)) !== null) n++;
  return n;
}

describe("garbage collection (cron)", () => {
  it("deletes blocks of an unpinned DAG once no pin holds them, and only after the grace period", async () => {
    const { token, account } = await newAccount();
    const bytes = pseudoRandomBytes(1024 * 1024 + 10, 31);
    const keys = await leafKeys(bytes);
    const up = await upload(token, bytes);
    expect(await present(keys)).toBe(keys.length);

    expect((await call("DELETE", `/psa/pins/${up.requestid}`, { token })).status).toBe(202);
    await settle(account); // runs the durable 'release' work
    await collectGarbage(env, 60_000); // still within the grace period: kept
    expect(await present(keys)).toBe(keys.length);
    await collectGarbage(env, 0);
    expect(await present(keys)).toBe(0);
  });

  it("the scheduled() run on its cron deletes an unreferenced block once GC_GRACE_MS (1 h) has passed, and keeps a referenced one", async () => {
    const { token, account } = await newAccount();
    const gone = pseudoRandomBytes(2000, 34); // one raw block, released below
    const goneKeys = await leafKeys(gone);
    const goneUp = await upload(token, gone);
    const kept = pseudoRandomBytes(2100, 35); // one raw block, still pinned
    const keptKeys = await leafKeys(kept);
    const keptUp = await upload(token, kept);
    expect(goneKeys).toHaveLength(1);
    expect(keptKeys).toHaveLength(1);
    await call("DELETE", `/psa/pins/${goneUp.requestid}`, { token });
    await settle(account);

    const cron = async () => {
      const ctx = createExecutionContext();
      await worker.scheduled(createScheduledController({ cron: GC_CRON, scheduledTime: Date.now() }), env, ctx);
      await waitOnExecutionContext(ctx);
    };
    // Unwired, scheduled() would throw "no job for cron". Released a moment ago: within the grace period, kept.
    await cron();
    expect(await present(goneKeys)).toBe(1);

    // Two hours later (the candidate's `since` moved back), and a stale candidate row for the pinned block
    // as a racing release could leave: the unreferenced block goes, the referenced one stays.
    const [goneKey] = goneKeys as [string];
    const [keptKey] = keptKeys as [string];
    const shardOfKey = async (key: string) => {
      for (let shard = 0; shard < 16; shard++) {
        const found = await runInDurableObject(blockRefsShard(env, shard), (_o, state) =>
          state.storage.sql.exec("SELECT 1 FROM refs WHERE block = ? UNION SELECT 1 FROM candidates WHERE block = ?", key, key).toArray().length > 0,
        );
        if (found) return blockRefsShard(env, shard);
      }
      throw new Error(`no shard knows ${key}`);
    };
    const twoHoursAgo = Date.now() - 2 * 3_600_000;
    await runInDurableObject(await shardOfKey(goneKey), (_o, state) => {
      state.storage.sql.exec("UPDATE candidates SET since = ? WHERE block = ?", twoHoursAgo, goneKey);
      expect(state.storage.sql.exec("SELECT since FROM candidates WHERE block = ?", goneKey).toArray()).toEqual([{ since: twoHoursAgo }]);
    });
    const keptShard = await shardOfKey(keptKey);
    expect(await keptShard.holders(keptKey)).toBeGreaterThan(0);
    await runInDurableObject(keptShard, (_o, state) => {
      state.storage.sql.exec("INSERT OR REPLACE INTO candidates (block, since) VALUES (?, ?)", keptKey, twoHoursAgo);
    });
    await cron();
    expect(await env.BLOCKS.head(goneKey)).toBeNull();
    expect(await env.BLOCKS.head(keptKey)).not.toBeNull();
    const served = await call("GET", `/ipfs/${keptUp.cid}?format=raw`, { headers: { "Cache-Control": "only-if-cached" } });
    expect(served.status).toBe(200);
    expect(new Uint8Array(await served.arrayBuffer())).toEqual(kept);
  });

  it("never deletes a block another pin still needs (same DAG in two accounts, or twice in one)", async () => {
    const a = await newAccount("a");
    const b = await newAccount("b");
    const bytes = pseudoRandomBytes(1024 * 1024 + 20, 32);
    const keys = await leafKeys(bytes);
    const upA = await upload(a.token, bytes);
    const upB = await upload(b.token, bytes);
    const again = await pinJson(await call("POST", "/psa/pins", { token: a.token, body: { cid: upA.cid } }));
    expect(again.status).toBe("pinned");

    await call("DELETE", `/psa/pins/${upA.requestid}`, { token: a.token });
    await settle(a.account);
    await collectGarbage(env, 0);
    expect(await present(keys)).toBe(keys.length); // a's second pin and b's pin hold them

    await call("DELETE", `/psa/pins/${again.requestid}`, { token: a.token });
    await settle(a.account);
    await collectGarbage(env, 0);
    expect(await present(keys)).toBe(keys.length); // b still holds them

    await call("DELETE", `/psa/pins/${upB.requestid}`, { token: b.token });
    await settle(b.account);
    await collectGarbage(env, 0);
    expect(await present(keys)).toBe(0);
  });

  it("a hold that arrives while its block is being deleted waits for the delete, so the pinner sees it absent", async () => {
    const { unixfsDag } = await import("./helpers");
    const dag = await unixfsDag(pseudoRandomBytes(100, 33), 1024);
    const cid = dag.root;
    const key = blockKey(cid);
    await env.BLOCKS.put(key, dag.blocks[0]!.bytes);
    const shard = blockRefsShard(env, shardOf(cid));
    await holdBlocks(env, "test/holder-1", [cid]);
    await shard.release("test/holder-1");
    const collecting = shard.collect(0, 10);
    await holdBlocks(env, "test/holder-2", [cid]);
    expect(await env.BLOCKS.head(key)).toBeNull(); // the pinner now re-fetches it
    expect(await collecting).toBe(1);
    expect(await shard.holders(key)).toBe(1);
    // Held again: a later GC leaves it alone even once re-written.
    await env.BLOCKS.put(key, dag.blocks[0]!.bytes);
    await collectGarbage(env, 0);
    expect(await env.BLOCKS.head(key)).not.toBeNull();
    expect(await shard.holders(key)).toBe(1);
  });
});
