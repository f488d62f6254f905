import { env } from "cloudflare:workers";
import { CarWriter } from "@ipld/car/writer";
import * as dagPb from "@ipld/dag-pb";
import { CID } from "multiformats/cid";
import { sha256 } from "multiformats/hashes/sha2";
import { describe, expect, it } from "vitest";
import { blockKey } from "../../src/backends/r2-block-store";
import { dagCar, measureDagCar } from "../../src/replication/dag-car";
import { parseCar } from "../helpers/car";
import { putInR2, pseudoRandomBytes, unixfsDag } from "../pinning/helpers";

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) parts.push(chunk);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) (out.set(p, o), (o += p.length));
  return out;
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** The reference: @ipld/car's writer given the blocks in depth-first link order, each once. */
async function referenceCar(root: CID, blocks: Map<string, Uint8Array>): Promise<Uint8Array> {
  const { writer, out } = CarWriter.create([root]);
  const collected = readAll(new ReadableStream({ async start(c) { for await (const chunk of out) c.enqueue(chunk); c.close(); } }));
  const seen = new Set<string>();
  const visit = async (cid: CID): Promise<void> => {
    if (seen.has(cid.toV1().toString())) return;
    seen.add(cid.toV1().toString());
    const bytes = blocks.get(cid.toV1().toString())!;
    await writer.put({ cid, bytes });
    if (cid.code === dagPb.code) for (const link of dagPb.decode(bytes).Links) await visit(link.Hash);
  };
  await visit(root);
  await writer.close();
  return collected;
}

describe("DagToStore.car: a CARv1 of a pinned DAG streamed from R2", () => {
  it("is byte for byte the reference CAR (DFS, each block once), its length measured exactly without reading leaves", async () => {
    // Two files sharing chunks under one directory: repeated blocks are written once.
    const a = pseudoRandomBytes(5000, 71);
    const fileA = await unixfsDag(a, 1000);
    const fileB = await unixfsDag(new Uint8Array([...a, ...pseudoRandomBytes(1500, 72)]), 1000);
    const dir = dagPb.encode(dagPb.prepare({ Data: new Uint8Array([8, 1]), Links: [
      { Name: "a", Hash: fileA.root, Tsize: 5000 },
      { Name: "b", Hash: fileB.root, Tsize: 6500 },
    ] }));
    const root = CID.createV1(dagPb.code, await sha256.digest(dir));
    const all = [...fileA.blocks, ...fileB.blocks, { cid: root, bytes: dir }];
    await putInR2(all);
    const byKey = new Map(all.map((b) => [b.cid.toV1().toString(), b.bytes]));

    const expected = await referenceCar(root, byKey);
    const measured = await measureDagCar(env.BLOCKS, root);
    const got = await readAll(dagCar(env.BLOCKS, root));
    expect(measured.carSize).toBe(expected.length);
    expect(got.length).toBe(expected.length);
    expect(equal(got, expected)).toBe(true);
    expect(measured.blocks).toBe(byKey.size);
    expect(measured.dagSize).toBe([...byKey.values()].reduce((n, b) => n + b.length, 0));
    const parsed = await parseCar(got);
    expect(parsed.roots).toEqual([root.toString()]);
    expect(new Set(parsed.blocks.map((b) => b.cid)).size).toBe(parsed.blocks.length);

    // Resuming from any byte yields exactly the rest of the same CAR.
    for (const from of [1, 40, 59, 1000, 4321, expected.length - 3, expected.length]) {
      const rest = await readAll(dagCar(env.BLOCKS, root, from));
      expect(rest.length, `from ${from}`).toBe(expected.length - from);
      expect(equal(rest, expected.subarray(from)), `from ${from}`).toBe(true);
    }
  });

  it("fails the stream when a block in R2 does not match its CID (never sends unverified bytes)", async () => {
    const dag = await unixfsDag(pseudoRandomBytes(3000, 73), 1000);
    await putInR2(dag.blocks);
    const leaf = dag.blocks.find((b) => b.cid.code === 0x55)!;
    const flipped = leaf.bytes.slice();
    flipped[10] = flipped[10]! ^ 1;
    await env.BLOCKS.put(blockKey(leaf.cid), flipped);
    await expect(readAll(dagCar(env.BLOCKS, dag.root))).rejects.toThrow(/does not match its CID/);
    await env.BLOCKS.delete(blockKey(leaf.cid));
    await expect(measureDagCar(env.BLOCKS, dag.root)).rejects.toThrow(/missing from R2/);
  });
});
