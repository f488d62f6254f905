import { describe, expect, it } from "vitest";
import { fetchWorker, importDirectory, importFile, parseCar, putDagCbor, putDagJson, uniquePersonality, withUpstreams, type ImportOptions } from "../../helpers/upstream";
import { honestCar, pseudoRandomBytes } from "./dag-fixture";

const CAR_DUPS = { Accept: "application/vnd.ipld.car; version=1; order=dfs; dups=y" };

async function viaWorker(path: string, headers: Record<string, string> = { Accept: "application/vnd.ipld.car" }) {
  const res = await fetchWorker(path, { headers });
  expect(res.status).toBe(200);
  return parseCar(new Uint8Array(await res.arrayBuffer()));
}

/** Reassembles a UnixFS file from the raw leaves of a CAR (leaves are the raw-codec blocks, in DFS order). */
function leafBytes(blocks: { cid: string; bytes: Uint8Array }[]): Uint8Array {
  const leaves = blocks.filter((b) => b.cid.startsWith("bafkrei"));
  const out = new Uint8Array(leaves.reduce((n, b) => n + b.bytes.length, 0));
  let off = 0;
  for (const b of leaves) {
    out.set(b.bytes, off);
    off += b.bytes.length;
  }
  return out;
}

describe("DAGs built with the UnixFS importer, through the worker", () => {
  const shapes: [string, ImportOptions][] = [
    ["CIDv1, raw leaves, 256 KiB chunks", { cidVersion: 1, rawLeaves: true, chunkSize: 262_144 }],
    ["CIDv1, dag-pb leaves, 100 KiB chunks", { cidVersion: 1, rawLeaves: false, chunkSize: 100_000 }],
    ["CIDv0, 64 KiB chunks, 3 children per node (deep tree)", { cidVersion: 0, rawLeaves: false, chunkSize: 65_536, maxChildrenPerNode: 3 }],
    ["trickle layout, raw leaves, 32 KiB chunks", { cidVersion: 1, rawLeaves: true, chunkSize: 32_768, layout: "trickle" }],
  ];
  for (const [i, [name, options]] of shapes.entries()) {
    it(`${name}: the CAR equals the spec's selection, for the whole file and for byte ranges`, async () => {
      const bytes = pseudoRandomBytes(700_000, 500 + i);
      const { cid } = await importFile(bytes, options);
      for (const query of ["", "?dag-scope=entity", "?entity-bytes=300000:400000", "?entity-bytes=-1000:*", "?dag-scope=block"]) {
        const got = await viaWorker(`/ipfs/${cid}${query}`);
        const want = await honestCar(`/ipfs/${cid}${query}`);
        expect(got.roots).toEqual([cid.toString()]);
        expect(got.blocks.map((b) => b.cid), query).toEqual(want.blocks.map((b) => b.cid));
        expect(got.blocks).toEqual(want.blocks);
      }
      if (options.rawLeaves) expect(leafBytes((await viaWorker(`/ipfs/${cid}`)).blocks)).toEqual(bytes);
    });
  }

  it("HAMT-sharded directory: path lookups walk the shards; entity = the shards only", async () => {
    const entries = Array.from({ length: 300 }, (_, n) => ({ path: `file-${n}.txt`, content: new TextEncoder().encode(`content ${n}\n`) }));
    const dir = await importDirectory(entries, { shardSplitThresholdBytes: 1000 });
    for (const name of ["file-0.txt", "file-137.txt", "file-299.txt"]) {
      const got = await viaWorker(`/ipfs/${dir.cid}/${name}`);
      const want = await honestCar(`/ipfs/${dir.cid}/${name}`);
      expect(got.blocks.map((b) => b.cid)).toEqual(want.blocks.map((b) => b.cid));
      expect(new TextDecoder().decode(got.blocks.at(-1)!.bytes)).toBe(`content ${name.slice(5, -4)}\n`);
    }
    const entity = await viaWorker(`/ipfs/${dir.cid}?dag-scope=entity`);
    expect(entity.blocks.map((b) => b.cid)).toEqual((await honestCar(`/ipfs/${dir.cid}?dag-scope=entity`)).blocks.map((b) => b.cid));
    expect(entity.blocks.length).toBeGreaterThan(1);
    const missing = await fetchWorker(`/ipfs/${dir.cid}/no-such-file.txt?format=car`);
    expect(missing.status).toBe(404);
    expect(await missing.text()).toBe(`/ipfs/${dir.cid}/no-such-file.txt not found on any upstream\n`);
  });

  it("dag-cbor and dag-json documents: paths through links, links followed in data-model order for dag-scope=all", async () => {
    const leaf = await putDagJson({ hello: "json leaf" });
    const file = await importFile(pseudoRandomBytes(5000, 7), { chunkSize: 1024 });
    const doc = await putDagCbor({ b: { file: file.cid }, a: [leaf.cid, { deep: leaf.cid }], n: 1 });
    const all = await viaWorker(`/ipfs/${doc.cid}`, CAR_DUPS);
    expect(all.blocks.map((b) => b.cid)).toEqual((await honestCar(`/ipfs/${doc.cid}?car-dups=y`)).blocks.map((b) => b.cid));
    // dag-cbor orders map keys by length then bytes: a before b; a's list holds leaf twice (dups=y).
    expect(all.blocks.map((b) => b.cid).slice(0, 4)).toEqual([doc.cid.toString(), leaf.cid.toString(), leaf.cid.toString(), file.cid.toString()]);
    const viaPath = await viaWorker(`/ipfs/${doc.cid}/a/1/deep`);
    expect(viaPath.blocks.map((b) => b.cid)).toEqual([doc.cid.toString(), leaf.cid.toString()]);
    const notLink = await fetchWorker(`/ipfs/${doc.cid}/n?format=car`);
    expect(notLink.status).toBe(501);
    const absent = await fetchWorker(`/ipfs/${doc.cid}/zzz?format=car`);
    expect(absent.status).toBe(404);
  });

  it("dups=y from a dups=n upstream: repeated blocks come from the session, not the stream", async () => {
    const same = new TextEncoder().encode("the same bytes in three files\n");
    const dir = await importDirectory([
      { path: "a.txt", content: same },
      { path: "b.txt", content: same },
      { path: "c.txt", content: same },
    ]);
    const w = withUpstreams([uniquePersonality("dups-n")]);
    const res = await w.fetch(`/ipfs/${dir.cid}`, { headers: CAR_DUPS });
    expect(res.headers.get("Content-Type")).toBe("application/vnd.ipld.car; version=1; order=dfs; dups=y");
    const got = await parseCar(new Uint8Array(await res.arrayBuffer()));
    const fileCid = dir.paths.get("a.txt")!.toString();
    expect(got.blocks.map((b) => b.cid)).toEqual([dir.cid.toString(), fileCid, fileCid, fileCid]);
    const dedup = await w.fetch(`/ipfs/${dir.cid}?format=car`);
    expect((await parseCar(new Uint8Array(await dedup.arrayBuffer()))).blocks.map((b) => b.cid)).toEqual([dir.cid.toString(), fileCid]);
  });
});
