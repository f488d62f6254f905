/**
 * `?format=tar` over trees built on the fly: nested directories, a HAMT,
 * multi-block files of different layouts, long and non-ASCII names (pax
 * headers); entries in DFS order from one `dag-scope=all` upstream CAR;
 * escaping names refused; non-UnixFS content 406.
 */
import * as dagPb from "@ipld/dag-pb";
import { UnixFS } from "ipfs-unixfs";
import { CID } from "multiformats/cid";
import { sha256 } from "multiformats/hashes/sha2";
import { describe, expect, it } from "vitest";
import { importDirectory, putBlocks, putDagCbor } from "../../helpers/upstream";
import { bodyBytes, carRequest, hex, pathGateway, pseudoRandomBytes } from "./helpers";
import { readTar } from "./tar-reader";

const enc = new TextEncoder();

async function dagPbBlock(unixfs: UnixFS, links: dagPb.PBLink[]) {
  const bytes = dagPb.encode(dagPb.prepare({ Data: unixfs.marshal(), Links: links }));
  return { cid: CID.createV1(dagPb.code, await sha256.digest(bytes)), bytes };
}

describe("?format=tar", () => {
  it("a tree with a HAMT, multi-block files and long UTF-8 names: every entry, every byte, DFS order", async () => {
    const long = `${"ž".repeat(60)}.txt`;
    const big = pseudoRandomBytes(50_000, 21);
    const files = [
      { path: "t/a.txt", content: enc.encode("A\n") },
      { path: "t/big.bin", content: big },
      { path: `t/deep/${long}`, content: enc.encode("long name\n") },
      ...Array.from({ length: 300 }, (_, i) => ({ path: `t/shard/${i}.txt`, content: enc.encode(`entry ${i}\n`) })),
      { path: "t/empty/", content: undefined },
    ];
    const dir = await importDirectory(files.map((f) => (f.content ? f : { path: f.path.slice(0, -1) })), {
      chunkSize: 4096,
      maxChildrenPerNode: 3,
      layout: "trickle",
      shardSplitThresholdBytes: 1000,
    });
    const t = String(dir.paths.get("t"));
    const gw = pathGateway();
    const response = await gw.fetch(`/ipfs/${dir.cid}/t?format=tar`);
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toBe("application/x-tar");
    expect(response.headers.get("Content-Disposition")).toBe('attachment; filename="t.tar"');
    expect(response.headers.get("Etag")).toBe(`W/"${t}.x-tar"`);
    expect(response.headers.get("X-Content-Type-Options")).toBe("nosniff");
    const entries = readTar(await bodyBytes(response));

    const byName = new Map(entries.map((e) => [e.name, e]));
    expect(entries.length).toBe(byName.size);
    expect(byName.get("t/")?.type).toBe("5");
    expect(byName.get("t/a.txt")).toMatchObject({ type: "0", size: 2, mode: 0o644 });
    expect(hex(byName.get("t/big.bin")!.content)).toBe(hex(big));
    expect(new TextDecoder().decode(byName.get(`t/deep/${long}`)!.content)).toBe("long name\n");
    expect(byName.get("t/empty/")?.type).toBe("5");
    for (let i = 0; i < 300; i++) expect(new TextDecoder().decode(byName.get(`t/shard/${i}.txt`)!.content)).toBe(`entry ${i}\n`);
    // Directories come before what they hold; plain directories in link (name) order.
    expect(entries.slice(0, 3).map((e) => e.name)).toEqual(["t/", "t/a.txt", "t/big.bin"]);
    const at = (name: string) => entries.findIndex((e) => e.name === name);
    expect(at("t/deep/")).toBeLessThan(at(`t/deep/${long}`));
    expect(at("t/shard/")).toBeLessThan(at("t/shard/0.txt"));
    // One upstream CAR carried the whole tree, in the order the archive needed it.
    expect(await gw.asked()).toEqual([carRequest(String(dir.cid), "/t", "all")]);
    expect(await gw.counts()).toMatchObject({ ok: 1, invalidBlock: 0, error: 0 });
  });

  it("a symlink becomes a symlink entry; a name with .. that stays inside is cleaned", async () => {
    const target = { cid: CID.createV1(0x55, await sha256.digest(enc.encode("x"))), bytes: enc.encode("x") };
    const link = await dagPbBlock(new UnixFS({ type: "symlink", data: enc.encode("../x") }), []);
    const inner = await dagPbBlock(new UnixFS({ type: "directory" }), [
      { Name: "../up.txt", Hash: target.cid, Tsize: 1 },
      { Name: "ln", Hash: link.cid, Tsize: link.bytes.length },
    ]);
    const root = await dagPbBlock(new UnixFS({ type: "directory" }), [{ Name: "in", Hash: inner.cid, Tsize: 100 }]);
    await putBlocks([root, inner, target, link]);
    const gw = pathGateway();
    const response = await gw.fetch(`/ipfs/${root.cid}?format=tar`);
    expect(response.status).toBe(200);
    const entries = readTar(await bodyBytes(response));
    expect(entries.map((e) => [e.name, e.type, e.linkname])).toEqual([
      [`${root.cid}/`, "5", ""],
      [`${root.cid}/in/`, "5", ""],
      [`${root.cid}/up.txt`, "0", ""],
      [`${root.cid}/in/ln`, "2", "../x"],
    ]);
  });

  it("an escape below the top directory aborts the stream (the 200 is already out)", async () => {
    const target = { cid: CID.createV1(0x55, await sha256.digest(enc.encode("y"))), bytes: enc.encode("y") };
    const inner = await dagPbBlock(new UnixFS({ type: "directory" }), [{ Name: "../../evil", Hash: target.cid, Tsize: 1 }]);
    const root = await dagPbBlock(new UnixFS({ type: "directory" }), [{ Name: "in", Hash: inner.cid, Tsize: 100 }]);
    await putBlocks([root, inner, target]);
    const gw = pathGateway();
    const response = await gw.fetch(`/ipfs/${root.cid}?format=tar`);
    expect(response.status).toBe(200);
    await expect(response.arrayBuffer()).rejects.toThrow();
  });

  it("dag-cbor is not UnixFS → 406 before any fetch; HEAD fetches the top block only", async () => {
    const doc = await putDagCbor({ hello: "world" });
    const gw = pathGateway();
    const refused = await gw.fetch(`/ipfs/${doc.cid}?format=tar`);
    expect(refused.status).toBe(406);
    expect(await refused.text()).toContain("not UnixFS");
    expect(await gw.asked()).toEqual([]);

    const dir = await importDirectory([{ path: "d/f.txt", content: enc.encode("f") }]);
    const head = await gw.fetch(`/ipfs/${dir.cid}/d?format=tar`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("Content-Disposition")).toBe('attachment; filename="d.tar"');
    expect(await gw.asked()).toEqual([carRequest(String(dir.cid), "/d", "block")]);
  });

  it("If-None-Match with the weak ETag → 304 without fetching", async () => {
    const dir = await importDirectory([{ path: "f.txt", content: enc.encode("f") }]);
    const gw = pathGateway();
    const response = await gw.fetch(`/ipfs/${dir.cid}?format=tar`, { headers: { "If-None-Match": `W/"${dir.cid}.x-tar"` } });
    expect(response.status).toBe(304);
    expect(await gw.asked()).toEqual([]);
  });
});
