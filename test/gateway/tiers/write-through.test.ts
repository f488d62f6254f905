/**
 * Hot write-through (HOT_WRITE_THROUGH, src/gateway/tiers/hot-policy.ts and
 * write-through.ts): verified blocks fetched from upstreams go to R2 in the
 * background; the root goes last and only after a whole-DAG response, so
 * the next request (another region: another isolate, same R2) is answered
 * from R2 without asking any upstream.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { R2BlockStore } from "../../../src/backends/r2-block-store";
import { parseCar, putBlocks } from "../../helpers/upstream";
import { call, newAccount, pinJson, settle, unixfsDag } from "../../pinning/helpers";
import type { CID } from "multiformats/cid";
import { blockKey } from "../../../src/backends/r2-block-store";
import { blockRefsShard, hotHolder, shardOf } from "../../../src/pinning/block-refs";
import { collectGarbage } from "../../../src/pinning/gc";
import { pathGateway, pseudoRandomBytes } from "../path/helpers";

const seed = () => crypto.getRandomValues(new Uint32Array(1))[0]! | 1;
const store = new R2BlockStore(env.BLOCKS);

async function freshDag(length = 300 * 1024) {
  const bytes = pseudoRandomBytes(length, seed());
  const dag = await unixfsDag(bytes, 64 * 1024);
  await putBlocks(dag.blocks);
  return { ...dag, bytes };
}

async function inR2(blocks: { cid: import("multiformats/cid").CID }[]): Promise<boolean[]> {
  return Promise.all(blocks.map((b) => store.has(b.cid)));
}

async function drain(res: Response): Promise<Uint8Array> {
  return new Uint8Array(await res.arrayBuffer());
}

describe("hot write-through", () => {
  it("off (the default): nothing is written to R2", async () => {
    const dag = await freshDag();
    const gw = pathGateway();
    expect(await drain(await gw.fetch(`/ipfs/${dag.root}`))).toEqual(dag.bytes);
    await gw.settle();
    expect(await inR2(dag.blocks)).toEqual(dag.blocks.map(() => false));
  });

  it("always: a whole file's blocks and then its root land in R2; the next request asks no upstream", async () => {
    const dag = await freshDag();
    const first = pathGateway("honest", { HOT_WRITE_THROUGH: "always" });
    expect(await drain(await first.fetch(`/ipfs/${dag.root}`))).toEqual(dag.bytes);
    await first.settle();
    expect(await inR2(dag.blocks)).toEqual(dag.blocks.map(() => true));
    expect(await store.get(dag.root)).toEqual(dag.blocks.find((b) => b.cid.equals(dag.root))!.bytes);

    // Another "region": a fresh upstream log, a format the edge cache does not hold.
    const second = pathGateway();
    const car = await parseCar(await drain(await second.fetch(`/ipfs/${dag.root}?format=car`)));
    expect(car.blocks).toHaveLength(dag.blocks.length);
    await second.settle();
    expect(await second.asked()).toEqual([]);
  });

  it("a threshold n writes through from the n-th request for a root in the isolate", async () => {
    const dag = await freshDag();
    // CARs with the edge cache's CAR copies off (EDGE_CACHE_CAR_MAX_BYTES=0): each request reaches the tiers and counts.
    const gw = pathGateway("honest", { HOT_WRITE_THROUGH: "2", EDGE_CACHE_CAR_MAX_BYTES: "0" });
    await drain(await gw.fetch(`/ipfs/${dag.root}?format=car`));
    await gw.settle();
    expect(await store.has(dag.root)).toBe(false);
    await drain(await gw.fetch(`/ipfs/${dag.root}?format=car`));
    await gw.settle();
    expect(await inR2(dag.blocks)).toEqual(dag.blocks.map(() => true));
    expect(await gw.asked()).toHaveLength(2);
    await drain(await gw.fetch(`/ipfs/${dag.root}?format=car`));
    await gw.settle();
    expect(await gw.asked()).toHaveLength(2);
  });

  it("a Range response writes its blocks but not the root: the DAG is not taken as present", async () => {
    const dag = await freshDag();
    const gw = pathGateway("honest", { HOT_WRITE_THROUGH: "always" });
    const res = await gw.fetch(`/ipfs/${dag.root}`, { headers: { Range: "bytes=70000-70009" } });
    expect(res.status).toBe(206);
    expect(await drain(res)).toEqual(dag.bytes.slice(70_000, 70_010));
    await gw.settle();
    expect(await store.has(dag.root)).toBe(false);
    const written = (await inR2(dag.blocks)).filter(Boolean).length;
    expect(written).toBeGreaterThan(0);
    expect(written).toBeLessThan(dag.blocks.length);
    // So the next whole request still goes upstream, for the whole DAG.
    const again = pathGateway();
    await drain(await again.fetch(`/ipfs/${dag.root}?format=car`));
    await again.settle();
    expect(await again.asked()).toHaveLength(1);
  });

  it("past HOT_WRITE_THROUGH_MAX_BYTES nothing more is written, and never the root", async () => {
    const dag = await freshDag();
    const gw = pathGateway("honest", { HOT_WRITE_THROUGH: "always", HOT_WRITE_THROUGH_MAX_BYTES: String(100 * 1024) });
    expect(await drain(await gw.fetch(`/ipfs/${dag.root}`))).toEqual(dag.bytes);
    await gw.settle();
    expect(await store.has(dag.root)).toBe(false);
    expect((await inR2(dag.blocks)).filter(Boolean).length).toBe(1); // one 64 KiB leaf fits, the second does not
  });

  it("a response that fails writes no root", async () => {
    const dag = await freshDag();
    const gw = pathGateway("flip-byte-3", { HOT_WRITE_THROUGH: "always" });
    const res = await gw.fetch(`/ipfs/${dag.root}?format=car`);
    await expect(res.arrayBuffer()).rejects.toThrow();
    await gw.settle();
    expect(await store.has(dag.root)).toBe(false);
  });
});

describe("hot write-through: blocks held for GC with a lifetime (HOT_CACHE_TTL_MS)", () => {
  const holdersOf = (cid: CID) => blockRefsShard(env, shardOf(cid)).holders(blockKey(cid));

  it("written blocks are held until the lifetime ends, then GC collects them — except those a pin also holds", async () => {
    const loose = await freshDag(200 * 1024);
    const pinned = await freshDag(200 * 1024);
    const gw = pathGateway("honest", { HOT_WRITE_THROUGH: "always", HOT_CACHE_TTL_MS: "5000" });
    const before = Date.now();
    expect(await drain(await gw.fetch(`/ipfs/${loose.root}`))).toEqual(loose.bytes);
    expect(await drain(await gw.fetch(`/ipfs/${pinned.root}`))).toEqual(pinned.bytes);
    await gw.settle();
    expect(await inR2(loose.blocks)).toEqual(loose.blocks.map(() => true));
    expect(await inR2(pinned.blocks)).toEqual(pinned.blocks.map(() => true));
    // Every block has exactly one holder: the root's hot holder, with its end time.
    for (const b of [...loose.blocks, ...pinned.blocks]) expect(await holdersOf(b.cid), `hot holders of ${b.cid}`).toBe(1);
    const lease = await blockRefsShard(env, shardOf(loose.root)).leaseOf(hotHolder(loose.root));
    expect(lease).toBeGreaterThanOrEqual(before + 5000);
    expect(lease).toBeLessThanOrEqual(Date.now() + 5000);

    // A pin of the second DAG (already in R2: held by the pin, nothing fetched).
    const { token, account } = await newAccount("hot-pin");
    const pin = await pinJson(await call("POST", "/psa/pins", { token, body: { cid: pinned.root.toString() } }));
    await settle(account);
    expect((await pinJson(await call("GET", `/psa/pins/${pin.requestid}`, { token }), 200)).status).toBe("pinned");

    // Within the lifetime: GC (even with no grace period) keeps everything.
    expect(Date.now()).toBeLessThan(lease!);
    await collectGarbage(env, 0);
    expect(await inR2(loose.blocks)).toEqual(loose.blocks.map(() => true));

    // After it: the hot holder lets go; the loose DAG goes, the pinned one stays (and is still served from R2).
    const pinnedLease = await blockRefsShard(env, shardOf(pinned.root)).leaseOf(hotHolder(pinned.root));
    expect(pinnedLease).toBeGreaterThanOrEqual(lease!); // its response started a moment later
    await new Promise((done) => setTimeout(done, Math.max(0, pinnedLease! - Date.now()) + 50));
    await collectGarbage(env, 60_000); // the lease ends, the blocks become candidates: kept for the grace period
    expect(await inR2(loose.blocks)).toEqual(loose.blocks.map(() => true));
    for (const b of loose.blocks) expect(await holdersOf(b.cid), `holders of ${b.cid}`).toBe(0);
    expect(await blockRefsShard(env, shardOf(loose.root)).leaseOf(hotHolder(loose.root))).toBeNull();
    await collectGarbage(env, 0);
    expect(await inR2(loose.blocks)).toEqual(loose.blocks.map(() => false));
    expect(await inR2(pinned.blocks)).toEqual(pinned.blocks.map(() => true));
    for (const b of pinned.blocks) expect(await holdersOf(b.cid), `pin holders of ${b.cid}`).toBe(1);
    const fromR2 = pathGateway();
    const res = await fromR2.fetch(`/ipfs/${pinned.root}`, { headers: { "Cache-Control": "only-if-cached" } });
    expect(await drain(res)).toEqual(pinned.bytes);
  });
});

