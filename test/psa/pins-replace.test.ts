import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { CID } from "multiformats/cid";
import { sha256 } from "multiformats/hashes/sha2";
import { blockKey } from "../../src/backends/r2-block-store";
import { registryStub } from "../../src/durable-objects/pin-registry";
import { blockRefsShard, shardOf } from "../../src/pinning/block-refs";
import { collectGarbage } from "../../src/pinning/gc";
import { call, expectFailure, newAccount, pinJson, pseudoRandomBytes, settle, unixfsDag, type PinStatusJson } from "../pinning/helpers";

/**
 * `POST /psa/pins/{requestid}` (ipfs-pinning-service.yaml, "Replace pin
 * object": "The old pin object is deleted automatically"): the old object
 * is gone at once, while the blocks it held stay protected from GC until
 * the new pin is pinned or failed.
 */

type Upload = { cid: string; requestid: string };
type List = { count: number; results: PinStatusJson[] };

const ALL = "status=queued,pinning,pinned,failed";

/** A CID no upstream, origin or provider has (the hash of bytes never stored anywhere). */
async function unreachableCid(seed: number): Promise<CID> {
  return CID.createV1(0x55, await sha256.digest(pseudoRandomBytes(64, 9000 + seed)));
}

async function uploadFile(token: string, seed: number): Promise<{ up: Upload; keys: string[]; cids: CID[] }> {
  const bytes = pseudoRandomBytes(1024 * 1024 + 300, seed);
  const res = await call("POST", "/api/v1/upload", { token, body: bytes });
  expect(res.status).toBe(201);
  const up = (await res.json()) as Upload;
  const dag = await unixfsDag(bytes, 1024 * 1024);
  expect(dag.root.toString()).toBe(up.cid);
  return { up, keys: dag.blocks.map((b) => blockKey(b.cid)), cids: dag.blocks.map((b) => b.cid) };
}

async function present(keys: string[]): Promise<number> {
  let n = 0;
  for (const key of keys) if ((await env.BLOCKS.head(key)) !== null) n++;
  return n;
}

async function holdersOfBlocks(cids: CID[]): Promise<number[]> {
  return Promise.all(cids.map((cid) => blockRefsShard(env, shardOf(cid)).holders(blockKey(cid))));
}

