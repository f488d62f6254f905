/**
 * The R2 tier (src/gateway/tiers/): content whose root is in R2 is served
 * from R2 without a single upstream request, re-hashed on the way out;
 * a corrupt R2 block is served from upstream and rewritten; a block missing
 * from an R2 DAG is fetched by itself. Blocks go into R2 the way pinning and
 * uploads put them there (R2BlockStore), or through POST /api/v1/upload.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { blockKey, R2BlockStore } from "../../../src/backends/r2-block-store";
import { parseCar, putBlocks } from "../../helpers/upstream";
import { call, newAccount, putInR2, unixfsDag } from "../../pinning/helpers";
import { pathGateway, pseudoRandomBytes } from "../path/helpers";

const seed = () => crypto.getRandomValues(new Uint32Array(1))[0]! | 1;

async function bytesOf(res: Response): Promise<Uint8Array> {
  return new Uint8Array(await res.arrayBuffer());
}

describe("R2 tier", () => {
  it("a file whose blocks are in R2 is served from R2: no upstream request (file, CAR, Range)", async () => {
    const bytes = pseudoRandomBytes(600 * 1024, seed());
    const dag = await unixfsDag(bytes, 64 * 1024);
    await putInR2(dag.blocks);
    const gw = pathGateway();

    const file = await gw.fetch(`/ipfs/${dag.root}?filename=a.bin`);
    expect(file.status).toBe(200);
    expect(file.headers.get("Content-Length")).toBe(String(bytes.length));
    expect(file.headers.get("X-Ipfs-Roots")).toBe(String(dag.root));
    expect(await bytesOf(file)).toEqual(bytes);

    const car = await gw.fetch(`/ipfs/${dag.root}?format=car&dag-scope=all`);
    expect(car.status).toBe(200);
    const parsed = await parseCar(await bytesOf(car));
    expect(parsed.roots).toEqual([String(dag.root)]);
    expect(parsed.blocks[0]?.cid).toBe(String(dag.root));
    expect(parsed.blocks).toHaveLength(dag.blocks.length);

    const range = await gw.fetch(`/ipfs/${dag.root}`, { headers: { Range: "bytes=500000-500099" } });
    expect(range.status).toBe(206);
    expect(await bytesOf(range)).toEqual(bytes.slice(500_000, 500_100));

    await gw.settle();
    expect(await gw.asked()).toEqual([]);
    // Nothing reached the upstream's health record either.
    expect(await gw.counts()).toBeUndefined();
  });

  it("an upload (POST /api/v1/upload) is served by the gateway from R2 (the upstream never had it)", async () => {
    const { token } = await newAccount();
    const bytes = pseudoRandomBytes(1500 * 1024, seed());
    const up = await call("POST", "/api/v1/upload", { token, body: bytes, headers: { "Content-Type": "application/octet-stream" } });
    expect(up.status).toBe(201);
    const { cid } = (await up.json()) as { cid: string };
    const gw = pathGateway();
    const res = await gw.fetch(`/ipfs/${cid}`);
    expect(res.status).toBe(200);
    expect(await bytesOf(res)).toEqual(bytes);
    await gw.settle();
    expect(await gw.asked()).toEqual([]);
  });

  it("a corrupt block in R2 is never served: it comes from upstream by itself and is rewritten in R2", async () => {
    const bytes = pseudoRandomBytes(300 * 1024, seed());
    const dag = await unixfsDag(bytes, 64 * 1024);
    await putInR2(dag.blocks);
    await putBlocks(dag.blocks); // the upstream has it too
    const leaf = dag.blocks.find((b) => b.cid.code === 0x55 && b.bytes.length === 64 * 1024)!;
    const flipped = leaf.bytes.slice();
    flipped[100]! ^= 0xff;
    await env.BLOCKS.put(blockKey(leaf.cid), flipped);

    const gw = pathGateway();
    const res = await gw.fetch(`/ipfs/${dag.root}?format=car`);
    expect(res.status).toBe(200);
    const car = await parseCar(await bytesOf(res));
    expect(car.blocks.find((b) => b.cid === String(leaf.cid))?.bytes).toEqual(leaf.bytes);
    await gw.settle();
    expect(await gw.asked()).toEqual([`/ipfs/${leaf.cid}?format=raw`]);
    expect(await new R2BlockStore(env.BLOCKS).get(leaf.cid)).toEqual(leaf.bytes);
  });

  it("a block missing from an R2 DAG is fetched by itself (?format=raw), the rest from R2", async () => {
    const bytes = pseudoRandomBytes(300 * 1024, seed());
    const dag = await unixfsDag(bytes, 64 * 1024);
    const missing = dag.blocks.find((b) => b.cid.code === 0x55)!;
    await putInR2(dag.blocks.filter((b) => b !== missing));
    await putBlocks(dag.blocks);
    const gw = pathGateway();
    const res = await gw.fetch(`/ipfs/${dag.root}?format=car`);
    expect((await parseCar(await bytesOf(res))).blocks).toHaveLength(dag.blocks.length);
    await gw.settle();
    expect(await gw.asked()).toEqual([`/ipfs/${missing.cid}?format=raw`]);
    expect((await gw.counts())?.ok).toBe(1);
  });

  it("content not in R2 goes to the upstreams with the full request, as before", async () => {
    const bytes = pseudoRandomBytes(200 * 1024, seed());
    const dag = await unixfsDag(bytes, 64 * 1024);
    await putBlocks(dag.blocks);
    const gw = pathGateway();
    const res = await gw.fetch(`/ipfs/${dag.root}?format=car`);
    expect((await parseCar(await bytesOf(res))).blocks).toHaveLength(dag.blocks.length);
    await gw.settle();
    expect(await gw.asked()).toEqual([`/ipfs/${dag.root}?format=car&dag-scope=all&car-version=1&car-order=dfs&car-dups=y`]);
  });
});
