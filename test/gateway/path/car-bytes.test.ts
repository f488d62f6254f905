/**
 * The CAR body byte for byte: the gateway writes one chunk per section
 * (the prefix in the bytes before a pooled block, a small block copied
 * behind its prefix, a large unpooled one after it, the header with the
 * first section: src/gateway/handlers/car-stream.ts). Whatever the path, the
 * body must be exactly the CARv1 an independent encoder makes of the honest
 * upstream's blocks (test/servers/car-encode.ts): header with the root, then
 * each block once, in DFS order.
 */
import { CID } from "multiformats/cid";
import { describe, expect, it } from "vitest";
import { encodeCar } from "../../servers/car-encode";
import { fetchWorker, importFile, putBlocks } from "../../helpers/upstream";
import { honestCar, pseudoRandomBytes } from "../racing/dag-fixture";
import { sha256 } from "multiformats/hashes/sha2";

const rawBlock = async (bytes: Uint8Array) => ({ cid: CID.createV1(0x55, await sha256.digest(bytes)), bytes });

async function expectExactCar(root: CID): Promise<Uint8Array> {
  const res = await fetchWorker(`/ipfs/${root}?format=car`);
  expect(res.status).toBe(200);
  expect(res.headers.get("Content-Type")).toBe("application/vnd.ipld.car; version=1; order=dfs; dups=n");
  const body = new Uint8Array(await res.arrayBuffer());
  const honest = await honestCar(`/ipfs/${root}`);
  const want = encodeCar([root], honest.blocks.map((b) => ({ cid: CID.parse(b.cid), bytes: b.bytes })));
  expect(body.length).toBe(want.length);
  expect(body).toEqual(want);
  return body;
}

describe("CAR body bytes", () => {
  it("a file of raw leaves (pooled blocks, prefix written before each): exact bytes", async () => {
    const { cid } = await importFile(pseudoRandomBytes(5 * 64 * 1024 + 777, 501), { chunkSize: 64 * 1024, rawLeaves: true, cidVersion: 1 });
    await expectExactCar(cid);
  });

  it("a single raw block as root (the header goes out with its section): exact bytes", async () => {
    const bytes = pseudoRandomBytes(100_000, 502);
    const block = await rawBlock(bytes);
    await putBlocks([block]);
    const body = await expectExactCar(block.cid);
    expect(body.length).toBeGreaterThan(bytes.length);
  });

  it("a file of dag-pb leaves larger than the copy limit (not pooled: prefix then block): exact bytes", async () => {
    const { cid } = await importFile(pseudoRandomBytes(3 * 100_000 + 5, 503), { chunkSize: 100_000, rawLeaves: false, cidVersion: 1 });
    await expectExactCar(cid);
  });

  it("a file whose leaves repeat (dups=n: each block once, its pooled buffer given back): exact bytes", async () => {
    const chunk = pseudoRandomBytes(64 * 1024, 504);
    const bytes = new Uint8Array(4 * chunk.length + 10);
    for (let i = 0; i < 4; i++) bytes.set(chunk, i * chunk.length);
    const { cid } = await importFile(bytes, { chunkSize: 64 * 1024, rawLeaves: true, cidVersion: 1 });
    const body = await expectExactCar(cid);
    // root + one 64 KiB leaf + the 10-byte tail: the repeated leaf went out once.
    expect(body.length).toBeLessThan(2 * chunk.length + 1000);
  });

  it("a file of small raw leaves (copied behind their prefix): exact bytes", async () => {
    const { cid } = await importFile(pseudoRandomBytes(40 * 1024 + 3, 505), { chunkSize: 1024, rawLeaves: true, cidVersion: 1 });
    await expectExactCar(cid);
  });
});