describe("PSA replace: the old pin goes at once, its blocks stay until the new pin settles", () => {
  it("with an unreachable new CID: old 404 and gone from lists and counts at once, its blocks kept until the new pin fails, then collectable", async () => {
    const { token, account } = await newAccount("replace-unreachable");
    const { up, keys, cids } = await uploadFile(token, 71);
    expect(keys).toHaveLength(3); // two 1 MiB raw leaves and the dag-pb root
    const registry = registryStub(env, account);
    // The first try finds nothing and is retried 5 s later (before the 12 s deadline); the second try
    // finds nothing either and, its next retry being past the deadline, fails the pin. Until then (5 s)
    // the new pin is queued and the old blocks must stay held.
    await registry.setLimits({ deadlineMs: 12_000, maxPins: 1 });
    const target = await unreachableCid(1);

    // At the pin quota (1 pin): replacing does not need room for a second one.
    const next = await pinJson(await call("POST", `/psa/pins/${up.requestid}`, { token, body: { cid: target.toString(), name: "next" } }));
    expect(next.status).toBe("queued");
    expect(next.requestid).not.toBe(up.requestid);

    await expectFailure(await call("GET", `/psa/pins/${up.requestid}`, { token }), 404, "NOT_FOUND");
    await expectFailure(await call("DELETE", `/psa/pins/${up.requestid}`, { token }), 404, "NOT_FOUND");
    const list = (await (await call("GET", `/psa/pins?${ALL}`, { token })).json()) as List;
    expect(list.count).toBe(1);
    expect(list.results.map((r) => r.requestid)).toEqual([next.requestid]);
    const byCid = (await (await call("GET", `/psa/pins?${ALL}&cid=${up.cid}`, { token })).json()) as List;
    expect(byCid).toEqual({ count: 0, results: [] });
    expect((await registry.usage()).pins).toBe(1);

    // The old DAG is still held: its holder is not released, every block has a holder, GC keeps them.
    expect(await registry.holdersOf(up.cid)).toHaveLength(1);
    expect((await registry.pendingWork()).filter((w) => w.kind === "release")).toEqual([]);
    expect(await holdersOfBlocks(cids)).toEqual([1, 1, 1]);
    await collectGarbage(env, 0);
    expect(await present(keys)).toBe(3);
    const pending = await pinJson(await call("GET", `/psa/pins/${next.requestid}`, { token }), 200);
    expect(["queued", "pinning"]).toContain(pending.status);

    // The new pin fails (nothing has that CID; the registry's alarm retries on its own): now the old
    // blocks are let go, and GC takes them after the grace period.
    const failed = await vi.waitFor(
      async () => {
        await settle(account);
        const got = await pinJson(await call("GET", `/psa/pins/${next.requestid}`, { token }), 200);
        if (got.status !== "failed") throw new Error(`still ${got.status}`);
        return got;
      },
      { timeout: 20_000, interval: 250 },
    );
    expect(failed.info.attempt_count).toBe("2");
    await settle(account);
    expect(failed.info.failure_reason).toMatch(/^the DAG could not be fetched before the deadline /);
    expect(await registry.holdersOf(up.cid)).toEqual([]);
    expect(await holdersOfBlocks(cids)).toEqual([0, 0, 0]);
    await collectGarbage(env, 60_000);
    expect(await present(keys)).toBe(3);
    await collectGarbage(env, 0);
    expect(await present(keys)).toBe(0);
  });

  it("the old blocks are let go when the new pin is pinned; a chain of replaces keeps the first DAG until the last one settles", async () => {
    const { token, account } = await newAccount("replace-chain");
    const first = await uploadFile(token, 72);
    const registry = registryStub(env, account);
    // A pin that cannot be had yet, replaced again before it settles: the first DAG stays held throughout.
    const middle = await pinJson(await call("POST", `/psa/pins/${first.up.requestid}`, { token, body: { cid: (await unreachableCid(2)).toString() } }));
    const held = await uploadFile(token, 73); // a DAG the account already holds: replacing with it is pinned at once
    const last = await pinJson(await call("POST", `/psa/pins/${middle.requestid}`, { token, body: { cid: (await unreachableCid(3)).toString() } }));
    await expectFailure(await call("GET", `/psa/pins/${middle.requestid}`, { token }), 404, "NOT_FOUND");
    expect(await holdersOfBlocks(first.cids)).toEqual([1, 1, 1]);
    await collectGarbage(env, 0);
    expect(await present(first.keys)).toBe(3);

    // Replacing `last` with a root already held settles it at once: the first DAG is let go.
    const done = await pinJson(await call("POST", `/psa/pins/${last.requestid}`, { token, body: { cid: held.up.cid } }));
    expect(done.status).toBe("pinned");
    await settle(account);
    expect(await holdersOfBlocks(first.cids)).toEqual([0, 0, 0]);
    expect(await holdersOfBlocks(held.cids)).toEqual([1, 1, 1]);
    await collectGarbage(env, 0);
    expect(await present(first.keys)).toBe(0);
    expect(await present(held.keys)).toBe(3);
    const list = (await (await call("GET", `/psa/pins?${ALL}`, { token })).json()) as List;
    expect(list.results.map((r) => r.requestid).sort()).toEqual([done.requestid, held.up.requestid].sort());
  });

  it("replacing a pin that does not exist (or was already replaced) is 404 and creates nothing", async () => {
    const { token, account } = await newAccount("replace-missing");
    await expectFailure(await call("POST", `/psa/pins/${crypto.randomUUID()}`, { token, body: { cid: "bafkqaaa" } }), 404, "NOT_FOUND");
    const list = (await (await call("GET", `/psa/pins?${ALL}`, { token })).json()) as List;
    expect(list.count).toBe(0);
    expect(await registryStub(env, account).pendingWork()).toEqual([]);
  });
});
